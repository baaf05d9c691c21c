//! Errors of the metastore layer.

/// What can go wrong talking to the metastore. Messages name the object concerned.
#[derive(Debug, thiserror::Error)]
pub enum MetastoreError {
    #[error("Database does not exist: {0}")]
    NoSuchDatabase(String),
    #[error("Table not found: {database}.{table}")]
    NoSuchTable { database: String, table: String },
    #[error("Partition not found: {0}")]
    NoSuchPartition(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("Database {0} is not empty. One or more tables exist (use CASCADE to drop them)")]
    DatabaseNotEmpty(String),
    #[error("Invalid operation: {0}")]
    InvalidOperation(String),
    #[error(
        "metastore schema version {found} is newer than this build supports ({supported}); upgrade Apiary"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("metastore storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("metastore I/O error: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = MetastoreError> = std::result::Result<T, E>;
