//! Semi-join reduction: rows a hash join will drop are dropped where they are read, when
//! other work lies between. A hash join publishes its build side's keys as a dynamic filter,
//! which DataFusion pushes down the probe side (through other joins, and through aggregates
//! grouped by the key) into the scans; without row-level Parquet pushdown a scan only prunes
//! row groups with it. When an aggregate or another join's build side sits between such a
//! scan and the join that produces the filter, this rule puts a [`SemijoinFilterExec`] right
//! above the scan (and the scan's own filter), so that the work in between sees only rows
//! that can join: TPC-H Q17 averages the quantity of 204 parts instead of all 200,000, and
//! Q18 joins 57 orders with their customers instead of 1.5 million. Hive does the same with
//! its dynamic semi-join reduction. Whether a filter drops enough rows to pay for its hash
//! lookups is learnt while the query runs (see [`SemijoinFilterExec`]). A scan reaching the
//! join through nothing but other joins' probe sides is left alone: each of those joins tests
//! a row with one hash lookup, as the filter would, so testing it early would only cost.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::DynamicFilterPhysicalExpr;
use datafusion::physical_expr::utils::{reassign_expr_columns, split_conjunction};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::joins::HashJoinExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;

use crate::execution::semijoin_filter::SemijoinFilterExec;

#[derive(Debug, Default)]
pub struct SemijoinReduction;

impl PhysicalOptimizerRule for SemijoinReduction {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // Only hash joins' filters: a top-N's threshold moves as rows come, and its sort tests
        // rows itself.
        let mut join_filters = HashSet::new();
        plan.apply(|node| {
            if node.is::<HashJoinExec>() {
                join_filters.extend(produced_ids(node.as_ref()));
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        reduce(plan, &join_filters, &HashSet::new())
    }

    fn name(&self) -> &str {
        "SemijoinReduction"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The ids of the dynamic filters `plan` produces.
fn produced_ids(plan: &dyn ExecutionPlan) -> HashSet<u64> {
    plan.dynamic_expressions_produced()
        .iter()
        .filter_map(|filter| filter.expression_id())
        .collect()
}

/// Rewrites `plan`'s scans to test the `join_filters` pushed into them. `near` holds the
/// ids of the filters whose joins are reached from `plan` through nodes that only pass rows on
/// and the probe sides of other joins: no work a test would save lies between.
fn reduce(
    plan: Arc<dyn ExecutionPlan>,
    join_filters: &HashSet<u64>,
    near: &HashSet<u64>,
) -> Result<Arc<dyn ExecutionPlan>> {
    // The scan's own filter goes first: it is cheaper than a hash lookup, and the lookup then
    // sees only the rows it passes.
    if let Some(filter) = plan.downcast_ref::<FilterExec>()
        && let Some(scan) = filter.input().downcast_ref::<DataSourceExec>()
        && let Some(tested) = behind_tests(&plan, pushed_tests(scan, join_filters, near))
    {
        return Ok(tested);
    }
    if let Some(scan) = plan.downcast_ref::<DataSourceExec>() {
        return Ok(behind_tests(&plan, pushed_tests(scan, join_filters, near)).unwrap_or(plan));
    }
    let children: Vec<Arc<dyn ExecutionPlan>> =
        if let Some(join) = plan.downcast_ref::<HashJoinExec>() {
            // A join's probe side is near its own filter and its parent's: probing a hash table
            // costs what testing the filter would. Its build side is work worth saving.
            let mut near_probe = near.clone();
            near_probe.extend(produced_ids(join));
            vec![
                reduce(Arc::clone(join.left()), join_filters, &HashSet::new())?,
                reduce(Arc::clone(join.right()), join_filters, &near_probe)?,
            ]
        } else {
            let near = if passes_rows_on(plan.as_ref()) {
                near.clone()
            } else {
                HashSet::new()
            };
            plan.children()
                .into_iter()
                .map(|child| reduce(Arc::clone(child), join_filters, &near))
                .collect::<Result<_>>()?
        };
    replace_children_if_necessary(plan, children)
}

/// Whether `plan` hands its input's rows on without work a filter below it would save.
fn passes_rows_on(plan: &dyn ExecutionPlan) -> bool {
    plan.is::<ProjectionExec>()
        || plan.is::<RepartitionExec>()
        || plan.is::<CoalescePartitionsExec>()
        || plan.is::<CooperativeExec>()
        || plan.is::<FilterExec>()
}

/// The `join_filters` pushed into `scan` whose producers are not `near`.
fn pushed_tests(
    scan: &DataSourceExec,
    join_filters: &HashSet<u64>,
    near: &HashSet<u64>,
) -> Vec<Arc<dyn PhysicalExpr>> {
    let Some(predicate) = scan
        .data_source()
        .downcast_ref::<FileScanConfig>()
        .and_then(|config| config.file_source().filter())
    else {
        return Vec::new();
    };
    split_conjunction(&predicate)
        .into_iter()
        .filter(|part| {
            part.downcast_ref::<DynamicFilterPhysicalExpr>()
                .and_then(|dynamic| dynamic.expression_id())
                .is_some_and(|id| join_filters.contains(&id) && !near.contains(&id))
        })
        .cloned()
        .collect()
}

/// `plan` behind a filter on `tests`, or `None` when there are none or `plan`'s output lacks
/// a column they test.
fn behind_tests(
    plan: &Arc<dyn ExecutionPlan>,
    tests: Vec<Arc<dyn PhysicalExpr>>,
) -> Option<Arc<dyn ExecutionPlan>> {
    // The scan's predicate refers to the table's columns; the filter above `plan` to its
    // output, which carries the join keys the tests read.
    let schema = plan.schema();
    let tests = tests
        .into_iter()
        .map(|test| reassign_expr_columns(test, &schema))
        .collect::<Result<Vec<_>>>()
        .ok()?;
    if tests.is_empty() {
        return None;
    }
    Some(Arc::new(SemijoinFilterExec::new(Arc::clone(plan), tests)))
}

#[cfg(test)]
mod tests {
    use super::super::filter_test_support::{Run, run, session};
    use crate::execution::filter_stream::SAMPLE_ROWS;

    #[tokio::test]
    async fn rows_are_tested_below_an_aggregate_the_join_filter_passed() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path()).await;
        let Run { plan, tested, rows } = run(
            &ctx,
            "select s.k, g.n, g.total from small s \
             join (select k, count(*) as n, sum(v) as total from big group by k) g on s.k = g.k \
             order by s.k",
            "SemijoinFilterExec",
        )
        .await;
        let aggregate = plan.find("AggregateExec: mode=Partial").unwrap();
        let test = plan.find("SemijoinFilterExec: DynamicFilter").unwrap();
        assert!(test > aggregate, "{plan}");
        // Only the two keys' rows reach the aggregate, all of them tested.
        assert_eq!(tested, Some((40, 0)), "{plan}");
        let expected = [
            "+---+----+---------+",
            "| k | n  | total   |",
            "+---+----+---------+",
            "| 3 | 20 | 1900060 |",
            "| 7 | 20 | 1900140 |",
            "+---+----+---------+",
        ];
        assert_eq!(rows, expected.join("\n"));
    }

    #[tokio::test]
    async fn a_scan_feeding_its_join_directly_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path()).await;
        let Run { plan, tested, rows } = run(
            &ctx,
            "select count(*) as n from small s join big b on s.k = b.k",
            "SemijoinFilterExec",
        )
        .await;
        assert!(plan.contains("DynamicFilter"), "{plan}");
        assert_eq!(tested, None, "{plan}");
        assert!(rows.contains("| 40 |"), "{rows}");
    }

    #[tokio::test]
    async fn a_scan_reaching_its_joins_through_probe_sides_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path()).await;
        let Run { plan, tested, rows } = run(
            &ctx,
            "select count(*) as n from big b join every e on b.k = e.k join small s on b.k = s.k",
            "SemijoinFilterExec",
        )
        .await;
        assert_eq!(tested, None, "{plan}");
        assert!(rows.contains("| 40 |"), "{rows}");
    }

    #[tokio::test]
    async fn a_filter_keeping_most_rows_stops_being_tested() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path()).await;
        let Run { plan, tested, rows } = run(
            &ctx,
            "select count(*) as groups, sum(g.n) as n from every e \
             join (select k, count(*) as n from big group by k) g on e.k = g.k",
            "SemijoinFilterExec",
        )
        .await;
        // The scan tests a sample of its rows, then hands the rest on.
        let (passed, untested) = tested.unwrap();
        assert_eq!(passed, 200_000, "{plan}");
        assert!(untested > 0 && untested <= 200_000 - SAMPLE_ROWS, "{plan}");
        assert!(rows.contains("| 10000  | 200000 |"), "{rows}");
    }
}
