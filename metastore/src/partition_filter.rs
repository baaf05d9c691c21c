//! Predicates over partition key values that a metastore evaluates itself, so that a query
//! on one partition of a table with many does not read every partition's record (Hive's
//! `get_partitions_by_filter`).
//!
//! A key's value is NULL in the default partition (`__HIVE_DEFAULT_PARTITION__`) and its
//! stored text otherwise. Comparisons follow SQL's three-valued logic: a partition matches
//! when the filter is true, not when it is false or NULL.

/// Hive's name for the partition of NULL or empty key values.
pub const DEFAULT_PARTITION_NAME: &str = "__HIVE_DEFAULT_PARTITION__";

/// A literal a key is compared with. The literal's kind says how the key's stored text is
/// read: as text (ordered by bytes, which also orders canonical `yyyy-mm-dd` dates) or as an
/// integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLiteral {
    Text(String),
    Integer(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyComparison {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

impl KeyComparison {
    pub fn sql(self) -> &'static str {
        match self {
            KeyComparison::Eq => "=",
            KeyComparison::NotEq => "<>",
            KeyComparison::Lt => "<",
            KeyComparison::LtEq => "<=",
            KeyComparison::Gt => ">",
            KeyComparison::GtEq => ">=",
        }
    }
}

/// A filter on partition keys, which are named by their position in the table's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionFilter {
    /// Every partition.
    All,
    Compare {
        key: usize,
        op: KeyComparison,
        literal: KeyLiteral,
    },
    /// `key [NOT] IN (literals)`; the literals are all of one kind.
    InList {
        key: usize,
        literals: Vec<KeyLiteral>,
        negated: bool,
    },
    /// `key IS [NOT] NULL`: whether the key's value is the default partition's.
    IsNull {
        key: usize,
        negated: bool,
    },
    And(Vec<PartitionFilter>),
    Or(Vec<PartitionFilter>),
    Not(Box<PartitionFilter>),
}

impl PartitionFilter {
    /// The highest key position the filter names, if it names any.
    pub fn max_key(&self) -> Option<usize> {
        match self {
            PartitionFilter::All => None,
            PartitionFilter::Compare { key, .. }
            | PartitionFilter::InList { key, .. }
            | PartitionFilter::IsNull { key, .. } => Some(*key),
            PartitionFilter::And(parts) | PartitionFilter::Or(parts) => {
                parts.iter().filter_map(PartitionFilter::max_key).max()
            }
            PartitionFilter::Not(inner) => inner.max_key(),
        }
    }
}

/// A partition's values and data location: what a scan needs, without the rest of its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionLocation {
    pub values: Vec<String>,
    pub location: String,
}
