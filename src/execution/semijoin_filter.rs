//! The operator of semi-join reduction (`optimizer::semijoin_reduction`): tests its input's
//! rows against join-published dynamic filters, and stops testing when they keep most rows.
//!
//! A dynamic filter's selectivity is known only while the query runs: the keys of Q18's
//! 57 large orders drop 99.99% of the orders table, a filter on every supplier drops nothing.
//! Each partition therefore samples (`filter_stream::KeepSample`): once all its filters hold
//! their join's keys it tests a sample of rows, and if most of them pass, it hands the rest
//! on untested, so that a useless filter costs a few batches of hash lookups. Rows that arrive
//! before the filters are filled pass untested too (a filter not yet filled keeps every row).
//! Kept rows are gathered into full batches (`filter_stream`).

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::BatchCoalescer;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricType, MetricsSet, Time,
};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};

use super::filter_stream::{FilteredStream, KeepSample, RowFilter};
use super::one_input::only_input;

/// Its input's rows that pass `predicate`, a conjunction of the dynamic filters `filters`.
#[derive(Debug)]
pub struct SemijoinFilterExec {
    input: Arc<dyn ExecutionPlan>,
    predicate: Arc<dyn PhysicalExpr>,
    filters: Vec<Arc<dyn PhysicalExpr>>,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl SemijoinFilterExec {
    /// `filters` must refer to `input`'s columns.
    pub fn new(input: Arc<dyn ExecutionPlan>, filters: Vec<Arc<dyn PhysicalExpr>>) -> Self {
        let predicate = datafusion::physical_expr::utils::conjunction(filters.iter().cloned());
        SemijoinFilterExec {
            properties: Arc::clone(input.properties()),
            input,
            predicate,
            filters,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for SemijoinFilterExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SemijoinFilterExec: {}", self.predicate)
    }
}

impl ExecutionPlan for SemijoinFilterExec {
    fn name(&self) -> &str {
        "SemijoinFilterExec"
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        f(&self.predicate)
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = only_input(children, "SemijoinFilterExec")?;
        Ok(Arc::new(SemijoinFilterExec::new(
            input,
            self.filters.clone(),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let filter = SemijoinRows {
            predicate: Arc::clone(&self.predicate),
            filters: self.filters.clone(),
            sample: KeepSample::default(),
            elapsed: baseline.elapsed_compute().clone(),
            untested: MetricBuilder::new(&self.metrics)
                .with_type(MetricType::Summary)
                .counter("untested_rows", partition),
        };
        let batch_size = context.session_config().batch_size();
        Ok(Box::pin(FilteredStream::new(
            input,
            filter,
            self.input.schema(),
            batch_size,
            baseline,
        )))
    }
}

/// One partition's test of the rows.
struct SemijoinRows {
    predicate: Arc<dyn PhysicalExpr>,
    filters: Vec<Arc<dyn PhysicalExpr>>,
    sample: KeepSample,
    elapsed: Time,
    untested: Count,
}

impl SemijoinRows {
    /// Whether every filter holds its join's keys (a filter not yet filled is generation 1).
    fn filters_filled(&self) -> bool {
        self.filters
            .iter()
            .all(|filter| filter.snapshot_generation() > 1)
    }
}

impl RowFilter for SemijoinRows {
    /// Tests one input batch, or hands it on untested.
    fn admit(&mut self, batch: RecordBatch, kept: &mut BatchCoalescer) -> Result<()> {
        if !(self.sample.testing() && self.filters_filled()) {
            self.untested.add(batch.num_rows());
            return Ok(kept.push_batch(batch)?);
        }
        let _timer = self.elapsed.timer();
        let rows = batch.num_rows();
        let passed = self.predicate.evaluate(&batch)?.into_array(rows)?;
        let passed = passed.as_boolean();
        self.sample.record(rows, passed.true_count());
        Ok(kept.push_batch_with_filter(batch, passed)?)
    }
}
