//! The scan operator of ORC tables (`STORED AS ORC`), reading files with the `orc-rust`
//! crate. Each output partition reads its group of files. A file's columns match the
//! table's by position, as Hive matches them for files whose columns are named `_col0`,
//! `_col1`, ...: each is cast to the table's declared type, and columns a file lacks are
//! NULL. Partition-key values are appended per file.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, RecordOutput};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use orc_rust::ArrowReaderBuilder;
use orc_rust::projection::ProjectionMask;

use super::file_scan::{
    ScanFile, ScanMetrics, fmt_scan, scan_properties, stream_from_blocking_reader,
};
use super::leaf_exec::{leaf_exec_methods, scan_statistics_method};

#[derive(Debug)]
pub struct OrcScanExec {
    /// Data columns followed by partition columns.
    table_schema: SchemaRef,
    data_columns: usize,
    projection: Vec<usize>,
    groups: Vec<Vec<ScanFile>>,
    limit: Option<usize>,
    properties: Arc<PlanProperties>,
    /// Estimates for the whole table schema, before projection.
    statistics: Arc<datafusion::common::Statistics>,
    metrics: ExecutionPlanMetricsSet,
}

impl OrcScanExec {
    pub fn new(
        table_schema: SchemaRef,
        data_columns: usize,
        projection: Option<&Vec<usize>>,
        groups: Vec<Vec<ScanFile>>,
        limit: Option<usize>,
    ) -> Result<Self> {
        let (projection, properties) = scan_properties(&table_schema, projection, &groups)?;
        let statistics = Arc::new(datafusion::common::Statistics::new_unknown(&table_schema));
        Ok(OrcScanExec {
            table_schema,
            data_columns,
            projection,
            groups,
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

impl DisplayAs for OrcScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        fmt_scan(f, "OrcScanExec", &self.groups, self.limit)
    }
}

impl ExecutionPlan for OrcScanExec {
    leaf_exec_methods!("OrcScanExec");
    scan_statistics_method!();

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let output_schema = self.schema();
        let job = OrcJob {
            output_schema: output_schema.clone(),
            table_schema: self.table_schema.clone(),
            data_columns: self.data_columns,
            projection: self.projection.clone(),
            batch_size: context.session_config().batch_size(),
            limit: self.limit,
        };
        let files = self.groups.get(partition).cloned().unwrap_or_default();
        let metrics = ScanMetrics::decoding_only(&self.metrics, partition);
        Ok(stream_from_blocking_reader(
            output_schema,
            metrics,
            move |metrics, emit| job.run(&files, metrics, emit),
        ))
    }
}

struct OrcJob {
    output_schema: SchemaRef,
    table_schema: SchemaRef,
    data_columns: usize,
    projection: Vec<usize>,
    batch_size: usize,
    limit: Option<usize>,
}

impl OrcJob {
    /// Reads the files, handing each batch to `emit` until it returns false or the limit is hit.
    fn run(
        &self,
        files: &[ScanFile],
        metrics: &ScanMetrics,
        emit: &mut dyn FnMut(RecordBatch) -> bool,
    ) -> Result<()> {
        let mut remaining = self.limit.unwrap_or(usize::MAX);
        for file in files {
            let unreadable = |e: &dyn fmt::Display| {
                DataFusionError::Execution(format!(
                    "cannot read ORC file {}: {e}",
                    file.path.display()
                ))
            };
            let handle = std::fs::File::open(&file.path).map_err(|e| unreadable(&e))?;
            metrics.files_opened.add(1);
            let builder = ArrowReaderBuilder::try_new(handle).map_err(|e| unreadable(&e))?;
            let root = builder.file_metadata().root_data_type();
            let file_columns = root.children().len();
            // The file's columns this scan reads, in file order. A scan of no data column
            // (`count(*)`) still reads one, for the row count.
            let mut read: Vec<usize> = self
                .projection
                .iter()
                .copied()
                .filter(|c| *c < self.data_columns.min(file_columns))
                .collect();
            read.sort_unstable();
            read.dedup();
            if read.is_empty() && file_columns > 0 {
                read.push(0);
            }
            let indices: Vec<usize> = read
                .iter()
                .map(|c| root.children()[*c].data_type().column_index())
                .collect();
            let mask = ProjectionMask::roots(root, indices);
            let reader = builder
                .with_projection(mask)
                .with_batch_size(self.batch_size)
                .build();
            let mut batches = reader.into_iter();
            loop {
                let decoding = metrics.baseline.elapsed_compute().timer();
                let Some(batch) = batches.next() else {
                    break;
                };
                let batch = batch.map_err(|e| unreadable(&e))?;
                let batch = self.assemble(&batch, &read, file)?;
                decoding.done();
                let batch = if batch.num_rows() > remaining {
                    batch.slice(0, remaining)
                } else {
                    batch
                };
                remaining -= batch.num_rows();
                let batch = batch.record_output(&metrics.baseline);
                if !emit(batch) || remaining == 0 {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The table's projected columns from a batch of the file's columns `read`.
    fn assemble(
        &self,
        batch: &RecordBatch,
        read: &[usize],
        file: &ScanFile,
    ) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.projection.len());
        for column in &self.projection {
            let target = self.table_schema.field(*column).data_type();
            let array = if *column < self.data_columns {
                match read.iter().position(|c| c == column) {
                    Some(position) => cast(batch.column(position), target)?,
                    None => new_null_array(target, rows),
                }
            } else {
                file.partition_values
                    .get(column - self.data_columns)
                    .cloned()
                    .unwrap_or(datafusion::common::ScalarValue::Null)
                    .to_array_of_size(rows)?
            };
            columns.push(array);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        Ok(RecordBatch::try_new_with_options(
            self.output_schema.clone(),
            columns,
            &options,
        )?)
    }
}
