//! The DataFusion table provider of a metastore table: it lists the data files of the
//! table's (or its partitions') locations and scans them as text or Parquet, with partition
//! keys as columns.

use std::sync::Arc;

use apiary_metastore::{Metastore, Table};
use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::Session as CatalogSession;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::expr_rewriter::unnormalize_col;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;

use super::commit::committed_files;
use super::files::local_path;
use super::format::TableFormat;
use super::text_scan::{ScanFile, TextScanExec};
use crate::error::ApiaryError;
use crate::types::HiveType;

/// Hive's name for the partition of NULL or empty key values.
pub const DEFAULT_PARTITION_NAME: &str = "__HIVE_DEFAULT_PARTITION__";

#[derive(Debug)]
pub struct HiveTableProvider {
    table: Table,
    metastore: Option<Arc<dyn Metastore>>,
    format: TableFormat,
    schema: SchemaRef,
    data_schema: SchemaRef,
}

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
    /// `metastore` is where the partitions are listed; temporary tables have none.
    pub fn try_new(
        table: Table,
        metastore: Option<Arc<dyn Metastore>>,
    ) -> Result<Self, ApiaryError> {
        let format = TableFormat::of(&table)?;
        let (schema, data_schema) = table_schema(&table)?;
        Ok(HiveTableProvider {
            table,
            metastore,
            format,
            schema,
            data_schema,
        })
    }

    /// Each location to scan with its partition values: for a partitioned table, the
    /// partitions whose values satisfy `partition_filters`.
    fn locations(
        &self,
        state: &dyn CatalogSession,
        partition_filters: &[Expr],
    ) -> Result<Vec<(String, Vec<ScalarValue>)>> {
        let to_df = |e: ApiaryError| DataFusionError::External(Box::new(e));
        if self.table.partition_keys.is_empty() {
            return Ok(vec![(self.table.storage.location.clone(), Vec::new())]);
        }
        let Some(metastore) = &self.metastore else {
            return Ok(Vec::new());
        };
        let (database, table) = (&self.table.database, &self.table.name);
        let all_values = metastore
            .list_partition_values(database, table)
            .map_err(|e| to_df(e.into()))?;
        let selected = self.prune(state, partition_filters, all_values)?;
        let partitions = metastore
            .get_partitions(database, table, &selected)
            .map_err(|e| to_df(e.into()))?;
        let data_columns = self.data_schema.fields().len();
        partitions
            .into_iter()
            .map(|p| {
                let values = p
                    .values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        partition_scalar(v, self.schema.field(data_columns + i).data_type())
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(to_df)?;
                Ok((p.storage.location, values))
            })
            .collect()
    }

    /// The partition values that satisfy every filter, evaluated over a batch holding one
    /// row per partition (so any predicate on the keys prunes: `=`, `IN`, ranges, `OR`,
    /// functions of the keys).
    fn prune(
        &self,
        state: &dyn CatalogSession,
        filters: &[Expr],
        values: Vec<Vec<String>>,
    ) -> Result<Vec<Vec<String>>> {
        if filters.is_empty() || values.is_empty() {
            return Ok(values);
        }
        let data_columns = self.data_schema.fields().len();
        let key_schema = Arc::new(Schema::new(self.schema.fields()[data_columns..].to_vec()));
        let columns = key_schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let scalars = values
                    .iter()
                    .map(|v| partition_scalar(&v[i], field.data_type()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| DataFusionError::External(Box::new(e)))?;
                ScalarValue::iter_to_array(scalars)
            })
            .collect::<Result<Vec<_>>>()?;
        let batch = RecordBatch::try_new(key_schema.clone(), columns)?;
        let df_schema = DFSchema::try_from(key_schema.as_ref().clone())?;
        let mut keep = vec![true; values.len()];
        for filter in filters {
            let physical =
                state.create_physical_expr(unnormalize_col(filter.clone()), &df_schema)?;
            let result = physical.evaluate(&batch)?.into_array(batch.num_rows())?;
            let mask = result.as_boolean_opt().ok_or_else(|| {
                DataFusionError::Internal(format!("partition filter {filter} is not a predicate"))
            })?;
            for (row, kept) in keep.iter_mut().enumerate() {
                *kept &= mask.is_valid(row) && mask.value(row);
            }
        }
        Ok(values
            .into_iter()
            .zip(keep)
            .filter_map(|(v, k)| k.then_some(v))
            .collect())
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

/// A partition value as its key's type; the default partition is NULL.
pub fn partition_scalar(
    value: &str,
    data_type: &datafusion::arrow::datatypes::DataType,
) -> Result<ScalarValue, ApiaryError> {
    if value == DEFAULT_PARTITION_NAME {
        return Ok(ScalarValue::try_from(data_type)?);
    }
    Ok(ScalarValue::Utf8(Some(value.to_string()))
        .cast_to(data_type)
        .unwrap_or(ScalarValue::try_from(data_type)?))
}

#[async_trait]
impl TableProvider for HiveTableProvider {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
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
        let mut files = Vec::new();
        let partition_filters: Vec<Expr> = filters
            .iter()
            .filter(|f| self.is_partition_filter(f))
            .cloned()
            .collect();
        for (location, values) in self.locations(state, &partition_filters)? {
            let dir = local_path(&location);
            for file in committed_files(&dir).map_err(to_df)? {
                files.push((file, values.clone()));
            }
        }
        if files.is_empty() {
            let projected = datafusion::common::project_schema(&self.schema, projection)?;
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        let target = state.config().target_partitions().max(1);
        let group_count = target.min(files.len());
        match &self.format {
            TableFormat::Text(serde) => {
                let mut groups: Vec<Vec<ScanFile>> = vec![Vec::new(); group_count];
                for (i, (file, values)) in files.into_iter().enumerate() {
                    groups[i % group_count].push(ScanFile {
                        path: file.path,
                        partition_values: values,
                    });
                }
                Ok(Arc::new(TextScanExec::new(
                    self.schema.clone(),
                    self.data_schema.fields().len(),
                    projection,
                    groups,
                    serde.clone(),
                    limit,
                )?))
            }
            TableFormat::Parquet => {
                let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); group_count];
                for (i, (file, values)) in files.into_iter().enumerate() {
                    let path = file.path.to_string_lossy().into_owned();
                    groups[i % group_count]
                        .push(PartitionedFile::new(path, file.size).with_partition_values(values));
                }
                let data_columns = self.data_schema.fields().len();
                let partition_fields = self.schema.fields()[data_columns..].to_vec();
                let source = ParquetSource::new(
                    TableSchema::builder(self.data_schema.clone())
                        .with_table_partition_cols(partition_fields)
                        .build(),
                );
                let config = FileScanConfigBuilder::new(
                    ObjectStoreUrl::local_filesystem(),
                    Arc::new(source),
                )
                .with_file_groups(groups.into_iter().map(FileGroup::new).collect())
                .with_projection_indices(projection.cloned())?
                .with_limit(limit)
                .build();
                Ok(DataSourceExec::from_data_source(config))
            }
        }
    }
}
