//! `ANALYZE TABLE t [PARTITION (...)] COMPUTE STATISTICS [NOSCAN | FOR COLUMNS [c, ...]]`:
//! reads a table's (or each chosen partition's) rows once, and stores its basic statistics
//! in its parameters and its column statistics in the metastore, in one transaction each.

use std::collections::BTreeMap;
use std::sync::Arc;

use apiary_metastore::{Column, ColumnStatistics, Metastore, Table};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, ident, lit};
use futures::StreamExt;

use super::files::local_path;
use super::insert::{now, record_file_stats};
use super::partition_ddl::matching_partitions;
use super::partition_values::partition_scalar;
use super::table_provider::{HiveTableProvider, table_schema};
use crate::analysis_err;
use crate::driver::{Session, StatementOutput};
use crate::error::{ApiaryError, Result};
use crate::parser::{AnalyzeScope, PartitionSpec, TableName};
use crate::statistics::accuracy::StatsAccuracy;
use crate::statistics::column_builder::{ColumnStatsBuilder, has_column_statistics};
use crate::types::HiveType;

pub async fn analyze(
    session: &Session,
    name: &TableName,
    partition: Option<&PartitionSpec>,
    scope: AnalyzeScope,
) -> Result<StatementOutput> {
    let entry = session.require_table(name)?;
    let table = &entry.table;
    if table.is_view() {
        return Err(analysis_err!(
            "ANALYZE TABLE is not supported on views: {} is a view",
            table.qualified_name()
        ));
    }
    if entry.temporary {
        return Err(analysis_err!(
            "ANALYZE TABLE is not supported on temporary tables: {} keeps no statistics",
            table.qualified_name()
        ));
    }
    let columns = analyzed_columns(table, &scope)?;
    let metastore = session.engine.metastore.clone();
    if table.partition_keys.is_empty() {
        if partition.is_some() {
            return Err(analysis_err!(
                "Table {} is not a partitioned table",
                table.qualified_name()
            ));
        }
        let target = Target {
            values: None,
            location: &table.storage.location,
            parameters: table.parameters.clone(),
        };
        return analyze_one(session, &metastore, table, target, &scope, &columns).await;
    }
    for found in matching_partitions(session, table, partition)? {
        let stored = metastore
            .get_partition(&table.database, &table.name, &found.values)?
            .ok_or_else(|| analysis_err!("Partition not found: {}", found.values.join("/")))?;
        let target = Target {
            values: Some(&found.values),
            location: &found.location,
            parameters: stored.parameters,
        };
        analyze_one(session, &metastore, table, target, &scope, &columns).await?;
    }
    Ok(StatementOutput::Done)
}

/// The table itself or one of its partitions.
struct Target<'a> {
    values: Option<&'a [String]>,
    location: &'a str,
    parameters: BTreeMap<String, String>,
}

async fn analyze_one(
    session: &Session,
    metastore: &Arc<dyn Metastore>,
    table: &Table,
    mut target: Target<'_>,
    scope: &AnalyzeScope,
    columns: &[(Column, HiveType)],
) -> Result<StatementOutput> {
    let parameters = &mut target.parameters;
    record_file_stats(parameters, &local_path(target.location))?;
    let mut accuracy = StatsAccuracy::read(parameters);
    let mut stats = Vec::new();
    if *scope != AnalyzeScope::NoScan {
        let (rows, gathered) = scan(session, table, target.values, columns).await?;
        parameters.insert("numRows".into(), rows.to_string());
        accuracy.basic = true;
        accuracy
            .columns
            .extend(gathered.iter().map(|s| s.column.clone()));
        stats = gathered;
    }
    accuracy.write(parameters);
    parameters.insert("transient_lastDdlTime".into(), now().to_string());
    metastore.set_column_statistics(
        &table.database,
        &table.name,
        target.values,
        &stats,
        parameters,
    )?;
    Ok(StatementOutput::Done)
}

/// The columns whose statistics `scope` asks for: those named, or every column of a type
/// that has column statistics.
fn analyzed_columns(table: &Table, scope: &AnalyzeScope) -> Result<Vec<(Column, HiveType)>> {
    let AnalyzeScope::Columns(named) = scope else {
        return Ok(Vec::new());
    };
    let typed = |c: &Column| -> Result<(Column, HiveType)> {
        let t = HiveType::parse(&c.type_name)
            .map_err(|e| ApiaryError::Execution(format!("column {}: {e}", c.name)))?;
        Ok((c.clone(), t))
    };
    if named.is_empty() {
        let all = table.storage.columns.iter().map(typed);
        return all
            .filter(|c| c.as_ref().map_or(true, |(_, t)| has_column_statistics(t)))
            .collect();
    }
    let mut chosen = Vec::new();
    for name in named {
        let name = name.to_lowercase();
        if table.partition_keys.iter().any(|k| k.name == name) {
            return Err(analysis_err!(
                "Column {name} is a partition key of {}: partition keys have no column statistics",
                table.qualified_name()
            ));
        }
        let column = table
            .storage
            .columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                analysis_err!(
                    "Invalid column reference '{name}': {} has no such column",
                    table.qualified_name()
                )
            })?;
        let (column, hive_type) = typed(column)?;
        if !has_column_statistics(&hive_type) {
            return Err(analysis_err!(
                "Column {name} is of type {}: column statistics are kept for primitive types only",
                column.type_name
            ));
        }
        if !chosen
            .iter()
            .any(|(c, _): &(Column, HiveType)| c.name == name)
        {
            chosen.push((column, hive_type));
        }
    }
    Ok(chosen)
}

/// Reads the rows of the table or of the partition `values`: their count, and the
/// statistics of `columns`.
async fn scan(
    session: &Session,
    table: &Table,
    values: Option<&[String]>,
    columns: &[(Column, HiveType)],
) -> Result<(u64, Vec<ColumnStatistics>)> {
    let provider = HiveTableProvider::try_new(
        table.clone(),
        Some(session.engine.metastore.clone()),
        None,
        Some(session.read_locks.clone()),
    )?;
    let mut plan = LogicalPlanBuilder::scan(
        table.name.as_str(),
        provider_as_source(Arc::new(provider)),
        None,
    )?;
    if let Some(filter) = partition_filter(table, values)? {
        plan = plan.filter(filter)?;
    }
    if columns.is_empty() {
        let rows = DataFrame::new(session.ctx.state(), plan.build()?)
            .count()
            .await?;
        return Ok((rows as u64, Vec::new()));
    }
    let projected = plan
        .project(columns.iter().map(|(c, _)| ident(&c.name)))?
        .build()?;
    let mut builders: Vec<ColumnStatsBuilder> = columns
        .iter()
        .filter_map(|(_, t)| ColumnStatsBuilder::new(t))
        .collect();
    let mut rows = 0u64;
    let mut stream = DataFrame::new(session.ctx.state(), projected)
        .execute_stream()
        .await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        for (builder, array) in builders.iter_mut().zip(batch.columns()) {
            builder.update(array);
        }
    }
    let taken = now();
    let stats = builders
        .iter()
        .zip(columns)
        .map(|(builder, (column, _))| builder.finish(&column.name, &column.type_name, taken))
        .collect();
    Ok((rows, stats))
}

/// `k1 = v1 AND k2 = v2 ...` selecting one partition (`IS NULL` for the default partition).
fn partition_filter(table: &Table, values: Option<&[String]>) -> Result<Option<Expr>> {
    let Some(values) = values else {
        return Ok(None);
    };
    let (schema, _) = table_schema(table)?;
    let mut filter: Option<Expr> = None;
    for (key, value) in table.partition_keys.iter().zip(values) {
        let field = schema
            .field_with_name(&key.name)
            .map_err(datafusion::error::DataFusionError::from)?;
        let typed = partition_scalar(value, field.data_type())?;
        let key_column = ident(&key.name);
        let test = if typed.is_null() {
            key_column.is_null()
        } else {
            key_column.eq(lit(typed))
        };
        filter = Some(match filter {
            None => test,
            Some(f) => f.and(test),
        });
    }
    Ok(filter)
}
