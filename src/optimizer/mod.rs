//! The optimizer: DataFusion's rule-based logical and physical optimizers, steered by Hive's
//! optimizer settings. It owns the list of logical rules a session runs; Apiary's own rules
//! (the cost-based join order among them) join the list here.
//!
//! Apiary's own rules, one per file:
//! - `adaptive_filters` (a physical rule): a filter on a conjunction tests its conjuncts one
//!   after another on the rows still passing, cheapest per dropped row first.
//! - `casts_never_fail`: every cast is a TRY_CAST, since Hive's casts give NULL for values
//!   that do not convert.
//! - `compact_merge_views` (a physical rule, with a memory limit): string views compacted
//!   before a merge on one string key, which would reserve memory for buffers it does not
//!   use.
//! - `distinct_key_order`: beside a DISTINCT aggregate, order-sensitive aggregates see rows
//!   in the distinct argument's order, as Hive's reducer does.
//! - `int_literals`: an integer literal that fits an INT is one, as Hive types it.
//! - `join_order` (a logical optimizer rule, run after DataFusion's): the cost-based join
//!   order, with its cardinality estimates, search and `EXPLAIN CBO` rendering.
//! - `join_sides` (the query planner, with `hive.cbo.enable`): hash joins' build sides and
//!   broadcasts chosen by the join order's estimates, not DataFusion's.
//! - `materialized_ctes`: a WITH query read in several places is computed once.
//! - `like_segments`: a LIKE pattern of several `%` segments is matched by substring search,
//!   not by the regular expression arrow's kernel would build.
//! - `hive_division`: dividing by zero gives NULL.
//! - `hive_round`: `round` of a DOUBLE rounds Java's printed digits half up.
//! - `run_aggregates` (a physical rule): partial aggregations fold runs of equal keys without
//!   a hash table while the input's keys come in runs.
//! - `reduced_aggregates`: with `hive.cbo.enable`, grouped variances and deviations are
//!   computed from sums of squares, and `avg` of a DECIMAL as a DECIMAL division, as Hive's
//!   cost-based planner rewrites them.
//! - `semijoin_reduction` (a physical rule): a join's dynamic filter tests rows right above
//!   the scan it was pushed into, when an aggregate or another join lies between them.
//! - `sorted_groups`: a query whose result is a GROUP BY or DISTINCT comes out in key order.
//! - `string_range_frames`: a RANGE offset over a string key reaches the current row's peers.
//!
//! Hive settings and what they change:
//! - `hive.optimize.cte.materialize.threshold` (default -1): a WITH query referenced this many
//!   times or more is computed once; `apiary.optimize.cte.materialize.aggregates` (default
//!   true) does so for aggregating ones referenced twice or more (`materialized_ctes`).
//! - `hive.optimize.ppd` (default true): predicate pushdown. Off, DataFusion's
//!   `push_down_filter` rule does not run, so filters stay where the query wrote them.
//! - `hive.cbo.enable` (default true): Hive's cost-based planner. On, trees of inner joins are
//!   reordered by estimated cost (`join_order`, with `apiary.cbo.join.exhaustive.limit`), and
//!   grouped variances and DECIMAL averages are planned from sums, as Hive's CBO plans them.
//! - `hive.auto.convert.join` (default true) with `hive.auto.convert.join.noconditionaltask.size`
//!   (bytes, default 10000000): Hive turns a join whose small side fits the size into a map
//!   join (the small side broadcast to every task). DataFusion's equivalent is a hash join that
//!   collects its build side once, used below `hash_join_single_partition_threshold` bytes;
//!   the Hive size becomes that threshold, and turning the conversion off sets it to zero.

mod adaptive_filters;
mod casts_never_fail;
mod compact_merge_views;
mod cooperative_joins;
mod distinct_key_order;
#[cfg(test)]
mod filter_test_support;
mod hive_division;
mod hive_round;
mod int_literals;
mod join_key_filters;
pub mod join_order;
mod join_sides;
mod like_segments;
mod materialized_ctes;
mod not_in_filters;
mod reduced_aggregates;
mod run_aggregates;
mod semijoin_reduction;
mod sorted_groups;
mod string_range_frames;

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result as DFResult, ScalarValue};
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::optimizer::analyzer::type_coercion::TypeCoercion;
use datafusion::optimizer::{Analyzer, Optimizer, OptimizerRule};
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;

use casts_never_fail::CastsNeverFail;
use compact_merge_views::CompactMergeViews;
use datafusion::prelude::SessionConfig;
use distinct_key_order::DistinctKeyOrder;
use hive_division::HiveDivision;
use hive_round::HiveRound;
use int_literals::IntLiterals;
use join_order::JoinOrder;
use reduced_aggregates::ReducedAggregates;
use sorted_groups::SortedGroups;
use string_range_frames::StringRangeFrames;

use crate::driver::settings::Settings;
use crate::execution::memory;

/// The settings this module reads; changing one rebuilds the session's planner and runtime.
pub const OPTIMIZER_SETTINGS: &[&str] = &[
    "hive.optimize.ppd",
    "hive.cbo.enable",
    "hive.auto.convert.join",
    "hive.auto.convert.join.noconditionaltask.size",
    "apiary.cbo.join.exhaustive.limit",
    MATERIALIZE_AGGREGATES,
    MATERIALIZE_THRESHOLD,
    memory::MEMORY_LIMIT,
];

/// Aggregating WITH queries read twice or more are computed once.
const MATERIALIZE_AGGREGATES: &str = "apiary.optimize.cte.materialize.aggregates";
/// Hive's: WITH queries read this many times or more are computed once (-1: never).
const MATERIALIZE_THRESHOLD: &str = "hive.optimize.cte.materialize.threshold";

/// The name of DataFusion's predicate pushdown rule.
const PUSH_DOWN_FILTER: &str = "push_down_filter";

/// A session state running DataFusion's features with the optimizer as `settings` ask.
pub fn session_state(mut config: SessionConfig, settings: &Settings) -> SessionState {
    let predicate_pushdown = settings.get_bool("hive.optimize.ppd");
    let mut rules: Vec<Arc<dyn OptimizerRule + Send + Sync>> = Optimizer::new()
        .rules
        .into_iter()
        .filter(|rule| predicate_pushdown || rule.name() != PUSH_DOWN_FILTER)
        .collect();
    // The join order is chosen last, once filters sit on the scans they filter and join
    // predicates have become equi-join keys.
    let cost_based = settings.get_bool("hive.cbo.enable");
    if cost_based {
        let exhaustive_limit = settings
            .get("apiary.cbo.join.exhaustive.limit")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(10);
        rules.push(Arc::new(JoinOrder { exhaustive_limit }));
    }

    let optimizer = &mut config.options_mut().optimizer;
    if settings.get_bool("hive.auto.convert.join") {
        let map_join_size = settings
            .get("hive.auto.convert.join.noconditionaltask.size")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(10_000_000);
        optimizer.hash_join_single_partition_threshold = map_join_size;
    } else {
        optimizer.hash_join_single_partition_threshold = 0;
        optimizer.hash_join_single_partition_threshold_rows = 0;
    }

    // DataFusion's analyzer rules (type coercion among them), then Hive's casts.
    // Hive's division decides the operand types, so it runs before type coercion spreads
    // them to the expressions around it (`decimal + int / int` is a DOUBLE, as in Hive).
    let mut analyzer_rules = Analyzer::new().rules;
    let coercion = analyzer_rules
        .iter()
        .position(|rule| rule.name() == "type_coercion")
        .unwrap_or(analyzer_rules.len());
    analyzer_rules.insert(coercion, Arc::new(HiveDivision));
    analyzer_rules.insert(coercion, Arc::new(IntLiterals));
    analyzer_rules.push(Arc::new(CastsNeverFail));
    analyzer_rules.push(Arc::new(HiveRound));
    analyzer_rules.push(Arc::new(like_segments::LikeSegments));
    analyzer_rules.push(Arc::new(DistinctKeyOrder));
    analyzer_rules.push(Arc::new(StringRangeFrames));
    if cost_based {
        analyzer_rules.push(Arc::new(ReducedAggregates));
    }
    analyzer_rules.push(Arc::new(SortedGroups));
    // Apiary's rules above change types after coercion (`avg` of a DECIMAL becomes a DECIMAL
    // division of Hive's type); coercing again settles what compares with them (a scalar
    // subquery's `avg`), so that one analyzer pass gives the final plan.
    analyzer_rules.push(Arc::new(TypeCoercion::new()));
    analyzer_rules.push(Arc::new(CastsNeverFail));
    // Last, so that every copy of a WITH query has its final form when they are compared.
    analyzer_rules.push(Arc::new(materialized_ctes::MaterializedCtes {
        aggregates: settings.get_bool(MATERIALIZE_AGGREGATES),
        threshold: settings
            .get(MATERIALIZE_THRESHOLD)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0),
    }));

    let memory_limit = memory::session_limit(settings.get(memory::MEMORY_LIMIT).as_deref());
    let memory_limited = matches!(memory_limit, memory::MemoryLimit::Bytes(_));
    if let memory::MemoryLimit::Bytes(limit) = memory_limit {
        memory::fit_sort_reservations(config.options_mut(), limit);
    }
    // With spill files in the system's temporary directory, building cannot fail.
    let runtime = memory::runtime(memory_limit).unwrap_or_default();
    crate::execution::inline_reads::install(&runtime);
    let mut builder = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_analyzer_rules(analyzer_rules)
        .with_optimizer_rules(rules)
        .with_physical_optimizer_rules(join_sides::physical_rules(PhysicalOptimizer::new().rules))
        .with_physical_optimizer_rule(Arc::new(not_in_filters::NotInFilters))
        .with_physical_optimizer_rule(Arc::new(semijoin_reduction::SemijoinReduction))
        .with_physical_optimizer_rule(Arc::new(cooperative_joins::CooperativeJoins))
        .with_physical_optimizer_rule(Arc::new(adaptive_filters::AdaptiveFilters))
        .with_physical_optimizer_rule(Arc::new(join_key_filters::JoinKeyFilters))
        .with_physical_optimizer_rule(Arc::new(run_aggregates::RunAggregates));
    if memory_limited {
        builder = builder.with_physical_optimizer_rule(Arc::new(CompactMergeViews));
    }
    if cost_based {
        builder = builder.with_query_planner(Arc::new(join_sides::JoinSidesPlanner));
    }
    // Hive's arithmetic operand types and array subscripts are settled as the SQL is planned.
    let planners = builder.expr_planners().get_or_insert_with(Vec::new);
    planners.insert(0, Arc::new(crate::analyzer::HiveArithmetic));
    planners.insert(0, Arc::new(crate::analyzer::HiveIndexing));
    builder.build()
}

/// The constant `expr` is, through the casts type coercion puts around literals.
pub(crate) fn literal(expr: &Expr) -> Option<&ScalarValue> {
    match expr {
        Expr::Literal(value, _) => Some(value),
        Expr::Cast(cast) => literal(&cast.expr),
        Expr::TryCast(cast) => literal(&cast.expr),
        _ => None,
    }
}

/// Rewrites every expression of `plan` (subqueries included) bottom-up with `rewrite`, which
/// gets the schema of the node's inputs; each node's schema then follows its expressions'
/// types, under their old names. The shared walk of Apiary's expression rules.
fn rewrite_plan_expressions(
    plan: LogicalPlan,
    rewrite: impl Fn(Expr, &DFSchema) -> DFResult<Transformed<Expr>>,
) -> DFResult<LogicalPlan> {
    rewrite_plan_nodes(plan, &|node| rewrite_expressions(node, &rewrite))
}

/// Rewrites the expressions of one node bottom-up with `rewrite`, which gets the schema of
/// the node's inputs; a rewritten expression keeps its name, which the nodes above refer to
/// it by. The node's schema is left to [`rewrite_plan_nodes`].
fn rewrite_expressions(
    node: LogicalPlan,
    rewrite: &dyn Fn(Expr, &DFSchema) -> DFResult<Transformed<Expr>>,
) -> DFResult<Transformed<LogicalPlan>> {
    let schema = inputs_schema(&node);
    let names = NamePreserver::new(&node);
    node.map_expressions(|expr| {
        let name = names.save(&expr);
        expr.transform_up(|e| rewrite(e, &schema))
            .map(|t| t.update_data(|e| name.restore(e)))
    })
}

/// Rewrites every node of `plan` (subqueries included) bottom-up with `rewrite`, then
/// rebuilds the schema of each node whose expressions, inputs or subqueries changed, and of
/// no other: rebuilding every node's schema was most of these rules' planning time.
fn rewrite_plan_nodes(
    plan: LogicalPlan,
    rewrite: &dyn Fn(LogicalPlan) -> DFResult<Transformed<LogicalPlan>>,
) -> DFResult<LogicalPlan> {
    rewrite_node(plan, rewrite).map(|t| t.data)
}

#[recursive::recursive]
fn rewrite_node(
    node: LogicalPlan,
    rewrite: &dyn Fn(LogicalPlan) -> DFResult<Transformed<LogicalPlan>>,
) -> DFResult<Transformed<LogicalPlan>> {
    let below = node
        .map_subqueries(|subquery| rewrite_node(subquery, rewrite))?
        .transform_sibling(|node| node.map_children(|child| rewrite_node(child, rewrite)))?;
    let inputs_changed = below.transformed;
    let rewritten = rewrite(below.data)?;
    if inputs_changed || rewritten.transformed {
        Ok(Transformed::yes(rewritten.data.recompute_schema()?))
    } else {
        Ok(rewritten)
    }
}

/// The schema of a node's inputs together: the one input's as it is, several merged.
fn inputs_schema(node: &LogicalPlan) -> Arc<DFSchema> {
    match node.inputs().as_slice() {
        [] => Arc::new(DFSchema::empty()),
        [input] => Arc::clone(input.schema()),
        inputs => {
            let mut merged = DFSchema::empty();
            for input in inputs {
                merged.merge(input.schema());
            }
            Arc::new(merged)
        }
    }
}

/// Runs `sql` in a session with Apiary's rules and returns the result as a text table.
#[cfg(test)]
async fn run_with_rules(sql: &str) -> String {
    let state = session_state(SessionConfig::new(), &Settings::default());
    let ctx = datafusion::prelude::SessionContext::new_with_state(state);
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int32Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use super::*;

    async fn optimized_plan(settings: &Settings) -> String {
        let ctx = SessionContext::new_with_state(session_state(SessionConfig::new(), settings));
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(vec![1, 2]))])
                .unwrap();
        for name in ["t", "u"] {
            let table = MemTable::try_new(schema.clone(), vec![vec![batch.clone()]]).unwrap();
            ctx.register_table(name, Arc::new(table)).unwrap();
        }
        let frame = ctx
            .sql("select t.a from t join u on t.a = u.a where t.a > 1")
            .await
            .unwrap();
        frame
            .into_optimized_plan()
            .unwrap()
            .display_indent()
            .to_string()
    }

    fn line_of(plan: &str, prefix: &str) -> usize {
        plan.lines()
            .position(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{plan}"))
    }

    #[tokio::test]
    async fn predicate_pushdown_follows_hive_optimize_ppd() {
        let on = optimized_plan(&Settings::default()).await;
        // Pushed below the join: the filter appears after (under) the Join line.
        assert!(line_of(&on, "Filter") > line_of(&on, "Inner Join"), "{on}");

        let mut settings = Settings::default();
        settings.set("hive.optimize.ppd", "false");
        let off = optimized_plan(&settings).await;
        assert!(
            line_of(&off, "Filter") < line_of(&off, "Inner Join"),
            "{off}"
        );
    }

    /// `SELECT x FROM (SELECT 1 AS x)`, the literal a BIGINT.
    fn projection_of_a_literal() -> LogicalPlan {
        use datafusion::logical_expr::{LogicalPlanBuilder, col, lit};
        LogicalPlanBuilder::empty(true)
            .project(vec![lit(1i64).alias("x")])
            .and_then(|b| b.project(vec![col("x")]))
            .and_then(|b| b.build())
            .expect("plan")
    }

    #[test]
    fn a_rewrite_that_changes_nothing_keeps_the_plan() {
        let plan = projection_of_a_literal();
        let kept = rewrite_node(plan.clone(), &|node| Ok(Transformed::no(node))).unwrap();
        assert!(!kept.transformed);
        assert_eq!(kept.data, plan);
    }

    #[test]
    fn a_changed_expression_retypes_the_nodes_above_it() {
        let to_int = |expr: Expr, _: &DFSchema| match expr {
            Expr::Literal(ScalarValue::Int64(Some(v)), metadata) => Ok(Transformed::yes(
                Expr::Literal(ScalarValue::Int32(Some(v as i32)), metadata),
            )),
            other => Ok(Transformed::no(other)),
        };
        let plan = rewrite_plan_expressions(projection_of_a_literal(), to_int).unwrap();
        // The outer projection's own expression did not change; its input's type did.
        assert_eq!(plan.schema().field(0).data_type(), &DataType::Int32);
        assert_eq!(plan.schema().field(0).name(), "x");
    }

    #[test]
    fn map_join_size_becomes_the_broadcast_threshold() {
        let thresholds = |settings: &Settings| {
            let state = session_state(SessionConfig::new(), settings);
            let optimizer = &state.config_options().optimizer;
            (
                optimizer.hash_join_single_partition_threshold,
                optimizer.hash_join_single_partition_threshold_rows,
            )
        };
        let mut settings = Settings::default();
        settings.set("hive.auto.convert.join.noconditionaltask.size", "12345");
        assert_eq!(thresholds(&settings).0, 12345);

        settings.set("hive.auto.convert.join", "false");
        assert_eq!(thresholds(&settings), (0, 0));
    }
}
