//! Partition DDL: ALTER TABLE ... ADD / DROP PARTITION, PARTITION ... RENAME TO and SET
//! LOCATION, SHOW PARTITIONS with a partial spec, and MSCK [REPAIR] TABLE.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use apiary_metastore::{
    KeyComparison, Partition, PartitionLocation, StorageDescriptor, Table, TableType,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;

use super::files::{create_dir, local_path};
use super::insert::now;
use super::partition_values::{canonical_partition_value, partition_scalar};
use super::paths::{default_partition_location, partition_path, unescape_partition_value};
use super::results::single_column;
use super::table_provider::table_schema;
use crate::analysis_err;
use crate::driver::{Session, StatementOutput, TableEntry};
use crate::error::{ApiaryError, Result};
use crate::parser::{PartitionPredicate, PartitionSpec, RepairMode, TableName};

/// A partitioned table stored in the metastore, or the error saying why not.
fn partitioned(session: &Session, name: &TableName) -> Result<TableEntry> {
    let entry = session.require_table(name)?;
    if entry.table.partition_keys.is_empty() || entry.temporary {
        return Err(analysis_err!(
            "Table {} is not a partitioned table",
            entry.table.qualified_name()
        ));
    }
    Ok(entry)
}

/// The values of a spec naming every key, in key order.
pub(crate) fn full_values(table: &Table, spec: &PartitionSpec) -> Result<Vec<String>> {
    if let Some((extra, _)) = spec
        .iter()
        .find(|(k, _)| !table.partition_keys.iter().any(|p| p.name == *k))
    {
        return Err(analysis_err!(
            "'{extra}' is not a partition key of {}",
            table.qualified_name()
        ));
    }
    table
        .partition_keys
        .iter()
        .enumerate()
        .map(|(i, key)| match spec.iter().find(|(k, _)| *k == key.name) {
            Some((_, Some(value))) => canonical_partition_value(table, i, value),
            _ => Err(analysis_err!(
                "Partition spec is missing a value for key '{}'",
                key.name
            )),
        })
        .collect()
}

fn new_partition(table: &Table, values: Vec<String>, location: PathBuf) -> Partition {
    Partition {
        database: table.database.clone(),
        table: table.name.clone(),
        values,
        create_time: now(),
        storage: StorageDescriptor {
            location: location.display().to_string(),
            ..table.storage.clone()
        },
        parameters: BTreeMap::from([("transient_lastDdlTime".to_string(), now().to_string())]),
    }
}

pub fn add(
    session: &Session,
    name: &TableName,
    if_not_exists: bool,
    specs: Vec<(PartitionSpec, Option<String>)>,
) -> Result<StatementOutput> {
    let table = partitioned(session, name)?.table;
    let mut partitions = Vec::with_capacity(specs.len());
    for (spec, location) in specs {
        let values = full_values(&table, &spec)?;
        let dir = match location {
            Some(location) => local_path(&location),
            None => default_partition_location(&table, &values),
        };
        partitions.push(new_partition(&table, values, dir));
    }
    session
        .engine
        .metastore
        .add_partitions(&partitions, if_not_exists)?;
    for partition in &partitions {
        create_dir(&local_path(&partition.storage.location))?;
    }
    Ok(StatementOutput::Done)
}

/// Predicates on partition keys with their keys resolved and their values converted to the
/// keys' types, once, to be tested against many partitions.
struct PartitionFilter {
    key_types: Vec<DataType>,
    predicates: Vec<(usize, KeyComparison, ScalarValue)>,
}

impl PartitionFilter {
    fn new(table: &Table, predicates: &[PartitionPredicate]) -> Result<Self> {
        let (schema, data_schema) = table_schema(table)?;
        let key_types: Vec<DataType> = schema.fields()[data_schema.fields().len()..]
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let predicates = predicates
            .iter()
            .map(|predicate| {
                let Some(index) = table
                    .partition_keys
                    .iter()
                    .position(|k| k.name == predicate.key)
                else {
                    return Err(analysis_err!(
                        "'{}' is not a partition key of {}",
                        predicate.key,
                        table.qualified_name()
                    ));
                };
                let wanted = partition_scalar(&predicate.value, &key_types[index])?;
                Ok((index, predicate.op, wanted))
            })
            .collect::<Result<_>>()?;
        Ok(PartitionFilter {
            key_types,
            predicates,
        })
    }

    /// Whether a partition's values satisfy every predicate (NULL satisfies none).
    fn matches(&self, values: &[String]) -> Result<bool> {
        for (index, op, wanted) in &self.predicates {
            let actual = partition_scalar(&values[*index], &self.key_types[*index])?;
            let Some(order) = actual
                .partial_cmp(wanted)
                .filter(|_| !actual.is_null() && !wanted.is_null())
            else {
                return Ok(false);
            };
            let holds = match op {
                KeyComparison::Eq => order == Ordering::Equal,
                KeyComparison::NotEq => order != Ordering::Equal,
                KeyComparison::Lt => order == Ordering::Less,
                KeyComparison::LtEq => order != Ordering::Greater,
                KeyComparison::Gt => order == Ordering::Greater,
                KeyComparison::GtEq => order != Ordering::Less,
            };
            if !holds {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

pub fn drop(
    session: &Session,
    name: &TableName,
    if_exists: bool,
    filters: Vec<Vec<PartitionPredicate>>,
) -> Result<StatementOutput> {
    let table = partitioned(session, name)?.table;
    let metastore = &session.engine.metastore;
    let filters = filters
        .iter()
        .map(|predicates| PartitionFilter::new(&table, predicates))
        .collect::<Result<Vec<_>>>()?;
    let mut doomed = Vec::new();
    for partition in metastore.list_partitions(&table.database, &table.name)? {
        let mut selected = false;
        for filter in &filters {
            selected |= filter.matches(&partition.values)?;
        }
        if selected {
            doomed.push(partition);
        }
    }
    if doomed.is_empty() && !if_exists {
        return Err(analysis_err!(
            "No partition of {} matches the specification",
            table.qualified_name()
        ));
    }
    for partition in doomed {
        metastore.drop_partition(&table.database, &table.name, &partition.values)?;
        // A managed table's partition data goes with it; there is no trash, so PURGE changes nothing.
        if table.table_type == TableType::Managed {
            let dir = local_path(&partition.storage.location);
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|e| {
                    ApiaryError::io(
                        format!("dropped the partition but cannot delete {}", dir.display()),
                        e,
                    )
                })?;
            }
        }
    }
    Ok(StatementOutput::Done)
}

pub fn rename(
    session: &Session,
    name: &TableName,
    from: &PartitionSpec,
    to: &PartitionSpec,
) -> Result<StatementOutput> {
    let table = partitioned(session, name)?.table;
    let metastore = &session.engine.metastore;
    let (old_values, new_values) = (full_values(&table, from)?, full_values(&table, to)?);
    let Some(partition) = metastore.get_partition(&table.database, &table.name, &old_values)?
    else {
        return Err(analysis_err!(
            "Partition not found: {}",
            partition_path(&table.partition_keys, &old_values)
        ));
    };
    let old_dir = local_path(&partition.storage.location);
    // A partition in its default place moves with its new name; one placed elsewhere stays.
    let moves = old_dir == default_partition_location(&table, &old_values);
    let new_dir = if moves {
        default_partition_location(&table, &new_values)
    } else {
        old_dir.clone()
    };
    let mut renamed = partition.clone();
    renamed.values = new_values;
    renamed.storage.location = new_dir.display().to_string();
    if moves && old_dir.exists() {
        if let Some(parent) = new_dir.parent() {
            create_dir(parent)?;
        }
        std::fs::rename(&old_dir, &new_dir).map_err(|e| {
            ApiaryError::io(
                format!("cannot move {} to {}", old_dir.display(), new_dir.display()),
                e,
            )
        })?;
    }
    if let Err(error) = metastore.rename_partition(&old_values, &renamed) {
        if moves {
            let _ = std::fs::rename(&new_dir, &old_dir);
        }
        return Err(error.into());
    }
    Ok(StatementOutput::Done)
}

pub fn set_location(
    session: &Session,
    name: &TableName,
    spec: &PartitionSpec,
    location: &str,
) -> Result<StatementOutput> {
    let table = partitioned(session, name)?.table;
    let values = full_values(&table, spec)?;
    let metastore = &session.engine.metastore;
    let Some(mut partition) = metastore.get_partition(&table.database, &table.name, &values)?
    else {
        return Err(analysis_err!(
            "Partition not found: {}",
            partition_path(&table.partition_keys, &values)
        ));
    };
    partition.storage.location = local_path(location).display().to_string();
    metastore.alter_partition(&partition)?;
    Ok(StatementOutput::Done)
}

pub fn show(
    session: &Session,
    name: &TableName,
    partial: Option<&PartitionSpec>,
) -> Result<StatementOutput> {
    let table = partitioned(session, name)?.table;
    let names = matching_partitions(session, &table, partial)?
        .iter()
        .map(|partition| partition_path(&table.partition_keys, &partition.values))
        .collect();
    Ok(single_column("partition", names))
}

/// The partitions of `table` with the values a partial spec gives (all of them without one),
/// ordered by name.
pub(crate) fn matching_partitions(
    session: &Session,
    table: &Table,
    partial: Option<&PartitionSpec>,
) -> Result<Vec<PartitionLocation>> {
    let filter: Vec<PartitionPredicate> = partial
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            value.as_ref().map(|v| PartitionPredicate {
                key: key.clone(),
                op: KeyComparison::Eq,
                value: v.clone(),
            })
        })
        .collect();
    let filter = PartitionFilter::new(table, &filter)?;
    let mut matching = Vec::new();
    for partition in session.engine.metastore.find_partition_locations(
        &table.database,
        &table.name,
        &apiary_metastore::PartitionFilter::All,
    )? {
        if filter.matches(&partition.values)? {
            matching.push(partition);
        }
    }
    Ok(matching)
}

/// Compares the table directory's `k=v` subdirectories with the metastore's partitions and,
/// with REPAIR, adds the missing ones, drops the ones whose directory is gone, or both.
pub fn msck(
    session: &Session,
    name: &TableName,
    repair: bool,
    mode: RepairMode,
) -> Result<StatementOutput> {
    let table = partitioned(session, name)?.table;
    let metastore = &session.engine.metastore;
    let root = local_path(&table.storage.location);
    let mut found = Vec::new();
    let mut invalid = Vec::new();
    discover(&root, &table, 0, Vec::new(), &mut found, &mut invalid);
    let known = metastore.find_partition_locations(
        &table.database,
        &table.name,
        &apiary_metastore::PartitionFilter::All,
    )?;
    let known_values: HashSet<&Vec<String>> = known.iter().map(|p| &p.values).collect();
    let missing: Vec<&(Vec<String>, PathBuf)> = found
        .iter()
        .filter(|(values, _)| !known_values.contains(values))
        .collect();
    let vanished: Vec<&PartitionLocation> = known
        .iter()
        .filter(|p| !local_path(&p.location).exists())
        .collect();
    let label = |values: &[String]| {
        format!(
            "{}:{}",
            table.name,
            partition_path(&table.partition_keys, values)
        )
    };
    let mut lines = Vec::new();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|(v, _)| label(v)).collect();
        lines.push(format!(
            "Partitions not in metastore:\t{}",
            names.join("\t")
        ));
    }
    if !vanished.is_empty() {
        let names: Vec<String> = vanished.iter().map(|p| label(&p.values)).collect();
        lines.push(format!(
            "Partitions missing from filesystem:\t{}",
            names.join("\t")
        ));
    }
    for path in &invalid {
        lines.push(format!(
            "Invalid partition directory (skipped): {}",
            path.display()
        ));
    }
    if repair {
        if matches!(mode, RepairMode::Add | RepairMode::Sync) {
            let partitions: Vec<Partition> = missing
                .iter()
                .map(|(values, dir)| new_partition(&table, values.clone(), dir.clone()))
                .collect();
            metastore.add_partitions(&partitions, true)?;
            lines.extend(
                missing
                    .iter()
                    .map(|(v, _)| format!("Repair: Added partition to metastore {}", label(v))),
            );
        }
        if matches!(mode, RepairMode::Drop | RepairMode::Sync) {
            for partition in &vanished {
                metastore.drop_partition(&table.database, &table.name, &partition.values)?;
                lines.push(format!(
                    "Repair: Dropped partition from metastore {}",
                    label(&partition.values)
                ));
            }
        }
    }
    Ok(single_column("msck", lines))
}

/// Walks `k1=v1/k2=v2` directories below `dir` for the keys from `level` on.
fn discover(
    dir: &Path,
    table: &Table,
    level: usize,
    values: Vec<String>,
    found: &mut Vec<(Vec<String>, PathBuf)>,
    invalid: &mut Vec<PathBuf>,
) {
    let Some(key) = table.partition_keys.get(level) else {
        found.push((values, dir.to_path_buf()));
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().filter(|e| e.path().is_dir()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if super::files::is_hidden(&name) {
            continue;
        }
        match name.split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case(&key.name) && !v.is_empty() => {
                match canonical_partition_value(table, level, &unescape_partition_value(v)) {
                    Ok(value) => {
                        let mut next = values.clone();
                        next.push(value);
                        discover(&entry.path(), table, level + 1, next, found, invalid);
                    }
                    Err(_) => invalid.push(entry.path()),
                }
            }
            _ => invalid.push(entry.path()),
        }
    }
}
