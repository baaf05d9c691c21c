//! The filter operator for conjunctions (`optimizer::adaptive_filters` puts it in place of
//! DataFusion's `FilterExec`): it tests a predicate's conjuncts one after another, each on
//! the rows the ones before it kept, in the order that has been cheapest so far.
//!
//! DataFusion's `FilterExec` evaluates `a AND b AND c` as one expression: `b` and `c` run on
//! every row unless what is left of them is a fifth of the batch or less, and then a
//! selected copy is made from the whole batch at each `AND` and the result scattered back.
//! Here a batch shrinks as it goes: when the rows still passing are at most
//! [`COPY_BELOW`] of the rows tested, they are copied (only the columns the remaining
//! conjuncts and the output read) and the next conjunct runs on the copy; otherwise its
//! result is combined with the mask so far. The kept rows go into full output batches
//! (`filter_stream`), filtered once, as they are copied.
//!
//! Each partition times every conjunct and counts the rows it drops, and every
//! [`REORDER_EVERY`] batches puts first the conjuncts that drop the most rows for their
//! cost, as DuckDB's adaptive filter does: which of `l_shipdate < ...` and `l_shipmode in
//! (...)` is cheaper per dropped row depends on the data, not on how the query was written.
//! The rows kept and their order do not depend on the order the conjuncts are tested in.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::kernels::boolean::and;
use datafusion::arrow::compute::{BatchCoalescer, filter_record_batch, prep_null_mask_filter};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Statistics, internal_datafusion_err, internal_err};
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::utils::{collect_columns, split_conjunction};
use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricType, MetricsSet,
    RatioMetrics, Time,
};
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};

use super::filter_stream::{FilteredStream, RowFilter, write_projection};
use super::one_input::only_input;

/// The share of tested rows still passing at or below which they are copied before the
/// next conjunct runs.
pub const COPY_BELOW: f64 = 0.25;

/// Batches between two decisions on the conjuncts' order.
pub const REORDER_EVERY: usize = 8;

/// `filter`'s rows, found by testing its predicate's conjuncts in turn.
#[derive(Debug)]
pub struct AdaptiveFilterExec {
    /// The filter this replaces: its input, predicate, projection, plan properties and
    /// statistics.
    filter: Arc<FilterExec>,
    /// The predicate's conjuncts, over the columns `read`.
    conjuncts: Vec<Arc<dyn PhysicalExpr>>,
    /// The input columns that a conjunct or the output reads, in input order.
    read: Vec<usize>,
    /// The output's columns, as positions in `read`.
    output: Vec<usize>,
    metrics: ExecutionPlanMetricsSet,
}

impl AdaptiveFilterExec {
    /// The operator for `filter`, when its predicate is a conjunction and it has no row
    /// limit (which `FilterExec` applies itself).
    pub fn try_new(filter: Arc<FilterExec>) -> Result<Option<Self>> {
        let conjuncts = split_conjunction(filter.predicate());
        if conjuncts.len() < 2 || filter.fetch().is_some() {
            return Ok(None);
        }
        let input_width = filter.input().schema().fields().len();
        let output_columns: Vec<usize> = match filter.projection() {
            Some(projection) => projection.to_vec(),
            None => (0..input_width).collect(),
        };
        let mut read: Vec<usize> = conjuncts
            .iter()
            .flat_map(|conjunct| collect_columns(conjunct).into_iter().map(|c| c.index()))
            .chain(output_columns.iter().copied())
            .collect();
        read.sort_unstable();
        read.dedup();
        let position = |index: usize| read.binary_search(&index).ok();
        let output = output_columns
            .iter()
            .map(|&index| position(index))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| internal_datafusion_err!("output column outside the filter's input"))?;
        let conjuncts = conjuncts
            .into_iter()
            .map(|conjunct| {
                Arc::clone(conjunct)
                    .transform_down(|expr| match expr.downcast_ref::<Column>() {
                        Some(column) => match position(column.index()) {
                            Some(at) => Ok(Transformed::yes(
                                Arc::new(Column::new(column.name(), at)) as _,
                            )),
                            None => internal_err!("column outside the filter's input"),
                        },
                        None => Ok(Transformed::no(expr)),
                    })
                    .map(|rewritten| rewritten.data)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(AdaptiveFilterExec {
            filter,
            conjuncts,
            read,
            output,
            metrics: ExecutionPlanMetricsSet::new(),
        }))
    }

    /// The filter this runs: its input, predicate and projection.
    pub fn filter(&self) -> &Arc<FilterExec> {
        &self.filter
    }
}

impl DisplayAs for AdaptiveFilterExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "AdaptiveFilterExec: {}", self.filter.predicate())?;
        match self.filter.projection() {
            Some(projection) => write_projection(f, &self.filter.input().schema(), projection),
            None => Ok(()),
        }
    }
}

impl ExecutionPlan for AdaptiveFilterExec {
    fn name(&self) -> &str {
        "AdaptiveFilterExec"
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        f(self.filter.predicate())
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.filter.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.filter.input()]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        self.filter.child_stats_requests(partition)
    }

    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        self.filter.statistics_from_inputs(input_stats, args)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = only_input(children, "AdaptiveFilterExec")?;
        let filter = Arc::new(
            FilterExecBuilder::from(&*self.filter)
                .with_input(input)
                .build()?,
        );
        match AdaptiveFilterExec::try_new(Arc::clone(&filter))? {
            Some(adaptive) => Ok(Arc::new(adaptive)),
            None => Ok(filter),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self
            .filter
            .input()
            .execute(partition, Arc::clone(&context))?;
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let filter = AdaptiveRows {
            conjuncts: self.conjuncts.clone(),
            read: self.read.clone(),
            output: self.output.clone(),
            order: (0..self.conjuncts.len()).collect(),
            costs: vec![ConjunctCost::default(); self.conjuncts.len()],
            batches_since_reorder: 0,
            elapsed: baseline.elapsed_compute().clone(),
            selectivity: MetricBuilder::new(&self.metrics)
                .with_type(MetricType::Summary)
                .ratio_metrics("selectivity", partition),
            reorders: MetricBuilder::new(&self.metrics)
                .with_type(MetricType::Summary)
                .counter("reorders", partition),
        };
        let batch_size = context.session_config().batch_size();
        Ok(Box::pin(FilteredStream::new(
            input,
            filter,
            self.schema(),
            batch_size,
            baseline,
        )))
    }
}

/// What one conjunct has cost in a partition, since the last decision on the order (halved
/// at each decision, so that older batches count less).
#[derive(Debug, Clone, Default)]
struct ConjunctCost {
    /// Rows it was evaluated on, and the time that took.
    rows_tested: f64,
    nanos: f64,
    /// Rows passing before it, and after it.
    rows_before: f64,
    rows_after: f64,
}

impl ConjunctCost {
    /// Nanoseconds per dropped row: the conjunct with the lowest goes first.
    fn rank(&self) -> f64 {
        if self.rows_tested == 0.0 || self.rows_before == 0.0 {
            // Not tested yet: keep its place relative to the untested.
            return f64::NAN;
        }
        let per_row = self.nanos / self.rows_tested;
        let dropped = 1.0 - self.rows_after / self.rows_before;
        per_row / dropped.max(1e-6)
    }

    fn decay(&mut self) {
        self.rows_tested /= 2.0;
        self.nanos /= 2.0;
        self.rows_before /= 2.0;
        self.rows_after /= 2.0;
    }
}

/// One partition's filter: the conjuncts' order and what they have cost.
struct AdaptiveRows {
    conjuncts: Vec<Arc<dyn PhysicalExpr>>,
    read: Vec<usize>,
    output: Vec<usize>,
    /// The order the conjuncts are tested in.
    order: Vec<usize>,
    costs: Vec<ConjunctCost>,
    batches_since_reorder: usize,
    elapsed: Time,
    selectivity: RatioMetrics,
    reorders: Count,
}

impl AdaptiveRows {
    /// Tests one input batch and hands its kept rows to `kept_rows`.
    fn test(&mut self, batch: RecordBatch, kept_rows: &mut BatchCoalescer) -> Result<()> {
        self.selectivity.add_total(batch.num_rows());
        let mut current = batch.project(&self.read)?;
        // Which of `current`'s rows pass every conjunct tested so far (None: all).
        let mut mask: Option<BooleanArray> = None;
        // How many of them that is.
        let mut passing = current.num_rows();
        for step in 0..self.order.len() {
            let index = self.order[step];
            if passing == 0 {
                return Ok(());
            }
            let rows = current.num_rows();
            if let Some(kept) = mask.take_if(|_| (passing as f64) <= COPY_BELOW * rows as f64) {
                current = filter_record_batch(&current, &kept)?;
            }
            let tested = current.num_rows();
            let started = Instant::now();
            let result = self.conjuncts[index]
                .evaluate(&current)?
                .into_array(tested)?;
            let result = result
                .as_boolean_opt()
                .ok_or_else(|| internal_datafusion_err!("a filter conjunct is not boolean"))?;
            // A NULL result drops the row, as in a WHERE clause.
            let result = if result.null_count() > 0 {
                prep_null_mask_filter(result)
            } else {
                result.clone()
            };
            let combined = match &mask {
                Some(before) => and(before, &result)?,
                None => result,
            };
            let passed = combined.true_count();
            let cost = &mut self.costs[index];
            cost.nanos += started.elapsed().as_nanos() as f64;
            cost.rows_tested += tested as f64;
            cost.rows_before += passing as f64;
            cost.rows_after += passed as f64;
            passing = passed;
            mask = Some(combined);
        }
        self.batches_since_reorder += 1;
        if self.batches_since_reorder >= REORDER_EVERY {
            self.reorder();
        }
        self.selectivity.add_part(passing);
        let output = current.project(&self.output)?;
        match mask {
            Some(kept) => kept_rows.push_batch_with_filter(output, &kept)?,
            None => kept_rows.push_batch(output)?,
        }
        Ok(())
    }

    /// Puts the conjuncts that have dropped the most rows for their time first.
    fn reorder(&mut self) {
        self.batches_since_reorder = 0;
        let ranks: Vec<f64> = self.costs.iter().map(ConjunctCost::rank).collect();
        let mut order = self.order.clone();
        // Untested conjuncts (NaN) keep their places after the tested ones.
        order.sort_by(|&a, &b| ranks[a].total_cmp(&ranks[b]));
        if order != self.order {
            self.order = order;
            self.reorders.add(1);
        }
        self.costs.iter_mut().for_each(ConjunctCost::decay);
    }
}

impl RowFilter for AdaptiveRows {
    fn admit(&mut self, batch: RecordBatch, kept: &mut BatchCoalescer) -> Result<()> {
        let elapsed = self.elapsed.clone();
        let _timer = elapsed.timer();
        self.test(batch, kept)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::logical_expr::Operator;
    use datafusion::physical_expr::PhysicalExpr;
    use datafusion::physical_expr::expressions::{binary, col, lit};
    use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};
    use datafusion::physical_plan::{ExecutionPlan, collect};
    use datafusion::prelude::SessionContext;

    use super::{AdaptiveFilterExec, REORDER_EVERY};

    /// `batches` batches of 1,000 rows: `n` counts up from 0; `m` is `n % 10`, NULL where
    /// `n % 3 = 0`; `s` is "a" to "e" by `n % 5`.
    fn input(batches: usize) -> Arc<dyn ExecutionPlan> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("m", DataType::Int64, true),
            Field::new("s", DataType::Utf8, false),
        ]));
        let batches: Vec<RecordBatch> = (0..batches as i64)
            .map(|b| {
                let n: Vec<i64> = (b * 1000..(b + 1) * 1000).collect();
                let m: Int64Array = n.iter().map(|v| (v % 3 != 0).then_some(v % 10)).collect();
                let s: StringArray = n
                    .iter()
                    .map(|v| Some(["a", "b", "c", "d", "e"][(v % 5) as usize]))
                    .collect();
                RecordBatch::try_new(
                    Arc::clone(&schema),
                    vec![Arc::new(Int64Array::from(n)), Arc::new(m), Arc::new(s)],
                )
                .unwrap()
            })
            .collect();
        MemorySourceConfig::try_new_exec(&[batches], schema, None).unwrap()
    }

    fn compare(
        input: &Arc<dyn ExecutionPlan>,
        name: &str,
        op: Operator,
        value: Arc<dyn PhysicalExpr>,
    ) -> Arc<dyn PhysicalExpr> {
        binary(
            col(name, &input.schema()).unwrap(),
            op,
            value,
            &input.schema(),
        )
        .unwrap()
    }

    fn all_of(
        input: &Arc<dyn ExecutionPlan>,
        conjuncts: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Arc<dyn PhysicalExpr> {
        conjuncts
            .into_iter()
            .reduce(|a, b| binary(a, Operator::And, b, &input.schema()).unwrap())
            .unwrap()
    }

    async fn rows(plan: Arc<dyn ExecutionPlan>) -> String {
        let batches = collect(plan, SessionContext::new().task_ctx())
            .await
            .unwrap();
        datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string()
    }

    fn reorders(plan: &dyn ExecutionPlan) -> usize {
        plan.metrics()
            .and_then(|metrics| metrics.sum_by_name("reorders"))
            .map_or(0, |value| value.as_usize())
    }

    fn output_rows(plan: &dyn ExecutionPlan) -> usize {
        plan.metrics()
            .and_then(|metrics| metrics.output_rows())
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn keeps_the_rows_and_order_filter_exec_keeps() {
        let input = input(40);
        // NULLs in `m` drop their rows; the projection reorders and drops columns.
        let predicate = all_of(
            &input,
            vec![
                compare(&input, "n", Operator::GtEq, lit(1500i64)),
                compare(&input, "m", Operator::NotEq, lit(4i64)),
                compare(&input, "s", Operator::NotEq, lit("b")),
                compare(&input, "n", Operator::Lt, lit(38_500i64)),
            ],
        );
        let filter = FilterExecBuilder::new(predicate, Arc::clone(&input))
            .apply_projection(Some(vec![2, 0]))
            .unwrap()
            .build()
            .unwrap();
        let expected = rows(Arc::new(filter.clone())).await;
        let adaptive = AdaptiveFilterExec::try_new(Arc::new(filter))
            .unwrap()
            .unwrap();
        let adaptive = Arc::new(adaptive);
        assert_eq!(rows(Arc::clone(&adaptive) as _).await, expected);
        assert_eq!(adaptive.schema().field(0).name(), "s");
        assert!(output_rows(adaptive.as_ref()) > 10_000);
    }

    #[tokio::test]
    async fn puts_the_conjunct_that_drops_rows_first() {
        let input = input(4 * REORDER_EVERY);
        // The first conjunct keeps every row, the second one row in a thousand.
        let predicate = all_of(
            &input,
            vec![
                compare(&input, "n", Operator::GtEq, lit(0i64)),
                binary(
                    compare(&input, "n", Operator::Modulo, lit(1000i64)),
                    Operator::Eq,
                    lit(7i64),
                    &input.schema(),
                )
                .unwrap(),
            ],
        );
        let filter = FilterExec::try_new(predicate, Arc::clone(&input)).unwrap();
        let expected = rows(Arc::new(filter.clone())).await;
        let adaptive = Arc::new(
            AdaptiveFilterExec::try_new(Arc::new(filter))
                .unwrap()
                .unwrap(),
        );
        assert_eq!(rows(Arc::clone(&adaptive) as _).await, expected);
        assert_eq!(output_rows(adaptive.as_ref()), 4 * REORDER_EVERY);
        // One decision moved the selective conjunct first; later ones kept that order.
        assert_eq!(reorders(adaptive.as_ref()), 1);
    }

    #[tokio::test]
    async fn single_conjuncts_and_row_limits_stay_with_filter_exec() {
        let input = input(1);
        let single = compare(&input, "n", Operator::Lt, lit(10i64));
        let filter = FilterExec::try_new(single, Arc::clone(&input)).unwrap();
        assert!(
            AdaptiveFilterExec::try_new(Arc::new(filter))
                .unwrap()
                .is_none()
        );
        let both = all_of(
            &input,
            vec![
                compare(&input, "n", Operator::Lt, lit(10i64)),
                compare(&input, "s", Operator::Eq, lit("a")),
            ],
        );
        let limited = FilterExecBuilder::new(both, input)
            .with_fetch(Some(1))
            .build()
            .unwrap();
        assert!(
            AdaptiveFilterExec::try_new(Arc::new(limited))
                .unwrap()
                .is_none()
        );
    }
}
