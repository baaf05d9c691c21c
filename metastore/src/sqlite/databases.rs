//! Databases: `DBS` and `DATABASE_PARAMS`.

use rusqlite::{OptionalExtension, Transaction, params};

use super::storage::{insert_params, load_params};
use crate::{Database, MetastoreError, Result};

pub(super) fn id_of(tx: &Transaction<'_>, name: &str) -> Result<i64> {
    tx.prepare_cached("SELECT DB_ID FROM DBS WHERE NAME = ?1")?
        .query_row([name], |row| row.get(0))
        .optional()?
        .ok_or_else(|| MetastoreError::NoSuchDatabase(name.to_string()))
}

pub(super) fn create(tx: &Transaction<'_>, database: &Database) -> Result<()> {
    if id_of(tx, &database.name).is_ok() {
        return Err(MetastoreError::AlreadyExists(format!(
            "Database {}",
            database.name
        )));
    }
    tx.execute(
        "INSERT INTO DBS (NAME, DESC, DB_LOCATION_URI, OWNER_NAME) VALUES (?1, ?2, ?3, ?4)",
        params![
            database.name,
            database.comment,
            database.location,
            database.owner
        ],
    )?;
    let id = tx.last_insert_rowid();
    insert_params(tx, "DATABASE_PARAMS", "DB_ID", id, &database.properties)
}

pub(super) fn get(tx: &Transaction<'_>, name: &str) -> Result<Option<Database>> {
    let row = tx
        .prepare_cached(
            "SELECT DB_ID, NAME, DESC, DB_LOCATION_URI, OWNER_NAME FROM DBS WHERE NAME = ?1",
        )?
        .query_row([name], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                Database {
                    name: row.get(1)?,
                    comment: row.get(2)?,
                    location: row.get(3)?,
                    owner: row.get(4)?,
                    properties: Default::default(),
                },
            ))
        })
        .optional()?;
    let Some((id, mut database)) = row else {
        return Ok(None);
    };
    database.properties = load_params(tx, "DATABASE_PARAMS", "DB_ID", id)?;
    Ok(Some(database))
}

pub(super) fn list(tx: &Transaction<'_>) -> Result<Vec<String>> {
    let mut statement = tx.prepare_cached("SELECT NAME FROM DBS ORDER BY NAME")?;
    let names = statement.query_map([], |row| row.get(0))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn alter(tx: &Transaction<'_>, database: &Database) -> Result<()> {
    let id = id_of(tx, &database.name)?;
    tx.execute(
        "UPDATE DBS SET DESC = ?1, DB_LOCATION_URI = ?2, OWNER_NAME = ?3 WHERE DB_ID = ?4",
        params![database.comment, database.location, database.owner, id],
    )?;
    insert_params(tx, "DATABASE_PARAMS", "DB_ID", id, &database.properties)
}

pub(super) fn drop(tx: &Transaction<'_>, name: &str, cascade: bool) -> Result<()> {
    let id = id_of(tx, name)?;
    if name == "default" {
        return Err(MetastoreError::InvalidOperation(
            "Can not drop default database".into(),
        ));
    }
    let tables: Vec<String> = {
        let mut statement = tx.prepare_cached("SELECT TBL_NAME FROM TBLS WHERE DB_ID = ?1")?;
        let names = statement.query_map([id], |row| row.get(0))?;
        names.collect::<rusqlite::Result<_>>()?
    };
    if !tables.is_empty() && !cascade {
        return Err(MetastoreError::DatabaseNotEmpty(name.to_string()));
    }
    for table in tables {
        super::tables::drop(tx, name, &table)?;
    }
    tx.execute("DELETE FROM DBS WHERE DB_ID = ?1", [id])?;
    Ok(())
}
