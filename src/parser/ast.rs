//! The statements Apiary runs. Queries keep sqlparser's AST (DataFusion plans them); Hive's
//! DDL, DML and commands get Apiary's own nodes.

use std::collections::BTreeMap;

use apiary_metastore::KeyComparison;
use datafusion::sql::sqlparser::ast::{Query, TableWithJoins, With};

use crate::types::HiveType;

/// A possibly database-qualified table name, lower-cased as Hive does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub database: Option<String>,
    pub table: String,
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.database {
            Some(db) => write!(f, "{db}.{}", self.table),
            None => f.write_str(&self.table),
        }
    }
}

/// `PARTITION (k1='v1', k2)`: values are `None` for dynamic keys.
pub type PartitionSpec = Vec<(String, Option<String>)>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: String,
    pub data_type: HiveType,
    pub comment: Option<String>,
}

/// `ROW FORMAT ...`, kept as the SerDe class and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowFormat {
    pub serde: Option<String>,
    pub parameters: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateTable {
    pub name: TableName,
    pub if_not_exists: bool,
    pub temporary: bool,
    pub external: bool,
    pub columns: Vec<ColumnDef>,
    pub comment: Option<String>,
    pub partitioned_by: Vec<ColumnDef>,
    pub num_buckets: Option<i32>,
    pub row_format: RowFormat,
    pub stored_as: Option<String>,
    pub location: Option<String>,
    pub properties: BTreeMap<String, String>,
    /// CREATE TABLE ... AS SELECT.
    pub as_query: Option<Box<Query>>,
    /// CREATE TABLE ... LIKE other.
    pub like: Option<TableName>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateView {
    pub name: TableName,
    pub or_replace: bool,
    pub if_not_exists: bool,
    pub columns: Vec<(String, Option<String>)>,
    pub comment: Option<String>,
    pub properties: BTreeMap<String, String>,
    pub query: Box<Query>,
    /// The view's SELECT as the user wrote it.
    pub query_text: String,
}

/// A comparison on a partition key, as `DROP PARTITION (dt < '2024-01-01')` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionPredicate {
    pub key: String,
    pub op: KeyComparison,
    pub value: String,
}

/// `MSCK REPAIR TABLE t [ADD|DROP|SYNC PARTITIONS]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairMode {
    Add,
    Drop,
    Sync,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AlterTable {
    AddPartitions {
        if_not_exists: bool,
        partitions: Vec<(PartitionSpec, Option<String>)>,
    },
    /// Each entry drops the partitions matching all of its predicates.
    DropPartitions {
        if_exists: bool,
        filters: Vec<Vec<PartitionPredicate>>,
        purge: bool,
    },
    RenamePartition {
        from: PartitionSpec,
        to: PartitionSpec,
    },
    SetPartitionLocation {
        spec: PartitionSpec,
        location: String,
    },
    RenameTo(TableName),
    SetProperties(BTreeMap<String, String>),
    UnsetProperties {
        keys: Vec<String>,
        if_exists: bool,
    },
    AddColumns(Vec<ColumnDef>),
    SetLocation(String),
}

/// What `ANALYZE TABLE ... COMPUTE STATISTICS` gathers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnalyzeScope {
    /// `NOSCAN`: file count and size, from the file listing alone.
    NoScan,
    /// Row count, file count and size.
    Rows,
    /// `FOR COLUMNS [c, ...]`: basic statistics and those of the named columns (all of them
    /// when none is named).
    Columns(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescribeDetail {
    Plain,
    Extended,
    Formatted,
}

/// `SET`, `SET -v`, `SET k`, `SET k=v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetCommand {
    ShowChanged,
    ShowAll,
    Show(String),
    Assign(String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    pub overwrite: bool,
    pub table: TableName,
    pub partition: Option<PartitionSpec>,
    pub if_not_exists: bool,
    pub columns: Vec<String>,
    pub query: Box<Query>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HiveStatement {
    Query(Box<Query>),
    Explain {
        analyze: bool,
        verbose: bool,
        /// `EXPLAIN CBO`: the cost-based plan, with estimated rows and the join order's cost.
        cbo: bool,
        statement: Box<HiveStatement>,
    },
    CreateDatabase {
        name: String,
        if_not_exists: bool,
        comment: Option<String>,
        location: Option<String>,
        properties: BTreeMap<String, String>,
    },
    DropDatabase {
        name: String,
        if_exists: bool,
        cascade: bool,
    },
    AlterDatabase {
        name: String,
        properties: BTreeMap<String, String>,
    },
    Use(String),
    ShowDatabases {
        pattern: Option<String>,
    },
    ShowTables {
        database: Option<String>,
        pattern: Option<String>,
    },
    /// `SHOW FUNCTIONS [[LIKE] 'pattern']`
    ShowFunctions {
        pattern: Option<String>,
    },
    /// `DESCRIBE FUNCTION [EXTENDED] name`
    DescribeFunction {
        name: String,
        extended: bool,
    },
    ShowCreateTable(TableName),
    ShowTblProperties {
        table: TableName,
        key: Option<String>,
    },
    ShowColumns {
        table: TableName,
    },
    ShowPartitions {
        table: TableName,
        partial: Option<PartitionSpec>,
    },
    Msck {
        table: TableName,
        repair: bool,
        mode: RepairMode,
    },
    /// `ANALYZE TABLE t [PARTITION (...)] COMPUTE STATISTICS ...`; a partition spec may leave
    /// keys without values (all partitions with the given ones).
    Analyze {
        table: TableName,
        partition: Option<PartitionSpec>,
        scope: AnalyzeScope,
    },
    DescribeDatabase {
        name: String,
        extended: bool,
    },
    Describe {
        table: TableName,
        detail: DescribeDetail,
        partition: Option<PartitionSpec>,
        column: Option<String>,
    },
    CreateTable(Box<CreateTable>),
    DropTable {
        name: TableName,
        if_exists: bool,
        purge: bool,
    },
    TruncateTable {
        name: TableName,
        partition: Option<PartitionSpec>,
    },
    AlterTable {
        name: TableName,
        action: AlterTable,
    },
    CreateView(Box<CreateView>),
    DropView {
        name: TableName,
        if_exists: bool,
    },
    LoadData {
        local: bool,
        path: String,
        overwrite: bool,
        table: TableName,
        partition: Option<PartitionSpec>,
    },
    Insert(Box<Insert>),
    /// `FROM source INSERT ... SELECT ... [INSERT ... SELECT ...]`: every insert's query has
    /// `source` as its FROM clause, and the source is read once for all of them.
    MultiInsert {
        source: InsertSource,
        inserts: Vec<Insert>,
    },
    Set(SetCommand),
    Reset(Option<String>),
}

impl HiveStatement {
    /// Whether the statement answers with rows (a query, SHOW, DESCRIBE, EXPLAIN, `SET` without
    /// a value) rather than only doing something.
    pub fn returns_rows(&self) -> bool {
        use HiveStatement as S;
        match self {
            S::Query(_)
            | S::Explain { .. }
            | S::ShowDatabases { .. }
            | S::ShowTables { .. }
            | S::ShowFunctions { .. }
            | S::DescribeFunction { .. }
            | S::ShowCreateTable(_)
            | S::ShowTblProperties { .. }
            | S::ShowColumns { .. }
            | S::ShowPartitions { .. }
            | S::Msck { .. }
            | S::DescribeDatabase { .. }
            | S::Describe { .. } => true,
            S::Set(command) => !matches!(command, SetCommand::Assign(..)),
            S::CreateDatabase { .. }
            | S::DropDatabase { .. }
            | S::AlterDatabase { .. }
            | S::Use(_)
            | S::Analyze { .. }
            | S::CreateTable(_)
            | S::DropTable { .. }
            | S::TruncateTable { .. }
            | S::AlterTable { .. }
            | S::CreateView(_)
            | S::DropView { .. }
            | S::LoadData { .. }
            | S::Insert(_)
            | S::MultiInsert { .. }
            | S::Reset(_) => false,
        }
    }
}

/// The FROM clause of a multi-insert, and the `WITH` before it (`WITH q AS (...) FROM q
/// INSERT ...`), whose CTEs the FROM clause may name.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertSource {
    pub with: Option<With>,
    pub tables: Vec<TableWithJoins>,
}
