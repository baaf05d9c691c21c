//! What Apiary's own file-scan operators (text, ORC) share: the files of a scan with their
//! partition values, their plan properties, how EXPLAIN shows them, and the metrics EXPLAIN
//! ANALYZE reports for them.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::{ScalarValue, project_schema};
use datafusion::error::Result;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricType, Time,
};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::{Partitioning, PlanProperties};

/// A file to scan and the partition-key values of the partition it belongs to.
#[derive(Debug, Clone)]
pub struct ScanFile {
    pub path: std::path::PathBuf,
    pub partition_values: Vec<ScalarValue>,
    /// The bytes of the file this scan reads, `None` for all of it. A range of a text file
    /// holds the lines that begin inside it: its first line is the one after the first line
    /// break at or after `start - 1`, and its last line the one that begins before `end`.
    pub range: Option<std::ops::Range<u64>>,
}

/// The scan's projection (all columns when none is given) and its plan properties: one
/// output partition per group of files, rows emitted as they are read.
pub fn scan_properties(
    table_schema: &SchemaRef,
    projection: Option<&Vec<usize>>,
    groups: &[Vec<ScanFile>],
) -> Result<(Vec<usize>, Arc<PlanProperties>)> {
    let projection: Vec<usize> = projection
        .cloned()
        .unwrap_or_else(|| (0..table_schema.fields().len()).collect());
    let output = project_schema(table_schema, Some(&projection))?;
    let properties = Arc::new(PlanProperties::new(
        EquivalenceProperties::new(output),
        Partitioning::UnknownPartitioning(groups.len().max(1)),
        EmissionType::Incremental,
        Boundedness::Bounded,
    ));
    Ok((projection, properties))
}

/// `Name: files=N[, splits=S], groups=G[, limit=L]`, the EXPLAIN line of a file scan; `splits`
/// counts the pieces read when files are cut into byte ranges.
pub fn fmt_scan(
    f: &mut fmt::Formatter,
    name: &str,
    groups: &[Vec<ScanFile>],
    limit: Option<usize>,
) -> fmt::Result {
    let pieces: Vec<&ScanFile> = groups.iter().flatten().collect();
    let whole = pieces.iter().filter(|piece| piece.range.is_none()).count();
    let starts = pieces
        .iter()
        .filter(|piece| piece.range.as_ref().is_some_and(|r| r.start == 0))
        .count();
    write!(f, "{name}: files={}", whole + starts)?;
    if whole < pieces.len() {
        write!(f, ", splits={}", pieces.len())?;
    }
    write!(f, ", groups={}", groups.len())?;
    if let Some(limit) = limit {
        write!(f, ", limit={limit}")?;
    }
    Ok(())
}

/// The metrics of one output partition of a file scan: rows out and time spent decoding
/// (`output_rows`, `elapsed_compute`), and files opened. Scans that read their files
/// themselves (text) also count the bytes read and the time spent reading them
/// (`bytes_scanned`, `time_reading`).
pub struct ScanMetrics {
    pub baseline: BaselineMetrics,
    pub files_opened: Count,
    pub bytes_scanned: Count,
    pub time_reading: Time,
}

impl ScanMetrics {
    pub fn new(metrics: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        ScanMetrics {
            bytes_scanned: MetricBuilder::new(metrics)
                .with_type(MetricType::Summary)
                .counter("bytes_scanned", partition),
            time_reading: MetricBuilder::new(metrics).subset_time("time_reading", partition),
            ..Self::decoding_only(metrics, partition)
        }
    }

    /// Without the reading metrics (not registered, so not shown), for scans whose file
    /// reader is a library's.
    pub fn decoding_only(metrics: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        ScanMetrics {
            baseline: BaselineMetrics::new(metrics, partition),
            files_opened: MetricBuilder::new(metrics)
                .with_type(MetricType::Summary)
                .counter("files_opened", partition),
            bytes_scanned: Count::new(),
            time_reading: Time::new(),
        }
    }
}

/// Streams the batches `read` produces on a blocking thread (file reading and decoding block),
/// two batches ahead of the consumer. `read` hands each batch to its callback, which returns
/// false once the consumer is gone; the partition's end time is recorded when it returns.
pub fn stream_from_blocking_reader(
    schema: SchemaRef,
    metrics: ScanMetrics,
    read: impl FnOnce(&ScanMetrics, &mut dyn FnMut(RecordBatch) -> bool) -> Result<()> + Send + 'static,
) -> SendableRecordBatchStream {
    let mut builder = RecordBatchReceiverStreamBuilder::new(schema, 2);
    let tx = builder.tx();
    builder.spawn_blocking(move || {
        let outcome = read(&metrics, &mut |batch| tx.blocking_send(Ok(batch)).is_ok());
        metrics.baseline.done();
        outcome
    });
    builder.build()
}
