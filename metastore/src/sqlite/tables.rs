//! Tables and views: `TBLS`, `TABLE_PARAMS`, `PARTITION_KEYS` and their storage descriptors.

use rusqlite::{OptionalExtension, Transaction, params};

use super::storage::{
    delete_storage, insert_params, insert_storage, load_params, load_partition_keys, load_storage,
};
use crate::{MetastoreError, Result, Table, TableType};

pub(super) fn id_of(tx: &Transaction<'_>, database: &str, name: &str) -> Result<(i64, i64)> {
    let db_id = super::databases::id_of(tx, database)?;
    tx.prepare_cached("SELECT TBL_ID, SD_ID FROM TBLS WHERE DB_ID = ?1 AND TBL_NAME = ?2")?
        .query_row(params![db_id, name], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?
        .ok_or_else(|| MetastoreError::NoSuchTable {
            database: database.to_string(),
            table: name.to_string(),
        })
}

fn exists(tx: &Transaction<'_>, database: &str, name: &str) -> Result<bool> {
    match id_of(tx, database, name) {
        Ok(_) => Ok(true),
        Err(MetastoreError::NoSuchTable { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

pub(super) fn create(tx: &Transaction<'_>, table: &Table) -> Result<()> {
    let db_id = super::databases::id_of(tx, &table.database)?;
    if exists(tx, &table.database, &table.name)? {
        return Err(MetastoreError::AlreadyExists(format!(
            "Table {}",
            table.qualified_name()
        )));
    }
    let sd_id = insert_storage(tx, &table.storage)?;
    tx.execute(
        "INSERT INTO TBLS (DB_ID, TBL_NAME, OWNER, CREATE_TIME, TBL_TYPE, SD_ID,
                           VIEW_ORIGINAL_TEXT, VIEW_EXPANDED_TEXT)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            db_id,
            table.name,
            table.owner,
            table.create_time,
            table.table_type.hive_name(),
            sd_id,
            table.view_original_text,
            table.view_expanded_text
        ],
    )?;
    let tbl_id = tx.last_insert_rowid();
    write_details(tx, tbl_id, table)
}

/// Parameters and partition keys, which every create and alter rewrites whole.
fn write_details(tx: &Transaction<'_>, tbl_id: i64, table: &Table) -> Result<()> {
    insert_params(tx, "TABLE_PARAMS", "TBL_ID", tbl_id, &table.parameters)?;
    tx.execute("DELETE FROM PARTITION_KEYS WHERE TBL_ID = ?1", [tbl_id])?;
    for (index, key) in table.partition_keys.iter().enumerate() {
        tx.execute(
            "INSERT INTO PARTITION_KEYS (TBL_ID, INTEGER_IDX, PKEY_NAME, PKEY_TYPE, PKEY_COMMENT)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![tbl_id, index as i64, key.name, key.type_name, key.comment],
        )?;
    }
    Ok(())
}

pub(super) fn get(tx: &Transaction<'_>, database: &str, name: &str) -> Result<Option<Table>> {
    let Ok(db_id) = super::databases::id_of(tx, database) else {
        return Ok(None);
    };
    let row = tx
        .prepare_cached("SELECT TBL_ID, SD_ID, OWNER, CREATE_TIME, TBL_TYPE, VIEW_ORIGINAL_TEXT, VIEW_EXPANDED_TEXT
             FROM TBLS WHERE DB_ID = ?1 AND TBL_NAME = ?2")?
.query_row(
            params![db_id, name],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, Option<String>>(6)?,
                ))
            },
        )
        .optional()?;
    let Some((tbl_id, sd_id, owner, create_time, kind, original, expanded)) = row else {
        return Ok(None);
    };
    let table_type = TableType::from_hive_name(&kind).ok_or_else(|| {
        MetastoreError::InvalidOperation(format!("unknown table type {kind} for {database}.{name}"))
    })?;
    let partition_keys = load_partition_keys(tx, tbl_id)?;
    Ok(Some(Table {
        database: database.to_string(),
        name: name.to_string(),
        owner,
        create_time,
        table_type,
        storage: load_storage(tx, sd_id)?,
        partition_keys,
        parameters: load_params(tx, "TABLE_PARAMS", "TBL_ID", tbl_id)?,
        view_original_text: original,
        view_expanded_text: expanded,
    }))
}

pub(super) fn list(tx: &Transaction<'_>, database: &str) -> Result<Vec<String>> {
    let db_id = super::databases::id_of(tx, database)?;
    let mut statement =
        tx.prepare_cached("SELECT TBL_NAME FROM TBLS WHERE DB_ID = ?1 ORDER BY TBL_NAME")?;
    let names = statement.query_map([db_id], |row| row.get(0))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn alter(tx: &Transaction<'_>, database: &str, name: &str, table: &Table) -> Result<()> {
    let (tbl_id, old_sd) = id_of(tx, database, name)?;
    let renamed = table.database != database || table.name != name;
    if renamed && exists(tx, &table.database, &table.name)? {
        return Err(MetastoreError::AlreadyExists(format!(
            "Table {}",
            table.qualified_name()
        )));
    }
    let db_id = super::databases::id_of(tx, &table.database)?;
    let sd_id = insert_storage(tx, &table.storage)?;
    tx.execute(
        "UPDATE TBLS SET DB_ID = ?1, TBL_NAME = ?2, OWNER = ?3, TBL_TYPE = ?4, SD_ID = ?5,
                VIEW_ORIGINAL_TEXT = ?6, VIEW_EXPANDED_TEXT = ?7
         WHERE TBL_ID = ?8",
        params![
            db_id,
            table.name,
            table.owner,
            table.table_type.hive_name(),
            sd_id,
            table.view_original_text,
            table.view_expanded_text,
            tbl_id
        ],
    )?;
    delete_storage(tx, old_sd)?;
    write_details(tx, tbl_id, table)
}

pub(super) fn drop(tx: &Transaction<'_>, database: &str, name: &str) -> Result<()> {
    let (tbl_id, sd_id) = id_of(tx, database, name)?;
    let partition_sds: Vec<i64> = {
        let mut statement = tx.prepare_cached("SELECT SD_ID FROM PARTITIONS WHERE TBL_ID = ?1")?;
        let ids = statement.query_map([tbl_id], |row| row.get(0))?;
        ids.collect::<rusqlite::Result<_>>()?
    };
    tx.execute("DELETE FROM TBLS WHERE TBL_ID = ?1", [tbl_id])?;
    for sd in partition_sds.into_iter().chain([sd_id]) {
        delete_storage(tx, sd)?;
    }
    Ok(())
}
