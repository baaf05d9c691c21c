//! The operator of semi-join reduction (`optimizer::semijoin_reduction`): tests its input's
//! rows against join-published dynamic filters, and stops testing when they keep most rows.
//!
//! A dynamic filter's selectivity is known only while the query runs: the keys of Q18's
//! 57 large orders drop 99.99% of the orders table, a filter on every supplier drops nothing.
//! Each partition therefore samples: once all its filters hold their join's keys it tests
//! [`SAMPLE_ROWS`] rows, and if more than [`KEEP_LIMIT`] of them pass, it hands the rest on
//! untested, so that a useless filter costs a few batches of hash lookups. Rows that arrive
//! before the filters are filled pass untested too (a filter not yet filled keeps every row).
//! Kept rows are gathered into full batches with arrow's `BatchCoalescer`.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::BatchCoalescer;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result;
use datafusion::execution::{RecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricType, MetricsSet,
};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};
use futures::{Stream, StreamExt};

/// Rows a partition tests before it judges its filters.
pub const SAMPLE_ROWS: usize = 65_536;

/// The share of sampled rows above which the filters are judged useless.
pub const KEEP_LIMIT: f64 = 0.75;

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
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match children.pop() {
            Some(input) if children.is_empty() => Ok(Arc::new(SemijoinFilterExec::new(
                input,
                self.filters.clone(),
            ))),
            _ => datafusion::common::internal_err!("SemijoinFilterExec takes one input"),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let batch_size = context.session_config().batch_size();
        Ok(Box::pin(SemijoinFilterStream {
            input,
            predicate: Arc::clone(&self.predicate),
            filters: self.filters.clone(),
            // Batches of half the target size or more go on as they are, uncopied.
            coalescer: BatchCoalescer::new(self.input.schema(), batch_size)
                .with_biggest_coalesce_batch_size(Some(batch_size / 2)),
            sampled: 0,
            kept: 0,
            testing: true,
            input_done: false,
            baseline: BaselineMetrics::new(&self.metrics, partition),
            untested: MetricBuilder::new(&self.metrics)
                .with_type(MetricType::Summary)
                .counter("untested_rows", partition),
        }))
    }
}

struct SemijoinFilterStream {
    input: SendableRecordBatchStream,
    predicate: Arc<dyn PhysicalExpr>,
    filters: Vec<Arc<dyn PhysicalExpr>>,
    coalescer: BatchCoalescer,
    /// Rows tested so far, and how many of them passed.
    sampled: usize,
    kept: usize,
    /// False once the sample showed the filters keep most rows.
    testing: bool,
    input_done: bool,
    baseline: BaselineMetrics,
    untested: Count,
}

impl SemijoinFilterStream {
    /// Whether every filter holds its join's keys (a filter not yet filled is generation 1).
    fn filters_filled(&self) -> bool {
        self.filters
            .iter()
            .all(|filter| filter.snapshot_generation() > 1)
    }

    /// Takes one input batch: tests it, or hands it on untested.
    fn admit(&mut self, batch: RecordBatch) -> Result<()> {
        if !(self.testing && self.filters_filled()) {
            self.untested.add(batch.num_rows());
            return Ok(self.coalescer.push_batch(batch)?);
        }
        let _timer = self.baseline.elapsed_compute().timer();
        let rows = batch.num_rows();
        let passed = self.predicate.evaluate(&batch)?.into_array(rows)?;
        let passed = passed.as_boolean();
        self.sampled += rows;
        self.kept += passed.true_count();
        if self.sampled >= SAMPLE_ROWS && self.kept as f64 > KEEP_LIMIT * self.sampled as f64 {
            self.testing = false;
        }
        Ok(self.coalescer.push_batch_with_filter(batch, passed)?)
    }
}

impl Stream for SemijoinFilterStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(batch) = self.coalescer.next_completed_batch() {
                return self.baseline.record_poll(Poll::Ready(Some(Ok(batch))));
            }
            if self.input_done {
                return Poll::Ready(None);
            }
            let polled = match self.input.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(polled) => polled,
            };
            let taken = match polled {
                Some(Ok(batch)) => self.admit(batch),
                Some(Err(error)) => Err(error),
                None => {
                    self.input_done = true;
                    self.coalescer.finish_buffered_batch().map_err(Into::into)
                }
            };
            if let Err(error) = taken {
                self.input_done = true;
                return Poll::Ready(Some(Err(error)));
            }
        }
    }
}

impl RecordBatchStream for SemijoinFilterStream {
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
}
