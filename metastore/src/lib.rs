//! Apiary's metastore: the catalog of databases, tables, views, partitions and statistics.
//!
//! The model follows Hive's metastore (`DBS`, `TBLS`, `SDS`, `SERDES`, `COLUMNS_V2`,
//! `PARTITIONS`, `TABLE_PARAMS`, `TAB_COL_STATS`, ...), so that what Hive users know about
//! their catalog holds here. [`Metastore`] is the backend trait; [`SqliteMetastore`] is the
//! embedded default, a single SQLite file that is created on first use and is safe to share
//! between processes. This crate knows nothing about query execution.

use std::collections::BTreeMap;

mod error;
mod model;
mod partition_filter;
mod sqlite;
mod statistics;

pub use error::{MetastoreError, Result};
pub use model::{
    Column, Database, Partition, SerDeInfo, StorageDescriptor, Table, TableType, partition_name,
};
pub use partition_filter::{
    DEFAULT_PARTITION_NAME, KeyComparison, KeyLiteral, PartitionFilter, PartitionLocation,
};
pub use sqlite::SqliteMetastore;
pub use statistics::{ColumnStatistics, StatsValue};

/// The operations every metastore backend provides. Each call is one transaction: it either
/// happens whole or not at all, even with other processes using the same metastore.
pub trait Metastore: Send + Sync + std::fmt::Debug {
    /// Creates a database; fails with [`MetastoreError::AlreadyExists`] if it exists.
    fn create_database(&self, database: &Database) -> Result<()>;
    fn get_database(&self, name: &str) -> Result<Option<Database>>;
    /// Names of all databases, sorted.
    fn list_databases(&self) -> Result<Vec<String>>;
    /// Replaces a database's comment, owner and properties.
    fn alter_database(&self, database: &Database) -> Result<()>;
    /// Drops a database. Without `cascade` a database holding tables is an error; with it the
    /// tables' metadata goes too (their files are the caller's business).
    fn drop_database(&self, name: &str, cascade: bool) -> Result<()>;

    /// Creates a table or view; fails with [`MetastoreError::AlreadyExists`] if the name is taken.
    fn create_table(&self, table: &Table) -> Result<()>;
    fn get_table(&self, database: &str, name: &str) -> Result<Option<Table>>;
    /// Names of the tables and views in a database, sorted.
    fn list_tables(&self, database: &str) -> Result<Vec<String>>;
    /// Replaces the definition of `database.name` with `table`, which may carry a new name
    /// (a rename). Partitions stay attached.
    fn alter_table(&self, database: &str, name: &str, table: &Table) -> Result<()>;
    /// Drops a table with its partitions and statistics.
    fn drop_table(&self, database: &str, name: &str) -> Result<()>;

    /// Adds partitions to a table. An existing partition is an error unless `if_not_exists`.
    fn add_partitions(&self, partitions: &[Partition], if_not_exists: bool) -> Result<()>;
    /// All partitions of a table, ordered by name.
    fn list_partitions(&self, database: &str, table: &str) -> Result<Vec<Partition>>;
    /// The values and locations of the partitions that satisfy `filter`, ordered by partition
    /// name: what a scan needs, found by the metastore without reading every partition.
    fn find_partition_locations(
        &self,
        database: &str,
        table: &str,
        filter: &PartitionFilter,
    ) -> Result<Vec<PartitionLocation>>;
    /// How many partitions a table has.
    fn count_partitions(&self, database: &str, table: &str) -> Result<u64>;
    fn get_partition(
        &self,
        database: &str,
        table: &str,
        values: &[String],
    ) -> Result<Option<Partition>>;
    /// Replaces a partition's storage and parameters (its values stay).
    fn alter_partition(&self, partition: &Partition) -> Result<()>;
    fn drop_partition(&self, database: &str, table: &str, values: &[String]) -> Result<()>;
    /// Gives the partition `values` the values and storage of `renamed`, in one transaction.
    fn rename_partition(&self, values: &[String], renamed: &Partition) -> Result<()>;

    /// The parameters (`numRows`, `totalSize`, ...) of several partitions, in the order asked,
    /// read in one snapshot.
    fn get_partitions_parameters(
        &self,
        database: &str,
        table: &str,
        partitions: &[Vec<String>],
    ) -> Result<Vec<BTreeMap<String, String>>>;

    /// Stores the statistics of some columns of a table, or of one of its partitions when
    /// `partition` holds its values, and replaces the table's (or partition's) parameters with
    /// `parameters`, in one transaction. Other columns' statistics stay.
    fn set_column_statistics(
        &self,
        database: &str,
        table: &str,
        partition: Option<&[String]>,
        stats: &[ColumnStatistics],
        parameters: &BTreeMap<String, String>,
    ) -> Result<()>;
    /// The column statistics of a table, or of one of its partitions, ordered by column name.
    fn get_column_statistics(
        &self,
        database: &str,
        table: &str,
        partition: Option<&[String]>,
    ) -> Result<Vec<ColumnStatistics>>;
    /// The column statistics of several partitions, in the order asked, read in one snapshot.
    fn get_partitions_column_statistics(
        &self,
        database: &str,
        table: &str,
        partitions: &[Vec<String>],
    ) -> Result<Vec<Vec<ColumnStatistics>>>;
    /// Forgets the statistics of the named columns (all columns when `columns` is `None`) of a
    /// table or of one of its partitions.
    fn delete_column_statistics(
        &self,
        database: &str,
        table: &str,
        partition: Option<&[String]>,
        columns: Option<&[String]>,
    ) -> Result<()>;
}
