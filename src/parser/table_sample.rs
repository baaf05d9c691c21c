//! Hive's `TABLESAMPLE (n ROWS)`: the first `n` rows of each input split. Apiary reads a
//! table as one input in file order, so the sampled table becomes
//! `(SELECT * FROM t LIMIT n) t`. Other sampling forms (`n PERCENT`, `BUCKET x OUT OF y`)
//! are refused rather than ignored.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Ident, LimitClause, Query, SetExpr, TableAlias, TableFactor, TableSampleKind, TableSampleUnit,
    TableWithJoins, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Location;

use super::{ParseError, ParseResult};

/// Rewrites every `TABLESAMPLE (n ROWS)` of `query`.
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
        let Some(rows) = rows else {
            return ControlFlow::Break(ParseError::at(
                at,
                "Not supported yet: TABLESAMPLE other than (n ROWS)",
            ));
        };
        let limit = rows.value.clone();
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
        if let Some(LimitClause::LimitOffset { limit: l, .. }) = subquery.limit_clause.as_mut() {
            *l = Some(limit);
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
        let error = parse_statement("select * from src tablesample (10 percent)")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("line 1:15 Not supported yet: TABLESAMPLE"),
            "{error}"
        );
    }
}
