//! INSERT INTO / OVERWRITE (with a static partition spec) and the write half of CTAS.

use std::collections::BTreeMap;

use apiary_metastore::{Partition, Table};
use datafusion::common::ScalarValue;
use datafusion::functions::unicode::expr_fn::substring;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, cast, col, lit, try_cast};

use super::commit::Staging;
use super::files::{list_data_files, local_path};
use super::format::TableFormat;
use super::paths::default_partition_location;
use super::table_provider::table_schema;
use super::writer::write_plan;
use crate::analysis_err;
use crate::analyzer;
use crate::driver::{Session, StatementOutput, TableEntry};
use crate::error::{ApiaryError, Result};
use crate::parser::{Insert, PartitionSpec};
use crate::types::HiveType;

pub async fn insert(session: &mut Session, insert: Insert) -> Result<StatementOutput> {
    let entry = session.require_table(&insert.table)?;
    let table = &entry.table;
    if table.is_view() {
        return Err(analysis_err!(
            "Cannot insert into a view: {}",
            table.qualified_name()
        ));
    }
    let partition_values = static_partition_values(table, insert.partition.as_ref())?;
    let plan = analyzer::plan_query(session, &insert.query).await?;
    let plan = conform_to_table(plan, table, &insert.columns)?;
    let format = TableFormat::of(table)?;

    let existing = match &partition_values {
        Some(values) if !entry.temporary => {
            session
                .engine
                .metastore
                .get_partition(&table.database, &table.name, values)?
        }
        _ => None,
    };
    if insert.if_not_exists && existing.is_some() {
        return Ok(StatementOutput::Done);
    }
    let target = match (&partition_values, &existing) {
        (_, Some(partition)) => local_path(&partition.storage.location),
        (Some(values), None) => default_partition_location(table, values),
        (None, _) => local_path(&table.storage.location),
    };
    let mut staging = Staging::create(&target)?;
    let rows = write_plan(session, plan, &mut staging, &format).await?;
    staging.commit(insert.overwrite)?;

    match partition_values {
        Some(values) if !entry.temporary => {
            let is_new = existing.is_none();
            let mut partition = existing.unwrap_or_else(|| Partition {
                database: table.database.clone(),
                table: table.name.clone(),
                values: values.clone(),
                create_time: now(),
                storage: apiary_metastore::StorageDescriptor {
                    location: target.display().to_string(),
                    ..table.storage.clone()
                },
                // A new partition starts from zero rows.
                parameters: BTreeMap::from([("numRows".to_string(), "0".to_string())]),
            });
            update_basic_stats(
                session,
                &mut partition.parameters,
                &target,
                rows,
                insert.overwrite,
            )?;
            if is_new {
                session
                    .engine
                    .metastore
                    .add_partitions(&[partition], true)?;
            } else {
                session.engine.metastore.alter_partition(&partition)?;
            }
        }
        _ => {
            let mut updated = entry.clone();
            update_basic_stats(
                session,
                &mut updated.table.parameters,
                &target,
                rows,
                insert.overwrite,
            )?;
            let (database, name) = (table.database.clone(), table.name.clone());
            session.save_table(&updated, &database, &name)?;
        }
    }
    Ok(StatementOutput::Done)
}

/// The values of a fully static partition spec, in key order; `None` for unpartitioned tables.
fn static_partition_values(
    table: &Table,
    spec: Option<&PartitionSpec>,
) -> Result<Option<Vec<String>>> {
    let keys = &table.partition_keys;
    match (keys.is_empty(), spec) {
        (true, None) => Ok(None),
        (true, Some(_)) => Err(analysis_err!(
            "Table {} is not partitioned but a partition spec was given",
            table.qualified_name()
        )),
        (false, None) => Err(analysis_err!(
            "Need to specify partition columns because the destination table {} is partitioned",
            table.qualified_name()
        )),
        (false, Some(spec)) => {
            let mut values = Vec::with_capacity(keys.len());
            for key in keys {
                match spec.iter().find(|(name, _)| *name == key.name) {
                    Some((_, Some(value))) => values.push(value.clone()),
                    Some((_, None)) => {
                        return Err(ApiaryError::NotSupported(format!(
                            "dynamic partition key '{}' (give every key a value)",
                            key.name
                        )));
                    }
                    None => {
                        return Err(analysis_err!(
                            "Partition spec is missing key '{}' of {}",
                            key.name,
                            table.qualified_name()
                        ));
                    }
                }
            }
            if let Some((extra, _)) = spec
                .iter()
                .find(|(name, _)| !keys.iter().any(|k| k.name == *name))
            {
                return Err(analysis_err!(
                    "'{extra}' is not a partition key of {}",
                    table.qualified_name()
                ));
            }
            Ok(Some(values))
        }
    }
}

/// Projects the query's columns onto the table's data columns: by position, or by the
/// INSERT's column list (other columns NULL), converting types as Hive does (a value that
/// does not convert becomes NULL).
pub fn conform_to_table(
    plan: LogicalPlan,
    table: &Table,
    columns: &[String],
) -> Result<LogicalPlan> {
    let (_, data_schema) = table_schema(table)?;
    let produced = plan.schema().columns();
    let targets = data_schema.fields();
    let sources: Vec<Option<usize>> = if columns.is_empty() {
        if produced.len() != targets.len() {
            return Err(analysis_err!(
                "Cannot insert into target table {} because column number/types are different: table has {} columns, but the query has {}",
                table.qualified_name(),
                targets.len(),
                produced.len()
            ));
        }
        (0..targets.len()).map(Some).collect()
    } else {
        if produced.len() != columns.len() {
            return Err(analysis_err!(
                "the column list names {} columns but the query has {}",
                columns.len(),
                produced.len()
            ));
        }
        for name in columns {
            if !targets.iter().any(|f| f.name() == name) {
                return Err(analysis_err!(
                    "Invalid column reference '{name}' for {}",
                    table.qualified_name()
                ));
            }
        }
        targets
            .iter()
            .map(|f| columns.iter().position(|c| c == f.name()))
            .collect()
    };
    let mut expressions: Vec<Expr> = Vec::with_capacity(targets.len());
    for ((field, column_def), source) in targets.iter().zip(&table.storage.columns).zip(sources) {
        let expr = match source {
            Some(index) => {
                let column = col(produced[index].clone());
                let source_type = plan.schema().field(index).data_type();
                if source_type == field.data_type() {
                    column
                } else if source_type.is_null() {
                    cast(column, field.data_type().clone())
                } else {
                    try_cast(column, field.data_type().clone())
                }
            }
            None => lit(ScalarValue::try_from(field.data_type())?),
        };
        // VARCHAR(n) and CHAR(n) keep at most n characters, as in Hive.
        let expr = match HiveType::parse(&column_def.type_name) {
            Ok(HiveType::Varchar(n) | HiveType::Char(n)) => {
                substring(expr, lit(1i64), lit(i64::from(n)))
            }
            _ => expr,
        };
        expressions.push(expr.alias(field.name()));
    }
    Ok(LogicalPlanBuilder::from(plan)
        .project(expressions)?
        .build()?)
}

/// Keeps numFiles, totalSize and numRows current after a write into `dir`.
pub fn update_basic_stats(
    session: &Session,
    parameters: &mut BTreeMap<String, String>,
    dir: &std::path::Path,
    rows_written: u64,
    overwrite: bool,
) -> Result<()> {
    parameters.insert("transient_lastDdlTime".into(), now().to_string());
    if !session.setting_bool("hive.stats.autogather") {
        return Ok(());
    }
    let files = list_data_files(dir)?;
    parameters.insert("numFiles".into(), files.len().to_string());
    parameters.insert(
        "totalSize".into(),
        files.iter().map(|f| f.size).sum::<u64>().to_string(),
    );
    let previous = if overwrite {
        Some(0)
    } else {
        parameters
            .get("numRows")
            .and_then(|n| n.parse::<u64>().ok())
    };
    match previous {
        Some(previous) => {
            parameters.insert("numRows".into(), (previous + rows_written).to_string())
        }
        None => parameters.remove("numRows"),
    };
    Ok(())
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Writes the rows of `plan` as the whole content of a new table's directory (CTAS).
pub async fn write_new_table(
    session: &Session,
    entry: &mut TableEntry,
    plan: LogicalPlan,
) -> Result<()> {
    let format = TableFormat::of(&entry.table)?;
    let target = local_path(&entry.table.storage.location);
    let mut staging = Staging::create(&target)?;
    let rows = write_plan(session, plan, &mut staging, &format).await?;
    staging.commit(true)?;
    update_basic_stats(session, &mut entry.table.parameters, &target, rows, true)
}
