//! Join key filters: each hash join on an integer key collects its build side's keys into a
//! bitmap, and rows of its probe side whose key is not in it are dropped by a cheap test
//! (`execution::join_key_filter`) before the join hashes and looks them up. TPC-H Q21 probes
//! the 411 suppliers of one nation with 3.8 million lineitem rows and keeps 4% of them; Q4,
//! Q17 and Q18 keep fewer.
//!
//! The filter goes down the probe side as far as the key column goes unchanged: through
//! projections, filters, repartitions, aggregates grouped by it (a group's row comes from the
//! rows of its key) and other joins (whichever side the column comes from), to right above
//! the scan that reads it. A scan with a filter of its own gets the test as one more of that
//! filter's conditions (`execution::join_key_test`), which `AdaptiveFilterExec` orders among
//! the others by what each drops for its cost: Q7's key test drops 92% of lineitem's rows
//! and its ship-date range 70%, so the key goes first. A row dropped there is
//! not repartitioned, copied or probed by the joins in between, and none of them could have
//! kept it: the join above drops every row whose key is not in its build side, and a row of
//! theirs carries the key of the input row it came from. A join whose build side is one
//! partition (`CollectLeft`) has one key set for all its probe partitions. A partitioned join
//! has one per partition: above the repartition that deals the probe rows out, a partition's
//! rows are tested against the same partition's keys; below it, a row against every
//! partition's, as it may go to any of them.
//!
//! Only joins that drop the probe rows without a match get a filter (inner, left, left semi,
//! left anti, left mark and right semi joins, where the left side is the build side), and only
//! when NULL keys match nothing and the join is not a null-aware anti join (`NOT IN`), whose
//! answer depends on whether a NULL key exists at all.

use std::sync::Arc;

use datafusion::common::NullEquality;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{JoinSide, JoinType};
use datafusion::error::Result;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::expressions::BinaryExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};
use datafusion::physical_plan::joins::utils::build_join_schema;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::recursive_query::RecursiveQueryExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

use crate::execution::adaptive_filter::AdaptiveFilterExec;
use crate::execution::join_key_filter::{
    JoinKeyCollectExec, JoinKeyFilterExec, JoinKeySets, SetPartition, is_key_type,
};
use crate::execution::join_key_test::JoinKeyTest;
use crate::execution::semijoin_filter::SemijoinFilterExec;

#[derive(Debug, Default)]
pub struct JoinKeyFilters;

impl PhysicalOptimizerRule for JoinKeyFilters {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // A recursive query runs its joins again and again; their filters are left out there.
        let mut recursive = false;
        plan.apply(|node| {
            recursive |= node.is::<RecursiveQueryExec>();
            Ok(TreeNodeRecursion::Continue)
        })?;
        if recursive {
            return Ok(plan);
        }
        plan.transform_up(|node| match with_key_filter(&node)? {
            Some(filtered) => Ok(Transformed::yes(filtered)),
            None => Ok(Transformed::no(node)),
        })
        .map(|transformed| transformed.data)
    }

    fn name(&self) -> &str {
        "JoinKeyFilters"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `plan`, a hash join, with its build side's keys collected and tested on its probe side,
/// when it has an integer key and drops the probe rows that do not match.
fn with_key_filter(plan: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some(join) = plan.downcast_ref::<HashJoinExec>() else {
        return Ok(None);
    };
    let drops_unmatched_probe_rows = matches!(
        join.join_type(),
        JoinType::Inner
            | JoinType::Left
            | JoinType::LeftSemi
            | JoinType::LeftAnti
            | JoinType::LeftMark
            | JoinType::RightSemi
    );
    if !drops_unmatched_probe_rows
        || join.null_aware
        || join.null_equality() != NullEquality::NullEqualsNothing
    {
        return Ok(None);
    }
    let set_partition = match join.partition_mode() {
        PartitionMode::CollectLeft => SetPartition::Shared,
        PartitionMode::Partitioned => SetPartition::Same,
        PartitionMode::Auto => return Ok(None),
    };
    let (left_schema, right_schema) = (join.left().schema(), join.right().schema());
    let key = join.on().iter().find_map(|(build, probe)| {
        let probe = probe.downcast_ref::<Column>()?;
        let build_type = build.data_type(&left_schema).ok()?;
        let probe_type = right_schema.fields().get(probe.index())?.data_type();
        (is_key_type(&build_type) && build_type == *probe_type)
            .then(|| (Arc::clone(build), probe.clone()))
    });
    let Some((build_key, probe_key)) = key else {
        return Ok(None);
    };
    let sets = Arc::new(JoinKeySets::new(
        join.left().output_partitioning().partition_count(),
    ));
    let build = Arc::new(JoinKeyCollectExec::new(
        Arc::clone(join.left()),
        build_key,
        Arc::clone(&sets),
    ));
    let probe = place(Arc::clone(join.right()), probe_key, &sets, set_partition)?;
    replace_children_if_necessary(Arc::clone(plan), vec![build, probe]).map(Some)
}

/// `plan` with a filter on `key` placed as far down as the column goes unchanged, testing
/// the sets `partitions` says.
fn place(
    plan: Arc<dyn ExecutionPlan>,
    key: Column,
    sets: &Arc<JoinKeySets>,
    partitions: SetPartition,
) -> Result<Arc<dyn ExecutionPlan>> {
    if let Some(tested) = with_key_test(&plan, key.index(), sets, partitions)? {
        return Ok(tested);
    }
    let Some((child, column)) = carried_from(plan.as_ref(), key.index()) else {
        let filter = JoinKeyFilterExec::try_new(plan, key, Arc::clone(sets), partitions)?;
        return Ok(Arc::new(filter));
    };
    // Below a node that deals rows out anew, a row of a partitioned join's partition may come
    // from any partition.
    let partitions = match partitions {
        SetPartition::Same if deals_rows_anew(plan.as_ref(), child) => SetPartition::All,
        unchanged => unchanged,
    };
    let mut children: Vec<Arc<dyn ExecutionPlan>> = plan.children().into_iter().cloned().collect();
    let Some(input) = children.get_mut(child) else {
        return Ok(plan);
    };
    let Some(name) = input
        .schema()
        .fields()
        .get(column)
        .map(|f| f.name().clone())
    else {
        return Ok(plan);
    };
    *input = place(
        Arc::clone(input),
        Column::new(&name, column),
        sets,
        partitions,
    )?;
    replace_children_if_necessary(plan, children)
}

/// Whether the partition a row of `plan`'s output is in may differ from the partition of its
/// input `child` the row came from.
fn deals_rows_anew(plan: &dyn ExecutionPlan, child: usize) -> bool {
    let collects_build_side = plan
        .downcast_ref::<HashJoinExec>()
        .is_some_and(|join| child == 0 && *join.partition_mode() == PartitionMode::CollectLeft);
    plan.is::<RepartitionExec>() || plan.is::<CoalescePartitionsExec>() || collects_build_side
}

/// The child of `plan`, and its column, that `plan`'s output column `column` is taken from
/// unchanged, row for row, when a filter below `plan` could drop what `plan` would.
fn carried_from(plan: &dyn ExecutionPlan, column: usize) -> Option<(usize, usize)> {
    if let Some(projection) = plan.downcast_ref::<ProjectionExec>() {
        let source = projection
            .expr()
            .get(column)?
            .expr
            .downcast_ref::<Column>()?;
        return Some((0, source.index()));
    }
    if let Some(filter) = plan.downcast_ref::<FilterExec>() {
        return filtered_column(filter, column);
    }
    if let Some(adaptive) = plan.downcast_ref::<AdaptiveFilterExec>() {
        return filtered_column(adaptive.filter(), column);
    }
    // A group's row comes from the input rows of its key, and only from them.
    if let Some(aggregate) = plan.downcast_ref::<AggregateExec>() {
        let grouping = aggregate.group_expr();
        if !grouping.is_single() || aggregate.limit_options().is_some() {
            return None;
        }
        let (key, _) = grouping.expr().get(column)?;
        return Some((0, key.downcast_ref::<Column>()?.index()));
    }
    if let Some(join) = plan.downcast_ref::<HashJoinExec>() {
        let column = match &join.projection {
            Some(projection) => *projection.get(column)?,
            None => column,
        };
        let (_, sides) = build_join_schema(
            &join.left().schema(),
            &join.right().schema(),
            join.join_type(),
        );
        let source = sides.get(column)?;
        return match source.side {
            JoinSide::Left => Some((0, source.index)),
            JoinSide::Right => Some((1, source.index)),
            JoinSide::None => None,
        };
    }
    let passes_rows_on = plan.is::<RepartitionExec>()
        || plan.is::<CoalescePartitionsExec>()
        || plan.is::<CooperativeExec>()
        || plan.is::<SemijoinFilterExec>()
        || plan.is::<JoinKeyFilterExec>()
        || plan.is::<JoinKeyCollectExec>();
    passes_rows_on.then_some((0, column))
}

/// `plan` with the key test among its conjuncts, when it is a scan's own filter (a filter
/// right above a node without inputs) and its rows are not yet in a partitioned join's
/// partitions: `AdaptiveFilterExec` then tests the key first when it drops more rows for its
/// cost than the scan's own conditions, after them when it drops fewer.
fn with_key_test(
    plan: &Arc<dyn ExecutionPlan>,
    column: usize,
    sets: &Arc<JoinKeySets>,
    partitions: SetPartition,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let filter = match plan.downcast_ref::<AdaptiveFilterExec>() {
        Some(adaptive) => adaptive.filter().as_ref(),
        None => match plan.downcast_ref::<FilterExec>() {
            Some(filter) => filter,
            None => return Ok(None),
        },
    };
    if !reads_a_scan(filter) || filter.fetch().is_some() || partitions == SetPartition::Same {
        return Ok(None);
    }
    let input_column = match filter.projection() {
        Some(projection) => projection.get(column).copied(),
        None => Some(column),
    };
    let input_schema = filter.input().schema();
    let Some((index, field)) =
        input_column.and_then(|index| Some((index, input_schema.fields().get(index)?)))
    else {
        return Ok(None);
    };
    let key = Arc::new(Column::new(field.name(), index));
    let test = Arc::new(JoinKeyTest::try_new(key, Arc::clone(sets), partitions)?);
    let predicate = Arc::new(BinaryExpr::new(
        Arc::clone(filter.predicate()),
        Operator::And,
        test,
    ));
    let tested = Arc::new(
        FilterExecBuilder::from(filter)
            .with_predicate(predicate)
            .build()?,
    );
    Ok(Some(
        match AdaptiveFilterExec::try_new(Arc::clone(&tested))? {
            Some(adaptive) => Arc::new(adaptive),
            None => tested,
        },
    ))
}

/// Whether `filter` is a scan's own: right above a node without inputs.
fn reads_a_scan(filter: &FilterExec) -> bool {
    filter.input().children().is_empty()
}

/// The input column of `filter`'s output column `column`; `None` right above a scan, where
/// the scan's own filter runs first.
fn filtered_column(filter: &FilterExec, column: usize) -> Option<(usize, usize)> {
    if reads_a_scan(filter) {
        return None;
    }
    match filter.projection() {
        Some(projection) => Some((0, *projection.get(column)?)),
        None => Some((0, column)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::filter_test_support::{Run, run, session};
    use crate::execution::filter_stream::SAMPLE_ROWS;

    /// The line of `plan` right below the first that contains `node`.
    fn below<'a>(plan: &'a str, node: &str) -> &'a str {
        let mut lines = plan.lines().skip_while(|line| !line.contains(node));
        lines.nth(1).unwrap_or_default()
    }

    #[tokio::test]
    async fn the_probe_side_is_tested_where_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path()).await;
        let Run { plan, tested, rows } = run(
            &ctx,
            "select count(*) as n, sum(b.v) as total from small s join big b on s.k = b.k",
            "JoinKeyFilterExec",
        )
        .await;
        assert!(plan.contains("JoinKeyCollectExec"), "{plan}");
        assert!(
            below(&plan, "JoinKeyFilterExec").contains("DataSourceExec"),
            "{plan}"
        );
        assert!(
            below(&plan, "JoinKeyFilterExec").contains("big.parquet"),
            "{plan}"
        );
        // Of big's 200,000 rows only the 40 with keys 3 and 7 reach the join.
        assert_eq!(tested, Some((40, 0)), "{plan}");
        assert!(rows.contains("| 40 | 3800200 |"), "{rows}");
    }

    #[tokio::test]
    async fn a_scan_filter_tests_the_key_among_its_conditions() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path()).await;
        // The scan reads its one file in two ranges, so that the filter sits right on it.
        let set = "set datafusion.optimizer.repartition_file_min_size = 0";
        ctx.sql(set).await.unwrap();
        let Run { plan, tested, rows } = run(
            &ctx,
            "select count(*) as n, sum(b.v) as total from small s join big b on s.k = b.k \
             where b.v < 100000",
            "JoinKeyFilterExec",
        )
        .await;
        assert_eq!(tested, None, "{plan}");
        let filter = plan
            .lines()
            .find(|line| line.contains("join_keys("))
            .unwrap();
        assert!(
            filter.contains("AdaptiveFilterExec: v@1 < 100000 AND join_keys(k@0)"),
            "{plan}"
        );
        assert!(rows.contains("| 20 | 900100 |"), "{rows}");
    }

    #[tokio::test]
    async fn aggregates_grouped_by_the_key_are_tested_below() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path()).await;
        let expected = [
            "+---+----+",
            "| k | n  |",
            "+---+----+",
            "| 3 | 20 |",
            "| 7 | 20 |",
            "+---+----+",
        ]
        .join("\n");
        let Run { plan, tested, rows } = run(
            &ctx,
            "select s.k, g.n from small s \
             join (select k, count(*) as n from big group by k) g on s.k = g.k order by s.k",
            "JoinKeyFilterExec",
        )
        .await;
        assert!(
            below(&plan, "JoinKeyFilterExec").contains("big.parquet"),
            "{plan}"
        );
        assert_eq!(tested, Some((40, 0)), "{plan}");
        assert_eq!(rows, expected);
        // With grouping sets, a row of the input counts in groups of other keys too.
        let Run { plan, rows, .. } = run(
            &ctx,
            "select s.k, g.n from small s \
             join (select k, count(*) as n from big group by rollup(k)) g on s.k = g.k \
             order by s.k",
            "JoinKeyFilterExec",
        )
        .await;
        assert!(
            below(&plan, "JoinKeyFilterExec").contains("AggregateExec"),
            "{plan}"
        );
        assert_eq!(rows, expected);
    }

    #[tokio::test]
    async fn partitioned_joins_test_each_row_against_the_keys_of_its_partition() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path()).await;
        for threshold in ["", "_rows"] {
            let set = format!(
                "set datafusion.optimizer.hash_join_single_partition_threshold{threshold} = 0"
            );
            ctx.sql(&set).await.unwrap();
        }
        // Below the probe side's repartition, a row's key is tested against every partition's
        // keys, as it may go to any of them.
        let Run { plan, tested, rows } = run(
            &ctx,
            "select count(*) as n, sum(b.v) as total from small s join big b on s.k = b.k",
            "JoinKeyFilterExec",
        )
        .await;
        assert!(plan.contains("HashJoinExec: mode=Partitioned"), "{plan}");
        assert!(plan.contains("keys=every partition"), "{plan}");
        assert!(
            below(&plan, "JoinKeyFilterExec").contains("big.parquet"),
            "{plan}"
        );
        assert_eq!(tested, Some((40, 0)), "{plan}");
        assert!(rows.contains("| 40 | 3800200 |"), "{rows}");
        // Above the repartition, a partition's rows meet the keys of the same partition.
        let Run { plan, tested, rows } = run(
            &ctx,
            "select count(*) as n, sum(w.r) as total from small s join \
             (select k, row_number() over (partition by k order by v) as r from big) w \
             on s.k = w.k",
            "JoinKeyFilterExec",
        )
        .await;
        let filter = plan
            .lines()
            .find(|line| line.contains("JoinKeyFilterExec"))
            .unwrap();
        assert!(filter.contains("keys=same partition"), "{plan}");
        assert!(
            below(&plan, "JoinKeyFilterExec").contains("WindowAggExec"),
            "{plan}"
        );
        assert_eq!(tested, Some((40, 0)), "{plan}");
        assert!(rows.contains("| 40 | 420   |"), "{rows}");
    }

    #[tokio::test]
    async fn joins_that_keep_unmatched_probe_rows_are_not_filtered() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path()).await;
        let Run { plan, tested, rows } = run(
            &ctx,
            "select count(*) as n, count(s.k) as matched from small s full join big b on s.k = b.k",
            "JoinKeyFilterExec",
        )
        .await;
        assert_eq!(tested, None, "{plan}");
        assert!(rows.contains("| 200000 | 40      |"), "{rows}");
        // NOT IN is a null-aware anti join: a NULL among the keys would empty it.
        let Run { plan, tested, rows } = run(
            &ctx,
            "select count(*) as n from big where k not in (select k from small)",
            "JoinKeyFilterExec",
        )
        .await;
        assert_eq!(tested, None, "{plan}");
        assert!(rows.contains("| 199960 |"), "{rows}");
    }

    #[tokio::test]
    async fn a_filter_keeping_most_rows_stops_being_tested() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path()).await;
        let Run { plan, tested, rows } = run(
            &ctx,
            "select count(*) as n from every e join big b on e.k = b.k",
            "JoinKeyFilterExec",
        )
        .await;
        let (passed, untested) = tested.unwrap();
        assert_eq!(passed, 200_000, "{plan}");
        assert!(untested > 0 && untested <= 200_000 - SAMPLE_ROWS, "{plan}");
        assert!(rows.contains("| 200000 |"), "{rows}");
    }
}
