//! Hive's GROUP BY and DISTINCT results come out sorted by their keys (the shuffle sorts them
//! on the way to the reducer), and users and scripts rely on it: `SELECT k, count(*) ... GROUP
//! BY k` prints keys in order, and a LIMIT after it takes the smallest keys. This analyzer rule
//! gives a query whose result is a grouping (through projections, filters, subquery aliases and
//! limits, with no ORDER BY
//! of its own) a sort on the group keys, NULLs first as in Hive. A windowed result comes out
//! as Hive's windowing leaves it: sorted by the window's partition keys, then its order keys.
//! A result filtered by `IN` / `EXISTS` subqueries comes out sorted by the outer values the
//! subqueries are joined on, as Hive's shuffle semi and anti joins emit it.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, Result};
use datafusion::logical_expr::{Distinct, Expr, LogicalPlan, Sort, SortExpr};
use datafusion::optimizer::AnalyzerRule;

#[derive(Debug, Default)]
pub struct SortedGroups;

impl AnalyzerRule for SortedGroups {
    fn name(&self) -> &str {
        "hive_sorted_groups"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        sort_result_groups(plan)
    }
}

fn sort_result_groups(plan: LogicalPlan) -> Result<LogicalPlan> {
    match plan {
        // A semi or anti join of a subquery: Hive's shuffle join emits the rows in the order
        // of the keys it joins on.
        LogicalPlan::Filter(ref filter)
            if let Some(keys) = subquery_join_keys(&filter.predicate) =>
        {
            Ok(LogicalPlan::Sort(Sort {
                expr: keys.into_iter().map(|key| key.sort(true, true)).collect(),
                input: Arc::new(plan),
                fetch: None,
            }))
        }
        // Operators that keep their input's order: the grouping below them is the result's.
        LogicalPlan::Projection(_)
        | LogicalPlan::Limit(_)
        | LogicalPlan::Filter(_)
        | LogicalPlan::SubqueryAlias(_) => {
            let inputs = plan.inputs();
            let [input] = inputs.as_slice() else {
                return Ok(plan);
            };
            let sorted = sort_result_groups((*input).clone())?;
            plan.with_new_exprs(plan.expressions(), vec![sorted])
        }
        LogicalPlan::Aggregate(ref aggregate)
            if !aggregate.group_expr.is_empty()
                && !aggregate
                    .group_expr
                    .iter()
                    .any(|e| matches!(e, Expr::GroupingSet(_))) =>
        {
            let keys = aggregate.group_expr.len();
            Ok(sorted_by_leading_columns(plan, keys))
        }
        LogicalPlan::Distinct(Distinct::All(_)) => {
            let keys = plan.schema().fields().len();
            Ok(sorted_by_leading_columns(plan, keys))
        }
        LogicalPlan::Window(ref window) => match window_order(&window.window_expr) {
            Some(sort) => Ok(LogicalPlan::Sort(Sort {
                expr: sort,
                input: Arc::new(plan),
                fetch: None,
            })),
            None => Ok(plan),
        },
        other => Ok(other),
    }
}

/// The order Hive's windowing leaves rows in: that of the shuffle feeding the last window
/// specification, its partition keys (NULLs first) then its order keys.
fn window_order(window_exprs: &[Expr]) -> Option<Vec<SortExpr>> {
    let params = window_exprs
        .iter()
        .find_map(|expr| match expr.clone().unalias() {
            Expr::WindowFunction(function) => Some(function.params),
            _ => None,
        })?;
    let mut sort: Vec<SortExpr> = params
        .partition_by
        .into_iter()
        .map(|key| key.sort(true, true))
        .collect();
    sort.extend(params.order_by);
    (!sort.is_empty()).then_some(sort)
}

/// The outer values an `IN` / `EXISTS` subquery of `predicate` is joined on: an IN's value,
/// then the outer columns the subqueries refer to, in order; `None` without correlation.
fn subquery_join_keys(predicate: &Expr) -> Option<Vec<Expr>> {
    let mut keys: Vec<Expr> = Vec::new();
    let mut push = |key: Expr| {
        if !keys.contains(&key) {
            keys.push(key);
        }
    };
    let _ = predicate.apply(|expr| {
        let subquery = match expr {
            Expr::InSubquery(in_subquery) => {
                push(in_subquery.expr.as_ref().clone());
                &in_subquery.subquery
            }
            Expr::Exists(exists) => &exists.subquery,
            _ => return Ok(TreeNodeRecursion::Continue),
        };
        for column in outer_columns_bottom_up(&subquery.subquery) {
            push(Expr::Column(column));
        }
        Ok(TreeNodeRecursion::Continue)
    });
    (!keys.is_empty()).then_some(keys)
}

/// The outer columns a subquery plan refers to, those of its deepest operators first: a
/// WHERE's correlation comes before a HAVING's comparison, as Hive orders its join keys.
fn outer_columns_bottom_up(plan: &LogicalPlan) -> Vec<Column> {
    let mut per_node: Vec<Vec<Column>> = Vec::new();
    let _ = plan.apply(|node| {
        let mut columns = Vec::new();
        for expr in node.expressions() {
            let _ = expr.apply(|e| {
                if let Expr::OuterReferenceColumn(_, column) = e {
                    columns.push(column.clone());
                }
                Ok(TreeNodeRecursion::Continue)
            });
        }
        per_node.push(columns);
        Ok(TreeNodeRecursion::Continue)
    });
    per_node.into_iter().rev().flatten().collect()
}

/// `plan` sorted by its first `keys` columns, ascending with NULLs first.
fn sorted_by_leading_columns(plan: LogicalPlan, keys: usize) -> LogicalPlan {
    let sort: Vec<SortExpr> = plan
        .schema()
        .iter()
        .take(keys)
        .map(|(qualifier, field)| {
            Expr::Column(Column::new(qualifier.cloned(), field.name())).sort(true, true)
        })
        .collect();
    LogicalPlan::Sort(Sort {
        expr: sort,
        input: Arc::new(plan),
        fetch: None,
    })
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn groups_come_out_in_key_order() {
        let text = super::super::run_with_rules(
            "select k, count(*) n from (values (3), (1), (null), (2), (1)) t(k) group by k",
        )
        .await;
        let keys: Vec<&str> = text
            .lines()
            .skip(3)
            .filter_map(|line| line.split('|').nth(1))
            .map(str::trim)
            .collect();
        assert_eq!(keys, vec!["", "1", "2", "3"], "{text}");
    }
}
