//! Cardinality estimates of logical plans from table statistics: rows out of each operator,
//! and per output column its distinct count and numeric range. Filters scale rows by their
//! selectivity (from distinct counts and ranges), joins by the larger distinct count of
//! each key pair, as Hive's and Calcite's estimators do.

use datafusion::common::stats::Precision;
use datafusion::common::{Column, ScalarValue, Statistics};
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{BinaryExpr, Expr, JoinType, LogicalPlan, Operator, TableScan};

use crate::execution::table_provider::HiveTableProvider;
use crate::optimizer::literal;

/// The selectivity of a predicate nothing is known about (Hive's default for a function).
const UNKNOWN_SELECTIVITY: f64 = 0.25;
/// The selectivity of a range comparison on a column without a known range.
const RANGE_SELECTIVITY: f64 = 1.0 / 3.0;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnEstimate {
    pub distinct: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub null_fraction: Option<f64>,
    /// For a column read from a table: the table's rows and the column's distinct count
    /// there, before any filter.
    pub table_rows: Option<f64>,
    pub table_distinct: Option<f64>,
}

/// One side of a join key: its distinct count here, and in its table before filters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KeySide {
    pub distinct: Option<f64>,
    pub table_rows: Option<f64>,
    pub table_distinct: Option<f64>,
}

impl KeySide {
    fn of(column: &ColumnEstimate) -> Self {
        KeySide {
            distinct: column.distinct,
            table_rows: column.table_rows,
            table_distinct: column.table_distinct,
        }
    }
}

/// Rows out of an operator and an estimate of each of its output columns, in schema order.
/// `rows` is `None` when the tables below have no statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub rows: Option<f64>,
    pub columns: Vec<ColumnEstimate>,
}

impl Estimate {
    fn unknown(width: usize) -> Self {
        Estimate {
            rows: None,
            columns: vec![ColumnEstimate::default(); width],
        }
    }

    /// The join-key view of a column.
    pub fn key_side(&self, index: usize) -> KeySide {
        let mut side = self.columns.get(index).map(KeySide::of).unwrap_or_default();
        side.distinct = self.distinct(index);
        side
    }

    /// The distinct count of a column, at most the row count.
    pub fn distinct(&self, index: usize) -> Option<f64> {
        let distinct = self.columns.get(index)?.distinct?;
        Some(match self.rows {
            Some(rows) => distinct.min(rows).max(1.0),
            None => distinct.max(1.0),
        })
    }

    /// Keeps `fraction` of the rows; distinct counts shrink to fit.
    fn scaled(mut self, fraction: f64) -> Self {
        let fraction = fraction.clamp(0.0, 1.0);
        if let Some(rows) = self.rows.as_mut() {
            *rows *= fraction;
            let rows = *rows;
            for column in &mut self.columns {
                column.distinct = column.distinct.map(|d| d.min(rows.max(1.0)));
            }
        }
        self
    }
}

/// Estimates rows and columns of `plan`.
pub fn estimate(plan: &LogicalPlan) -> Estimate {
    let width = plan.schema().fields().len();
    match plan {
        LogicalPlan::TableScan(scan) => scan_estimate(scan),
        LogicalPlan::Filter(filter) => {
            let input = estimate(&filter.input);
            let fraction = selectivity(&filter.predicate, &filter.input, &input);
            input.scaled(fraction)
        }
        LogicalPlan::Projection(projection) => {
            let input = estimate(&projection.input);
            let columns = projection
                .expr
                .iter()
                .map(|e| column_of(e, &projection.input, &input).unwrap_or_default())
                .collect();
            Estimate {
                rows: input.rows,
                columns,
            }
        }
        LogicalPlan::SubqueryAlias(alias) => estimate(&alias.input),
        LogicalPlan::Sort(sort) => {
            let input = estimate(&sort.input);
            match (sort.fetch, input.rows) {
                (Some(fetch), Some(rows)) if (fetch as f64) < rows => {
                    input.scaled(fetch as f64 / rows)
                }
                _ => input,
            }
        }
        LogicalPlan::Limit(_) | LogicalPlan::Repartition(_) | LogicalPlan::Distinct(_) => {
            let inputs = plan.inputs();
            let mut input = inputs
                .first()
                .map(|i| estimate(i))
                .unwrap_or_else(|| Estimate::unknown(width));
            if let LogicalPlan::Limit(limit) = plan
                && let (Ok(datafusion::logical_expr::FetchType::Literal(Some(fetch))), Some(rows)) =
                    (limit.get_fetch_type(), input.rows)
            {
                input.rows = Some(rows.min(fetch as f64));
            }
            input.columns.resize(width, ColumnEstimate::default());
            input
        }
        LogicalPlan::Aggregate(aggregate) => {
            let input = estimate(&aggregate.input);
            let mut groups = 1.0f64;
            let mut columns = Vec::with_capacity(width);
            for expr in &aggregate.group_expr {
                let mut column = column_of(expr, &aggregate.input, &input).unwrap_or_default();
                // A group key is no longer a column of a table.
                column.table_rows = None;
                column.table_distinct = None;
                groups *= column.distinct.or(input.rows).unwrap_or(1.0);
                columns.push(column);
            }
            columns.resize(width, ColumnEstimate::default());
            let rows = if aggregate.group_expr.is_empty() {
                Some(1.0)
            } else {
                input.rows.map(|rows| rows.min(groups))
            };
            Estimate { rows, columns }
        }
        LogicalPlan::Join(join) => {
            let left = estimate(&join.left);
            let right = estimate(&join.right);
            let mut keys = Vec::new();
            for (l, r) in &join.on {
                let (Some(l), Some(r)) = (
                    column_of(l, &join.left, &left),
                    column_of(r, &join.right, &right),
                ) else {
                    continue;
                };
                keys.push((KeySide::of(&l), KeySide::of(&r)));
            }
            let inner = join_rows(left.rows, right.rows, &keys);
            let rows = match join.join_type {
                JoinType::Inner => inner,
                JoinType::Left => inner.zip(left.rows).map(|(i, l)| i.max(l)),
                JoinType::Right => inner.zip(right.rows).map(|(i, r)| i.max(r)),
                JoinType::Full => inner
                    .zip(left.rows.zip(right.rows))
                    .map(|(i, (l, r))| i.max(l + r)),
                JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => {
                    left.rows.map(|l| l * 0.5)
                }
                JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => {
                    right.rows.map(|r| r * 0.5)
                }
            };
            let mut columns: Vec<ColumnEstimate> = match join.join_type {
                JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => left.columns,
                JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => right.columns,
                _ => left.columns.into_iter().chain(right.columns).collect(),
            };
            columns.resize(width, ColumnEstimate::default());
            let joined = Estimate { rows, columns };
            match &join.filter {
                Some(filter) => {
                    let fraction = selectivity(filter, plan, &joined);
                    joined.scaled(fraction)
                }
                None => joined,
            }
        }
        LogicalPlan::Union(union) => {
            let rows = union
                .inputs
                .iter()
                .map(|i| estimate(i).rows)
                .try_fold(0.0, |total, rows| rows.map(|r| total + r));
            Estimate {
                rows,
                columns: vec![ColumnEstimate::default(); width],
            }
        }
        _ => {
            let rows = plan.inputs().first().and_then(|i| estimate(i).rows);
            Estimate {
                rows,
                columns: vec![ColumnEstimate::default(); width],
            }
        }
    }
}

/// Rows of an inner equi-join: the product of the sides over the larger distinct count of each
/// key pair. The second and later keys divide by the square root, fourth root, ... of theirs
/// (Hive's exponential back-off), since keys are rarely independent. A key side without a
/// distinct count counts as unique (a key of its table).
///
/// A key of several columns is different: their distinct counts say nothing of how the
/// columns combine. When both sides' columns each come from one table that they could be a
/// key of, the smaller table is taken as holding the primary key and the other the foreign
/// key: each row of the larger side finds its one match, if that match survived the smaller
/// side's filters.
pub fn join_rows(
    left: Option<f64>,
    right: Option<f64>,
    keys: &[(KeySide, KeySide)],
) -> Option<f64> {
    let (left, right) = (left?, right?);
    if let Some(joined) = composite_key_rows(left, right, keys) {
        return Some(joined);
    }
    let mut denominators: Vec<f64> = keys
        .iter()
        .map(|(l, r)| {
            l.distinct
                .unwrap_or(left)
                .max(r.distinct.unwrap_or(right))
                .max(1.0)
        })
        .collect();
    denominators.sort_by(|a, b| b.total_cmp(a));
    let mut rows = left * right;
    let mut power = 1.0;
    for d in denominators {
        rows /= d.powf(power);
        power /= 2.0;
    }
    Some(rows.max(if left > 0.0 && right > 0.0 { 1.0 } else { 0.0 }))
}

/// The rows of a primary-key / foreign-key join on a key of several columns; `None` when the
/// key is of one column or the sides do not look like such a pair.
fn composite_key_rows(left: f64, right: f64, keys: &[(KeySide, KeySide)]) -> Option<f64> {
    if keys.len() < 2 {
        return None;
    }
    // The rows of the one table all of a side's key columns come from, if it could be unique
    // on them.
    let table_of = |sides: &mut dyn Iterator<Item = &KeySide>| -> Option<f64> {
        let mut table_rows = None;
        let mut combinations = 1.0f64;
        for side in sides {
            let rows = side.table_rows?;
            if table_rows.is_some_and(|t| t != rows) {
                return None;
            }
            table_rows = Some(rows);
            combinations *= side.table_distinct?;
        }
        table_rows.filter(|rows| combinations >= *rows)
    };
    let left_table = table_of(&mut keys.iter().map(|(l, _)| l))?;
    let right_table = table_of(&mut keys.iter().map(|(_, r)| r))?;
    let joined = if left_table < right_table {
        right * (left / left_table).min(1.0)
    } else if right_table < left_table {
        left * (right / right_table).min(1.0)
    } else {
        return None;
    };
    Some(joined.max(if left > 0.0 && right > 0.0 { 1.0 } else { 0.0 }))
}

fn scan_estimate(scan: &TableScan) -> Estimate {
    let width = scan.projected_schema.fields().len();
    let statistics = source_as_provider(&scan.source).ok().and_then(|provider| {
        match provider.downcast_ref::<HiveTableProvider>() {
            Some(hive) => Some(hive.estimated_statistics(&scan.filters, scan.projection.as_ref())),
            None => provider.statistics(),
        }
    });
    let Some(statistics) = statistics else {
        return Estimate::unknown(width);
    };
    let statistics: Statistics = statistics.project(scan.projection.as_ref());
    let rows = precision_f64(&statistics.num_rows);
    let columns = statistics
        .column_statistics
        .iter()
        .map(|c| ColumnEstimate {
            distinct: precision_f64(&c.distinct_count),
            min: c.min_value.get_value().and_then(numeric),
            max: c.max_value.get_value().and_then(numeric),
            null_fraction: precision_f64(&c.null_count)
                .zip(rows)
                .map(|(nulls, rows)| if rows > 0.0 { nulls / rows } else { 0.0 }),
            table_rows: rows,
            table_distinct: precision_f64(&c.distinct_count),
        })
        .collect();
    let mut estimate = Estimate { rows, columns };
    estimate.columns.resize(width, ColumnEstimate::default());
    estimate
}

fn precision_f64(value: &Precision<usize>) -> Option<f64> {
    value.get_value().map(|v| *v as f64)
}

/// A value on the number line, for range selectivity: numbers, dates (days), timestamps.
fn numeric(value: &ScalarValue) -> Option<f64> {
    match value {
        ScalarValue::Date32(Some(days)) => Some(f64::from(*days)),
        ScalarValue::TimestampNanosecond(Some(n), _) => Some(*n as f64),
        ScalarValue::Decimal128(Some(v), _, scale) => {
            Some(*v as f64 / 10f64.powi(i32::from(*scale)))
        }
        v if v.data_type().is_numeric() => v
            .cast_to(&datafusion::arrow::datatypes::DataType::Float64)
            .ok()
            .and_then(|f| match f {
                ScalarValue::Float64(Some(f)) => Some(f),
                _ => None,
            }),
        _ => None,
    }
}

/// The estimate of a column reference (through casts and aliases) of `input`'s output.
fn column_of(expr: &Expr, input: &LogicalPlan, estimate: &Estimate) -> Option<ColumnEstimate> {
    let index = input.schema().index_of_column(plain_column(expr)?).ok()?;
    let mut found = estimate.columns.get(index)?.clone();
    found.distinct = estimate.distinct(index);
    Some(found)
}

/// The fraction of `input`'s rows that satisfy `predicate`.
pub fn selectivity(predicate: &Expr, input: &LogicalPlan, estimate: &Estimate) -> f64 {
    let column = |e: &Expr| column_of(e, input, estimate);
    match predicate {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And => conjunction_selectivity(predicate, input, estimate),
            Operator::Or => {
                let (a, b) = (
                    selectivity(left, input, estimate),
                    selectivity(right, input, estimate),
                );
                a + b - a * b
            }
            Operator::Eq | Operator::NotEq => {
                let equal = match (column(left), column(right), literal(left), literal(right)) {
                    (Some(c), _, _, Some(_)) | (_, Some(c), Some(_), _) => {
                        c.distinct.map_or(0.1, |d| 1.0 / d)
                    }
                    (Some(a), Some(b), _, _) => match (a.distinct, b.distinct) {
                        (Some(x), Some(y)) => 1.0 / x.max(y),
                        (Some(x), None) | (None, Some(x)) => 1.0 / x,
                        (None, None) => 0.1,
                    },
                    _ => UNKNOWN_SELECTIVITY,
                };
                if *op == Operator::Eq {
                    equal
                } else {
                    1.0 - equal
                }
            }
            Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq => {
                let (c, value, column_on_left) =
                    match (column(left), literal(right), column(right), literal(left)) {
                        (Some(c), Some(v), _, _) => (c, v, true),
                        (_, _, Some(c), Some(v)) => (c, v, false),
                        _ => return RANGE_SELECTIVITY,
                    };
                let below = matches!(op, Operator::Lt | Operator::LtEq) == column_on_left;
                range_fraction(&c, value, below)
            }
            _ => UNKNOWN_SELECTIVITY,
        },
        Expr::Between(between) => {
            let Some(c) = column(&between.expr) else {
                return RANGE_SELECTIVITY;
            };
            let (Some(low), Some(high)) = (literal(&between.low), literal(&between.high)) else {
                return RANGE_SELECTIVITY;
            };
            let inside = (range_fraction(&c, high, true) + range_fraction(&c, low, false) - 1.0)
                .clamp(0.0, 1.0);
            if between.negated {
                1.0 - inside
            } else {
                inside
            }
        }
        Expr::InList(list) => {
            let single = column(&list.expr)
                .and_then(|c| c.distinct)
                .map_or(0.1, |d| 1.0 / d);
            let inside = (single * list.list.len() as f64).min(1.0);
            if list.negated { 1.0 - inside } else { inside }
        }
        Expr::IsNull(e) => column(e).and_then(|c| c.null_fraction).unwrap_or(0.1),
        Expr::IsNotNull(e) => 1.0 - column(e).and_then(|c| c.null_fraction).unwrap_or(0.0),
        Expr::Not(e) => 1.0 - selectivity(e, input, estimate),
        Expr::Literal(ScalarValue::Boolean(Some(value)), _) => f64::from(u8::from(*value)),
        _ => UNKNOWN_SELECTIVITY,
    }
}

/// The fraction of rows satisfying every conjunct of `predicate`: the product of the
/// conjuncts' fractions, except that a lower and an upper bound on one column of known range
/// keep the rows between them, as BETWEEN does (a month of a seven-year date column is 1/84
/// of the rows, not the product of the halves on either side).
fn conjunction_selectivity(predicate: &Expr, input: &LogicalPlan, estimate: &Estimate) -> f64 {
    // Per column: the fraction above its highest lower bound and below its lowest upper bound.
    let mut ranges: Vec<(&Column, Option<f64>, Option<f64>)> = Vec::new();
    let mut fraction = 1.0;
    for conjunct in split_conjunction(predicate) {
        let Some((column, below, bound)) = range_bound(conjunct, input, estimate) else {
            fraction *= selectivity(conjunct, input, estimate);
            continue;
        };
        let position = match ranges.iter().position(|(c, _, _)| *c == column) {
            Some(position) => position,
            None => {
                ranges.push((column, None, None));
                ranges.len() - 1
            }
        };
        let (_, above_fraction, below_fraction) = &mut ranges[position];
        let side = if below {
            below_fraction
        } else {
            above_fraction
        };
        *side = Some(side.map_or(bound, |f| f.min(bound)));
    }
    for (_, above, below) in ranges {
        fraction *= match (above, below) {
            (Some(above), Some(below)) => (above + below - 1.0).clamp(0.0, 1.0),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => 1.0,
        };
    }
    fraction
}

/// A comparison of a column of known range with a constant: the column, whether the
/// comparison keeps the values below the constant, and the fraction it keeps.
fn range_bound<'e>(
    predicate: &'e Expr,
    input: &LogicalPlan,
    estimate: &Estimate,
) -> Option<(&'e Column, bool, f64)> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = predicate else {
        return None;
    };
    if !matches!(
        op,
        Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq
    ) {
        return None;
    }
    let (column_side, value, column_on_left) = match (literal(right), literal(left)) {
        (Some(value), _) => (left.as_ref(), value, true),
        (None, Some(value)) => (right.as_ref(), value, false),
        (None, None) => return None,
    };
    let column = plain_column(column_side)?;
    let found = column_of(column_side, input, estimate)?;
    found.min.zip(found.max)?;
    numeric(value)?;
    let below = matches!(op, Operator::Lt | Operator::LtEq) == column_on_left;
    Some((column, below, range_fraction(&found, value, below)))
}

/// The column `expr` reads, through casts and aliases.
fn plain_column(expr: &Expr) -> Option<&Column> {
    match expr {
        Expr::Column(column) => Some(column),
        Expr::Alias(alias) => plain_column(&alias.expr),
        Expr::Cast(cast) => plain_column(&cast.expr),
        Expr::TryCast(cast) => plain_column(&cast.expr),
        _ => None,
    }
}

/// The fraction of a column's values below (or above) `value`, from its range.
fn range_fraction(column: &ColumnEstimate, value: &ScalarValue, below: bool) -> f64 {
    let (Some(min), Some(max), Some(v)) = (column.min, column.max, numeric(value)) else {
        return RANGE_SELECTIVITY;
    };
    if max <= min {
        let inside = if below { v >= min } else { v <= max };
        return if inside { 1.0 } else { 0.0 };
    }
    let fraction = ((v - min) / (max - min)).clamp(0.0, 1.0);
    if below { fraction } else { 1.0 - fraction }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn key(distinct: f64) -> KeySide {
        KeySide {
            distinct: Some(distinct),
            table_rows: None,
            table_distinct: None,
        }
    }

    fn table_key(distinct: f64, table_rows: f64) -> KeySide {
        KeySide {
            distinct: Some(distinct.min(table_rows)),
            table_rows: Some(table_rows),
            table_distinct: Some(distinct),
        }
    }

    #[test]
    fn a_composite_key_joins_as_primary_and_foreign_key() {
        // partsupp (800k rows) and lineitem (6M) on part and supplier: each lineitem row
        // finds its partsupp row.
        let keys = [
            (
                table_key(200_000.0, 800_000.0),
                table_key(200_000.0, 6_000_000.0),
            ),
            (
                table_key(10_000.0, 800_000.0),
                table_key(10_000.0, 6_000_000.0),
            ),
        ];
        assert_eq!(
            join_rows(Some(800_000.0), Some(6_000_000.0), &keys),
            Some(6_000_000.0)
        );
        // With a tenth of partsupp filtered in, a tenth of lineitem finds its match.
        assert_eq!(
            join_rows(Some(80_000.0), Some(6_000_000.0), &keys),
            Some(600_000.0)
        );
        // Two sides of one size: no telling which holds the key; the back-off applies.
        let same = [
            (table_key(1000.0, 5000.0), table_key(1000.0, 5000.0)),
            (table_key(10.0, 5000.0), table_key(10.0, 5000.0)),
        ];
        let backed_off = 5000.0 * 5000.0 / 1000.0 / 10f64.sqrt();
        assert_eq!(
            join_rows(Some(5000.0), Some(5000.0), &same),
            Some(backed_off)
        );
    }

    #[test]
    fn join_rows_divide_by_the_larger_distinct_count_with_back_off() {
        assert_eq!(
            join_rows(Some(1000.0), Some(100.0), &[(key(100.0), key(100.0))]),
            Some(1000.0)
        );
        // An unknown distinct count counts the side as unique.
        assert_eq!(
            join_rows(
                Some(1000.0),
                Some(100.0),
                &[(key(10.0), KeySide::default())]
            ),
            Some(1000.0)
        );
        let two_keys = join_rows(
            Some(100.0),
            Some(100.0),
            &[(key(4.0), key(4.0)), (key(100.0), key(10.0))],
        );
        assert_eq!(two_keys, Some(100.0 * 100.0 / 100.0 / 2.0));
        assert_eq!(join_rows(None, Some(1.0), &[]), None);
    }

    #[test]
    fn ranges_give_fractions_of_the_rows() {
        let column = ColumnEstimate {
            distinct: Some(100.0),
            min: Some(0.0),
            max: Some(100.0),
            ..ColumnEstimate::default()
        };
        let value = ScalarValue::Int32(Some(25));
        assert_eq!(range_fraction(&column, &value, true), 0.25);
        assert_eq!(range_fraction(&column, &value, false), 0.75);
        let unknown = ColumnEstimate::default();
        assert_eq!(range_fraction(&unknown, &value, true), RANGE_SELECTIVITY);
    }

    #[test]
    fn bounds_on_both_sides_of_one_column_keep_the_rows_between() {
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        use datafusion::common::DFSchema;
        use datafusion::logical_expr::{EmptyRelation, col, lit};

        let schema = Schema::new(vec![
            Field::new("d", DataType::Int32, true),
            Field::new("k", DataType::Int32, true),
            Field::new("u", DataType::Int32, true),
        ]);
        let input = LogicalPlan::EmptyRelation(EmptyRelation {
            produce_one_row: false,
            schema: Arc::new(DFSchema::try_from(schema).expect("schema")),
        });
        let ranged = ColumnEstimate {
            distinct: Some(100.0),
            min: Some(0.0),
            max: Some(100.0),
            ..ColumnEstimate::default()
        };
        let keyed = ColumnEstimate {
            distinct: Some(4.0),
            ..ColumnEstimate::default()
        };
        let estimate = Estimate {
            rows: Some(1000.0),
            columns: vec![ranged, keyed, ColumnEstimate::default()],
        };
        let fraction = |predicate: Expr| selectivity(&predicate, &input, &estimate);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;

        // 20 <= d < 30 is a tenth of 0..100, not 0.8 * 0.3.
        let month = col("d").gt_eq(lit(20)).and(col("d").lt(lit(30)));
        assert!(close(fraction(month.clone()), 0.1));
        // Other conjuncts still multiply; the tightest bound on a side wins.
        let keyed_month = month.and(col("k").eq(lit(1))).and(col("d").lt(lit(50)));
        assert!(close(fraction(keyed_month), 0.1 / 4.0));
        // Bounds that leave nothing keep nothing.
        assert!(close(
            fraction(col("d").gt(lit(60)).and(col("d").lt(lit(40)))),
            0.0
        ));
        // A column without a known range keeps the independent guesses.
        let unranged = col("u").gt(lit(1)).and(col("u").lt(lit(5)));
        assert!(close(
            fraction(unranged),
            RANGE_SELECTIVITY * RANGE_SELECTIVITY
        ));
    }
}
