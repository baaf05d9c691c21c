//! `DESCRIBE FORMATTED t [PARTITION (...)] column`: a column's statistics, one per line, as
//! Hive prints them. For a partitioned table without a partition spec, the statistics of all
//! its partitions combined.

use std::collections::BTreeMap;

use apiary_metastore::{Column, ColumnStatistics, Partition, StatsValue};

use super::results::string_table;
use crate::driver::{Session, StatementOutput, TableEntry};
use crate::error::Result;
use crate::hive_text::{format_timestamp_nanos, java_float_string};
use crate::statistics::accuracy::ACCURACY_KEY;
use crate::statistics::merge::merge_column;
use crate::types::HiveType;

pub fn column_statistics(
    session: &Session,
    entry: &TableEntry,
    column: &Column,
    partition: Option<&Partition>,
) -> Result<StatementOutput> {
    let table = &entry.table;
    // The accuracy flags of what the statistics describe; a partitioned table has them per
    // partition only.
    let (stats, parameters) = if entry.temporary || table.is_view() {
        (None, table.parameters.clone())
    } else if let Some(partition) = partition {
        let metastore = &session.engine.metastore;
        let all = metastore.get_column_statistics(
            &table.database,
            &table.name,
            Some(&partition.values),
        )?;
        (named(all, &column.name), partition.parameters.clone())
    } else if table.partition_keys.is_empty() {
        let metastore = &session.engine.metastore;
        let all = metastore.get_column_statistics(&table.database, &table.name, None)?;
        (named(all, &column.name), table.parameters.clone())
    } else {
        (
            all_partitions(session, entry, &column.name)?,
            BTreeMap::new(),
        )
    };
    // Without statistics, every figure is blank.
    let analyzed = stats.is_some();
    let stats = stats.unwrap_or_else(|| ColumnStatistics::empty(&column.name, &column.type_name));
    let hive_type = HiveType::parse(&column.type_name).ok();
    let range = |v: &Option<StatsValue>| {
        v.as_ref()
            .map(|v| stats_value_text(v, hive_type.as_ref()))
            .unwrap_or_default()
    };
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let mut rows = vec![
        ("col_name", column.name.clone()),
        ("data_type", column.type_name.clone()),
        ("min", range(&stats.low)),
        ("max", range(&stats.high)),
        (
            "num_nulls",
            if analyzed {
                stats.num_nulls.to_string()
            } else {
                String::new()
            },
        ),
        ("distinct_count", number(stats.num_distincts)),
        (
            "avg_col_len",
            stats
                .avg_col_len
                .map(|v| java_float_string(v, false))
                .unwrap_or_default(),
        ),
        ("max_col_len", number(stats.max_col_len)),
        ("num_trues", number(stats.num_trues)),
        ("num_falses", number(stats.num_falses)),
        (
            "bitVector",
            if stats.bit_vector.is_some() {
                "HL".to_string()
            } else {
                String::new()
            },
        ),
        ("comment", column.comment.clone().unwrap_or_default()),
    ];
    if let Some(flags) = parameters.get(ACCURACY_KEY) {
        rows.push((ACCURACY_KEY, flags.clone()));
    }
    let rows = rows
        .into_iter()
        .map(|(name, value)| vec![name.to_string(), value])
        .collect();
    Ok(string_table(&["column_property", "value"], rows))
}

fn named(all: Vec<ColumnStatistics>, column: &str) -> Option<ColumnStatistics> {
    all.into_iter().find(|s| s.column == column)
}

/// The column's statistics over every partition that has them.
fn all_partitions(
    session: &Session,
    entry: &TableEntry,
    column: &str,
) -> Result<Option<ColumnStatistics>> {
    let table = &entry.table;
    let metastore = &session.engine.metastore;
    let partitions = metastore.list_partitions(&table.database, &table.name)?;
    let values: Vec<Vec<String>> = partitions.iter().map(|p| p.values.clone()).collect();
    let per_partition =
        metastore.get_partitions_column_statistics(&table.database, &table.name, &values)?;
    let rows: Vec<Option<i64>> = partitions
        .iter()
        .map(|p| p.parameters.get("numRows").and_then(|n| n.parse().ok()))
        .collect();
    Ok(merge_column(&per_partition, &rows, column).map(|(merged, _)| merged))
}

/// A low or high value as Hive prints it: dates and timestamps as such, doubles as Java
/// prints them.
fn stats_value_text(value: &StatsValue, hive_type: Option<&HiveType>) -> String {
    match value {
        StatsValue::Long(n) => match hive_type {
            Some(HiveType::Date) => chrono::DateTime::from_timestamp(n.saturating_mul(86_400), 0)
                .map(|d| d.date_naive().to_string())
                .unwrap_or_else(|| n.to_string()),
            Some(HiveType::Timestamp) => format_timestamp_nanos(i128::from(*n) * 1_000_000_000),
            _ => n.to_string(),
        },
        StatsValue::Double(d) => java_float_string(*d, false),
        StatsValue::Decimal(text) => text.clone(),
    }
}
