//! Dynamic partition inserts: rows are routed to partitions by the values of the query's last
//! columns. Each partition gets its own staged file and, later, its own atomic commit; the
//! caller commits only when every partition was written. The partition counts stay within
//! `hive.exec.max.dynamic.partitions[.pernode]`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use apiary_metastore::{Partition, Table};
use datafusion::arrow::array::{Array, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::Schema;
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use futures::StreamExt;

use super::commit::Staging;
use super::files::local_path;
use super::format::TableFormat;
use super::insert::{StagedWrite, write_target};
use super::writer::DataFileWriter;
use crate::analysis_err;
use crate::driver::Session;
use crate::error::Result;
use crate::hive_text::{Style, write_value};
use apiary_metastore::DEFAULT_PARTITION_NAME;

/// A partition being written: its directory, its metastore entry if it exists, its staging
/// and open file.
struct PartitionWrite {
    dir: PathBuf,
    existing: Option<Partition>,
    staging: Staging,
    file: DataFileWriter,
}

/// Runs `plan` (data columns, then one column per dynamic key) and stages each partition it
/// produces; nothing is staged unless every partition's file is complete.
pub(crate) async fn write(
    session: &Session,
    table: &Table,
    plan: LogicalPlan,
    format: &TableFormat,
    static_values: &[String],
) -> Result<Vec<StagedWrite>> {
    let limit = |name: &str, default: usize| {
        session
            .setting(name)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(default)
    };
    let per_node = limit("hive.exec.max.dynamic.partitions.pernode", 100);
    let total = limit("hive.exec.max.dynamic.partitions", 1000);

    let frame = DataFrame::new(session.ctx.state(), plan);
    let schema = frame.schema().inner().clone();
    let data_columns = table.storage.columns.len();
    let data_schema = Arc::new(Schema::new(schema.fields()[..data_columns].to_vec()));
    let mut stream = frame.execute_stream().await?;
    let mut partitions: BTreeMap<Vec<String>, PartitionWrite> = BTreeMap::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        for (dynamic_values, rows) in group_rows(&batch, data_columns) {
            let mut values = static_values.to_vec();
            values.extend(dynamic_values);
            if !partitions.contains_key(&values) {
                let count = partitions.len() + 1;
                if count > per_node {
                    return Err(analysis_err!(
                        "Fatal error occurred when node tried to create too many dynamic partitions. The maximum number of dynamic partitions is controlled by hive.exec.max.dynamic.partitions and hive.exec.max.dynamic.partitions.pernode. Maximum was set to {per_node} partitions per node, number of dynamic partitions on this node: {count}"
                    ));
                }
                if count > total {
                    return Err(analysis_err!(
                        "Number of dynamic partitions created is {count}, which is more than {total}. To solve this try to set hive.exec.max.dynamic.partitions to at least {count}."
                    ));
                }
                let (dir, existing) = write_target(session, table, Some(&values))?;
                let mut staging = Staging::create(&dir, &local_path(&table.storage.location))?;
                let file =
                    DataFileWriter::create(staging.next_file_path(), format, data_schema.clone())?;
                partitions.insert(
                    values.clone(),
                    PartitionWrite {
                        dir,
                        existing,
                        staging,
                        file,
                    },
                );
            }
            let indices = UInt32Array::from(rows);
            let columns = batch.columns()[..data_columns]
                .iter()
                .map(|column| take(column.as_ref(), &indices, None))
                .collect::<Result<Vec<_>, _>>()
                .map_err(DataFusionError::from)?;
            let rows = RecordBatch::try_new(data_schema.clone(), columns)
                .map_err(DataFusionError::from)?;
            if let Some(partition) = partitions.get_mut(&values) {
                partition.file.write(&rows)?;
            }
        }
    }
    partitions
        .into_iter()
        .map(|(values, partition)| {
            Ok(StagedWrite {
                rows: partition.file.finish()?,
                values: Some(values),
                dir: partition.dir,
                existing: partition.existing,
                staging: partition.staging,
            })
        })
        .collect()
}

/// The rows of `batch` grouped by the text of their partition-key columns (those from
/// `first_key` on). NULL and empty values go to Hive's default partition.
fn group_rows(batch: &RecordBatch, first_key: usize) -> Vec<(Vec<String>, Vec<u32>)> {
    let keys = &batch.columns()[first_key..];
    let mut groups: HashMap<Vec<String>, Vec<u32>> = HashMap::new();
    let mut order = Vec::new();
    for row in 0..batch.num_rows() {
        let values: Vec<String> = keys
            .iter()
            .map(|column| {
                let mut text = String::new();
                if !column.is_null(row) {
                    write_value(&mut text, column.as_ref(), row, &Style::Cli);
                }
                if text.is_empty() {
                    DEFAULT_PARTITION_NAME.to_string()
                } else {
                    text
                }
            })
            .collect();
        let rows = groups.entry(values.clone()).or_insert_with(|| {
            order.push(values);
            Vec::new()
        });
        rows.push(row as u32);
    }
    order
        .into_iter()
        .map(|values| {
            let rows = groups.remove(&values).unwrap_or_default();
            (values, rows)
        })
        .collect()
}
