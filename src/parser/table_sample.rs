//! Hive's `TABLESAMPLE`:
//!
//! - `(n ROWS)`: the first `n` rows of each input split. Apiary reads a table as one input in
//!   file order, so the sampled table becomes `(SELECT * FROM t LIMIT n) t`.
//! - `(BUCKET x OUT OF y ON c)`: the rows in bucket `x` when hashed into `y` buckets by `c`
//!   as Hive hashes them, `(SELECT * FROM t WHERE (hash(c) & 2147483647) % y = x - 1) t`;
//!   `ON rand()` keeps a random `1 / y` of the rows.
//!
//! - `(n PERCENT)` and `(100M)`: Hive's block sampling, the first input blocks (Apiary:
//!   files, in listing order) until they hold `n` percent of the table's bytes, or that many
//!   bytes, at least one. The table's name gets [`BLOCK_SAMPLE_MARK`] and the sample, which
//!   the analyzer reads off to give the scan its share; the table keeps its name as alias.
//!
//! A bucket sample without `ON` is refused rather than ignored.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Ident, LimitClause, ObjectNamePart, Query, SetExpr, TableAlias,
    TableFactor, TableSampleBucket, TableSampleKind, TableSampleUnit, TableWithJoins, Value,
    ValueWithSpan, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Location;

use super::hive_functions::call;
use super::{ParseError, ParseResult};

/// What a table's name carries, followed by [`BlockSample::to_mark`], for a block sample.
pub const BLOCK_SAMPLE_MARK: &str = "#apiary-sample=";

/// Hive's block sampling: the share of a table's bytes to read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BlockSample {
    /// `TABLESAMPLE (n PERCENT)`.
    Percent(f64),
    /// `TABLESAMPLE (100M)`: a length in bytes.
    Bytes(u64),
}

impl BlockSample {
    pub fn to_mark(self) -> String {
        match self {
            BlockSample::Percent(percent) => format!("{percent}%"),
            BlockSample::Bytes(bytes) => format!("{bytes}b"),
        }
    }

    pub fn from_mark(mark: &str) -> Option<BlockSample> {
        if let Some(percent) = mark.strip_suffix('%') {
            return percent.parse().ok().map(BlockSample::Percent);
        }
        mark.strip_suffix('b')?.parse().ok().map(BlockSample::Bytes)
    }

    /// How many bytes of `total` the sample reads (at least one file's, by the caller).
    pub fn target_bytes(self, total: u64) -> u64 {
        match self {
            BlockSample::Percent(percent) => (total as f64 * percent / 100.0).ceil() as u64,
            BlockSample::Bytes(bytes) => bytes,
        }
    }
}

/// Hive's byte length of a sample: digits and a unit, `b`, `k`, `m` or `g` (`100M`).
fn byte_length(expr: &Expr) -> Option<u64> {
    let text = match expr {
        Expr::Identifier(ident) => ident.value.as_str(),
        Expr::Value(ValueWithSpan {
            value: Value::Placeholder(text),
            ..
        }) => text.as_str(),
        _ => return None,
    };
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "b" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(scale)
}

/// A number written as it is or as a DECIMAL literal (`0.5` is `CAST('0.5' AS DECIMAL(1,1))`
/// by now).
fn number_value(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Value(ValueWithSpan {
            value: Value::Number(text, _) | Value::SingleQuotedString(text),
            ..
        }) => text.parse().ok(),
        Expr::Cast { expr, .. } => number_value(expr),
        _ => None,
    }
}

/// Rewrites every `TABLESAMPLE` of `query`.
pub fn rewrite_table_samples<V: VisitMut>(node: &mut V) -> ParseResult<()> {
    match node.visit(&mut Samples) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(error) => Err(error),
    }
}

struct Samples;

impl VisitorMut for Samples {
    type Break = ParseError;

    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<ParseError> {
        let TableFactor::Table {
            name,
            alias,
            sample,
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let Some(kind) = sample.take() else {
            return ControlFlow::Continue(());
        };
        let at = name.0.first().map_or(Location::new(1, 1), |part| {
            part.as_ident()
                .map_or(Location::new(1, 1), |i| i.span.start)
        });
        let sample = match kind {
            TableSampleKind::BeforeTableAlias(s) | TableSampleKind::AfterTableAlias(s) => s,
        };
        let rows = sample
            .quantity
            .as_ref()
            .filter(|q| matches!(q.unit, Some(TableSampleUnit::Rows)))
            .filter(|_| sample.bucket.is_none());
        let block_sample = match sample.quantity.as_ref().filter(|_| sample.bucket.is_none()) {
            Some(q) if matches!(q.unit, Some(TableSampleUnit::Percent)) => {
                match number_value(&q.value).filter(|p| (0.0..=100.0).contains(p)) {
                    Some(percent) => Some(BlockSample::Percent(percent)),
                    None => {
                        return ControlFlow::Break(ParseError::at(
                            at,
                            "TABLESAMPLE (n PERCENT) takes a number from 0 to 100",
                        ));
                    }
                }
            }
            Some(q) if q.unit.is_none() => match byte_length(&q.value) {
                Some(bytes) => Some(BlockSample::Bytes(bytes)),
                None => {
                    return ControlFlow::Break(ParseError::at(
                        at,
                        "TABLESAMPLE takes n ROWS, n PERCENT, a length such as 100M, or BUCKET x OUT OF y",
                    ));
                }
            },
            _ => None,
        };
        if let Some(block_sample) = block_sample {
            let Some(table) = name.0.last_mut().and_then(|part| part.as_ident().cloned()) else {
                return ControlFlow::Continue(());
            };
            if alias.is_none() {
                *alias = Some(TableAlias {
                    explicit: false,
                    name: table.clone(),
                    columns: Vec::new(),
                    at: None,
                });
            }
            if let Some(last) = name.0.last_mut() {
                *last = ObjectNamePart::Identifier(Ident::with_quote(
                    '`',
                    format!(
                        "{}{BLOCK_SAMPLE_MARK}{}",
                        table.value,
                        block_sample.to_mark()
                    ),
                ));
            }
            return ControlFlow::Continue(());
        }
        let filter = match (&sample.bucket, rows) {
            (Some(bucket), _) => match bucket_filter(bucket) {
                Ok(filter) => Some(filter),
                Err(message) => return ControlFlow::Break(ParseError::at(at, message)),
            },
            (None, Some(_)) => None,
            (None, None) => {
                return ControlFlow::Break(ParseError::at(
                    at,
                    "TABLESAMPLE takes n ROWS, n PERCENT, a length such as 100M, or BUCKET x OUT OF y",
                ));
            }
        };
        let limit = rows.map(|rows| rows.value.clone());
        let alias = alias.take().unwrap_or_else(|| TableAlias {
            explicit: false,
            name: name
                .0
                .last()
                .and_then(|part| part.as_ident().cloned())
                .unwrap_or_else(|| Ident::new("sampled")),
            columns: Vec::new(),
            at: None,
        });
        let Some(mut subquery) = select_all_limit() else {
            return ControlFlow::Continue(());
        };
        if let SetExpr::Select(select) = subquery.body.as_mut() {
            select.from = vec![TableWithJoins {
                relation: factor.clone(),
                joins: Vec::new(),
            }];
        }
        if let SetExpr::Select(select) = subquery.body.as_mut() {
            select.selection = filter;
        }
        match limit {
            Some(limit) => {
                if let Some(LimitClause::LimitOffset { limit: l, .. }) =
                    subquery.limit_clause.as_mut()
                {
                    *l = Some(limit);
                }
            }
            None => subquery.limit_clause = None,
        }
        *factor = TableFactor::Derived {
            lateral: false,
            subquery: Box::new(subquery),
            alias: Some(alias),
            sample: None,
        };
        ControlFlow::Continue(())
    }
}

/// The rows of bucket `x` of `y`: `(hash(c) & 2147483647) % y = x - 1`, Hive's bucket of a
/// row (bucketing version 1), or a random `1 / y` of the rows for `ON rand()`.
fn bucket_filter(bucket: &TableSampleBucket) -> Result<Expr, String> {
    let number = |value: &ValueWithSpan| match &value.value {
        Value::Number(text, _) => text.parse::<u64>().ok(),
        _ => None,
    };
    let (Some(x), Some(y)) = (number(&bucket.bucket), number(&bucket.total)) else {
        return Err("TABLESAMPLE (BUCKET x OUT OF y) takes whole numbers".into());
    };
    if x == 0 || x > y {
        return Err(format!(
            "TABLESAMPLE (BUCKET {x} OUT OF {y}): the bucket must be between 1 and {y}"
        ));
    }
    let Some(on) = &bucket.on else {
        return Err(
            "Not supported yet: TABLESAMPLE (BUCKET x OUT OF y) without ON (Apiary does not read bucketed tables as buckets)"
                .into(),
        );
    };
    let binary = |left: Expr, op: BinaryOperator, right: Expr| {
        Expr::Nested(Box::new(Expr::BinaryOp {
            left: Box::new(left),
            op,
            right: Box::new(right),
        }))
    };
    let integer = |n: u64| Expr::value(Value::Number(n.to_string(), false));
    let is_rand =
        matches!(on, Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("rand"));
    if is_rand {
        let fraction = Expr::value(Value::Number(format!("{}", 1.0 / y as f64), false));
        return Ok(binary(
            call("random", Vec::new()),
            BinaryOperator::Lt,
            fraction,
        ));
    }
    let hashed = binary(
        call("hash", vec![on.clone()]),
        BinaryOperator::BitwiseAnd,
        integer(i32::MAX as u64),
    );
    Ok(binary(
        binary(hashed, BinaryOperator::Modulo, integer(y)),
        BinaryOperator::Eq,
        integer(x - 1),
    ))
}

/// `SELECT * FROM _ LIMIT 1`, whose FROM and LIMIT the caller fills.
fn select_all_limit() -> Option<Query> {
    Parser::new(&GenericDialect {})
        .try_with_sql("SELECT * FROM t LIMIT 1")
        .and_then(|mut parser| parser.parse_query())
        .ok()
        .map(|query| *query)
}

#[cfg(test)]
mod tests {
    use super::super::{HiveStatement, parse_statement};

    #[test]
    fn row_samples_take_the_first_rows() {
        let Ok(HiveStatement::Query(query)) =
            parse_statement("select key from src tablesample (1 rows) s join t on s.k = t.k")
        else {
            panic!("not a query")
        };
        assert_eq!(
            query.to_string(),
            "SELECT key FROM (SELECT * FROM src LIMIT 1) s JOIN t ON s.k = t.k"
        );
        let Ok(HiveStatement::Query(query)) =
            parse_statement("select key from src tablesample (bucket 2 out of 4 on key)")
        else {
            panic!("not a query")
        };
        assert_eq!(
            query.to_string(),
            "SELECT key FROM (SELECT * FROM src WHERE (((hash(key) & 2147483647) % 4) = 1)) src"
        );
        // A block sample marks the table's name for the analyzer, and keeps the name as alias.
        let Ok(HiveStatement::Query(query)) =
            parse_statement("select key from src tablesample (10 percent)")
        else {
            panic!("not a query")
        };
        assert_eq!(
            query.to_string(),
            "SELECT key FROM `src#apiary-sample=10%` src"
        );
        let error = parse_statement("select * from src tablesample (101 percent)")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("line 1:15 TABLESAMPLE (n PERCENT)"),
            "{error}"
        );
    }
}
