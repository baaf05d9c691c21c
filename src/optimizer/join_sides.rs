//! Hash-join build sides chosen from Apiary's row estimates (with `hive.cbo.enable`).
//!
//! DataFusion's physical `JoinSelection` rule puts on the build side of each hash join the
//! input it estimates smaller, and collects that side once (a map join) when it is small
//! enough. Its estimates know less than the cost-based join order's ([`cardinality`]): an
//! equality on a string column keeps a fifth of the rows instead of one in its distinct count,
//! and a join of joins often has no estimate at all. So it swapped sides the join order had
//! placed: in TPC-H Q8 it built on 455,000 orders instead of the 44,000 rows of
//! lineitem ⋈ part, which it took for 1.2 million.
//!
//! [`JoinSidesPlanner`] therefore wraps both inputs of every equi-join in an [`EstimatedRows`]
//! node holding Apiary's estimate of its rows, just before physical planning. Planned, the node
//! becomes an [`EstimatedRowsExec`], whose statistics are its input's with that row count, so
//! `JoinSelection` swaps sides and picks map joins by the estimates the join order used.
//! [`DropEstimatedRows`], the physical rule right after `JoinSelection`, takes the nodes out
//! again before any other rule sees them.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::config::ConfigOptions;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchemaRef, Result, Statistics, internal_err};
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{
    Expr, Extension, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

use super::join_order::cardinality::estimate;
use crate::execution::one_input::only_input;

/// The name of DataFusion's physical rule that picks hash-join sides and modes.
pub const JOIN_SELECTION: &str = "join_selection";

/// Plans a query with every equi-join input carrying Apiary's estimate of its rows.
#[derive(Debug)]
pub struct JoinSidesPlanner;

#[async_trait]
impl QueryPlanner for JoinSidesPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let marked = mark_join_sides(logical_plan.clone())?;
        DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(EstimatedRowsPlanner)])
            .create_physical_plan(&marked, session)
            .await
    }
}

/// Wraps both inputs of each equi-join whose two sides Apiary can estimate in an
/// [`EstimatedRows`] node. Joins are visited from the top, so each estimate is taken before
/// the joins below it are wrapped.
pub fn mark_join_sides(plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_down_with_subqueries(|node| {
        let LogicalPlan::Join(mut join) = node else {
            return Ok(Transformed::no(node));
        };
        let estimates = if join.on.is_empty() {
            None
        } else {
            estimate(&join.left).rows.zip(estimate(&join.right).rows)
        };
        let Some((left_rows, right_rows)) = estimates else {
            return Ok(Transformed::no(LogicalPlan::Join(join)));
        };
        join.left = EstimatedRows::wrap(Arc::unwrap_or_clone(join.left), left_rows);
        join.right = EstimatedRows::wrap(Arc::unwrap_or_clone(join.right), right_rows);
        Ok(Transformed::yes(LogicalPlan::Join(join)))
    })
    .map(|t| t.data)
}

/// A plan's rows as Apiary estimates them; passes its input's rows on unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd)]
pub struct EstimatedRows {
    input: LogicalPlan,
    rows: usize,
}

impl EstimatedRows {
    /// The estimated rows of the input.
    #[cfg(test)]
    pub fn rows(&self) -> usize {
        self.rows
    }

    fn wrap(input: LogicalPlan, rows: f64) -> Arc<LogicalPlan> {
        // The cast saturates past usize::MAX; a NaN estimate becomes 0.
        let rows = rows.max(0.0).round() as usize;
        Arc::new(LogicalPlan::Extension(Extension {
            node: Arc::new(EstimatedRows { input, rows }),
        }))
    }
}

impl UserDefinedLogicalNodeCore for EstimatedRows {
    fn name(&self) -> &str {
        "EstimatedRows"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        self.input.schema()
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "EstimatedRows: rows={}", self.rows)
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        Ok(EstimatedRows {
            input: only_input(inputs, "EstimatedRows")?,
            rows: self.rows,
        })
    }

    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        Some(vec![output_columns.to_vec()])
    }
}

/// Plans [`EstimatedRows`] as [`EstimatedRowsExec`].
struct EstimatedRowsPlanner;

#[async_trait]
impl ExtensionPlanner for EstimatedRowsPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(estimated) = node.as_any().downcast_ref::<EstimatedRows>() else {
            return Ok(None);
        };
        match physical_inputs {
            [input] => Ok(Some(Arc::new(EstimatedRowsExec::new(
                Arc::clone(input),
                estimated.rows,
            )))),
            _ => internal_err!("EstimatedRows takes one input"),
        }
    }
}

/// Its input, with statistics that say `rows` rows. Lives only from physical planning to
/// [`DropEstimatedRows`].
#[derive(Debug)]
pub struct EstimatedRowsExec {
    input: Arc<dyn ExecutionPlan>,
    rows: usize,
}

impl EstimatedRowsExec {
    pub fn new(input: Arc<dyn ExecutionPlan>, rows: usize) -> Self {
        EstimatedRowsExec { input, rows }
    }
}

impl DisplayAs for EstimatedRowsExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "EstimatedRowsExec: rows={}", self.rows)
    }
}

impl ExecutionPlan for EstimatedRowsExec {
    fn name(&self) -> &str {
        "EstimatedRowsExec"
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        vec![ChildStats::At(partition)]
    }

    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        let Some(input) = input_stats.first() else {
            return internal_err!("EstimatedRowsExec takes one input");
        };
        if args.partition().is_some() {
            return Ok(Arc::clone(input));
        }
        Ok(Arc::new(with_rows(input, self.rows)))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = only_input(children, "EstimatedRowsExec")?;
        Ok(Arc::new(EstimatedRowsExec::new(input, self.rows)))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        self.input.execute(partition, context)
    }
}

/// `input` rescaled to `rows` rows: sizes in proportion (when its own rows are known),
/// distinct and null counts at most `rows`, everything inexact.
fn with_rows(input: &Statistics, rows: usize) -> Statistics {
    let mut statistics = input.clone().to_inexact();
    let scale = |bytes: &Precision<usize>| match (bytes.get_value(), input.num_rows.get_value()) {
        (Some(&bytes), Some(&input_rows)) if input_rows > 0 => {
            Precision::Inexact((bytes as f64 * rows as f64 / input_rows as f64) as usize)
        }
        _ => Precision::Absent,
    };
    statistics.num_rows = Precision::Inexact(rows);
    statistics.total_byte_size = scale(&input.total_byte_size);
    for column in &mut statistics.column_statistics {
        column.byte_size = scale(&column.byte_size);
        column.distinct_count = column.distinct_count.min(&Precision::Inexact(rows));
        column.null_count = column.null_count.min(&Precision::Inexact(rows));
    }
    statistics
}

/// Takes the [`EstimatedRowsExec`] nodes out of a plan; runs right after `JoinSelection`.
#[derive(Debug)]
pub struct DropEstimatedRows;

impl PhysicalOptimizerRule for DropEstimatedRows {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| match node.downcast_ref::<EstimatedRowsExec>() {
            Some(estimated) => Ok(Transformed::yes(Arc::clone(&estimated.input))),
            None => Ok(Transformed::no(node)),
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "apiary_drop_estimated_rows"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// DataFusion's physical rules with [`DropEstimatedRows`] right after `JoinSelection`.
pub fn physical_rules(
    mut rules: Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>>,
) -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let at = rules
        .iter()
        .position(|rule| rule.name() == JOIN_SELECTION)
        .map_or(0, |i| i + 1);
    rules.insert(at, Arc::new(DropEstimatedRows));
    rules
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::common::{JoinType, NullEquality};
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::physical_expr::expressions::Column as ColumnExpr;
    use datafusion::physical_optimizer::join_selection::JoinSelection;
    use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};

    use super::*;

    /// A one-column table of `rows` rows, whose statistics say exactly that.
    fn rows_of(name: &str, rows: i64) -> Arc<dyn ExecutionPlan> {
        let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Int64, false)]));
        let values = Int64Array::from_iter_values(0..rows);
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(values)]).expect("batch");
        MemorySourceConfig::try_new_exec(&[vec![batch]], schema, None).expect("exec")
    }

    fn join(left: Arc<dyn ExecutionPlan>, right: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        let on = vec![(
            Arc::new(ColumnExpr::new(left.schema().field(0).name(), 0)) as Arc<dyn PhysicalExpr>,
            Arc::new(ColumnExpr::new(right.schema().field(0).name(), 0)) as Arc<dyn PhysicalExpr>,
        )];
        Arc::new(
            HashJoinExec::try_new(
                left,
                right,
                on,
                None,
                &JoinType::Inner,
                None,
                PartitionMode::Auto,
                NullEquality::NullEqualsNothing,
                false,
            )
            .expect("join"),
        )
    }

    /// The build (left) input's column name of the hash join at or under `plan`'s root.
    fn build_side(plan: &Arc<dyn ExecutionPlan>) -> String {
        let mut node = Arc::clone(plan);
        loop {
            if let Some(join) = node.downcast_ref::<HashJoinExec>() {
                return join.left().schema().field(0).name().clone();
            }
            let Some(child) = node.children().first().map(|c| Arc::clone(*c)) else {
                panic!("no hash join in the plan");
            };
            node = child;
        }
    }

    fn select_sides(plan: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        let config = ConfigOptions::default();
        let selected = JoinSelection::new()
            .optimize(plan, &config)
            .expect("join selection");
        DropEstimatedRows.optimize(selected, &config).expect("drop")
    }

    fn has_estimates(plan: &Arc<dyn ExecutionPlan>) -> bool {
        plan.downcast_ref::<EstimatedRowsExec>().is_some()
            || plan.children().into_iter().any(has_estimates)
    }

    #[test]
    fn join_selection_builds_on_the_side_apiary_estimates_smaller() {
        // By their own statistics `small` (10 rows) is the build side; Apiary's estimates
        // say it is the large one.
        let by_data = select_sides(join(rows_of("small", 10), rows_of("large", 1000)));
        assert_eq!(build_side(&by_data), "small");

        let estimated = join(
            Arc::new(EstimatedRowsExec::new(rows_of("small", 10), 5_000_000)),
            Arc::new(EstimatedRowsExec::new(rows_of("large", 1000), 100)),
        );
        let by_estimate = select_sides(estimated);
        assert_eq!(build_side(&by_estimate), "large");
        assert!(!has_estimates(&by_estimate));
    }

    #[test]
    fn rescaled_statistics_keep_sizes_in_proportion() {
        let mut input =
            Statistics::new_unknown(&Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        input.num_rows = Precision::Exact(1000);
        input.total_byte_size = Precision::Exact(8000);
        input.column_statistics[0].distinct_count = Precision::Exact(500);
        input.column_statistics[0].null_count = Precision::Exact(0);
        let rescaled = with_rows(&input, 100);
        assert_eq!(rescaled.num_rows, Precision::Inexact(100));
        assert_eq!(rescaled.total_byte_size, Precision::Inexact(800));
        assert_eq!(
            rescaled.column_statistics[0].distinct_count,
            Precision::Inexact(100)
        );
        assert_eq!(
            rescaled.column_statistics[0].null_count,
            Precision::Inexact(0)
        );
        // Without the input's rows there is no telling its size.
        input.num_rows = Precision::Absent;
        assert_eq!(with_rows(&input, 100).total_byte_size, Precision::Absent);
    }
}
