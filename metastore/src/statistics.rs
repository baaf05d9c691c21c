//! Column statistics, shaped like Hive's `TAB_COL_STATS` / `PART_COL_STATS` rows.

/// A column's lowest or highest value, in the form Hive's statistics keep it: integers,
/// dates (days since the epoch) and timestamps (seconds since the epoch) as longs, floating
/// point numbers as doubles, decimals as their text.
#[derive(Debug, Clone, PartialEq)]
pub enum StatsValue {
    Long(i64),
    Double(f64),
    Decimal(String),
}

/// What `ANALYZE TABLE ... COMPUTE STATISTICS FOR COLUMNS` learns of one column, for a table
/// or for one partition. Fields a column's type has no use for are `None` (a string has no
/// low value, an integer no average length).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnStatistics {
    pub column: String,
    /// The column's Hive type when the statistics were taken.
    pub column_type: String,
    pub low: Option<StatsValue>,
    pub high: Option<StatsValue>,
    pub num_nulls: i64,
    pub num_distincts: Option<i64>,
    /// A serialized distinct-value sketch: sketches of partitions merge into the table's.
    pub bit_vector: Option<Vec<u8>>,
    pub avg_col_len: Option<f64>,
    pub max_col_len: Option<i64>,
    pub num_trues: Option<i64>,
    pub num_falses: Option<i64>,
    /// Seconds since the Unix epoch.
    pub last_analyzed: i64,
}

impl ColumnStatistics {
    /// Statistics of a column of which nothing is known yet but its name and type.
    pub fn empty(column: impl Into<String>, column_type: impl Into<String>) -> Self {
        ColumnStatistics {
            column: column.into(),
            column_type: column_type.into(),
            low: None,
            high: None,
            num_nulls: 0,
            num_distincts: None,
            bit_vector: None,
            avg_col_len: None,
            max_col_len: None,
            num_trues: None,
            num_falses: None,
            last_analyzed: 0,
        }
    }
}
