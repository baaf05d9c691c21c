//! The scan operator of text tables: each output partition reads its group of files, or byte
//! ranges of them ([`super::file_splits`]), line by line and decodes them in batches, appending
//! the partition-key values of each file.

use std::fmt;
use std::io::{BufRead, Seek, SeekFrom};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, RecordOutput};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};

use super::file_scan::{
    ScanFile, ScanMetrics, fmt_scan, scan_properties, stream_from_blocking_reader,
};
use super::format::TextSerde;
use super::leaf_exec::{leaf_exec_methods, scan_statistics_method};
use super::text_decode::TextDecoder;

#[derive(Debug)]
pub struct TextScanExec {
    /// Data columns followed by partition columns.
    table_schema: SchemaRef,
    data_columns: usize,
    projection: Vec<usize>,
    groups: Vec<Vec<ScanFile>>,
    serde: TextSerde,
    limit: Option<usize>,
    properties: Arc<PlanProperties>,
    /// Estimates for the whole table schema, before projection.
    statistics: Arc<datafusion::common::Statistics>,
    metrics: ExecutionPlanMetricsSet,
}

impl TextScanExec {
    pub fn new(
        table_schema: SchemaRef,
        data_columns: usize,
        projection: Option<&Vec<usize>>,
        groups: Vec<Vec<ScanFile>>,
        serde: TextSerde,
        limit: Option<usize>,
    ) -> Result<Self> {
        let (projection, properties) = scan_properties(&table_schema, projection, &groups)?;
        let statistics = Arc::new(datafusion::common::Statistics::new_unknown(&table_schema));
        Ok(TextScanExec {
            table_schema,
            data_columns,
            projection,
            groups,
            serde,
            limit,
            properties,
            statistics,
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }

    /// Reports `statistics` (of the whole table schema) to the planner.
    pub fn with_statistics(mut self, statistics: datafusion::common::Statistics) -> Self {
        self.statistics = Arc::new(statistics);
        self
    }
}

impl DisplayAs for TextScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        fmt_scan(f, "TextScanExec", &self.groups, self.limit)
    }
}

impl ExecutionPlan for TextScanExec {
    leaf_exec_methods!("TextScanExec");
    scan_statistics_method!();

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let output_schema = self.schema();
        let files = self.groups.get(partition).cloned().unwrap_or_default();
        let data_projection: Vec<(usize, usize)> = self
            .projection
            .iter()
            .enumerate()
            .filter(|(_, column)| **column < self.data_columns)
            .map(|(out, column)| (out, *column))
            .collect();
        let data_schema = Arc::new(datafusion::arrow::datatypes::Schema::new(
            data_projection
                .iter()
                .map(|(_, c)| self.table_schema.field(*c).clone())
                .collect::<Vec<_>>(),
        ));
        let decoder = TextDecoder::new(
            data_schema,
            data_projection.iter().map(|(_, c)| *c).collect(),
            self.serde.clone(),
        );
        let job = ScanJob {
            output_schema: output_schema.clone(),
            data_columns: self.data_columns,
            projection: self.projection.clone(),
            decoder,
            skip_header: self.serde.skip_header_lines,
            batch_size: context.session_config().batch_size(),
            limit: self.limit,
        };
        let metrics = ScanMetrics::new(&self.metrics, partition);
        Ok(stream_from_blocking_reader(
            output_schema,
            metrics,
            move |metrics, emit| job.run(&files, metrics, emit),
        ))
    }
}

struct ScanJob {
    output_schema: SchemaRef,
    data_columns: usize,
    projection: Vec<usize>,
    decoder: TextDecoder,
    skip_header: usize,
    batch_size: usize,
    limit: Option<usize>,
}

impl ScanJob {
    /// Reads the files, handing each batch to `emit` until it returns false or the limit is hit.
    fn run(
        &self,
        files: &[ScanFile],
        metrics: &ScanMetrics,
        emit: &mut dyn FnMut(RecordBatch) -> bool,
    ) -> Result<()> {
        let mut remaining = self.limit.unwrap_or(usize::MAX);
        for file in files {
            let handle = std::fs::File::open(&file.path).map_err(|e| {
                DataFusionError::Execution(format!("cannot open {}: {e}", file.path.display()))
            })?;
            metrics.files_opened.add(1);
            let cannot_read = |e: std::io::Error| {
                DataFusionError::Execution(format!("cannot read {}: {e}", file.path.display()))
            };
            let mut reader = std::io::BufReader::with_capacity(1 << 20, handle);
            // Reading is timed and counted per batch, not per line: the loop is the hot path.
            let mut reading = metrics.time_reading.timer();
            let range = file.range.clone().unwrap_or(0..u64::MAX);
            // Where the next line begins. A range after the file's start begins with the first
            // line that starts inside it: the partial line before belongs to the range before.
            let mut position = 0u64;
            let mut bytes_read = 0usize;
            if range.start > 0 {
                reader
                    .seek(SeekFrom::Start(range.start - 1))
                    .map_err(cannot_read)?;
                bytes_read = reader.skip_until(b'\n').map_err(cannot_read)?;
                position = range.start - 1 + bytes_read as u64;
            }
            // The lines of one batch, back to back in one reused buffer, and where each ends.
            let mut buffer: Vec<u8> = Vec::new();
            let mut ends: Vec<usize> = Vec::with_capacity(self.batch_size);
            // Header lines are the file's first lines, read by the range that starts it.
            let mut line_number = if range.start == 0 {
                0
            } else {
                self.skip_header
            };
            loop {
                let start = buffer.len();
                let read = if position < range.end {
                    reader.read_until(b'\n', &mut buffer).map_err(cannot_read)?
                } else {
                    0
                };
                position += read as u64;
                bytes_read += read;
                if read > 0 {
                    line_number += 1;
                    if line_number <= self.skip_header {
                        buffer.truncate(start);
                        continue;
                    }
                    if buffer.last() == Some(&b'\n') {
                        buffer.pop();
                    }
                    if buffer.len() > start && buffer.last() == Some(&b'\r') {
                        buffer.pop();
                    }
                    ends.push(buffer.len());
                }
                let full = ends.len() >= self.batch_size.min(remaining);
                if (read == 0 && !ends.is_empty()) || full {
                    let lines: Vec<&[u8]> = std::iter::once(0)
                        .chain(ends.iter().copied())
                        .zip(ends.iter().copied())
                        .map(|(from, to)| &buffer[from..to])
                        .collect();
                    reading.stop();
                    metrics.bytes_scanned.add(std::mem::take(&mut bytes_read));
                    let decoding = metrics.baseline.elapsed_compute().timer();
                    let batch = self.assemble(&lines, &file.partition_values)?;
                    decoding.done();
                    let batch = batch.record_output(&metrics.baseline);
                    remaining -= batch.num_rows();
                    buffer.clear();
                    ends.clear();
                    if !emit(batch) || remaining == 0 {
                        return Ok(());
                    }
                    reading.restart();
                }
                if read == 0 {
                    break;
                }
            }
            reading.stop();
            metrics.bytes_scanned.add(bytes_read);
        }
        Ok(())
    }

    /// Decodes lines and places data and partition columns in projection order.
    fn assemble(&self, lines: &[&[u8]], partition_values: &[ScalarValue]) -> Result<RecordBatch> {
        let data = self.decoder.decode(lines)?;
        let mut data_columns = data.columns().iter();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.projection.len());
        for column in &self.projection {
            if *column < self.data_columns {
                columns.push(data_columns.next().cloned().ok_or_else(|| {
                    DataFusionError::Internal("text decoder returned too few columns".into())
                })?);
            } else {
                let value = partition_values
                    .get(column - self.data_columns)
                    .cloned()
                    .unwrap_or(ScalarValue::Null);
                columns.push(value.to_array_of_size(lines.len())?);
            }
        }
        let options =
            datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(lines.len()));
        Ok(RecordBatch::try_new_with_options(
            self.output_schema.clone(),
            columns,
            &options,
        )?)
    }
}
