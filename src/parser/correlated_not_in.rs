//! A correlated `x NOT IN (SELECT y FROM ... WHERE <refers to the outer query>)`. DataFusion
//! runs NOT IN as a null-aware anti join, which takes a single join key, so with the
//! correlation's keys it cannot run. The same meaning as NOT EXISTS:
//! `NOT EXISTS (SELECT 1 FROM ... WHERE <correlation> AND (y = x OR y IS NULL OR x IS NULL))`:
//! no row of the subquery may equal `x`, be NULL, or meet a NULL `x`.
//!
//! A subquery that aggregates (`SELECT min(y) ... WHERE <correlation> [GROUP BY ...]`)
//! compares its aggregated value after grouping: `HAVING min(y) = x OR min(y) IS NULL OR x IS
//! NULL`. An aggregate over no rows is one NULL row, which such a HAVING keeps, as NOT IN's
//! NULL answer needs.
//!
//! Only simple subqueries are rewritten (one select item, no DISTINCT, LIMIT or set
//! operation), and only correlated ones, which the rewrite keeps hash-joinable on the
//! correlation's equalities; an uncorrelated NOT IN stays a null-aware anti join.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Ident, Query, Select, SelectItem, SetExpr, TableFactor,
    Visit, VisitMut, VisitorMut, visit_expressions, visit_expressions_mut,
};

use super::hive_functions::number;

pub fn rewrite_correlated_not_in<V: VisitMut>(node: &mut V) {
    let _ = node.visit(&mut NotInRewriter);
}

struct NotInRewriter;

impl VisitorMut for NotInRewriter {
    type Break = ();

    // Each SELECT's own WHERE: the NOT IN's value is evaluated in that SELECT's scope.
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            let outer = single_relation_name(select);
            if let Some(selection) = &mut select.selection {
                rewrite_conjuncts(selection, outer.as_ref());
            }
        }
        ControlFlow::Continue(())
    }
}

/// The name columns of a SELECT's only relation are qualified by, if it has just one.
fn single_relation_name(select: &Select) -> Option<Ident> {
    let [table] = select.from.as_slice() else {
        return None;
    };
    if !table.joins.is_empty() {
        return None;
    }
    match &table.relation {
        TableFactor::Table {
            alias: Some(alias), ..
        }
        | TableFactor::Derived {
            alias: Some(alias), ..
        } => Some(alias.name.clone()),
        TableFactor::Table { name, .. } => name.0.last().and_then(|p| p.as_ident()).cloned(),
        _ => None,
    }
}

/// Rewrites the NOT IN subqueries among the AND / OR / NOT terms of a predicate (not those
/// inside other subqueries, which their own SELECT handles).
fn rewrite_conjuncts(expr: &mut Expr, outer: Option<&Ident>) {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And | BinaryOperator::Or,
            right,
        } => {
            rewrite_conjuncts(left, outer);
            rewrite_conjuncts(right, outer);
        }
        Expr::Nested(inner) | Expr::UnaryOp { expr: inner, .. } => rewrite_conjuncts(inner, outer),
        Expr::InSubquery {
            expr: value,
            subquery,
            negated: true,
        } => {
            if let Some(rewritten) =
                qualified(value, outer).and_then(|value| as_not_exists(&value, subquery))
            {
                *expr = rewritten;
            }
        }
        _ => {}
    }
}

/// `value` with its unqualified columns qualified by the outer relation's name, since it
/// moves into the subquery, whose own columns would otherwise capture them. `None` when it
/// has unqualified columns and the outer query has no single relation to name.
fn qualified(value: &Expr, outer: Option<&Ident>) -> Option<Expr> {
    let mut value = value.clone();
    let mut unresolved = false;
    let _ = visit_expressions_mut(&mut value, |expr| {
        if let Expr::Identifier(column) = expr {
            match outer {
                Some(outer) => {
                    *expr = Expr::CompoundIdentifier(vec![outer.clone(), column.clone()]);
                }
                None => unresolved = true,
            }
        }
        ControlFlow::<()>::Continue(())
    });
    (!unresolved).then_some(value)
}

fn as_not_exists(value: &Expr, subquery: &Query) -> Option<Expr> {
    let SetExpr::Select(select) = subquery.body.as_ref() else {
        return None;
    };
    let simple = subquery.order_by.is_none()
        && subquery.limit_clause.is_none()
        && subquery.with.is_none()
        && select.distinct.is_none();
    let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] =
        select.projection.as_slice()
    else {
        return None;
    };
    let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
    let aggregated = grouped || has_aggregate(item);
    let selection = select.selection.as_ref()?;
    if !simple
        || (!aggregated && select.having.is_some())
        || !refers_outside(selection, &relation_names(select))
    {
        return None;
    }
    let is_null = |e: &Expr| Expr::IsNull(Box::new(e.clone()));
    let or = |left: Expr, right: Expr| Expr::BinaryOp {
        left: Box::new(left),
        op: BinaryOperator::Or,
        right: Box::new(right),
    };
    let matches = Expr::Nested(Box::new(or(
        or(
            Expr::BinaryOp {
                left: Box::new(item.clone()),
                op: BinaryOperator::Eq,
                right: Box::new(value.clone()),
            },
            is_null(item),
        ),
        is_null(value),
    )));
    let mut rewritten = subquery.clone();
    if let SetExpr::Select(select) = rewritten.body.as_mut() {
        select.projection = vec![SelectItem::UnnamedExpr(number(1))];
        let and = |left: Expr, right: Expr| Expr::BinaryOp {
            left: Box::new(Expr::Nested(Box::new(left))),
            op: BinaryOperator::And,
            right: Box::new(right),
        };
        if aggregated {
            // The aggregated values are compared after grouping.
            select.having = Some(match select.having.take() {
                Some(having) => and(having, matches),
                None => matches,
            });
        } else {
            // The value's comparison first: Hive joins on the NOT IN value, then on the
            // correlation, and its result comes out in that order.
            select.selection = Some(Expr::BinaryOp {
                left: Box::new(matches),
                op: BinaryOperator::And,
                right: Box::new(Expr::Nested(Box::new(selection.clone()))),
            });
        }
    }
    Some(Expr::Exists {
        subquery: Box::new(rewritten),
        negated: true,
    })
}

/// The names the subquery's FROM clause defines: each table's alias, or its name if it has
/// none.
fn relation_names(select: &datafusion::sql::sqlparser::ast::Select) -> HashSet<String> {
    let mut names = HashSet::new();
    for table in &select.from {
        for factor in
            std::iter::once(&table.relation).chain(table.joins.iter().map(|j| &j.relation))
        {
            match factor {
                // An aliased table is known by its alias only (`part p` hides `part`).
                TableFactor::Table {
                    alias: Some(alias), ..
                } => {
                    names.insert(alias.name.value.to_lowercase());
                }
                TableFactor::Table { name, .. } => {
                    if let Some(last) = name.0.last().and_then(|p| p.as_ident()) {
                        names.insert(last.value.to_lowercase());
                    }
                }
                TableFactor::Derived {
                    alias: Some(alias), ..
                } => {
                    names.insert(alias.name.value.to_lowercase());
                }
                _ => {}
            }
        }
    }
    names
}

/// Whether `predicate` names a column qualified by a relation not in `inner`.
fn refers_outside(predicate: &Expr, inner: &HashSet<String>) -> bool {
    let mut outside = false;
    let _ = visit_expressions(predicate, |expr| {
        if let Expr::CompoundIdentifier(parts) = expr
            && let [qualifier, _] = parts.as_slice()
            && !inner.contains(&qualifier.value.to_lowercase())
        {
            outside = true;
        }
        ControlFlow::<()>::Continue(())
    });
    outside
}

fn has_aggregate(expr: &Expr) -> bool {
    const AGGREGATES: &[&str] = &[
        "min",
        "max",
        "sum",
        "avg",
        "count",
        "stddev",
        "variance",
        "collect_set",
        "collect_list",
    ];
    let mut found = false;
    let _ = expr.visit(&mut AggregateFinder {
        found: &mut found,
        names: AGGREGATES,
    });
    found
}

struct AggregateFinder<'a> {
    found: &'a mut bool,
    names: &'a [&'a str],
}

impl datafusion::sql::sqlparser::ast::Visitor for AggregateFinder<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Function(function) = expr
            && self
                .names
                .contains(&function.name.to_string().to_ascii_lowercase().as_str())
        {
            *self.found = true;
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::query_text;

    #[test]
    fn correlated_not_in_becomes_not_exists() {
        assert_eq!(
            query_text(
                "select * from part b where b.p_name not in \
                 (select p_name from part a where a.p_mfgr = b.p_mfgr)"
            ),
            "SELECT * FROM part b WHERE NOT EXISTS (SELECT 1 FROM part a WHERE \
             (p_name = b.p_name OR p_name IS NULL OR b.p_name IS NULL) AND (a.p_mfgr = b.p_mfgr))"
        );
        // Uncorrelated, or with an aggregate: as written.
        let plain = "SELECT * FROM part b WHERE b.p_name NOT IN (SELECT p_name FROM part a WHERE a.p_size > 1)";
        assert_eq!(query_text(plain), plain);
    }
}
