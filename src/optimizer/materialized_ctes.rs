//! WITH queries read in several places are computed once ([`MaterializedCte`]).
//!
//! DataFusion plans each reference to a WITH query (or to a view) as a copy of its plan under
//! the reference's alias, so TPC-H Q15's `revenue0`, read by the main query and by its scalar
//! subquery, aggregated `lineitem` twice. This analyzer rule finds aliased subplans that
//! occur more than once, the query's subqueries included, and puts one table scan of a
//! [`MaterializedCte`] in their place, outermost first.
//!
//! Which ones: a deterministic subplan referenced at least twice that aggregates (its result
//! is usually far smaller than what it reads, so holding it in memory costs little), while
//! `apiary.optimize.cte.materialize.aggregates` is on; and, as Hive does with
//! `hive.optimize.cte.materialize.threshold` set to N > 0, any deterministic one referenced N
//! times or more. A query calling `rand()` keeps its copies: computed once, every reference
//! would see the same random values, where Hive computes each anew.
//!
//! The rule runs last among the analyzer's, so copies are compared in their final form. Where
//! an earlier rule changed one copy, they differ and stay copies: a statement whose result is
//! the WITH query's grouping, with no ORDER BY, gets Hive's key order from `sorted_groups` as
//! a sort inside that copy.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::datasource::provider_as_source;
use datafusion::error::Result;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, SubqueryAlias};
use datafusion::optimizer::AnalyzerRule;

use super::join_order::cardinality;
use crate::execution::materialized_cte::MaterializedCte;

#[derive(Debug)]
pub struct MaterializedCtes {
    /// Materialize aggregating subplans referenced twice or more.
    pub aggregates: bool,
    /// Materialize any subplan referenced this many times or more (Hive's threshold; 0: off).
    pub threshold: usize,
}

impl MaterializedCtes {
    fn wanted(&self, plan: &LogicalPlan, references: usize) -> bool {
        let by_threshold = self.threshold > 0 && references >= self.threshold;
        let by_aggregate = self.aggregates && references >= 2 && aggregates(plan);
        (by_threshold || by_aggregate) && deterministic(plan)
    }
}

impl AnalyzerRule for MaterializedCtes {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        let mut references: HashMap<Arc<LogicalPlan>, usize> = HashMap::new();
        plan.apply_with_subqueries(|node| {
            // `FROM q AS a` aliases the alias `q`: the inner one names the query.
            if let LogicalPlan::SubqueryAlias(alias) = node
                && !matches!(alias.input.as_ref(), LogicalPlan::SubqueryAlias(_))
            {
                *references.entry(Arc::clone(&alias.input)).or_default() += 1;
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        references.retain(|subplan, count| self.wanted(subplan, *count));
        if references.is_empty() {
            return Ok(plan);
        }
        let mut tables: HashMap<Arc<LogicalPlan>, Arc<MaterializedCte>> = HashMap::new();
        plan.transform_down_with_subqueries(|node| {
            let LogicalPlan::SubqueryAlias(alias) = &node else {
                return Ok(Transformed::no(node));
            };
            if !references.contains_key(&alias.input) {
                return Ok(Transformed::no(node));
            }
            let table = tables.entry(Arc::clone(&alias.input)).or_insert_with(|| {
                let rows = cardinality::estimate(&alias.input).rows;
                Arc::new(MaterializedCte::new(
                    alias.alias.to_string(),
                    alias.input.as_ref().clone(),
                    rows.map(|r| r as usize),
                ))
            });
            let scan = LogicalPlanBuilder::scan(
                alias.alias.clone(),
                provider_as_source(Arc::clone(table) as _),
                None,
            )?
            .build()?;
            let replaced = SubqueryAlias::try_new(Arc::new(scan), alias.alias.clone())?;
            // What lies below is computed by the materialized query.
            Ok(Transformed::new(
                LogicalPlan::SubqueryAlias(replaced),
                true,
                TreeNodeRecursion::Jump,
            ))
        })
        .map(|transformed| transformed.data)
    }

    fn name(&self) -> &str {
        "materialized_ctes"
    }
}

/// Whether `plan` groups or deduplicates rows.
fn aggregates(plan: &LogicalPlan) -> bool {
    plan.exists(|node| {
        Ok(matches!(
            node,
            LogicalPlan::Aggregate(_) | LogicalPlan::Distinct(_)
        ))
    })
    .unwrap_or(false)
}

/// Whether `plan` gives the same rows each time it runs (no `rand()`, no `uuid()`).
fn deterministic(plan: &LogicalPlan) -> bool {
    let mut volatile = false;
    let walked = plan.apply_with_subqueries(|node| {
        volatile = node.expressions().iter().any(|expr| expr.is_volatile());
        Ok(if volatile {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    walked.is_ok() && !volatile
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::physical_plan::{ExecutionPlan, collect, collect_partitioned, displayable};
    use datafusion::prelude::{SessionConfig, SessionContext};

    use crate::driver::settings::Settings;

    /// A session with Apiary's rules as `settings` ask, and a table `t` of 100 rows:
    /// `k` from 0 to 9, `v` from 0 to 99.
    async fn session(settings: &[(&str, &str)]) -> SessionContext {
        let mut chosen = Settings::default();
        for (name, value) in settings {
            chosen.set(name, value);
        }
        let config = SessionConfig::new().with_target_partitions(2);
        let ctx = SessionContext::new_with_state(super::super::session_state(config, &chosen));
        ctx.sql("create table t as select value % 10 as k, value as v from generate_series(0, 99)")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        ctx
    }

    async fn physical_plan(ctx: &SessionContext, sql: &str) -> Arc<dyn ExecutionPlan> {
        let frame = ctx.sql(sql).await.unwrap();
        frame.create_physical_plan().await.unwrap()
    }

    /// The physical plan of `sql` and its result.
    async fn run(ctx: &SessionContext, sql: &str) -> (String, String) {
        let plan = physical_plan(ctx, sql).await;
        let shown = displayable(plan.as_ref()).indent(false).to_string();
        let batches = collect(Arc::clone(&plan), ctx.task_ctx()).await.unwrap();
        (shown, pretty_format_batches(&batches).unwrap().to_string())
    }

    const BEST_GROUP: &str = "with totals as (select k, sum(v) as total from t group by k) \
         select k, total from totals where total = (select max(total) from totals) order by k";

    #[tokio::test]
    async fn an_aggregating_query_read_twice_is_computed_once() {
        let ctx = session(&[]).await;
        let (plan, rows) = run(&ctx, BEST_GROUP).await;
        assert_eq!(
            plan.matches("MaterializedCteExec: totals").count(),
            2,
            "{plan}"
        );
        assert!(
            !plan.contains("AggregateExec: mode=Partial, gby=[k"),
            "{plan}"
        );
        let off = session(&[("apiary.optimize.cte.materialize.aggregates", "false")]).await;
        let (plan, expected) = run(&off, BEST_GROUP).await;
        assert!(!plan.contains("MaterializedCteExec"), "{plan}");
        assert_eq!(rows, expected);
        assert!(rows.contains("| 9 | 540   |"), "{rows}");
    }

    #[tokio::test]
    async fn other_queries_follow_hives_threshold() {
        let sql = "with odd as (select k, v from t where v % 2 = 1) \
                   select count(*) from odd a join odd b on a.v = b.v";
        let (plan, rows) = run(&session(&[]).await, sql).await;
        assert!(!plan.contains("MaterializedCteExec"), "{plan}");
        let ctx = session(&[("hive.optimize.cte.materialize.threshold", "2")]).await;
        let (plan, materialized) = run(&ctx, sql).await;
        assert_eq!(
            plan.matches("MaterializedCteExec: odd").count(),
            2,
            "{plan}"
        );
        assert_eq!(materialized, rows);
        assert!(rows.contains("| 50 "), "{rows}");
    }

    #[tokio::test]
    async fn volatile_queries_are_computed_at_each_reference() {
        let ctx = session(&[("hive.optimize.cte.materialize.threshold", "2")]).await;
        let sql = "with r as (select k, sum(v * rand()) as s from t group by k) \
                   select count(*) from r a join r b on a.k = b.k";
        let (plan, _) = run(&ctx, sql).await;
        assert!(!plan.contains("MaterializedCteExec"), "{plan}");
    }

    /// Past the limit the query fails with a clear error, every time: each partition of both
    /// references reports the one failed run, none runs it again, and nothing waits forever
    /// (DataFusion's spilling repartition deadlocked here now and then; see
    /// `execution::memory`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_the_memory_limit_the_query_fails_clearly() {
        let ctx = session(&[("apiary.memory.limit", "2MB")]).await;
        let sql = "with a as (select value % 300000 as k, count(*) as c \
                   from generate_series(1, 600000) group by value % 300000) \
                   select count(*) from a x join a y on x.k = y.k";
        for round in 0..12 {
            let plan = physical_plan(&ctx, sql).await;
            let run = collect_partitioned(plan, ctx.task_ctx());
            let outcome = tokio::time::timeout(std::time::Duration::from_secs(30), run).await;
            let Ok(Err(error)) = outcome else {
                panic!("round {round}: {outcome:?}");
            };
            assert!(error.to_string().contains("WITH query a"), "{error}");
        }
    }
}
