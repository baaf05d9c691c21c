//! When a GROUP BY has a DISTINCT aggregate, Hive's reducer receives each group's rows sorted
//! by the distinct argument, since that argument is part of the shuffle key. Aggregates whose
//! result depends on the order of their rows see them in that order: `collect_list`, and the
//! last digits of `variance`, `stddev`, `covar_*`, `corr`. This analyzer rule, after type
//! coercion, gives such aggregates (those with a soft ordering requirement) an ORDER BY on the
//! distinct argument, read as written (a string argument sorts as a string, even where the
//! aggregate reads it as a DOUBLE).
//!
//! Hive's map-side partial aggregation (`hive.map.aggr`) merges per-value partial results
//! instead; the digits that leaves are not reproduced.

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::expr::{AggregateFunction, Cast, TryCast};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;

#[derive(Debug, Default)]
pub struct DistinctKeyOrder;

impl AnalyzerRule for DistinctKeyOrder {
    fn name(&self) -> &str {
        "distinct_key_order"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            let LogicalPlan::Aggregate(aggregate) = &node else {
                return Ok(Transformed::no(node));
            };
            let Some(key) = distinct_key(&aggregate.aggr_expr, aggregate.input.schema()) else {
                return Ok(Transformed::no(node));
            };
            let names = NamePreserver::new(&node);
            node.map_expressions(|expr| {
                let name = names.save(&expr);
                expr.transform_up(|e| match e {
                    Expr::AggregateFunction(mut f)
                        if f.params.order_by.is_empty()
                            && !f.params.distinct
                            && f.func.inner().order_sensitivity()
                                == AggregateOrderSensitivity::SoftRequirement =>
                    {
                        f.params.order_by = vec![key.clone().sort(true, true)];
                        Ok(Transformed::yes(Expr::AggregateFunction(f)))
                    }
                    other => Ok(Transformed::no(other)),
                })
                .map(|t| t.update_data(|e| name.restore(e)))
            })?
            .map_data(|node| node.recompute_schema())
        })
        .map(|t| t.data)
    }
}

/// The argument every DISTINCT aggregate of the node shares, with a coercion cast of a
/// string taken off; `None` when there is no DISTINCT aggregate or they differ.
fn distinct_key(aggregates: &[Expr], schema: &datafusion::common::DFSchema) -> Option<Expr> {
    let mut key: Option<Expr> = None;
    for expr in aggregates {
        let mut found = Vec::new();
        expr.apply(|e| {
            if let Expr::AggregateFunction(AggregateFunction { params, .. }) = e
                && params.distinct
            {
                found.push(params.args.first().cloned());
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        })
        .ok()?;
        for arg in found {
            let arg = as_written(arg?, schema);
            match &key {
                Some(k) if *k != arg => return None,
                _ => key = Some(arg),
            }
        }
    }
    key
}

fn as_written(arg: Expr, schema: &datafusion::common::DFSchema) -> Expr {
    match arg {
        Expr::Cast(Cast { expr, .. }) | Expr::TryCast(TryCast { expr, .. })
            if expr.get_type(schema).is_ok_and(|t| t.is_string()) =>
        {
            *expr
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn order_sensitive_aggregates_see_rows_in_distinct_key_order() {
        let text = super::super::run_with_rules(
            "select array_agg(v), count(distinct k) \
             from (values ('b', 1), ('c', 2), ('a', 3)) t(k, v)",
        )
        .await;
        assert!(text.contains("| [3, 1, 2]"), "{text}");
    }
}
