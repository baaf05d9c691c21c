//! Hive's grouping forms: `GROUP BY a, b WITH ROLLUP | WITH CUBE`, `GROUP BY a, b GROUPING
//! SETS ((a), (a, b))`, and the `GROUPING__ID` column. The modifiers become the standard
//! `ROLLUP(a, b)` / `CUBE(a, b)` / `GROUPING SETS (...)`; `GROUPING__ID` is Hive 3's bit
//! vector of the grouping columns left out of a row's grouping set (the last column in the
//! lowest bit), which is the standard `grouping(a, b)`.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, GroupByExpr, GroupByWithModifier, Ident, OrderByKind, Query, SelectItem, SetExpr,
    VisitMut, VisitorMut, visit_expressions_mut,
};

use super::hive_functions::{call, plain_arg_list};

pub fn resolve_grouping<V: VisitMut>(node: &mut V) {
    let _ = node.visit(&mut Grouping);
}

struct Grouping;

impl VisitorMut for Grouping {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let GroupByExpr::Expressions(exprs, modifiers) = &mut select.group_by else {
            return ControlFlow::Continue(());
        };
        let sets = |exprs: &[Expr]| exprs.iter().map(|e| vec![e.clone()]).collect::<Vec<_>>();
        // `GROUP BY cube(a, b)` / `rollup(a, b)` parse as function calls.
        for expr in exprs.iter_mut() {
            if let Expr::Function(function) = expr
                && let Some(args) = plain_arg_list(function)
            {
                match function.name.to_string().to_ascii_lowercase().as_str() {
                    "cube" => *expr = Expr::Cube(sets(&args)),
                    "rollup" => *expr = Expr::Rollup(sets(&args)),
                    _ => {}
                }
            }
        }
        match modifiers.as_slice() {
            [GroupByWithModifier::Rollup] => *exprs = vec![Expr::Rollup(sets(exprs))],
            [GroupByWithModifier::Cube] => *exprs = vec![Expr::Cube(sets(exprs))],
            [GroupByWithModifier::GroupingSets(grouping_sets)] => {
                *exprs = vec![grouping_sets.clone()];
            }
            _ => {}
        }
        modifiers.retain(|m| {
            !matches!(
                m,
                GroupByWithModifier::Rollup
                    | GroupByWithModifier::Cube
                    | GroupByWithModifier::GroupingSets(_)
            )
        });
        let columns = grouping_columns(exprs);
        if columns.is_empty() {
            return ControlFlow::Continue(());
        }
        let grouping_id = call("grouping", columns);
        let replace = |expr: &mut Expr| {
            if let Expr::Identifier(Ident { value, .. }) = expr
                && value.eq_ignore_ascii_case("grouping__id")
            {
                *expr = grouping_id.clone();
            }
            ControlFlow::<()>::Continue(())
        };
        for item in &mut select.projection {
            match item {
                SelectItem::UnnamedExpr(expr) => {
                    // The column keeps its Hive name.
                    let is_id = matches!(expr, Expr::Identifier(i) if i.value.eq_ignore_ascii_case("grouping__id"));
                    let _ = visit_expressions_mut(expr, replace);
                    if is_id {
                        *item = SelectItem::ExprWithAlias {
                            expr: grouping_id.clone(),
                            alias: Ident::new("grouping__id"),
                        };
                    }
                }
                SelectItem::ExprWithAlias { expr, .. } => {
                    let _ = visit_expressions_mut(expr, replace);
                }
                _ => {}
            }
        }
        if let Some(having) = &mut select.having {
            let _ = visit_expressions_mut(having, replace);
        }
        if let Some(order_by) = &mut query.order_by
            && let OrderByKind::Expressions(items) = &mut order_by.kind
        {
            for item in items {
                let _ = visit_expressions_mut(&mut item.expr, replace);
            }
        }
        ControlFlow::Continue(())
    }
}

/// The distinct columns grouped on, in order of first appearance.
fn grouping_columns(exprs: &[Expr]) -> Vec<Expr> {
    let mut columns: Vec<Expr> = Vec::new();
    let mut add = |expr: &Expr| {
        if !columns.contains(expr) {
            columns.push(expr.clone());
        }
    };
    for expr in exprs {
        match expr {
            Expr::Rollup(sets) | Expr::Cube(sets) | Expr::GroupingSets(sets) => {
                sets.iter().flatten().for_each(&mut add);
            }
            Expr::Tuple(items) => items.iter().for_each(&mut add),
            Expr::Nested(inner) => add(inner),
            other => add(other),
        }
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::super::query_text;

    #[test]
    fn hive_grouping_forms_become_standard_ones() {
        assert_eq!(
            query_text("select key, val, grouping__id from t group by key, val with cube"),
            "SELECT key, val, grouping(key, val) AS grouping__id FROM t GROUP BY CUBE (key, val)"
        );
        assert_eq!(
            query_text(
                "select grouping__id, key from t group by key, val with rollup having grouping__id > 0"
            ),
            "SELECT grouping(key, val) AS grouping__id, key FROM t GROUP BY ROLLUP (key, val) \
             HAVING grouping(key, val) > 0"
        );
    }
}
