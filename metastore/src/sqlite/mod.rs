//! The embedded metastore backend: one SQLite file, created with its schema on first use.
//!
//! Several processes may open the same file: the database runs in WAL mode, readers never
//! block, and every change runs in an immediate (write-locking) transaction with a busy
//! timeout, so concurrent writers queue instead of failing.

mod column_stats;
mod databases;
mod filter_sql;
mod migrations;
mod partitions;
mod storage;
mod tables;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::{
    ColumnStatistics, Database, Metastore, MetastoreError, Partition, PartitionFilter,
    PartitionLocation, Result, Table,
};
use column_stats::Owner;
use migrations::MIGRATIONS;

/// More than the distinct statements the metastore runs, so that none is prepared twice.
const PREPARED_STATEMENTS: usize = 128;

/// A metastore kept in a SQLite file.
#[derive(Debug)]
pub struct SqliteMetastore {
    connection: Mutex<Connection>,
}

impl SqliteMetastore {
    /// Opens (creating if needed) the metastore at `path`, brings its schema up to date and
    /// makes sure the `default` database exists, located at `warehouse`.
    pub fn open(path: &Path, warehouse: &str) -> Result<Self> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)?;
        }
        let connection = Connection::open(path)?;
        connection.busy_timeout(Duration::from_secs(30))?;
        // Every statement the metastore runs is prepared once per connection.
        connection.set_prepared_statement_cache_capacity(PREPARED_STATEMENTS);
        // Without the query planner stability guarantee, SQLite prepares a cached statement
        // again whenever a bound value might change its plan: every lookup of another table
        // re-prepared three statements. The metastore's statements are index lookups, whose
        // plan no value changes.
        connection.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        let store = SqliteMetastore {
            connection: Mutex::new(connection),
        };
        store.migrate()?;
        if store.get_database("default")?.is_none() {
            let default = Database {
                name: "default".into(),
                comment: Some("Default Hive database".into()),
                location: warehouse.to_string(),
                owner: Some("public".into()),
                properties: Default::default(),
            };
            match store.create_database(&default) {
                Ok(()) | Err(MetastoreError::AlreadyExists(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(store)
    }

    /// The schema version recorded in the file.
    pub fn schema_version(&self) -> Result<i64> {
        self.read(schema_version)
    }

    /// Applies the migrations the file lacks. An up-to-date file is only read, so opening a
    /// metastore does not take the write lock other processes may be waiting for.
    fn migrate(&self) -> Result<()> {
        let supported = MIGRATIONS.len() as i64;
        let check = |current: i64| {
            if current > supported {
                Err(MetastoreError::SchemaTooNew {
                    found: current,
                    supported,
                })
            } else {
                Ok(current)
            }
        };
        if check(self.read(schema_version)?)? == supported {
            return Ok(());
        }
        self.write(|tx| {
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS SCHEMA_VERSION (VERSION INTEGER NOT NULL)",
            )?;
            // Another process may have migrated since the read above.
            let current = check(schema_version(tx)?)?;
            for migration in &MIGRATIONS[current as usize..] {
                tx.execute_batch(migration)?;
            }
            tx.execute("DELETE FROM SCHEMA_VERSION", [])?;
            tx.execute(
                "INSERT INTO SCHEMA_VERSION (VERSION) VALUES (?1)",
                [supported],
            )?;
            Ok(())
        })
    }

    /// Runs `f` in a write transaction that takes the database's write lock up front.
    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` in a read transaction: one consistent snapshot.
    fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let tx = connection.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let value = f(&tx)?;
        tx.finish()?;
        Ok(value)
    }
}

fn schema_version(tx: &Transaction<'_>) -> Result<i64> {
    let exists: Option<String> = tx
        .prepare_cached(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'SCHEMA_VERSION'",
        )?
        .query_row([], |row| row.get(0))
        .optional()?;
    if exists.is_none() {
        return Ok(0);
    }
    let version: Option<i64> = tx
        .prepare_cached("SELECT MAX(VERSION) FROM SCHEMA_VERSION")?
        .query_row([], |row| row.get(0))?;
    Ok(version.unwrap_or(0))
}

impl Metastore for SqliteMetastore {
    fn create_database(&self, database: &Database) -> Result<()> {
        self.write(|tx| databases::create(tx, database))
    }
    fn get_database(&self, name: &str) -> Result<Option<Database>> {
        self.read(|tx| databases::get(tx, name))
    }
    fn list_databases(&self) -> Result<Vec<String>> {
        self.read(databases::list)
    }
    fn alter_database(&self, database: &Database) -> Result<()> {
        self.write(|tx| databases::alter(tx, database))
    }
    fn drop_database(&self, name: &str, cascade: bool) -> Result<()> {
        self.write(|tx| databases::drop(tx, name, cascade))
    }
    fn create_table(&self, table: &Table) -> Result<()> {
        self.write(|tx| tables::create(tx, table))
    }
    fn get_table(&self, database: &str, name: &str) -> Result<Option<Table>> {
        self.read(|tx| tables::get(tx, database, name))
    }
    fn list_tables(&self, database: &str) -> Result<Vec<String>> {
        self.read(|tx| tables::list(tx, database))
    }
    fn alter_table(&self, database: &str, name: &str, table: &Table) -> Result<()> {
        self.write(|tx| tables::alter(tx, database, name, table))
    }
    fn drop_table(&self, database: &str, name: &str) -> Result<()> {
        self.write(|tx| tables::drop(tx, database, name))
    }
    fn add_partitions(&self, partitions: &[Partition], if_not_exists: bool) -> Result<()> {
        self.write(|tx| partitions::add(tx, partitions, if_not_exists))
    }
    fn list_partitions(&self, database: &str, table: &str) -> Result<Vec<Partition>> {
        self.read(|tx| partitions::list(tx, database, table))
    }
    fn find_partition_locations(
        &self,
        database: &str,
        table: &str,
        filter: &PartitionFilter,
    ) -> Result<Vec<PartitionLocation>> {
        self.read(|tx| partitions::find_locations(tx, database, table, filter))
    }
    fn count_partitions(&self, database: &str, table: &str) -> Result<u64> {
        self.read(|tx| partitions::count(tx, database, table))
    }
    fn get_partition(
        &self,
        database: &str,
        table: &str,
        values: &[String],
    ) -> Result<Option<Partition>> {
        self.read(|tx| partitions::get(tx, database, table, values))
    }
    fn alter_partition(&self, partition: &Partition) -> Result<()> {
        self.write(|tx| partitions::alter(tx, partition))
    }
    fn rename_partition(&self, values: &[String], renamed: &Partition) -> Result<()> {
        self.write(|tx| partitions::rename(tx, values, renamed))
    }
    fn drop_partition(&self, database: &str, table: &str, values: &[String]) -> Result<()> {
        self.write(|tx| partitions::drop(tx, database, table, values))
    }
    fn get_partitions_parameters(
        &self,
        database: &str,
        table: &str,
        partitions: &[Vec<String>],
    ) -> Result<Vec<BTreeMap<String, String>>> {
        self.read(|tx| {
            per_partition(
                tx,
                (database, table),
                partitions,
                |id| storage::load_params(tx, "PARTITION_PARAMS", "PART_ID", id),
                |tbl_id| storage::load_all_partition_params(tx, tbl_id),
            )
        })
    }
    fn set_column_statistics(
        &self,
        database: &str,
        table: &str,
        partition: Option<&[String]>,
        stats: &[ColumnStatistics],
        parameters: &BTreeMap<String, String>,
    ) -> Result<()> {
        self.write(|tx| {
            let (owner, params_table, id_column, id) = match partition {
                None => {
                    let (id, _) = tables::id_of(tx, database, table)?;
                    (Owner::Table(id), "TABLE_PARAMS", "TBL_ID", id)
                }
                Some(values) => {
                    let id = partitions::id_of(tx, database, table, values)?;
                    (Owner::Partition(id), "PARTITION_PARAMS", "PART_ID", id)
                }
            };
            column_stats::write(tx, owner, stats)?;
            storage::insert_params(tx, params_table, id_column, id, parameters)
        })
    }
    fn get_column_statistics(
        &self,
        database: &str,
        table: &str,
        partition: Option<&[String]>,
    ) -> Result<Vec<ColumnStatistics>> {
        self.read(|tx| column_stats::read(tx, owner_of(tx, database, table, partition)?))
    }
    fn get_partitions_column_statistics(
        &self,
        database: &str,
        table: &str,
        partitions: &[Vec<String>],
    ) -> Result<Vec<Vec<ColumnStatistics>>> {
        self.read(|tx| {
            per_partition(
                tx,
                (database, table),
                partitions,
                |id| column_stats::read(tx, Owner::Partition(id)),
                |tbl_id| column_stats::read_all_partitions(tx, tbl_id),
            )
        })
    }
    fn delete_column_statistics(
        &self,
        database: &str,
        table: &str,
        partition: Option<&[String]>,
        columns: Option<&[String]>,
    ) -> Result<()> {
        self.write(|tx| {
            column_stats::delete(tx, owner_of(tx, database, table, partition)?, columns)
        })
    }
}

/// Something of each of `partitions`, in the order asked: read one partition at a time with
/// `one` (by partition id), or, past a few partitions, for the whole table at once with `all`
/// (by table id, keyed by partition id; a partition it has nothing for gets the default).
fn per_partition<T: Clone + Default>(
    tx: &Transaction<'_>,
    (database, table): (&str, &str),
    partitions: &[Vec<String>],
    one: impl Fn(i64) -> Result<T>,
    all: impl Fn(i64) -> Result<HashMap<i64, T>>,
) -> Result<Vec<T>> {
    let ids = partitions::ids_of(tx, database, table, partitions)?;
    if ids.len() <= partitions::BULK_LOOKUP {
        return ids.into_iter().map(one).collect();
    }
    let (tbl_id, _) = tables::id_of(tx, database, table)?;
    let found = all(tbl_id)?;
    Ok(ids
        .iter()
        .map(|id| found.get(id).cloned().unwrap_or_default())
        .collect())
}

/// Whose statistics: the table's, or one of its partitions'.
fn owner_of(
    tx: &Transaction<'_>,
    database: &str,
    table: &str,
    partition: Option<&[String]>,
) -> Result<Owner> {
    Ok(match partition {
        None => Owner::Table(tables::id_of(tx, database, table)?.0),
        Some(values) => Owner::Partition(partitions::id_of(tx, database, table, values)?),
    })
}

#[cfg(test)]
mod tests;
