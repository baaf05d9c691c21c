//! Partitions: `PARTITIONS`, `PARTITION_KEY_VALS`, `PARTITION_PARAMS` and their storage.

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction, params, params_from_iter};

use super::filter_sql::render;

use super::storage::{
    delete_storage, insert_params, insert_storage, load_params, load_partition_keys, load_storage,
};
use crate::{
    MetastoreError, Partition, PartitionFilter, PartitionLocation, Result, partition_name,
};

/// The partition name of `values` for table `tbl_id`, from the table's keys.
fn name_of(tx: &Transaction<'_>, tbl_id: i64, values: &[String]) -> Result<String> {
    checked_name(&load_partition_keys(tx, tbl_id)?, values)
}

/// The partition name of `values` for a table with partition keys `keys`.
fn checked_name(keys: &[crate::Column], values: &[String]) -> Result<String> {
    if keys.len() != values.len() {
        return Err(MetastoreError::InvalidOperation(format!(
            "partition spec has {} values but the table has {} partition keys",
            values.len(),
            keys.len()
        )));
    }
    Ok(partition_name(keys, values))
}

fn find(tx: &Transaction<'_>, tbl_id: i64, name: &str) -> Result<Option<(i64, i64)>> {
    Ok(tx
        .prepare_cached(
            "SELECT PART_ID, SD_ID FROM PARTITIONS WHERE TBL_ID = ?1 AND PART_NAME = ?2",
        )?
        .query_row(params![tbl_id, name], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

/// The id of the partition of `database.table` with `values`.
pub(super) fn id_of(
    tx: &Transaction<'_>,
    database: &str,
    table: &str,
    values: &[String],
) -> Result<i64> {
    let (tbl_id, _) = super::tables::id_of(tx, database, table)?;
    let name = name_of(tx, tbl_id, values)?;
    let (part_id, _) = find(tx, tbl_id, &name)?.ok_or(MetastoreError::NoSuchPartition(name))?;
    Ok(part_id)
}

/// Past this many partitions, a lookup reads the whole table's partitions in one query
/// instead of one query per partition.
pub(super) const BULK_LOOKUP: usize = 32;

/// The ids of the partitions of `database.table` with `values`, in the order given.
pub(super) fn ids_of(
    tx: &Transaction<'_>,
    database: &str,
    table: &str,
    partitions: &[Vec<String>],
) -> Result<Vec<i64>> {
    if partitions.len() <= BULK_LOOKUP {
        return partitions
            .iter()
            .map(|values| id_of(tx, database, table, values))
            .collect();
    }
    let (tbl_id, _) = super::tables::id_of(tx, database, table)?;
    let keys = load_partition_keys(tx, tbl_id)?;
    let mut statement =
        tx.prepare_cached("SELECT PART_NAME, PART_ID FROM PARTITIONS WHERE TBL_ID = ?1")?;
    let ids: std::collections::HashMap<String, i64> = statement
        .query_map([tbl_id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    partitions
        .iter()
        .map(|values| {
            let name = checked_name(&keys, values)?;
            ids.get(&name)
                .copied()
                .ok_or(MetastoreError::NoSuchPartition(name))
        })
        .collect()
}

pub(super) fn add(
    tx: &Transaction<'_>,
    partitions: &[Partition],
    if_not_exists: bool,
) -> Result<()> {
    // Partitions come in batches of one table: look the table and its keys up once.
    let mut table: Option<(&str, &str, i64, Vec<crate::Column>)> = None;
    for partition in partitions {
        let cached = table
            .as_ref()
            .filter(|(db, name, _, _)| *db == partition.database && *name == partition.table);
        let (tbl_id, keys) = match cached {
            Some((_, _, tbl_id, keys)) => (*tbl_id, keys.clone()),
            None => {
                let (tbl_id, _) = super::tables::id_of(tx, &partition.database, &partition.table)?;
                let keys = load_partition_keys(tx, tbl_id)?;
                table = Some((&partition.database, &partition.table, tbl_id, keys.clone()));
                (tbl_id, keys)
            }
        };
        let name = checked_name(&keys, &partition.values)?;
        if find(tx, tbl_id, &name)?.is_some() {
            if if_not_exists {
                continue;
            }
            return Err(MetastoreError::AlreadyExists(format!(
                "Partition {name} of {}.{}",
                partition.database, partition.table
            )));
        }
        let sd_id = insert_storage(tx, &partition.storage)?;
        tx.execute(
            "INSERT INTO PARTITIONS (TBL_ID, PART_NAME, CREATE_TIME, SD_ID) VALUES (?1, ?2, ?3, ?4)",
            params![tbl_id, name, partition.create_time, sd_id],
        )?;
        let part_id = tx.last_insert_rowid();
        write_key_values(tx, part_id, &partition.values)?;
        insert_params(
            tx,
            "PARTITION_PARAMS",
            "PART_ID",
            part_id,
            &partition.parameters,
        )?;
    }
    Ok(())
}

fn load(
    tx: &Transaction<'_>,
    database: &str,
    table: &str,
    part_id: i64,
    sd_id: i64,
    create_time: i64,
) -> Result<Partition> {
    let mut statement = tx.prepare_cached(
        "SELECT PART_KEY_VAL FROM PARTITION_KEY_VALS WHERE PART_ID = ?1 ORDER BY INTEGER_IDX",
    )?;
    let values = statement
        .query_map([part_id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(Partition {
        database: database.to_string(),
        table: table.to_string(),
        values,
        create_time,
        storage: load_storage(tx, sd_id)?,
        parameters: load_params(tx, "PARTITION_PARAMS", "PART_ID", part_id)?,
    })
}

pub(super) fn list(tx: &Transaction<'_>, database: &str, table: &str) -> Result<Vec<Partition>> {
    let (tbl_id, _) = super::tables::id_of(tx, database, table)?;
    let rows: Vec<(i64, i64, i64)> = {
        let mut statement = tx.prepare_cached(
            "SELECT PART_ID, SD_ID, CREATE_TIME FROM PARTITIONS WHERE TBL_ID = ?1 ORDER BY PART_NAME",
        )?;
        let rows =
            statement.query_map([tbl_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    rows.into_iter()
        .map(|(part_id, sd_id, create_time)| load(tx, database, table, part_id, sd_id, create_time))
        .collect()
}

pub(super) fn get(
    tx: &Transaction<'_>,
    database: &str,
    table: &str,
    values: &[String],
) -> Result<Option<Partition>> {
    let (tbl_id, _) = super::tables::id_of(tx, database, table)?;
    let name = name_of(tx, tbl_id, values)?;
    let Some((part_id, sd_id)) = find(tx, tbl_id, &name)? else {
        return Ok(None);
    };
    let create_time: i64 = tx
        .prepare_cached("SELECT CREATE_TIME FROM PARTITIONS WHERE PART_ID = ?1")?
        .query_row([part_id], |row| row.get(0))?;
    load(tx, database, table, part_id, sd_id, create_time).map(Some)
}

pub(super) fn alter(tx: &Transaction<'_>, partition: &Partition) -> Result<()> {
    let (tbl_id, _) = super::tables::id_of(tx, &partition.database, &partition.table)?;
    let name = name_of(tx, tbl_id, &partition.values)?;
    let (part_id, old_sd) =
        find(tx, tbl_id, &name)?.ok_or_else(|| MetastoreError::NoSuchPartition(name.clone()))?;
    replace_details(tx, part_id, old_sd, partition)
}

/// Replaces a partition's storage descriptor and parameters with `partition`'s.
fn replace_details(
    tx: &Transaction<'_>,
    part_id: i64,
    old_sd: i64,
    partition: &Partition,
) -> Result<()> {
    let sd_id = insert_storage(tx, &partition.storage)?;
    tx.execute(
        "UPDATE PARTITIONS SET SD_ID = ?1 WHERE PART_ID = ?2",
        params![sd_id, part_id],
    )?;
    delete_storage(tx, old_sd)?;
    insert_params(
        tx,
        "PARTITION_PARAMS",
        "PART_ID",
        part_id,
        &partition.parameters,
    )
}

/// Writes a partition's key values, replacing any it had.
fn write_key_values(tx: &Transaction<'_>, part_id: i64, values: &[String]) -> Result<()> {
    tx.execute(
        "DELETE FROM PARTITION_KEY_VALS WHERE PART_ID = ?1",
        [part_id],
    )?;
    for (index, value) in values.iter().enumerate() {
        tx.execute(
            "INSERT INTO PARTITION_KEY_VALS (PART_ID, INTEGER_IDX, PART_KEY_VAL) VALUES (?1, ?2, ?3)",
            params![part_id, index as i64, value],
        )?;
    }
    Ok(())
}

pub(super) fn drop(
    tx: &Transaction<'_>,
    database: &str,
    table: &str,
    values: &[String],
) -> Result<()> {
    let (tbl_id, _) = super::tables::id_of(tx, database, table)?;
    let name = name_of(tx, tbl_id, values)?;
    let (part_id, sd_id) =
        find(tx, tbl_id, &name)?.ok_or_else(|| MetastoreError::NoSuchPartition(name.clone()))?;
    tx.execute("DELETE FROM PARTITIONS WHERE PART_ID = ?1", [part_id])?;
    delete_storage(tx, sd_id)
}

pub(super) fn rename(tx: &Transaction<'_>, values: &[String], renamed: &Partition) -> Result<()> {
    let (tbl_id, _) = super::tables::id_of(tx, &renamed.database, &renamed.table)?;
    let old_name = name_of(tx, tbl_id, values)?;
    let new_name = name_of(tx, tbl_id, &renamed.values)?;
    let (part_id, old_sd) = find(tx, tbl_id, &old_name)?
        .ok_or_else(|| MetastoreError::NoSuchPartition(old_name.clone()))?;
    if find(tx, tbl_id, &new_name)?.is_some() {
        return Err(MetastoreError::AlreadyExists(format!(
            "Partition {new_name}"
        )));
    }
    tx.execute(
        "UPDATE PARTITIONS SET PART_NAME = ?1 WHERE PART_ID = ?2",
        params![new_name, part_id],
    )?;
    write_key_values(tx, part_id, &renamed.values)?;
    replace_details(tx, part_id, old_sd, renamed)
}

/// The values and locations of the partitions matching `filter`, ordered by partition name.
pub(super) fn find_locations(
    tx: &Transaction<'_>,
    database: &str,
    table: &str,
    filter: &PartitionFilter,
) -> Result<Vec<PartitionLocation>> {
    let (tbl_id, _) = super::tables::id_of(tx, database, table)?;
    let key_count = load_partition_keys(tx, tbl_id)?.len();
    if let Some(key) = filter.max_key().filter(|key| *key >= key_count) {
        return Err(MetastoreError::InvalidOperation(format!(
            "partition filter names key {key} but {database}.{table} has {key_count} keys"
        )));
    }
    let (sql, mut filter_parameters) = locations_query(key_count, filter);
    let mut parameters = vec![Value::Integer(tbl_id)];
    parameters.append(&mut filter_parameters);
    let mut statement = tx.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(parameters), |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
        ))
    })?;
    let mut found: Vec<PartitionLocation> = Vec::new();
    let mut current: Option<i64> = None;
    for row in rows {
        let (part_id, location, value) = row?;
        match found.last_mut() {
            Some(last) if current == Some(part_id) => last.values.push(value),
            _ => {
                found.push(PartitionLocation {
                    values: vec![value],
                    location,
                });
                current = Some(part_id);
            }
        }
    }
    Ok(found)
}

pub(super) fn count(tx: &Transaction<'_>, database: &str, table: &str) -> Result<u64> {
    let (tbl_id, _) = super::tables::id_of(tx, database, table)?;
    let count: i64 = tx
        .prepare_cached("SELECT COUNT(*) FROM PARTITIONS WHERE TBL_ID = ?1")?
        .query_row([tbl_id], |row| row.get(0))?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The query behind [`find_locations`] for a table with `key_count` keys, and the parameters
/// it binds after the table id (`?1`).
pub(super) fn locations_query(key_count: usize, filter: &PartitionFilter) -> (String, Vec<Value>) {
    if *filter == PartitionFilter::All {
        let sql = "SELECT p.PART_ID, s.LOCATION, v.PART_KEY_VAL FROM PARTITIONS p
             JOIN SDS s ON s.SD_ID = p.SD_ID
             JOIN PARTITION_KEY_VALS v ON v.PART_ID = p.PART_ID
             WHERE p.TBL_ID = ?1
             ORDER BY p.PART_NAME, p.PART_ID, v.INTEGER_IDX";
        return (sql.to_string(), Vec::new());
    }
    let rendered = render(filter, 2);
    let joins: String = (1..key_count)
        .map(|i| {
            format!(
                " JOIN PARTITION_KEY_VALS k{i} ON k{i}.PART_ID = k0.PART_ID AND k{i}.INTEGER_IDX = {i}"
            )
        })
        .collect();
    // The partitions the filter selects drive the join (CROSS JOIN fixes SQLite's loop
    // order), so that an indexed filter never visits the table's other partitions.
    let sql = format!(
        "SELECT p.PART_ID, s.LOCATION, v.PART_KEY_VAL FROM (
             SELECT k0.PART_ID FROM PARTITION_KEY_VALS k0{joins}
             WHERE k0.INTEGER_IDX = 0 AND {}) f
         CROSS JOIN PARTITIONS p ON p.PART_ID = f.PART_ID
         CROSS JOIN SDS s ON s.SD_ID = p.SD_ID
         JOIN PARTITION_KEY_VALS v ON v.PART_ID = p.PART_ID
         WHERE p.TBL_ID = ?1
         ORDER BY p.PART_NAME, p.PART_ID, v.INTEGER_IDX",
        rendered.condition
    );
    (sql, rendered.parameters)
}
