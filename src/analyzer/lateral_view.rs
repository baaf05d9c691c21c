//! Hive's table-generating functions (UDTFs) in a query's text, made plannable.
//!
//! - A UDTF as the select list (`SELECT explode(a) AS (x) FROM t`) is the same query as
//!   `SELECT g.* FROM t LATERAL VIEW explode(a) g AS x`, and becomes that.
//! - A SELECT with `LATERAL VIEW`s has its FROM clause and lateral views moved into one
//!   marked derived table, which [`super::table_generators::LateralViewPlanner`] plans: the
//!   FROM clause as DataFusion plans it (its tables keep their qualifiers), then each
//!   lateral view as a generator joined to the rows it came from.
//!
//! The rewrite happens at planning time, so stored view text keeps the user's syntax.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Function, Ident, LateralView, ObjectName, ObjectNamePart, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, TableAlias, TableFactor, TableWithJoins, VisitMut,
    VisitorMut, WildcardAdditionalOptions,
};
use datafusion::sql::sqlparser::tokenizer::Span;

use crate::analysis_err;
use crate::error::{ApiaryError, Result};

/// The alias of the derived table that carries a SELECT's FROM clause and lateral views.
pub const LATERAL_VIEW_MARKER: &str = "__apiary_lateral_view";

/// The lateral view alias given to a UDTF written as the select list.
const SELECT_LIST_GENERATOR: &str = "__apiary_generator";

/// Hive's table-generating functions Apiary plans.
pub const GENERATORS: &[&str] = &[
    "explode",
    "posexplode",
    "inline",
    "stack",
    "json_tuple",
    "parse_url_tuple",
];

/// Rewrites the UDTFs of `query` and of every query nested in it.
pub fn prepare_lateral_views(query: &mut Query) -> Result<()> {
    let mut rewriter = GeneratorRewriter;
    match query.visit(&mut rewriter) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(error) => Err(error),
    }
}

struct GeneratorRewriter;

impl VisitorMut for GeneratorRewriter {
    type Break = ApiaryError;

    // After the nested queries: the marked table made here is not visited again.
    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<ApiaryError> {
        match rewrite_set_expr(query.body.as_mut()) {
            Ok(()) => ControlFlow::Continue(()),
            Err(error) => ControlFlow::Break(error),
        }
    }
}

fn rewrite_set_expr(body: &mut SetExpr) -> Result<()> {
    match body {
        SetExpr::Select(select) => {
            select_list_generator(select)?;
            move_lateral_views(select);
            Ok(())
        }
        SetExpr::SetOperation { left, right, .. } => {
            rewrite_set_expr(left)?;
            rewrite_set_expr(right)
        }
        _ => Ok(()),
    }
}

/// The generator a select-list item calls at its top, if any.
fn generator_call(item: &SelectItem) -> Option<&Function> {
    let expr = match item {
        SelectItem::UnnamedExpr(expr)
        | SelectItem::ExprWithAlias { expr, .. }
        | SelectItem::ExprWithAliases { expr, .. } => expr,
        _ => return None,
    };
    match expr {
        Expr::Function(function) if is_generator(&function.name) => Some(function),
        _ => None,
    }
}

pub fn is_generator(name: &ObjectName) -> bool {
    let name = name.to_string().to_ascii_lowercase();
    GENERATORS.contains(&name.as_str())
}

/// `SELECT udtf(...) [AS (a, b)] FROM ...` as `SELECT g.* FROM ... LATERAL VIEW udtf(...) g
/// [AS a, b]`.
fn select_list_generator(select: &mut Select) -> Result<()> {
    let generators = select
        .projection
        .iter()
        .filter(|item| generator_call(item).is_some())
        .count();
    if generators == 0 {
        return Ok(());
    }
    if select.projection.len() > 1 {
        return Err(analysis_err!(
            "Only a single expression in the SELECT clause is supported with UDTF's"
        ));
    }
    if select.distinct.is_some() || has_group_by(select) {
        return Err(analysis_err!(
            "GROUP BY and DISTINCT are not supported with a UDTF in the SELECT clause"
        ));
    }
    let item = select.projection.remove(0);
    let (expr, aliases) = match item {
        SelectItem::UnnamedExpr(expr) => (expr, Vec::new()),
        SelectItem::ExprWithAlias { expr, alias } => (expr, vec![alias]),
        SelectItem::ExprWithAliases { expr, aliases } => (expr, aliases),
        _ => return Err(analysis_err!("unexpected select item for a UDTF")),
    };
    let generator = Ident::with_span(Span::empty(), SELECT_LIST_GENERATOR);
    // The select list's generator applies to the rows of the FROM clause before any lateral
    // view written after it.
    select.lateral_views.insert(
        0,
        LateralView {
            lateral_view: expr,
            lateral_view_name: ObjectName(vec![ObjectNamePart::Identifier(generator.clone())]),
            lateral_col_alias: aliases,
            outer: false,
        },
    );
    select.projection = vec![SelectItem::QualifiedWildcard(
        SelectItemQualifiedWildcardKind::ObjectName(ObjectName(vec![ObjectNamePart::Identifier(
            generator,
        )])),
        WildcardAdditionalOptions::default(),
    )];
    Ok(())
}

fn has_group_by(select: &Select) -> bool {
    use datafusion::sql::sqlparser::ast::GroupByExpr;
    match &select.group_by {
        GroupByExpr::All(_) => true,
        GroupByExpr::Expressions(exprs, modifiers) => !exprs.is_empty() || !modifiers.is_empty(),
    }
}

/// Moves the FROM clause and lateral views of `select` into one marked derived table.
fn move_lateral_views(select: &mut Select) {
    if select.lateral_views.is_empty() {
        return;
    }
    let mut carrier = Select::clone(select);
    carrier.projection = vec![SelectItem::Wildcard(WildcardAdditionalOptions::default())];
    carrier.selection = None;
    carrier.distinct = None;
    carrier.having = None;
    carrier.group_by =
        datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(Vec::new(), Vec::new());
    carrier.named_window = Vec::new();
    carrier.qualify = None;
    carrier.cluster_by = Vec::new();
    carrier.distribute_by = Vec::new();
    carrier.sort_by = Vec::new();
    carrier.from = std::mem::take(&mut select.from);
    carrier.lateral_views = std::mem::take(&mut select.lateral_views);
    let marked = TableFactor::Derived {
        lateral: false,
        subquery: Box::new(super::select_query(carrier, None)),
        alias: Some(TableAlias {
            explicit: true,
            name: Ident::new(LATERAL_VIEW_MARKER),
            columns: Vec::new(),
            at: None,
        }),
        sample: None,
    };
    select.from = vec![TableWithJoins {
        relation: marked,
        joins: Vec::new(),
    }];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::{HiveStatement, parse_statement};

    fn prepared(sql: &str) -> String {
        let HiveStatement::Query(mut query) = parse_statement(sql).expect("parses") else {
            panic!("not a query: {sql}");
        };
        prepare_lateral_views(&mut query).expect("prepares");
        query.to_string()
    }

    #[test]
    fn lateral_views_move_into_the_marked_table() {
        assert_eq!(
            prepared(
                "SELECT a.k, c FROM t a JOIN u ON a.k = u.k LATERAL VIEW explode(a.l) g AS c WHERE c > 1"
            ),
            "SELECT a.k, c FROM (SELECT * FROM t a JOIN u ON a.k = u.k LATERAL VIEW explode(a.l) g AS c) AS __apiary_lateral_view WHERE c > 1"
        );
    }

    #[test]
    fn a_select_list_generator_becomes_a_lateral_view() {
        assert_eq!(
            prepared("SELECT explode(m) AS (k, v) FROM t"),
            "SELECT __apiary_generator.* FROM (SELECT * FROM t LATERAL VIEW explode(m) __apiary_generator AS k, v) AS __apiary_lateral_view"
        );
    }

    #[test]
    fn a_generator_beside_other_items_is_refused() {
        let HiveStatement::Query(mut query) =
            parse_statement("SELECT k, explode(l) FROM t").expect("parses")
        else {
            panic!("not a query");
        };
        let error = prepare_lateral_views(&mut query).expect_err("refused");
        assert!(error.to_string().contains("single expression"), "{error}");
    }

    #[test]
    fn nested_queries_are_rewritten() {
        let text = prepared("SELECT * FROM (SELECT c FROM t LATERAL VIEW explode(l) g AS c) s");
        assert!(text.contains("AS __apiary_lateral_view) s"), "{text}");
    }
}
