//! The stream of Apiary's row-filtering operators (`SemijoinFilterExec`,
//! `AdaptiveFilterExec`, `JoinKeyFilterExec`): each input batch goes to the operator's
//! [`RowFilter`], which hands the rows it keeps to arrow's `BatchCoalescer`; full batches go
//! on. A batch of half the target size or more goes on as it is, uncopied. [`KeepSample`] is
//! how the join filters learn that they keep most rows and stop testing.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::BatchCoalescer;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::error::Result;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream};
use datafusion::physical_plan::metrics::BaselineMetrics;
use futures::{Stream, StreamExt};

/// Rows a partition tests before it judges a join filter.
pub const SAMPLE_ROWS: usize = 65_536;

/// The share of sampled rows above which a join filter is judged useless.
pub const KEEP_LIMIT: f64 = 0.75;

/// A partition's record of the rows a filter kept: testing stops once [`SAMPLE_ROWS`] rows
/// were tested and more than [`KEEP_LIMIT`] of them passed, so that a filter that drops
/// nothing costs a few batches of tests.
#[derive(Debug, Default)]
pub struct KeepSample {
    sampled: usize,
    kept: usize,
}

impl KeepSample {
    /// Whether the rows seen so far leave the filter worth testing.
    pub fn testing(&self) -> bool {
        self.sampled < SAMPLE_ROWS || self.kept as f64 <= KEEP_LIMIT * self.sampled as f64
    }

    /// Records a tested batch of `rows` rows, `kept` of which passed.
    pub fn record(&mut self, rows: usize, kept: usize) {
        self.sampled += rows;
        self.kept += kept;
    }
}

/// `, projection=[name@index, ...]`: the input columns a filter operator passes on, as
/// DataFusion's `FilterExec` shows them in `EXPLAIN`.
pub fn write_projection(
    f: &mut fmt::Formatter,
    input: &Schema,
    projection: &[usize],
) -> fmt::Result {
    let columns: Vec<String> = projection
        .iter()
        .map(|&index| format!("{}@{index}", input.field(index).name()))
        .collect();
    write!(f, ", projection=[{}]", columns.join(", "))
}

/// What an operator keeps of each batch.
pub trait RowFilter: Send + Unpin {
    /// Tests `batch` and pushes the rows it keeps into `kept`.
    fn admit(&mut self, batch: RecordBatch, kept: &mut BatchCoalescer) -> Result<()>;
}

/// The rows of `input` that `filter` keeps, in full batches.
pub struct FilteredStream<F> {
    input: SendableRecordBatchStream,
    filter: F,
    kept: BatchCoalescer,
    input_done: bool,
    baseline: BaselineMetrics,
}

impl<F: RowFilter> FilteredStream<F> {
    /// Batches of `batch_size` rows with `schema`, the schema of what `filter` keeps.
    pub fn new(
        input: SendableRecordBatchStream,
        filter: F,
        schema: SchemaRef,
        batch_size: usize,
        baseline: BaselineMetrics,
    ) -> Self {
        FilteredStream {
            input,
            filter,
            kept: BatchCoalescer::new(schema, batch_size)
                .with_biggest_coalesce_batch_size(Some(batch_size / 2)),
            input_done: false,
            baseline,
        }
    }
}

impl<F: RowFilter> Stream for FilteredStream<F> {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(batch) = this.kept.next_completed_batch() {
                return this.baseline.record_poll(Poll::Ready(Some(Ok(batch))));
            }
            if this.input_done {
                return Poll::Ready(None);
            }
            let polled = match this.input.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(polled) => polled,
            };
            let taken = match polled {
                Some(Ok(batch)) => this.filter.admit(batch, &mut this.kept),
                Some(Err(error)) => Err(error),
                None => {
                    this.input_done = true;
                    this.kept.finish_buffered_batch().map_err(Into::into)
                }
            };
            if let Err(error) = taken {
                this.input_done = true;
                return Poll::Ready(Some(Err(error)));
            }
        }
    }
}

impl<F: RowFilter> RecordBatchStream for FilteredStream<F> {
    fn schema(&self) -> SchemaRef {
        self.kept.schema()
    }
}
