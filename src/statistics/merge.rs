//! Statistics of a set of partitions from each partition's: counts add up, ranges widen,
//! distinct counts come from the union of the partitions' sketches.

use apiary_metastore::{ColumnStatistics, StatsValue};

use super::sketch::union_estimate;

/// One partition's statistics of a column, with the partition's row count when known (it
/// weighs the average length).
struct PartitionColumn<'a> {
    stats: &'a ColumnStatistics,
    rows: Option<i64>,
}

/// The statistics of a column over all the given partitions, or `None` if there are none.
fn merge_partitions(parts: &[PartitionColumn<'_>]) -> Option<ColumnStatistics> {
    let first = parts.first()?.stats;
    let mut merged = first.clone();
    for part in &parts[1..] {
        let s = part.stats;
        merged.num_nulls += s.num_nulls;
        merged.low = extreme(merged.low.take(), s.low.clone(), Extreme::Low);
        merged.high = extreme(merged.high.take(), s.high.clone(), Extreme::High);
        merged.max_col_len = max_of(merged.max_col_len, s.max_col_len);
        merged.num_trues = sum_of(merged.num_trues, s.num_trues);
        merged.num_falses = sum_of(merged.num_falses, s.num_falses);
        merged.last_analyzed = merged.last_analyzed.min(s.last_analyzed);
    }
    merged.avg_col_len = weighted_average_length(parts);
    merged.num_distincts = distinct_count(parts);
    merged.bit_vector = None;
    Some(merged)
}

/// The statistics of `column` over the partitions that have them, from each partition's
/// statistics (`per_partition`) and row count (`rows`), with how many partitions they cover.
pub fn merge_column(
    per_partition: &[Vec<ColumnStatistics>],
    rows: &[Option<i64>],
    column: &str,
) -> Option<(ColumnStatistics, usize)> {
    let parts: Vec<PartitionColumn<'_>> = per_partition
        .iter()
        .zip(rows)
        .filter_map(|(stats, rows)| {
            let stats = stats.iter().find(|s| s.column == column)?;
            Some(PartitionColumn { stats, rows: *rows })
        })
        .collect();
    Some((merge_partitions(&parts)?, parts.len()))
}

/// The distinct count of the union of the partitions' sketches; without every sketch, the
/// largest partition count (a lower bound, as Hive takes it).
fn distinct_count(parts: &[PartitionColumn<'_>]) -> Option<i64> {
    let sketches: Option<Vec<&[u8]>> = parts
        .iter()
        .map(|p| p.stats.bit_vector.as_deref())
        .collect();
    if let Some(estimate) = sketches.and_then(union_estimate) {
        return Some(estimate);
    }
    parts.iter().filter_map(|p| p.stats.num_distincts).max()
}

/// The average length over all values: each partition's average weighs by its number of
/// non-null values when every row count is known, equally otherwise.
fn weighted_average_length(parts: &[PartitionColumn<'_>]) -> Option<f64> {
    let mut total = 0.0;
    let mut weights = 0.0;
    let all_counted = parts.iter().all(|p| p.rows.is_some());
    for part in parts {
        let average = part.stats.avg_col_len?;
        let weight = match part.rows {
            Some(rows) if all_counted => (rows - part.stats.num_nulls).max(0) as f64,
            _ => 1.0,
        };
        total += average * weight;
        weights += weight;
    }
    Some(if weights == 0.0 { 0.0 } else { total / weights })
}

enum Extreme {
    Low,
    High,
}

fn extreme(a: Option<StatsValue>, b: Option<StatsValue>, which: Extreme) -> Option<StatsValue> {
    let (a, b) = match (a, b) {
        (None, b) => return b,
        (a, None) => return a,
        (Some(a), Some(b)) => (a, b),
    };
    let b_is_lower = match (&a, &b) {
        (StatsValue::Long(x), StatsValue::Long(y)) => y < x,
        (StatsValue::Double(x), StatsValue::Double(y)) => y < x,
        (StatsValue::Decimal(x), StatsValue::Decimal(y)) => {
            match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(x), Ok(y)) => y < x,
                _ => false,
            }
        }
        // Partitions analyzed under different column types: keep the first.
        _ => return Some(a),
    };
    let take_b = match which {
        Extreme::Low => b_is_lower,
        Extreme::High => !b_is_lower && a != b,
    };
    Some(if take_b { b } else { a })
}

fn sum_of(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    Some(a? + b?)
}

fn max_of(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statistics::sketch::DistinctSketch;

    fn partition(range: std::ops::Range<i64>, nulls: i64) -> ColumnStatistics {
        let mut sketch = DistinctSketch::new();
        range.clone().for_each(|v| sketch.add(v));
        ColumnStatistics {
            low: Some(StatsValue::Long(range.start)),
            high: Some(StatsValue::Long(range.end - 1)),
            num_nulls: nulls,
            num_distincts: Some(range.end - range.start),
            bit_vector: Some(sketch.to_bytes()),
            last_analyzed: range.start,
            ..ColumnStatistics::empty("id", "bigint")
        }
    }

    #[test]
    fn partitions_merge_ranges_nulls_and_sketches() {
        let (a, b) = (partition(0..60, 2), partition(40..100, 3));
        let merged = merge_partitions(&[
            PartitionColumn {
                stats: &a,
                rows: Some(62),
            },
            PartitionColumn {
                stats: &b,
                rows: None,
            },
        ])
        .expect("two partitions");
        assert_eq!(merged.low, Some(StatsValue::Long(0)));
        assert_eq!(merged.high, Some(StatsValue::Long(99)));
        assert_eq!(merged.num_nulls, 5);
        assert_eq!(merged.num_distincts, Some(100));
        assert_eq!(merged.bit_vector, None);
    }

    #[test]
    fn without_sketches_the_largest_distinct_count_is_taken() {
        let mut a = partition(0..10, 0);
        let b = partition(0..30, 0);
        a.bit_vector = None;
        let merged = merge_partitions(&[
            PartitionColumn {
                stats: &a,
                rows: None,
            },
            PartitionColumn {
                stats: &b,
                rows: None,
            },
        ])
        .expect("two partitions");
        assert_eq!(merged.num_distincts, Some(30));
    }

    #[test]
    fn average_lengths_weigh_by_values() {
        let text = |avg: f64, nulls: i64| ColumnStatistics {
            avg_col_len: Some(avg),
            max_col_len: Some(avg as i64),
            num_nulls: nulls,
            ..ColumnStatistics::empty("s", "string")
        };
        let (a, b) = (text(2.0, 0), text(8.0, 2));
        let merged = merge_partitions(&[
            PartitionColumn {
                stats: &a,
                rows: Some(3),
            },
            PartitionColumn {
                stats: &b,
                rows: Some(3),
            },
        ])
        .expect("two partitions");
        assert_eq!(merged.avg_col_len, Some((2.0 * 3.0 + 8.0) / 4.0));
        assert_eq!(merged.max_col_len, Some(8));
    }
}
