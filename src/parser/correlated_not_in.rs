//! A correlated `x NOT IN (SELECT y FROM ... WHERE <refers to the outer query>)`. DataFusion
//! runs NOT IN as a null-aware anti join, which takes a single join key, so with the
//! correlation's keys it cannot run. The same meaning as NOT EXISTS:
//! `NOT EXISTS (SELECT 1 FROM ... WHERE <correlation> AND (y = x OR y IS NULL OR x IS NULL))`:
//! no row of the subquery may equal `x`, be NULL, or meet a NULL `x`.
//!
//! Only plain subqueries are rewritten (one select item, no aggregate, GROUP BY, DISTINCT,
//! LIMIT or set operation), and only correlated ones, which the rewrite keeps hash-joinable on
//! the correlation's equalities; an uncorrelated NOT IN stays a null-aware anti join.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Query, SelectItem, SetExpr, TableFactor, Value,
    ValueWithSpan, Visit, VisitMut, visit_expressions, visit_expressions_mut,
};

pub fn rewrite_correlated_not_in<V: VisitMut>(node: &mut V) {
    let _ = visit_expressions_mut(node, |expr| {
        if let Expr::InSubquery {
            expr: value,
            subquery,
            negated: true,
        } = expr
            && let Some(rewritten) = as_not_exists(value, subquery)
        {
            *expr = rewritten;
        }
        ControlFlow::<()>::Continue(())
    });
}

fn as_not_exists(value: &Expr, subquery: &Query) -> Option<Expr> {
    let SetExpr::Select(select) = subquery.body.as_ref() else {
        return None;
    };
    let plain = subquery.order_by.is_none()
        && subquery.limit_clause.is_none()
        && subquery.with.is_none()
        && select.distinct.is_none()
        && select.having.is_none()
        && matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
    let [SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }] =
        select.projection.as_slice()
    else {
        return None;
    };
    let selection = select.selection.as_ref()?;
    if !plain || has_aggregate(item) || !refers_outside(selection, &relation_names(select)) {
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
        select.projection = vec![SelectItem::UnnamedExpr(Expr::Value(ValueWithSpan::from(
            Value::Number("1".into(), false),
        )))];
        select.selection = Some(Expr::BinaryOp {
            left: Box::new(Expr::Nested(Box::new(selection.clone()))),
            op: BinaryOperator::And,
            right: Box::new(matches),
        });
    }
    Some(Expr::Exists {
        subquery: Box::new(rewritten),
        negated: true,
    })
}

/// The names (aliases, or table names) the subquery's FROM clause defines.
fn relation_names(select: &datafusion::sql::sqlparser::ast::Select) -> HashSet<String> {
    let mut names = HashSet::new();
    for table in &select.from {
        for factor in
            std::iter::once(&table.relation).chain(table.joins.iter().map(|j| &j.relation))
        {
            match factor {
                TableFactor::Table { name, alias, .. } => {
                    if let Some(alias) = alias {
                        names.insert(alias.name.value.to_lowercase());
                    }
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
            "SELECT * FROM part b WHERE NOT EXISTS (SELECT 1 FROM part a WHERE (a.p_mfgr = b.p_mfgr) \
             AND (p_name = b.p_name OR p_name IS NULL OR b.p_name IS NULL))"
        );
        // Uncorrelated, or with an aggregate: as written.
        let plain = "SELECT * FROM part b WHERE b.p_name NOT IN (SELECT p_name FROM part a WHERE a.p_size > 1)";
        assert_eq!(query_text(plain), plain);
    }
}
