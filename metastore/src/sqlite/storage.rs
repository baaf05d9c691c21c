//! Storage descriptors (`SDS`, `SERDE_PARAMS`, `COLUMNS_V2`) and the key/value parameter tables
//! shared by databases, tables and partitions.

use std::collections::BTreeMap;

use rusqlite::{Transaction, params};

use crate::{Column, Result, SerDeInfo, StorageDescriptor};

pub(super) fn insert_storage(tx: &Transaction<'_>, sd: &StorageDescriptor) -> Result<i64> {
    tx.execute(
        "INSERT INTO SDS (LOCATION, INPUT_FORMAT, OUTPUT_FORMAT, SLIB, IS_COMPRESSED, NUM_BUCKETS)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            sd.location,
            sd.input_format,
            sd.output_format,
            sd.serde.serialization_lib,
            sd.compressed,
            sd.num_buckets
        ],
    )?;
    let sd_id = tx.last_insert_rowid();
    insert_params(tx, "SERDE_PARAMS", "SD_ID", sd_id, &sd.serde.parameters)?;
    for (index, column) in sd.columns.iter().enumerate() {
        tx.execute(
            "INSERT INTO COLUMNS_V2 (SD_ID, INTEGER_IDX, COLUMN_NAME, TYPE_NAME, COMMENT)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                sd_id,
                index as i64,
                column.name,
                column.type_name,
                column.comment
            ],
        )?;
    }
    Ok(sd_id)
}

pub(super) fn load_storage(tx: &Transaction<'_>, sd_id: i64) -> Result<StorageDescriptor> {
    let (location, input_format, output_format, serialization_lib, compressed, num_buckets) = tx
        .prepare_cached(
            "SELECT LOCATION, INPUT_FORMAT, OUTPUT_FORMAT, SLIB, IS_COMPRESSED, NUM_BUCKETS
             FROM SDS WHERE SD_ID = ?1",
        )?
        .query_row([sd_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, bool>(4)?,
                row.get::<_, i32>(5)?,
            ))
        })?;
    let columns = load_columns(
        tx,
        "SELECT COLUMN_NAME, TYPE_NAME, COMMENT FROM COLUMNS_V2 WHERE SD_ID = ?1 ORDER BY INTEGER_IDX",
        sd_id,
    )?;
    Ok(StorageDescriptor {
        location,
        input_format,
        output_format,
        serde: SerDeInfo {
            serialization_lib,
            parameters: load_params(tx, "SERDE_PARAMS", "SD_ID", sd_id)?,
        },
        columns,
        compressed,
        num_buckets,
    })
}

/// Columns from a query selecting name, type and comment for one owner id, in order.
pub(super) fn load_columns(tx: &Transaction<'_>, sql: &str, id: i64) -> Result<Vec<Column>> {
    let mut statement = tx.prepare_cached(sql)?;
    let columns = statement
        .query_map([id], |row| {
            Ok(Column {
                name: row.get(0)?,
                type_name: row.get(1)?,
                comment: row.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(columns)
}

/// Selects the partition keys of one table, in order.
pub(super) const PARTITION_KEYS_SQL: &str = "SELECT PKEY_NAME, PKEY_TYPE, PKEY_COMMENT FROM PARTITION_KEYS WHERE TBL_ID = ?1 ORDER BY INTEGER_IDX";

/// The partition keys of table `tbl_id`, in order.
pub(super) fn load_partition_keys(tx: &Transaction<'_>, tbl_id: i64) -> Result<Vec<Column>> {
    load_columns(tx, PARTITION_KEYS_SQL, tbl_id)
}

pub(super) fn delete_storage(tx: &Transaction<'_>, sd_id: i64) -> Result<()> {
    tx.execute("DELETE FROM SDS WHERE SD_ID = ?1", [sd_id])?;
    Ok(())
}

/// Writes `params` into one of the `*_PARAMS` tables for the owner `id`, replacing what was there.
pub(super) fn insert_params(
    tx: &Transaction<'_>,
    table: &str,
    id_column: &str,
    id: i64,
    params: &BTreeMap<String, String>,
) -> Result<()> {
    tx.execute(&format!("DELETE FROM {table} WHERE {id_column} = ?1"), [id])?;
    let mut statement = tx.prepare_cached(&format!(
        "INSERT INTO {table} ({id_column}, PARAM_KEY, PARAM_VALUE) VALUES (?1, ?2, ?3)"
    ))?;
    for (key, value) in params {
        statement.execute(params![id, key, value])?;
    }
    Ok(())
}

/// The parameters of every partition of table `tbl_id`, by partition id, in one query.
pub(super) fn load_all_partition_params(
    tx: &Transaction<'_>,
    tbl_id: i64,
) -> Result<std::collections::HashMap<i64, BTreeMap<String, String>>> {
    let mut statement = tx.prepare_cached(
        "SELECT PP.PART_ID, PP.PARAM_KEY, PP.PARAM_VALUE
         FROM PARTITION_PARAMS PP JOIN PARTITIONS P ON P.PART_ID = PP.PART_ID
         WHERE P.TBL_ID = ?1",
    )?;
    let rows = statement.query_map([tbl_id], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, Option<String>>(2)?.unwrap_or_default(),
        ))
    })?;
    let mut all: std::collections::HashMap<i64, BTreeMap<String, String>> = Default::default();
    for row in rows {
        let (part_id, key, value) = row?;
        all.entry(part_id).or_default().insert(key, value);
    }
    Ok(all)
}

pub(super) fn load_params(
    tx: &Transaction<'_>,
    table: &str,
    id_column: &str,
    id: i64,
) -> Result<BTreeMap<String, String>> {
    let mut statement = tx.prepare_cached(&format!(
        "SELECT PARAM_KEY, PARAM_VALUE FROM {table} WHERE {id_column} = ?1"
    ))?;
    let rows = statement.query_map([id], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, Option<String>>(1)?.unwrap_or_default(),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
