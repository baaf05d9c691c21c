//! The session's view of the catalog: temporary tables first, then the metastore. Every
//! statement that names a table resolves it here.

use apiary_metastore::Table;

use super::Session;
use crate::analysis_err;
use crate::error::Result;
use crate::parser::TableName;

/// A resolved table: its definition and whether it is a session-local temporary table.
#[derive(Debug, Clone)]
pub struct TableEntry {
    pub table: Table,
    pub temporary: bool,
}

impl Session {
    /// `(database, table)` for a possibly unqualified name.
    pub fn qualify(&self, name: &TableName) -> (String, String) {
        (
            name.database
                .clone()
                .unwrap_or_else(|| self.current_database.clone()),
            name.table.clone(),
        )
    }

    pub fn lookup_qualified(&self, database: &str, table: &str) -> Result<Option<TableEntry>> {
        if let Some(temp) = self
            .temp_tables
            .get(&(database.to_string(), table.to_string()))
        {
            return Ok(Some(TableEntry {
                table: temp.clone(),
                temporary: true,
            }));
        }
        Ok(self
            .engine
            .metastore
            .get_table(database, table)?
            .map(|table| TableEntry {
                table,
                temporary: false,
            }))
    }

    /// The table or view named, or Hive's "Table not found" error.
    pub fn require_table(&self, name: &TableName) -> Result<TableEntry> {
        let (database, table) = self.qualify(name);
        if self.engine.metastore.get_database(&database)?.is_none() {
            return Err(analysis_err!("Database does not exist: {database}"));
        }
        self.lookup_qualified(&database, &table)?
            .ok_or_else(|| analysis_err!("Table not found: {database}.{table}"))
    }

    /// Stores a changed definition of the table that was `database.name`.
    pub fn save_table(&mut self, entry: &TableEntry, database: &str, name: &str) -> Result<()> {
        if entry.temporary {
            self.temp_tables
                .remove(&(database.to_string(), name.to_string()));
            self.temp_tables.insert(
                (entry.table.database.clone(), entry.table.name.clone()),
                entry.table.clone(),
            );
            Ok(())
        } else {
            Ok(self
                .engine
                .metastore
                .alter_table(database, name, &entry.table)?)
        }
    }
}
