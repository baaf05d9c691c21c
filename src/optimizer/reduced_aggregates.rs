//! With its cost-based optimizer on (`hive.cbo.enable`, the default), Hive plans some grouped
//! aggregates as sums (Calcite's reduction of aggregate functions), and the digits and types
//! that gives are Hive's answer:
//!
//! - `var_pop`, `var_samp`, `stddev_pop`, `stddev_samp` (and their other names): the
//!   aggregate computes `sum(x * x)`, `sum(x)` and `count(x)`, and a projection above it
//!   `(sum(x * x) - sum(x) * sum(x) / count(x)) / count(x)` (the sample forms divide by
//!   `count(x) - 1`, NULL for one row; the deviations take `power(.., 0.5)`). Windows and
//!   `hive.cbo.enable=false` keep Hive's streaming formula.
//! - `avg` of a DECIMAL(p, s): `sum(x) / count(x)` typed as Hive divides a DECIMAL(p, s) by a
//!   BIGINT, scale s + 20 as far as 38 digits allow (`avg` of a DECIMAL(20,10) is a
//!   DECIMAL(38,28)); without CBO Hive's `avg` type is DECIMAL(p + 4, s + 4).
//!
//! This analyzer rule, after type coercion, plans grouped aggregates the same way.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, Result, ScalarValue};
use datafusion::functions::core::expr_fn::nullif;
use datafusion::functions::math::power;
use datafusion::functions_aggregate::count::count;
use datafusion::functions_aggregate::sum::sum;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{
    Aggregate, Expr, ExprSchemable, LogicalPlan, Operator, Projection, cast, lit, when,
};
use datafusion::optimizer::AnalyzerRule;

use crate::analyzer::hive_decimal::decimal_arithmetic;

#[derive(Debug, Default)]
pub struct ReducedAggregates;

/// What a reducible aggregate becomes.
#[derive(Clone)]
enum Reduction {
    Variance { sample: bool, deviation: bool },
    DecimalAverage { input: DataType },
}

fn reducible(f: &AggregateFunction, schema: &DFSchema) -> Option<Reduction> {
    let plain = !f.params.distinct && f.params.filter.is_none() && f.params.args.len() == 1;
    if !plain {
        return None;
    }
    let variance = |sample, deviation| Some(Reduction::Variance { sample, deviation });
    match f.func.name() {
        "var_pop" => variance(false, false),
        "var_samp" => variance(true, false),
        "stddev_pop" => variance(false, true),
        "stddev_samp" => variance(true, true),
        "avg" => match f.params.args[0].get_type(schema).ok()? {
            input @ DataType::Decimal128(..) => Some(Reduction::DecimalAverage { input }),
            _ => None,
        },
        _ => None,
    }
}

impl AnalyzerRule for ReducedAggregates {
    fn name(&self) -> &str {
        "reduced_aggregates"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| match node {
            LogicalPlan::Aggregate(aggregate) if has_reducible(&aggregate) => {
                reduce(aggregate).map(Transformed::yes)
            }
            other => Ok(Transformed::no(other)),
        })
        .map(|t| t.data)
    }
}

fn has_reducible(aggregate: &Aggregate) -> bool {
    let schema = aggregate.input.schema();
    aggregate.aggr_expr.iter().any(|e| match unaliased(e) {
        Expr::AggregateFunction(f) => reducible(f, schema).is_some(),
        _ => false,
    })
}

fn unaliased(expr: &Expr) -> &Expr {
    match expr {
        Expr::Alias(alias) => unaliased(&alias.expr),
        other => other,
    }
}

/// The aggregates an [`Aggregate`] computes, each once: a sum or count a reduction needs is
/// shared with an equal one the query computes itself or another reduction needs (`sum(x)`
/// beside `avg(x)`, `count(x)` for both `avg(x)` and `stddev(x)`).
#[derive(Default)]
struct DistinctAggregates {
    exprs: Vec<Expr>,
    /// Each computed aggregate without its alias, and the column that holds its value.
    known: Vec<(Expr, Expr)>,
}

impl DistinctAggregates {
    /// Keeps one of the query's own aggregates, whose value is in `column`.
    fn keep(&mut self, expr: &Expr, column: Expr) {
        self.exprs.push(expr.clone());
        self.known.push((unaliased(expr).clone(), column));
    }

    /// The column holding `expr`'s value: an equal aggregate's if one is computed already,
    /// or a new aggregate named `name`. With `exact` arguments (DECIMALs), an aggregate of
    /// the same name counts as equal: Apiary's Hive `sum` differs from DataFusion's only in
    /// how it reads strings and adds DOUBLEs.
    fn column_of(&mut self, expr: Expr, name: String, exact: bool) -> Expr {
        let equal = |known: &Expr| match (known, &expr) {
            (Expr::AggregateFunction(known), Expr::AggregateFunction(wanted)) if exact => {
                known.func.name() == wanted.func.name() && known.params == wanted.params
            }
            _ => *known == expr,
        };
        if let Some((_, column)) = self.known.iter().find(|(known, _)| equal(known)) {
            return column.clone();
        }
        let column = Expr::Column(Column::from_name(name.clone()));
        self.exprs.push(expr.clone().alias(name));
        self.known.push((expr, column.clone()));
        column
    }
}

/// The aggregate with sums in place of each reducible call, under a projection that gives
/// every output column its old name.
fn reduce(aggregate: Aggregate) -> Result<LogicalPlan> {
    let old_schema = Arc::clone(&aggregate.schema);
    let input_schema = Arc::clone(aggregate.input.schema());
    let group_count = old_schema.fields().len() - aggregate.aggr_expr.len();
    let output_column = |i: usize| {
        let (qualifier, field) = old_schema.qualified_field(group_count + i);
        Expr::Column(Column::new(qualifier.cloned(), field.name()))
    };
    let reductions: Vec<Option<(Reduction, Expr)>> = aggregate
        .aggr_expr
        .iter()
        .map(|expr| match unaliased(expr) {
            Expr::AggregateFunction(f) => {
                reducible(f, &input_schema).map(|r| (r, f.params.args[0].clone()))
            }
            _ => None,
        })
        .collect();
    // The query's own aggregates first, so that reductions can share them.
    let mut aggregates = DistinctAggregates::default();
    for (i, (expr, reduction)) in aggregate.aggr_expr.iter().zip(&reductions).enumerate() {
        if reduction.is_none() {
            aggregates.keep(expr, output_column(i));
        }
    }
    let mut outputs = Vec::new();
    for (i, reduction) in reductions.into_iter().enumerate() {
        let Some((reduction, x)) = reduction else {
            outputs.push(output_column(i));
            continue;
        };
        let exact = matches!(reduction, Reduction::DecimalAverage { .. });
        let mut part = |suffix: &str, expr: Expr| {
            aggregates.column_of(expr, format!("__apiary_{suffix}_{i}"), exact)
        };
        let value = match reduction {
            Reduction::Variance { sample, deviation } => {
                let sum_squares = part("sum_squares", sum(x.clone() * x.clone()));
                let sum_x = part("sum", sum(x.clone()));
                let count_x = part("count", count(x));
                let count = cast(count_x.clone(), DataType::Float64);
                let spread = sum_squares - sum_x.clone() * sum_x / count.clone();
                let divisor = if sample {
                    when(count_x.eq(lit(1_i64)), lit(ScalarValue::Float64(None)))
                        .otherwise(count - lit(1.0))?
                } else {
                    count
                };
                let variance = spread / divisor;
                if deviation {
                    power().call(vec![variance, lit(0.5)])
                } else {
                    variance
                }
            }
            Reduction::DecimalAverage { input } => {
                let sum_x = part("sum", sum(x.clone()));
                let count = nullif(part("count", count(x)), lit(0_i64));
                decimal_arithmetic(&sum_x, &input, Operator::Divide, &count, &DataType::Int64)
                    .unwrap_or_else(|| sum_x / count)
            }
        };
        let (qualifier, field) = old_schema.qualified_field(group_count + i);
        outputs.push(value.alias_qualified(qualifier.cloned(), field.name()));
    }
    let groups = (0..group_count).map(|i| {
        let (qualifier, field) = old_schema.qualified_field(i);
        Expr::Column(Column::new(qualifier.cloned(), field.name()))
    });
    let projection: Vec<Expr> = groups.chain(outputs).collect();
    let reduced = Aggregate::try_new(aggregate.input, aggregate.group_expr, aggregates.exprs)?;
    Ok(LogicalPlan::Projection(Projection::try_new(
        projection,
        Arc::new(LogicalPlan::Aggregate(reduced)),
    )?))
}

#[cfg(test)]
mod tests {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::LogicalPlan;
    #[tokio::test]
    async fn decimal_average_is_a_sum_divided_as_hive_divides() {
        let text = super::super::run_with_rules(
            "select avg(x), arrow_typeof(avg(x)) from \
             (values (cast(1.12 as decimal(20,10))), (cast(1.0 as decimal(20,10))), \
             (cast(1.0 as decimal(20,10)))) t(x)",
        )
        .await;
        assert!(
            text.contains("| 1.0400000000000000000000000000 |"),
            "{text}"
        );
        assert!(text.contains("| Decimal128(38, 28) "), "{text}");
    }

    #[tokio::test]
    async fn reductions_share_the_sums_and_counts_the_query_computes() {
        let state = super::super::session_state(
            datafusion::prelude::SessionConfig::new(),
            &crate::driver::settings::Settings::default(),
        );
        let ctx = datafusion::prelude::SessionContext::new_with_state(state);
        // Hive's `sum` (which reads strings as DOUBLE) shares with the DataFusion `sum` an
        // average of DECIMALs is reduced to.
        crate::functions::register_hive_functions(&ctx);
        let sql = "select k, sum(x), avg(x), count(x), stddev_pop(y), var_pop(y), count(*) \
                   from (values (1, cast(1.5 as decimal(10,2)), 1.0e0), (1, 2.5, 3.0e0), \
                   (2, NULL, NULL)) t(k, x, y) group by k";
        let frame = ctx.sql(sql).await.unwrap();
        let plan = frame.clone().into_optimized_plan().unwrap();
        let mut computed = Vec::new();
        plan.apply(|node| {
            if let LogicalPlan::Aggregate(aggregate) = node {
                computed.extend(aggregate.aggr_expr.iter().map(|e| e.to_string()));
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        // sum(x), count(x), count(*), sum(y * y), sum(y), count(y): each computed once.
        assert_eq!(computed.len(), 6, "{computed:?}");
        let batches = frame.collect().await.unwrap();
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        let cells: Vec<Vec<&str>> = text
            .lines()
            .map(|line| line.split('|').map(str::trim).collect())
            .collect();
        let first = [
            "",
            "1",
            "4.000000000000000",
            "2.00000000000000000000000",
            "2",
            "1.0",
        ];
        assert!(
            cells
                .iter()
                .any(|row| row.starts_with(&first) && row[6..8] == ["1.0", "2"]),
            "{text}"
        );
    }

    #[tokio::test]
    async fn grouped_variance_is_computed_from_sums_as_hive_plans_it() {
        // Hive's decimal_udf.q golden output for this group: the sums' digits, not the
        // streaming formula's (0.0035142400000000066).
        let text = super::super::run_with_rules(
            "select var_pop(x), var_samp(y) is null as one_row from \
             (values (1.0, 1.0), (1.0, NULL), (1.12, NULL), (1.122, NULL), (1.0, NULL)) t(x, y)",
        )
        .await;
        assert!(
            text.contains("| 0.003514240000000157 | true    |"),
            "{text}"
        );
    }
}
