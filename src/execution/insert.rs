//! INSERT INTO / OVERWRITE into tables and static or dynamic partitions, and the write half
//! of CTAS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use apiary_metastore::{Column, Partition, Table};
use datafusion::arrow::datatypes::FieldRef;
use datafusion::common::ScalarValue;
use datafusion::functions::unicode::expr_fn::substring;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, cast, col, lit, try_cast};

use super::commit::Staging;
use super::dynamic_partition;
use super::files::{list_data_files, local_path};
use super::format::TableFormat;
use super::partition_values::canonical_partition_value;
use super::paths::default_partition_location;
use super::table_provider::table_schema;
use super::writer::write_plan;
use crate::analysis_err;
use crate::analyzer;
use crate::driver::{Session, StatementOutput, TableEntry};
use crate::error::Result;
use crate::parser::{Insert, PartitionSpec, TableName};
use crate::statistics::accuracy;
use crate::types::HiveType;

pub async fn insert(session: &mut Session, insert: Insert) -> Result<StatementOutput> {
    let target = InsertTarget::new(session, &insert)?;
    let plan = analyzer::plan_query(session, &insert.query).await?;
    target.stage(session, plan).await?.commit(session)?;
    Ok(StatementOutput::Done)
}

/// An INSERT checked against its table and Hive's partition settings, ready to write the
/// rows of its query.
pub(crate) struct InsertTarget {
    entry: TableEntry,
    target: PartitionTarget,
    format: TableFormat,
    overwrite: bool,
    if_not_exists: bool,
    columns: Vec<String>,
}

/// One directory's rows, written into its staging area and not yet visible.
pub(crate) struct StagedWrite {
    /// The partition written, or `None` for the table itself.
    pub values: Option<Vec<String>>,
    pub dir: PathBuf,
    /// The metastore's partition, if it existed before the write.
    pub existing: Option<Partition>,
    pub staging: Staging,
    pub rows: u64,
}

/// An INSERT whose rows are all staged: committing makes them visible.
pub(crate) struct StagedInsert {
    entry: TableEntry,
    overwrite: bool,
    writes: Vec<StagedWrite>,
}

impl InsertTarget {
    pub fn new(session: &Session, insert: &Insert) -> Result<Self> {
        let entry = session.require_table(&insert.table)?;
        if entry.table.is_view() {
            return Err(analysis_err!(
                "Cannot insert into a view: {}",
                entry.table.qualified_name()
            ));
        }
        let target = partition_target(session, &entry.table, insert.partition.as_ref())?;
        let format = TableFormat::for_writing(&entry.table)?;
        Ok(InsertTarget {
            entry,
            target,
            format,
            overwrite: insert.overwrite,
            if_not_exists: insert.if_not_exists,
            columns: insert.columns.clone(),
        })
    }

    /// Runs `plan` (the INSERT's query) and writes its rows into staging areas.
    pub async fn stage(self, session: &Session, plan: LogicalPlan) -> Result<StagedInsert> {
        let table = &self.entry.table;
        let dynamic_keys = match &self.target {
            PartitionTarget::Dynamic { static_values } => {
                table.partition_keys.len() - static_values.len()
            }
            _ => 0,
        };
        let plan = conform_to_table(plan, table, &self.columns, dynamic_keys)?;
        let writes = match &self.target {
            PartitionTarget::Dynamic { static_values } => {
                dynamic_partition::write(session, table, plan, &self.format, static_values).await?
            }
            PartitionTarget::Static(values) => {
                self.stage_one(session, plan, Some(values.clone())).await?
            }
            PartitionTarget::Unpartitioned => self.stage_one(session, plan, None).await?,
        };
        Ok(StagedInsert {
            entry: self.entry,
            overwrite: self.overwrite,
            writes,
        })
    }

    /// Writes into the table or one partition; nothing when IF NOT EXISTS finds it present.
    async fn stage_one(
        &self,
        session: &Session,
        plan: LogicalPlan,
        values: Option<Vec<String>>,
    ) -> Result<Vec<StagedWrite>> {
        let (dir, existing) = write_target(session, &self.entry.table, values.as_deref())?;
        if self.if_not_exists && existing.is_some() {
            return Ok(Vec::new());
        }
        let table_dir = local_path(&self.entry.table.storage.location);
        let mut staging = Staging::create(&dir, &table_dir)?;
        let rows = write_plan(session, plan, &mut staging, &self.format).await?;
        Ok(vec![StagedWrite {
            values,
            dir,
            existing,
            staging,
            rows,
        }])
    }
}

impl StagedInsert {
    /// Commits every staged directory and records it in the metastore.
    pub fn commit(self, session: &mut Session) -> Result<()> {
        // Every row is staged: the statement reads nothing more, and holds no shared lock
        // while it waits for an exclusive one.
        session.read_locks.release_all();
        // The table as it is now: an earlier insert of the same statement may have changed
        // its statistics.
        let entry = session.require_table(&TableName {
            database: Some(self.entry.table.database.clone()),
            table: self.entry.table.name.clone(),
        })?;
        for write in self.writes {
            write.staging.commit(self.overwrite)?;
            record_write(
                session,
                &entry,
                write.values,
                write.existing,
                &write.dir,
                Some(write.rows),
                self.overwrite,
            )?;
        }
        Ok(())
    }
}

/// Where a write into the table, or into its partition `values`, goes: the partition's own
/// directory if it exists (returned with it), else the default one.
pub(crate) fn write_target(
    session: &Session,
    table: &Table,
    values: Option<&[String]>,
) -> Result<(PathBuf, Option<Partition>)> {
    let Some(values) = values else {
        return Ok((local_path(&table.storage.location), None));
    };
    let existing = session
        .engine
        .metastore
        .get_partition(&table.database, &table.name, values)?;
    let dir = match &existing {
        Some(partition) => local_path(&partition.storage.location),
        None => default_partition_location(table, values),
    };
    Ok((dir, existing))
}

/// Records a committed write into `dir` in the metastore: in the partition `values`
/// (created unless it `existing`), or in the table itself. `rows` is `None` when the row
/// count is unknown (LOAD DATA).
pub(crate) fn record_write(
    session: &mut Session,
    entry: &TableEntry,
    values: Option<Vec<String>>,
    existing: Option<Partition>,
    dir: &Path,
    rows: Option<u64>,
    overwrite: bool,
) -> Result<()> {
    let table = &entry.table;
    let Some(values) = values else {
        let mut updated = entry.clone();
        update_basic_stats(session, &mut updated.table.parameters, dir, rows, overwrite)?;
        let (database, name) = (table.database.clone(), table.name.clone());
        return session.save_table(&updated, &database, &name);
    };
    let metastore = session.engine.metastore.clone();
    let is_new = existing.is_none();
    let mut partition = existing.unwrap_or_else(|| Partition {
        database: table.database.clone(),
        table: table.name.clone(),
        values,
        create_time: now(),
        storage: apiary_metastore::StorageDescriptor {
            location: dir.display().to_string(),
            ..table.storage.clone()
        },
        // A new partition starts from zero rows.
        parameters: BTreeMap::from([("numRows".to_string(), "0".to_string())]),
    });
    update_basic_stats(session, &mut partition.parameters, dir, rows, overwrite)?;
    if is_new {
        metastore.add_partitions(&[partition], true)?;
    } else {
        metastore.alter_partition(&partition)?;
    }
    Ok(())
}

/// Where an INSERT's (or LOAD's) rows go.
pub(crate) enum PartitionTarget {
    Unpartitioned,
    /// Every key has a value.
    Static(Vec<String>),
    /// The leading keys have values; the rest come from the query's last columns.
    Dynamic {
        static_values: Vec<String>,
    },
}

/// Checks a partition spec against the table's keys and Hive's dynamic partition settings.
pub(crate) fn partition_target(
    session: &Session,
    table: &Table,
    spec: Option<&PartitionSpec>,
) -> Result<PartitionTarget> {
    let keys = &table.partition_keys;
    let spec = match (keys.is_empty(), spec) {
        (true, None) => return Ok(PartitionTarget::Unpartitioned),
        (true, Some(_)) => {
            return Err(analysis_err!(
                "Table {} is not partitioned but a partition spec was given",
                table.qualified_name()
            ));
        }
        (false, None) => {
            return Err(analysis_err!(
                "Need to specify partition columns because the destination table {} is partitioned",
                table.qualified_name()
            ));
        }
        (false, Some(spec)) => spec,
    };
    if let Some((extra, _)) = spec
        .iter()
        .find(|(name, _)| !keys.iter().any(|k| k.name == *name))
    {
        return Err(analysis_err!(
            "'{extra}' is not a partition key of {}",
            table.qualified_name()
        ));
    }
    let mut static_values = Vec::new();
    let mut dynamic = false;
    for (index, key) in keys.iter().enumerate() {
        match spec.iter().find(|(name, _)| *name == key.name) {
            Some((_, Some(_))) if dynamic => {
                return Err(analysis_err!(
                    "Dynamic partition cannot be the parent of a static partition '{}'",
                    key.name
                ));
            }
            Some((_, Some(value))) => {
                static_values.push(canonical_partition_value(table, index, value)?)
            }
            Some((_, None)) => dynamic = true,
            None => {
                return Err(analysis_err!(
                    "Partition spec is missing key '{}' of {}",
                    key.name,
                    table.qualified_name()
                ));
            }
        }
    }
    if !dynamic {
        return Ok(PartitionTarget::Static(static_values));
    }
    if !session.setting_bool("hive.exec.dynamic.partition") {
        return Err(analysis_err!(
            "Dynamic partition is disabled. Either enable it by setting hive.exec.dynamic.partition=true or specify partition column values"
        ));
    }
    let strict = session
        .setting("hive.exec.dynamic.partition.mode")
        .is_none_or(|mode| !mode.trim().eq_ignore_ascii_case("nonstrict"));
    if strict && static_values.is_empty() {
        return Err(analysis_err!(
            "Dynamic partition strict mode requires at least one static partition column. To turn this off set hive.exec.dynamic.partition.mode=nonstrict"
        ));
    }
    Ok(PartitionTarget::Dynamic { static_values })
}

/// Projects the query's columns onto the table's data columns: by position, or by the
/// INSERT's column list (other columns NULL), converting types as Hive does (a value that
/// does not convert becomes NULL).
/// The last `dynamic_keys` query columns are the values of the trailing partition keys.
pub fn conform_to_table(
    plan: LogicalPlan,
    table: &Table,
    columns: &[String],
    dynamic_keys: usize,
) -> Result<LogicalPlan> {
    let (schema, data_schema) = table_schema(table)?;
    let data_count = data_schema.fields().len();
    let first_dynamic = table.partition_keys.len() - dynamic_keys;
    // The columns written: the data columns, then the dynamic partition keys.
    let targets: Vec<(&FieldRef, &Column)> = data_schema
        .fields()
        .iter()
        .zip(&table.storage.columns)
        .chain(
            schema.fields()[data_count + first_dynamic..]
                .iter()
                .zip(&table.partition_keys[first_dynamic..]),
        )
        .collect();
    let produced = plan.schema().columns();
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
        if produced.len() != columns.len() + dynamic_keys {
            return Err(analysis_err!(
                "the column list names {} columns but the query has {}",
                columns.len(),
                produced.len() - dynamic_keys.min(produced.len())
            ));
        }
        for name in columns {
            if !table.storage.columns.iter().any(|c| c.name == *name) {
                return Err(analysis_err!(
                    "Invalid column reference '{name}' for {}",
                    table.qualified_name()
                ));
            }
        }
        let data = table
            .storage
            .columns
            .iter()
            .map(|c| columns.iter().position(|n| *n == c.name));
        data.chain((0..dynamic_keys).map(|i| Some(columns.len() + i)))
            .collect()
    };
    let mut expressions: Vec<Expr> = Vec::with_capacity(targets.len());
    for ((field, column_def), source) in targets.into_iter().zip(sources) {
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

/// Keeps numFiles, totalSize and numRows current after a write into `dir`, and marks the
/// column statistics stale.
pub fn update_basic_stats(
    session: &Session,
    parameters: &mut BTreeMap<String, String>,
    dir: &Path,
    rows_written: Option<u64>,
    overwrite: bool,
) -> Result<()> {
    parameters.insert("transient_lastDdlTime".into(), now().to_string());
    if !session.setting_bool("hive.stats.autogather") {
        accuracy::mark_written(parameters, false);
        return Ok(());
    }
    record_file_stats(parameters, dir)?;
    let previous = if overwrite {
        Some(0)
    } else {
        parameters
            .get("numRows")
            .and_then(|n| n.parse::<u64>().ok())
    };
    // The row count stays known only if it was known before and this write's is known.
    match previous.zip(rows_written) {
        Some((previous, rows)) => {
            parameters.insert("numRows".into(), (previous + rows).to_string())
        }
        None => parameters.remove("numRows"),
    };
    accuracy::mark_written(parameters, parameters.contains_key("numRows"));
    Ok(())
}

/// Sets numFiles and totalSize from the data files in `dir`.
pub fn record_file_stats(parameters: &mut BTreeMap<String, String>, dir: &Path) -> Result<()> {
    let files = list_data_files(dir)?;
    parameters.insert("numFiles".into(), files.len().to_string());
    parameters.insert(
        "totalSize".into(),
        files.iter().map(|f| f.size).sum::<u64>().to_string(),
    );
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
    let format = TableFormat::for_writing(&entry.table)?;
    let target = local_path(&entry.table.storage.location);
    let mut staging = Staging::create(&target, &target)?;
    let rows = write_plan(session, plan, &mut staging, &format).await?;
    session.read_locks.release_all();
    staging.commit(true)?;
    update_basic_stats(
        session,
        &mut entry.table.parameters,
        &target,
        Some(rows),
        true,
    )
}
