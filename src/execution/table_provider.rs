//! The DataFusion table provider of a metastore table: it lists the data files of the
//! table's (or its partitions') locations and scans them as text or Parquet, with partition
//! keys as columns.

use std::sync::{Arc, Mutex};

use apiary_metastore::{Metastore, PartitionFilter, PartitionLocation, Table};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::Session as CatalogSession;
use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics, ScalarValue, Statistics};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::parquet::file::metadata::ParquetMetaDataReader;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;

use super::commit::committed_files;
use super::file_splits::{SplitPolicy, split_file_groups, whole_file_groups};
use super::files::DataFile;
use super::files::local_path;
use super::format::TableFormat;
use super::orc_scan::OrcScanExec;
use super::partition_pruning::{metastore_filter, prune};
use super::partition_values::partition_scalar;
use super::scan_log::ScanLog;
use super::table_lock::ReadLocks;
use super::text_scan::TextScanExec;
use crate::error::ApiaryError;
use crate::parser::BlockSample;
use crate::statistics::table_statistics::scan_statistics;
use crate::types::HiveType;

#[derive(Debug)]
pub struct HiveTableProvider {
    table: Table,
    metastore: Option<Arc<dyn Metastore>>,
    format: TableFormat,
    schema: SchemaRef,
    data_schema: SchemaRef,
    scan_log: Option<Arc<ScanLog>>,
    read_locks: Option<Arc<ReadLocks>>,
    /// `TABLESAMPLE (n PERCENT)` or `(100M)`: the share of the table's bytes to read.
    block_sample: Option<BlockSample>,
    /// Statistics already read for this statement, by the partitions they cover (`None`: the
    /// unpartitioned table) and the columns they describe (`None`: all): the optimizer's
    /// passes and the scan ask for the same ones.
    estimates: Mutex<Vec<(PartitionsKey, ColumnsKey, Statistics)>>,
    /// Partitions the metastore already found for this statement, by filter: the cost-based
    /// estimates of every join above a scan, and the scan itself, ask for the same ones.
    found_partitions: Mutex<Vec<(PartitionFilter, Vec<PartitionLocation>)>>,
}

/// The partitions statistics cover, by their values; `None` for an unpartitioned table.
type PartitionsKey = Option<Vec<Vec<String>>>;

/// The columns statistics describe, by their indices in the table's schema; `None` for all.
type ColumnsKey = Option<Vec<usize>>;

/// The Arrow schema of a table's columns followed by its partition keys.
pub fn table_schema(table: &Table) -> Result<(SchemaRef, SchemaRef), ApiaryError> {
    let field = |c: &apiary_metastore::Column| -> Result<Field, ApiaryError> {
        let t = HiveType::parse(&c.type_name).map_err(|e| {
            ApiaryError::Execution(format!(
                "column {} of {}: {e}",
                c.name,
                table.qualified_name()
            ))
        })?;
        Ok(Field::new(&c.name, t.to_arrow(), true))
    };
    let data: Vec<Field> = table
        .storage
        .columns
        .iter()
        .map(field)
        .collect::<Result<_, _>>()?;
    let mut all = data.clone();
    for key in &table.partition_keys {
        all.push(field(key)?);
    }
    Ok((Arc::new(Schema::new(all)), Arc::new(Schema::new(data))))
}

impl HiveTableProvider {
    /// `metastore` is where the partitions are listed; temporary tables have none. Scans
    /// record the partitions they read in `scan_log` when it is recording, and hold the
    /// table's shared lock in `read_locks` until the statement ends.
    pub fn try_new(
        table: Table,
        metastore: Option<Arc<dyn Metastore>>,
        scan_log: Option<Arc<ScanLog>>,
        read_locks: Option<Arc<ReadLocks>>,
    ) -> Result<Self, ApiaryError> {
        let format = TableFormat::of(&table)?;
        let (schema, data_schema) = table_schema(&table)?;
        Ok(HiveTableProvider {
            table,
            metastore,
            format,
            schema,
            data_schema,
            scan_log: scan_log.filter(|log| log.is_recording()),
            read_locks,
            block_sample: None,
            estimates: Mutex::new(Vec::new()),
            found_partitions: Mutex::new(Vec::new()),
        })
    }

    /// Reads only the first files (Hive's input blocks) that hold the sample's share of the
    /// table's bytes, at least one: Hive's block sampling at file granularity.
    pub fn with_block_sample(mut self, sample: BlockSample) -> Self {
        self.block_sample = Some(sample);
        self
    }

    /// Each location to scan with its partition values: for a partitioned table, the
    /// partitions whose values satisfy `partition_filters`, found by the metastore.
    fn locations(
        &self,
        state: &dyn CatalogSession,
        partition_filters: &[Expr],
    ) -> Result<Vec<ScanLocation>> {
        let to_df = |e: ApiaryError| DataFusionError::External(Box::new(e));
        if self.table.partition_keys.is_empty() {
            return Ok(vec![ScanLocation {
                location: self.table.storage.location.clone(),
                values: Vec::new(),
                typed_values: Vec::new(),
            }]);
        }
        let Some(metastore) = &self.metastore else {
            return Ok(Vec::new());
        };
        let (database, table) = (&self.table.database, &self.table.name);
        let key_schema = self.key_schema();
        let filter = metastore_filter(partition_filters, &key_schema);
        let candidates = self
            .find_partitions(metastore.as_ref(), &filter)
            .map_err(|e| to_df(e.into()))?;
        let selected = prune(state, partition_filters, &key_schema, candidates, |c| {
            &c.values
        })?;
        if let Some(log) = &self.scan_log {
            let total = metastore
                .count_partitions(database, table)
                .map_err(|e| to_df(e.into()))?;
            log.record(self.table.qualified_name(), selected.len(), total);
        }
        selected
            .into_iter()
            .map(|p| {
                let typed_values = p
                    .values
                    .iter()
                    .zip(key_schema.fields())
                    .map(|(v, field)| partition_scalar(v, field.data_type()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(to_df)?;
                Ok(ScanLocation {
                    location: p.location,
                    values: p.values,
                    typed_values,
                })
            })
            .collect()
    }

    /// Estimated statistics of a scan with `filters`: of the partitions the metastore's part
    /// of the partition filters selects (a superset of those the scan reads), or of the table.
    /// Only the `projection`'s columns (all when `None`) get column statistics.
    pub fn estimated_statistics(
        &self,
        filters: &[Expr],
        projection: Option<&Vec<usize>>,
    ) -> Statistics {
        if self.table.partition_keys.is_empty() {
            let table = [self.table.storage.location.as_str()];
            return self.statistics_for(None, &table, projection);
        }
        let Some(metastore) = &self.metastore else {
            return Statistics::new_unknown(&self.schema);
        };
        let partition_filters: Vec<Expr> = filters
            .iter()
            .filter(|f| self.is_partition_filter(f))
            .cloned()
            .collect();
        let filter = metastore_filter(&partition_filters, &self.key_schema());
        match self.find_partitions(metastore.as_ref(), &filter) {
            Ok(found) => {
                let values: Vec<Vec<String>> = found.iter().map(|p| p.values.clone()).collect();
                let locations: Vec<&str> = found.iter().map(|p| p.location.as_str()).collect();
                self.statistics_for(Some(values), &locations, projection)
            }
            Err(_) => Statistics::new_unknown(&self.schema),
        }
    }

    /// The statistics of the table (`partitions` `None`) or of the partitions with those
    /// values, stored at `locations`: the metastore's, or the footers', read once per
    /// statement. Column statistics cover the `projection` (all columns when `None`): merging
    /// many partitions' distinct-value sketches costs milliseconds per column.
    /// The partitions the metastore finds for `filter`, asked once per statement.
    fn find_partitions(
        &self,
        metastore: &dyn Metastore,
        filter: &PartitionFilter,
    ) -> apiary_metastore::Result<Vec<PartitionLocation>> {
        let mut found = self
            .found_partitions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((_, partitions)) = found.iter().find(|(known, _)| known == filter) {
            return Ok(partitions.clone());
        }
        let partitions =
            metastore.find_partition_locations(&self.table.database, &self.table.name, filter)?;
        found.push((filter.clone(), partitions.clone()));
        Ok(partitions)
    }

    fn statistics_for(
        &self,
        partitions: Option<Vec<Vec<String>>>,
        locations: &[&str],
        projection: Option<&Vec<usize>>,
    ) -> Statistics {
        let mut estimates = self.estimates.lock().unwrap_or_else(|e| e.into_inner());
        let covers = |known: &ColumnsKey| match (known, projection) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(known), Some(wanted)) => wanted.iter().all(|c| known.contains(c)),
        };
        let found = estimates
            .iter()
            .find(|(key, columns, _)| *key == partitions && covers(columns));
        if let Some((_, _, known)) = found {
            return known.clone();
        }
        let statistics = scan_statistics(
            self.metastore.as_deref(),
            &self.table,
            &self.schema,
            partitions.as_deref(),
            projection.map(Vec::as_slice),
        );
        let statistics = self.or_from_footers(statistics, locations);
        estimates.push((partitions, projection.cloned(), statistics.clone()));
        statistics
    }

    /// `statistics`, or for a Parquet table the metastore has no row count of, the
    /// statistics in the footers of the files in `locations`, read directly: planning has no
    /// asynchronous reads, and the files are local.
    fn or_from_footers(&self, statistics: Statistics, locations: &[&str]) -> Statistics {
        if statistics.num_rows != Precision::Absent || !matches!(self.format, TableFormat::Parquet)
        {
            return statistics;
        }
        let mut per_file = Vec::new();
        for location in locations {
            let Ok(files) = committed_files(&local_path(location)) else {
                return statistics;
            };
            for file in files {
                let footer = std::fs::File::open(&file.path)
                    .ok()
                    .and_then(|f| ParquetMetaDataReader::new().parse_and_finish(&f).ok());
                let Some(footer) = footer else {
                    return statistics;
                };
                match DFParquetMetadata::statistics_from_parquet_metadata(
                    &footer,
                    &self.data_schema,
                ) {
                    Ok(file_statistics) => per_file.push(file_statistics),
                    Err(_) => return statistics,
                }
            }
        }
        with_unknown_keys(per_file, &self.schema, &self.data_schema).unwrap_or(statistics)
    }

    /// The schema of the partition keys alone.
    fn key_schema(&self) -> SchemaRef {
        let data_columns = self.data_schema.fields().len();
        Arc::new(Schema::new(self.schema.fields()[data_columns..].to_vec()))
    }

    /// Whether `filter` reads only partition keys.
    fn is_partition_filter(&self, filter: &Expr) -> bool {
        let columns = filter.column_refs();
        !columns.is_empty()
            && columns
                .iter()
                .all(|c| self.table.partition_keys.iter().any(|k| k.name == c.name))
    }
}

/// A directory a scan reads, with its partition values as stored and as typed values.
struct ScanLocation {
    location: String,
    values: Vec<String>,
    typed_values: Vec<ScalarValue>,
}

#[async_trait]
impl TableProvider for HiveTableProvider {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// The whole table's statistics; scans report those of the partitions they read.
    fn statistics(&self) -> Option<Statistics> {
        Some(self.estimated_statistics(&[], None))
    }

    /// Filters on partition keys prune partitions; DataFusion still applies them to the rows.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if self.is_partition_filter(f) {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn CatalogSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let to_df = |e: ApiaryError| DataFusionError::External(Box::new(e));
        if let Some(locks) = &self.read_locks {
            locks
                .acquire(&local_path(&self.table.storage.location))
                .map_err(to_df)?;
        }
        let mut files = Vec::new();
        let partition_filters: Vec<Expr> = filters
            .iter()
            .filter(|f| self.is_partition_filter(f))
            .cloned()
            .collect();
        let locations = self.locations(state, &partition_filters)?;
        for scanned in &locations {
            let dir = local_path(&scanned.location);
            for file in committed_files(&dir).map_err(to_df)? {
                files.push((file, scanned.typed_values.clone()));
            }
        }
        let statistics = if let Some(sample) = self.block_sample {
            files = block_sample(files, sample);
            Statistics::new_unknown(&self.schema)
        } else {
            let dirs: Vec<&str> = locations.iter().map(|l| l.location.as_str()).collect();
            let values = (!self.table.partition_keys.is_empty())
                .then(|| locations.iter().map(|l| l.values.clone()).collect());
            self.statistics_for(values, &dirs, projection)
        };
        if files.is_empty() {
            let projected = datafusion::common::project_schema(&self.schema, projection)?;
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        let target = state.config().target_partitions().max(1);
        let group_count = target.min(files.len());
        match &self.format {
            TableFormat::Text(serde) => Ok(Arc::new(
                TextScanExec::new(
                    self.schema.clone(),
                    self.data_schema.fields().len(),
                    projection,
                    split_file_groups(files, target, split_policy(state)),
                    serde.clone(),
                    limit,
                )?
                .with_statistics(statistics),
            )),
            TableFormat::Orc => Ok(Arc::new(
                OrcScanExec::new(
                    self.schema.clone(),
                    self.data_schema.fields().len(),
                    projection,
                    whole_file_groups(files, group_count),
                    limit,
                )?
                .with_statistics(statistics),
            )),
            TableFormat::Parquet => {
                let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); group_count];
                for (i, (file, values)) in files.into_iter().enumerate() {
                    let path = file.path.to_string_lossy().into_owned();
                    let mut scanned = PartitionedFile::new(path, file.size);
                    scanned.object_meta.last_modified = DateTime::<Utc>::from(file.modified);
                    groups[i % group_count].push(scanned.with_partition_values(values));
                }
                let data_columns = self.data_schema.fields().len();
                let partition_fields = self.schema.fields()[data_columns..].to_vec();
                // Footers are cached across queries, keyed by path, size and modification time,
                // as DataFusion's own Parquet tables cache them.
                let runtime = state.runtime_env();
                let store = runtime.object_store(ObjectStoreUrl::local_filesystem())?;
                let footers = CachedParquetFileReaderFactory::new(
                    store,
                    runtime.cache_manager.get_file_metadata_cache(),
                );
                let options = state.table_options().parquet.clone();
                let footer_hint = options.global.metadata_size_hint;
                let mut source = ParquetSource::new(
                    TableSchema::builder(self.data_schema.clone())
                        .with_table_partition_cols(partition_fields)
                        .build(),
                )
                .with_table_parquet_options(options)
                .with_parquet_file_reader_factory(Arc::new(footers));
                // One read fetches a footer of up to this size (and all of a small file).
                if let Some(hint) = footer_hint {
                    source = source.with_metadata_size_hint(hint);
                }
                let config = FileScanConfigBuilder::new(
                    ObjectStoreUrl::local_filesystem(),
                    Arc::new(source),
                )
                .with_file_groups(groups.into_iter().map(FileGroup::new).collect())
                .with_projection_indices(projection.cloned())?
                .with_limit(limit)
                .with_statistics(statistics)
                .build();
                Ok(DataSourceExec::from_data_source(config))
            }
        }
    }
}

/// Files' statistics merged, as estimates of the table's whole schema: the partition keys,
/// which the files do not hold, unknown.
fn with_unknown_keys(
    per_file: Vec<Statistics>,
    schema: &SchemaRef,
    data_schema: &SchemaRef,
) -> Result<Statistics> {
    let mut merged = Statistics::try_merge_iter(per_file.iter(), data_schema)?;
    let keys = schema.fields().len() - data_schema.fields().len();
    merged
        .column_statistics
        .extend((0..keys).map(|_| ColumnStatistics::new_unknown()));
    Ok(merged.to_inexact())
}

/// The first files whose sizes add up to the sample's share, at least one, as Hive's block
/// sampling takes input splits in order until it has its share of the bytes.
fn block_sample(
    files: Vec<(DataFile, Vec<ScalarValue>)>,
    sample: BlockSample,
) -> Vec<(DataFile, Vec<ScalarValue>)> {
    let total: u64 = files.iter().map(|(file, _)| file.size).sum();
    let target = sample.target_bytes(total);
    let mut taken = 0u64;
    files
        .into_iter()
        .take_while(|(file, _)| {
            let more = taken == 0 || taken < target;
            taken += file.size.max(1);
            more
        })
        .collect()
}

/// Text files are cut into byte ranges when DataFusion would cut Parquet files.
fn split_policy(state: &dyn CatalogSession) -> SplitPolicy {
    let optimizer = &state.config().options().optimizer;
    SplitPolicy {
        enabled: optimizer.repartition_file_scans,
        min_total_bytes: optimizer.repartition_file_min_size as u64,
    }
}
