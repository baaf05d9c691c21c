//! A table scan's statistics for DataFusion's planner, from the metastore: row count and
//! size from the table's (or the scanned partitions') parameters, column statistics from
//! `TAB_COL_STATS` / `PART_COL_STATS`, partition keys' distinct counts from the partitions
//! themselves. Every figure is an estimate ([`Precision::Inexact`]): files may have changed
//! behind the metastore's back, so no answer is ever read from statistics alone.

use std::collections::{BTreeMap, HashSet};

use apiary_metastore::{ColumnStatistics, DEFAULT_PARTITION_NAME, Metastore, StatsValue, Table};
use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit};
use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics as ColumnStats, ScalarValue, Statistics};

use super::merge::merge_column;

/// The statistics of scanning `table` (all its columns, partition keys last, as `schema`),
/// or of the `partitions` of a partitioned table given by their values. Only the columns at
/// the indices in `columns` (all when `None`) get column statistics; the others are unknown.
pub fn scan_statistics(
    metastore: Option<&dyn Metastore>,
    table: &Table,
    schema: &Schema,
    partitions: Option<&[Vec<String>]>,
    columns: Option<&[usize]>,
) -> Statistics {
    let wanted = |i: usize| columns.is_none_or(|columns| columns.contains(&i));
    let gathered = match (metastore, partitions) {
        (_, Some(partitions)) if table.partition_keys.is_empty() || partitions.is_empty() => None,
        (Some(metastore), Some(partitions)) => {
            let names: Vec<&str> = schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(i, _)| wanted(*i))
                .map(|(_, field)| field.name().as_str())
                .collect();
            partitions_stats(metastore, table, partitions, &names)
        }
        (Some(metastore), None) => {
            let columns = metastore
                .get_column_statistics(&table.database, &table.name, None)
                .unwrap_or_default();
            Some(Gathered::from_parameters(&table.parameters, columns))
        }
        (None, _) => Some(Gathered::from_parameters(&table.parameters, Vec::new())),
    };
    let Some(gathered) = gathered else {
        let mut empty = Statistics::new_unknown(schema);
        if partitions.is_some_and(|p| p.is_empty()) {
            empty.num_rows = Precision::Inexact(0);
        }
        return empty;
    };
    let data_columns = schema.fields().len() - table.partition_keys.len();
    let column_statistics = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            if !wanted(i) {
                return ColumnStats::new_unknown();
            }
            if i >= data_columns {
                let key = i - data_columns;
                return key_statistics(partitions, key, field.data_type());
            }
            gathered
                .columns
                .iter()
                .find(|c| c.column == *field.name())
                .map(|c| column_statistics(c, field.data_type()))
                .unwrap_or_else(ColumnStats::new_unknown)
        })
        .collect();
    Statistics {
        num_rows: gathered.rows.map_or(Precision::Absent, Precision::Inexact),
        total_byte_size: gathered.bytes.map_or(Precision::Absent, Precision::Inexact),
        column_statistics,
    }
}

/// What the metastore knows of a table or a set of partitions.
struct Gathered {
    rows: Option<usize>,
    bytes: Option<usize>,
    columns: Vec<ColumnStatistics>,
}

impl Gathered {
    fn from_parameters(
        parameters: &BTreeMap<String, String>,
        columns: Vec<ColumnStatistics>,
    ) -> Self {
        Gathered {
            rows: number(parameters, "numRows"),
            bytes: number(parameters, "totalSize"),
            columns,
        }
    }
}

fn number(parameters: &BTreeMap<String, String>, key: &str) -> Option<usize> {
    parameters.get(key).and_then(|n| n.parse().ok())
}

/// Partitions' counts add up; a partition without a row count gets one from its size at the
/// other partitions' bytes per row. The statistics of the `wanted` columns merge over the
/// partitions that have them.
fn partitions_stats(
    metastore: &dyn Metastore,
    table: &Table,
    partitions: &[Vec<String>],
    wanted: &[&str],
) -> Option<Gathered> {
    let (database, name) = (&table.database, &table.name);
    let parameters = metastore
        .get_partitions_parameters(database, name, partitions)
        .ok()?;
    let rows: Vec<Option<usize>> = parameters.iter().map(|p| number(p, "numRows")).collect();
    let bytes: Vec<Option<usize>> = parameters.iter().map(|p| number(p, "totalSize")).collect();
    let (mut known_rows, mut known_bytes) = (0usize, 0usize);
    for (r, b) in rows.iter().zip(&bytes) {
        if let (Some(r), Some(b)) = (r, b) {
            known_rows += r;
            known_bytes += b;
        }
    }
    let mut total_rows = Some(0usize);
    for (r, b) in rows.iter().zip(&bytes) {
        let estimated = match (r, b) {
            (Some(r), _) => Some(*r),
            (None, Some(b)) if known_bytes > 0 => {
                Some((*b as f64 * known_rows as f64 / known_bytes as f64).round() as usize)
            }
            _ => None,
        };
        total_rows = total_rows.zip(estimated).map(|(t, e)| t + e);
    }
    let total_bytes = bytes.iter().try_fold(0usize, |t, b| b.map(|b| t + b));
    let per_partition = metastore
        .get_partitions_column_statistics(database, name, partitions)
        .unwrap_or_default();
    let mut names: Vec<&str> = Vec::new();
    for stats in per_partition.iter().flatten() {
        if wanted.contains(&stats.column.as_str()) && !names.contains(&stats.column.as_str()) {
            names.push(&stats.column);
        }
    }
    let row_counts: Vec<Option<i64>> = rows.iter().map(|r| r.map(|r| r as i64)).collect();
    let columns = names
        .iter()
        .filter_map(|column| {
            let (merged, covered) = merge_column(&per_partition, &row_counts, column)?;
            // Statistics that cover only some partitions would understate nulls and values.
            (covered == partitions.len()).then_some(merged)
        })
        .collect();
    Some(Gathered {
        rows: total_rows,
        bytes: total_bytes,
        columns,
    })
}

/// A partition key's distinct count, low and high values among the scanned partitions.
fn key_statistics(
    partitions: Option<&[Vec<String>]>,
    key: usize,
    data_type: &DataType,
) -> ColumnStats {
    let Some(partitions) = partitions else {
        return ColumnStats::new_unknown();
    };
    let distinct: HashSet<&str> = partitions
        .iter()
        .filter_map(|values| values.get(key).map(String::as_str))
        .collect();
    let typed: Vec<ScalarValue> = distinct
        .iter()
        .filter(|v| **v != DEFAULT_PARTITION_NAME)
        .filter_map(|v| {
            ScalarValue::Utf8(Some(v.to_string()))
                .cast_to(data_type)
                .ok()
        })
        .filter(|v| !v.is_null())
        .collect();
    let mut stats =
        ColumnStats::new_unknown().with_distinct_count(Precision::Inexact(distinct.len()));
    if typed.len() == distinct.len() {
        let order = |a: &&ScalarValue, b: &&ScalarValue| {
            a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal)
        };
        let bound = |v: Option<&ScalarValue>| {
            v.map_or(Precision::Absent, |v| Precision::Inexact(v.clone()))
        };
        stats = stats
            .with_min_value(bound(typed.iter().min_by(order)))
            .with_max_value(bound(typed.iter().max_by(order)));
    }
    stats
}

fn column_statistics(stats: &ColumnStatistics, data_type: &DataType) -> ColumnStats {
    let bound = |v: &Option<StatsValue>| {
        v.as_ref()
            .and_then(|v| typed_value(v, data_type))
            .map_or(Precision::Absent, Precision::Inexact)
    };
    let distinct = stats.num_distincts.or_else(|| {
        // A boolean's distinct values are those it was seen to take.
        let seen = |n: Option<i64>| n.map(|n| i64::from(n > 0));
        Some(seen(stats.num_trues)? + seen(stats.num_falses)?)
    });
    ColumnStats {
        null_count: Precision::Inexact(stats.num_nulls.max(0) as usize),
        max_value: bound(&stats.high),
        min_value: bound(&stats.low),
        sum_value: Precision::Absent,
        distinct_count: distinct
            .map_or(Precision::Absent, |d| Precision::Inexact(d.max(0) as usize)),
        byte_size: Precision::Absent,
    }
}

/// A low or high value as a value of the column's Arrow type.
fn typed_value(value: &StatsValue, data_type: &DataType) -> Option<ScalarValue> {
    let scalar = match (value, data_type) {
        (StatsValue::Long(days), DataType::Date32) => {
            ScalarValue::Date32(i32::try_from(*days).ok())
        }
        (StatsValue::Long(seconds), DataType::Timestamp(TimeUnit::Nanosecond, zone)) => {
            ScalarValue::TimestampNanosecond(seconds.checked_mul(1_000_000_000), zone.clone())
        }
        (StatsValue::Long(n), _) => ScalarValue::Int64(Some(*n)),
        (StatsValue::Double(d), _) => ScalarValue::Float64(Some(*d)),
        (StatsValue::Decimal(text), _) => ScalarValue::Utf8(Some(text.clone())),
    };
    let typed = scalar.cast_to(data_type).ok()?;
    (!typed.is_null()).then_some(typed)
}

#[cfg(test)]
mod tests {
    use apiary_metastore::{Column, Partition, SqliteMetastore, StorageDescriptor, TableType};
    use datafusion::arrow::datatypes::Field;

    use super::*;

    fn table(partitioned: bool) -> Table {
        Table {
            database: "default".into(),
            name: "t".into(),
            owner: None,
            create_time: 0,
            table_type: TableType::Managed,
            storage: StorageDescriptor {
                columns: vec![Column::new("id", "bigint"), Column::new("d", "date")],
                ..Default::default()
            },
            partition_keys: if partitioned {
                vec![Column::new("ds", "string")]
            } else {
                Vec::new()
            },
            parameters: BTreeMap::from([
                ("numRows".to_string(), "40".to_string()),
                ("totalSize".to_string(), "400".to_string()),
            ]),
            view_original_text: None,
            view_expanded_text: None,
        }
    }

    fn schema(partitioned: bool) -> Schema {
        let mut fields = vec![
            Field::new("id", DataType::Int64, true),
            Field::new("d", DataType::Date32, true),
        ];
        if partitioned {
            fields.push(Field::new("ds", DataType::Utf8, true));
        }
        Schema::new(fields)
    }

    fn id_stats(low: i64, high: i64) -> ColumnStatistics {
        ColumnStatistics {
            low: Some(StatsValue::Long(low)),
            high: Some(StatsValue::Long(high)),
            num_nulls: 2,
            num_distincts: Some(high - low + 1),
            last_analyzed: 1,
            ..ColumnStatistics::empty("id", "bigint")
        }
    }

    #[test]
    fn a_tables_statistics_come_from_its_parameters_and_column_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteMetastore::open(&dir.path().join("m.db"), "/w").unwrap();
        let t = table(false);
        store.create_table(&t).unwrap();
        let date = ColumnStatistics {
            low: Some(StatsValue::Long(19_000)),
            high: Some(StatsValue::Long(19_010)),
            ..ColumnStatistics::empty("d", "date")
        };
        store
            .set_column_statistics(
                "default",
                "t",
                None,
                &[id_stats(1, 30), date],
                &t.parameters,
            )
            .unwrap();
        let stats = scan_statistics(Some(&store), &t, &schema(false), None, None);
        assert_eq!(stats.num_rows, Precision::Inexact(40));
        assert_eq!(stats.total_byte_size, Precision::Inexact(400));
        let id = &stats.column_statistics[0];
        assert_eq!(id.distinct_count, Precision::Inexact(30));
        assert_eq!(id.null_count, Precision::Inexact(2));
        assert_eq!(
            id.min_value,
            Precision::Inexact(ScalarValue::Int64(Some(1)))
        );
        let d = &stats.column_statistics[1];
        assert_eq!(
            d.max_value,
            Precision::Inexact(ScalarValue::Date32(Some(19_010)))
        );
    }

    #[test]
    fn partitions_add_up_and_estimate_missing_row_counts_from_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteMetastore::open(&dir.path().join("m.db"), "/w").unwrap();
        let t = table(true);
        store.create_table(&t).unwrap();
        let partition = |ds: &str, params: &[(&str, &str)]| Partition {
            database: "default".into(),
            table: "t".into(),
            values: vec![ds.into()],
            create_time: 0,
            storage: StorageDescriptor::default(),
            parameters: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        store
            .add_partitions(
                &[
                    partition("a", &[("numRows", "10"), ("totalSize", "100")]),
                    partition("b", &[("totalSize", "300")]),
                    partition("c", &[("numRows", "5"), ("totalSize", "50")]),
                ],
                false,
            )
            .unwrap();
        for (ds, low, high) in [("a", 1, 10), ("b", 5, 40)] {
            let values = [ds.to_string()];
            let params = store
                .get_partitions_parameters("default", "t", &[values.to_vec()])
                .unwrap();
            store
                .set_column_statistics(
                    "default",
                    "t",
                    Some(&values),
                    &[id_stats(low, high)],
                    &params[0],
                )
                .unwrap();
        }
        let chosen: Vec<Vec<String>> = vec![vec!["a".into()], vec!["b".into()]];
        let stats = scan_statistics(Some(&store), &t, &schema(true), Some(&chosen), None);
        assert_eq!(stats.num_rows, Precision::Inexact(40));
        assert_eq!(stats.total_byte_size, Precision::Inexact(400));
        let id = &stats.column_statistics[0];
        assert_eq!(
            id.min_value,
            Precision::Inexact(ScalarValue::Int64(Some(1)))
        );
        assert_eq!(
            id.max_value,
            Precision::Inexact(ScalarValue::Int64(Some(40)))
        );
        assert_eq!(id.null_count, Precision::Inexact(4));
        assert_eq!(
            stats.column_statistics[2].distinct_count,
            Precision::Inexact(2)
        );
        // Statistics of a scan reading only the key: the data columns' are not merged.
        let key_only = scan_statistics(Some(&store), &t, &schema(true), Some(&chosen), Some(&[2]));
        assert_eq!(key_only.num_rows, Precision::Inexact(40));
        assert_eq!(key_only.column_statistics[0].min_value, Precision::Absent);
        assert_eq!(
            key_only.column_statistics[2].distinct_count,
            Precision::Inexact(2)
        );
        // Partition c has no column statistics: the merged ones would understate it.
        let all: Vec<Vec<String>> = ["a", "b", "c"]
            .iter()
            .map(|v| vec![v.to_string()])
            .collect();
        let stats = scan_statistics(Some(&store), &t, &schema(true), Some(&all), None);
        assert_eq!(stats.num_rows, Precision::Inexact(45));
        assert_eq!(stats.column_statistics[0].distinct_count, Precision::Absent);
    }
}
