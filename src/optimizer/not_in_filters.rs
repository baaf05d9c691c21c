//! `NOT IN (subquery)` runs as a [`NotInFilterExec`] on the outer rows' partitions instead
//! of DataFusion's null-aware anti join, which builds on the outer rows and emits them from
//! one partition (the operator's module says why that matters and how NULLs count). The
//! rule runs after DataFusion's, once the join's mode is chosen, on joins that collect their
//! build side: the coalescing is dropped, so the outer rows stay in the partitions they were
//! read in.
//! When those are not as many as the join's output partitions, the parent saw another count
//! when it was planned: a single partition is coalesced again, others are repartitioned.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::logical_expr::JoinType;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, Partitioning};

use crate::execution::not_in_filter::NotInFilterExec;

#[derive(Debug, Default)]
pub struct NotInFilters;

impl PhysicalOptimizerRule for NotInFilters {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| match not_in_filter(&node)? {
            Some(filter) => Ok(Transformed::yes(filter)),
            None => Ok(Transformed::no(node)),
        })
        .map(|transformed| transformed.data)
    }

    fn name(&self) -> &str {
        "NotInFilters"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The filter standing for `node` when it is a null-aware anti join on one key, without
/// other conditions or a row limit.
fn not_in_filter(node: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some(join) = node.downcast_ref::<HashJoinExec>() else {
        return Ok(None);
    };
    // What the parent was planned on: the join's output in no particular order, spread over
    // its partitions with no hashing a parent could rely on.
    let planned = node.output_partitioning();
    if !join.null_aware
        || *join.partition_mode() != PartitionMode::CollectLeft
        || matches!(planned, Partitioning::Hash(..))
        || node.output_ordering().is_some()
        || *join.join_type() != JoinType::LeftAnti
        || join.on().len() != 1
        || join.filter().is_some()
        || join.fetch().is_some()
    {
        return Ok(None);
    }
    let left = Arc::clone(join.left());
    let input = match left.downcast_ref::<CoalescePartitionsExec>() {
        Some(coalesce) if coalesce.fetch().is_none() => Arc::clone(coalesce.input()),
        _ => left,
    };
    let filter: Arc<dyn ExecutionPlan> = Arc::new(NotInFilterExec::try_new(
        Arc::new(join.builder().reset_state().build()?),
        input,
    )?);
    let (planned, now) = (
        planned.partition_count(),
        filter.output_partitioning().partition_count(),
    );
    Ok(Some(if planned == now {
        filter
    } else if planned == 1 {
        Arc::new(CoalescePartitionsExec::new(filter))
    } else {
        Arc::new(RepartitionExec::try_new(
            filter,
            Partitioning::RoundRobinBatch(planned),
        )?)
    }))
}

#[cfg(test)]
mod tests {
    use super::super::filter_test_support::{Run, run, session};

    /// The rows of `sql` and of `expected`, a query without NOT IN that must give the same;
    /// `big` is read in two partitions.
    async fn same_rows(sql: &str, expected: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path()).await;
        let set = "set datafusion.optimizer.repartition_file_min_size = 0";
        ctx.sql(set).await.unwrap();
        let Run { plan, rows, .. } = run(&ctx, sql, "NotInFilterExec").await;
        let Run { rows: want, .. } = run(&ctx, expected, "").await;
        assert_eq!(rows, want, "{plan}");
        plan
    }

    #[tokio::test]
    async fn outer_rows_are_filtered_in_their_partitions() {
        let plan = same_rows(
            "select count(*) as n, sum(v) as total from big where k not in (select k from small)",
            "select count(*) as n, sum(v) as total from big where k <> 3 and k <> 7",
        )
        .await;
        assert!(
            plan.contains("NotInFilterExec: k@0 NOT IN (small.k@0)"),
            "{plan}"
        );
        assert!(!plan.contains("LeftAnti"), "{plan}");
        // Both partitions of big are tested: nothing gathers them into one before the filter.
        let filter = plan.find("NotInFilterExec").unwrap();
        assert!(!plan[filter..].contains("CoalescePartitionsExec"), "{plan}");
        assert!(plan[filter..].contains("2 groups"), "{plan}");
        assert!(plan.contains("subquery_rows=2"), "{plan}");
    }

    #[tokio::test]
    async fn an_empty_subquery_keeps_every_row_null_keys_too() {
        same_rows(
            "select count(*) as n, count(k) as keys from \
             (select case when v < 10 then null else k end as k from big) t \
             where k not in (select k from small where k > 100)",
            "select count(*) as n, count(k) as keys from \
             (select case when v < 10 then null else k end as k from big) t",
        )
        .await;
    }

    #[tokio::test]
    async fn null_outer_keys_are_dropped_when_the_subquery_has_rows() {
        same_rows(
            "select count(*) as n from \
             (select case when v < 10 then null else k end as k from big) t \
             where k not in (select k from small)",
            "select count(*) as n from big where v >= 10 and k <> 3 and k <> 7",
        )
        .await;
    }

    #[tokio::test]
    async fn a_null_in_the_subquery_keeps_nothing() {
        same_rows(
            "select count(*) as n from big where k not in \
             (select k from small union all select cast(null as bigint))",
            "select count(*) as n from big where false",
        )
        .await;
    }

    #[tokio::test]
    async fn string_keys_are_compared_by_value() {
        same_rows(
            "select count(*) as n from big where cast(k as string) not in \
             (select cast(k as string) from every where k < 5000)",
            "select count(*) as n from big where k >= 5000",
        )
        .await;
    }
}
