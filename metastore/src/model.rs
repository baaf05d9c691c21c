//! The catalog objects, shaped like Hive's metastore model.

use std::collections::BTreeMap;

/// A database (schema): a namespace of tables with a default location for their data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Database {
    pub name: String,
    pub comment: Option<String>,
    /// Directory (URI or path) under which managed tables of this database live.
    pub location: String,
    pub owner: Option<String>,
    pub properties: BTreeMap<String, String>,
}

/// Hive's table kinds: a managed table owns its data, an external one does not, a view has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableType {
    Managed,
    External,
    View,
}

impl TableType {
    /// The name Hive stores and prints (`MANAGED_TABLE`, `EXTERNAL_TABLE`, `VIRTUAL_VIEW`).
    pub fn hive_name(self) -> &'static str {
        match self {
            TableType::Managed => "MANAGED_TABLE",
            TableType::External => "EXTERNAL_TABLE",
            TableType::View => "VIRTUAL_VIEW",
        }
    }

    pub fn from_hive_name(name: &str) -> Option<Self> {
        match name {
            "MANAGED_TABLE" => Some(TableType::Managed),
            "EXTERNAL_TABLE" => Some(TableType::External),
            "VIRTUAL_VIEW" => Some(TableType::View),
            _ => None,
        }
    }
}

/// A column: name, Hive type string (`int`, `array<string>`, `decimal(10,2)`) and comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub type_name: String,
    pub comment: Option<String>,
}

impl Column {
    pub fn new(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            type_name: type_name.into(),
            comment: None,
        }
    }
}

/// The serializer/deserializer of a table's files and its parameters (`field.delim`,
/// `serialization.null.format`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SerDeInfo {
    pub serialization_lib: String,
    pub parameters: BTreeMap<String, String>,
}

/// Where and how a table's or partition's data is stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageDescriptor {
    pub location: String,
    pub input_format: String,
    pub output_format: String,
    pub serde: SerDeInfo,
    pub columns: Vec<Column>,
    pub compressed: bool,
    pub num_buckets: i32,
}

/// A table or view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub database: String,
    pub name: String,
    pub owner: Option<String>,
    /// Seconds since the Unix epoch.
    pub create_time: i64,
    pub table_type: TableType,
    pub storage: StorageDescriptor,
    pub partition_keys: Vec<Column>,
    /// Table parameters: `comment`, `numRows`, `totalSize`, `transient_lastDdlTime`, ...
    pub parameters: BTreeMap<String, String>,
    /// For views: the text as the user wrote it, and the text Apiary plans.
    pub view_original_text: Option<String>,
    pub view_expanded_text: Option<String>,
}

impl Table {
    pub fn comment(&self) -> Option<&str> {
        self.parameters.get("comment").map(String::as_str)
    }

    pub fn is_view(&self) -> bool {
        self.table_type == TableType::View
    }

    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.database, self.name)
    }
}

/// A partition of a table: the values of its partition keys, and its own storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub database: String,
    pub table: String,
    pub values: Vec<String>,
    pub create_time: i64,
    pub storage: StorageDescriptor,
    pub parameters: BTreeMap<String, String>,
}

/// Hive's partition name, `k1=v1/k2=v2`, from key names and (already escaped) values.
pub fn partition_name(keys: &[Column], values: &[String]) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| format!("{}={}", k.name, v))
        .collect::<Vec<_>>()
        .join("/")
}
