//! Column statistics gathered from the rows of a scan, one builder per column: null count,
//! low and high values, distinct-value sketch, average and maximum lengths, true and false
//! counts, each where Hive keeps it for the column's type.

use apiary_metastore::{ColumnStatistics, StatsValue};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, TimeUnit, TimestampNanosecondType,
};

use super::sketch::DistinctSketch;
use crate::hive_text::format_decimal;
use crate::types::HiveType;

/// What Hive's statistics keep for a type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Integers, dates (days) and timestamps (seconds): low and high as longs, distinct count.
    Long,
    /// Low and high as doubles, distinct count.
    Double,
    /// Low and high as decimals of the scale, distinct count.
    Decimal { scale: i8 },
    /// Average and maximum length, distinct count.
    Text,
    /// Average and maximum length.
    Binary,
    /// True and false counts.
    Boolean,
}

impl Kind {
    fn of(hive_type: &HiveType) -> Option<Kind> {
        Some(match hive_type {
            HiveType::TinyInt
            | HiveType::SmallInt
            | HiveType::Int
            | HiveType::BigInt
            | HiveType::Date
            | HiveType::Timestamp => Kind::Long,
            HiveType::Float | HiveType::Double => Kind::Double,
            HiveType::Decimal(_, scale) => Kind::Decimal { scale: *scale },
            HiveType::String | HiveType::Varchar(_) | HiveType::Char(_) => Kind::Text,
            HiveType::Binary => Kind::Binary,
            HiveType::Boolean => Kind::Boolean,
            HiveType::Array(_) | HiveType::Map(..) | HiveType::Struct(_) => return None,
        })
    }
}

/// Whether Apiary (and Hive) keep column statistics for columns of this type: primitive
/// types only.
pub fn has_column_statistics(hive_type: &HiveType) -> bool {
    Kind::of(hive_type).is_some()
}

/// The statistics of one column, built batch by batch.
pub struct ColumnStatsBuilder {
    kind: Kind,
    nulls: i64,
    values: i64,
    long_range: Option<(i64, i64)>,
    double_range: Option<(f64, f64)>,
    decimal_range: Option<(i128, i128)>,
    sketch: DistinctSketch,
    total_length: u64,
    max_length: i64,
    trues: i64,
    falses: i64,
}

impl ColumnStatsBuilder {
    /// A builder for a column of `hive_type`, or `None` for a complex type.
    pub fn new(hive_type: &HiveType) -> Option<Self> {
        Some(ColumnStatsBuilder {
            kind: Kind::of(hive_type)?,
            nulls: 0,
            values: 0,
            long_range: None,
            double_range: None,
            decimal_range: None,
            sketch: DistinctSketch::new(),
            total_length: 0,
            max_length: 0,
            trues: 0,
            falses: 0,
        })
    }

    /// Adds a batch's values of the column, an array of the column's Arrow type.
    pub fn update(&mut self, array: &ArrayRef) {
        self.nulls += array.null_count() as i64;
        self.values += (array.len() - array.null_count()) as i64;
        match array.data_type() {
            DataType::Int8 => self.add_longs(array.as_primitive::<Int8Type>().iter().flatten()),
            DataType::Int16 => self.add_longs(array.as_primitive::<Int16Type>().iter().flatten()),
            DataType::Int32 => self.add_longs(array.as_primitive::<Int32Type>().iter().flatten()),
            DataType::Int64 => self.add_longs(array.as_primitive::<Int64Type>().iter().flatten()),
            DataType::Date32 => self.add_longs(array.as_primitive::<Date32Type>().iter().flatten()),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                for nanos in array
                    .as_primitive::<TimestampNanosecondType>()
                    .iter()
                    .flatten()
                {
                    self.sketch.add(nanos);
                    let low = nanos.div_euclid(1_000_000_000);
                    let high = low + i64::from(nanos.rem_euclid(1_000_000_000) != 0);
                    widen(&mut self.long_range, low, high);
                }
            }
            DataType::Float32 => self.add_doubles(
                array
                    .as_primitive::<Float32Type>()
                    .iter()
                    .flatten()
                    .map(f64::from),
            ),
            DataType::Float64 => {
                self.add_doubles(array.as_primitive::<Float64Type>().iter().flatten())
            }
            DataType::Decimal128(..) => {
                for value in array.as_primitive::<Decimal128Type>().iter().flatten() {
                    self.sketch.add(value);
                    widen(&mut self.decimal_range, value, value);
                }
            }
            DataType::Utf8 => self.add_strings(array.as_string::<i32>().iter().flatten()),
            DataType::LargeUtf8 => self.add_strings(array.as_string::<i64>().iter().flatten()),
            DataType::Utf8View => self.add_strings(array.as_string_view().iter().flatten()),
            DataType::Binary => {
                for bytes in array.as_binary::<i32>().iter().flatten() {
                    self.add_length(bytes.len());
                }
            }
            DataType::Boolean => {
                for value in array.as_boolean().iter().flatten() {
                    if value {
                        self.trues += 1;
                    } else {
                        self.falses += 1;
                    }
                }
            }
            _ => {}
        }
    }

    fn add_longs<T: Into<i64>>(&mut self, values: impl Iterator<Item = T>) {
        for value in values {
            let value = value.into();
            self.sketch.add(value);
            widen(&mut self.long_range, value, value);
        }
    }

    fn add_strings<'a>(&mut self, values: impl Iterator<Item = &'a str>) {
        for text in values {
            self.sketch.add(text);
            self.add_length(text.chars().count());
        }
    }

    fn add_doubles(&mut self, values: impl Iterator<Item = f64>) {
        for value in values {
            // 0.0 and -0.0 are one value, as are all NaNs.
            let canonical = if value == 0.0 {
                0.0
            } else if value.is_nan() {
                f64::NAN
            } else {
                value
            };
            self.sketch.add(canonical.to_bits());
            if !value.is_nan() {
                widen(&mut self.double_range, value, value);
            }
        }
    }

    fn add_length(&mut self, length: usize) {
        self.total_length += length as u64;
        self.max_length = self.max_length.max(length as i64);
    }

    /// The statistics of everything added, taken at `now` (seconds since the epoch).
    pub fn finish(&self, column: &str, type_name: &str, now: i64) -> ColumnStatistics {
        let mut stats = ColumnStatistics::empty(column, type_name);
        stats.num_nulls = self.nulls;
        stats.last_analyzed = now;
        let counts_distinct = matches!(
            self.kind,
            Kind::Long | Kind::Double | Kind::Decimal { .. } | Kind::Text
        );
        if counts_distinct {
            // A sketch's estimate may pass the number of values; the count never does.
            stats.num_distincts = Some(self.sketch.estimate().min(self.values));
            stats.bit_vector = Some(self.sketch.to_bytes());
        }
        match self.kind {
            Kind::Long => {
                if let Some((low, high)) = self.long_range {
                    stats.low = Some(StatsValue::Long(low));
                    stats.high = Some(StatsValue::Long(high));
                }
            }
            Kind::Double => {
                if let Some((low, high)) = self.double_range {
                    stats.low = Some(StatsValue::Double(low));
                    stats.high = Some(StatsValue::Double(high));
                }
            }
            Kind::Decimal { scale } => {
                if let Some((low, high)) = self.decimal_range {
                    stats.low = Some(StatsValue::Decimal(format_decimal(low, scale)));
                    stats.high = Some(StatsValue::Decimal(format_decimal(high, scale)));
                }
            }
            Kind::Text | Kind::Binary => {
                stats.avg_col_len = Some(if self.values == 0 {
                    0.0
                } else {
                    self.total_length as f64 / self.values as f64
                });
                stats.max_col_len = Some(self.max_length);
            }
            Kind::Boolean => {
                stats.num_trues = Some(self.trues);
                stats.num_falses = Some(self.falses);
            }
        }
        stats
    }
}

fn widen<T: PartialOrd + Copy>(range: &mut Option<(T, T)>, low: T, high: T) {
    *range = Some(match *range {
        None => (low, high),
        Some((l, h)) => (
            if low < l { low } else { l },
            if high > h { high } else { h },
        ),
    });
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        BinaryArray, BooleanArray, Decimal128Array, Float64Array, Int32Array, StringArray,
        TimestampNanosecondArray,
    };

    use super::*;

    fn stats_of(hive_type: HiveType, arrays: Vec<ArrayRef>) -> ColumnStatistics {
        let mut builder = ColumnStatsBuilder::new(&hive_type).expect("primitive type");
        for array in &arrays {
            builder.update(array);
        }
        builder.finish("c", "t", 7)
    }

    #[test]
    fn integers_keep_range_nulls_and_distinct_count() {
        let stats = stats_of(
            HiveType::Int,
            vec![
                Arc::new(Int32Array::from(vec![Some(5), None, Some(-3)])),
                Arc::new(Int32Array::from(vec![Some(5), Some(9)])),
            ],
        );
        assert_eq!(stats.low, Some(StatsValue::Long(-3)));
        assert_eq!(stats.high, Some(StatsValue::Long(9)));
        assert_eq!(stats.num_nulls, 1);
        assert_eq!(stats.num_distincts, Some(3));
        assert!(stats.bit_vector.is_some());
        assert_eq!(stats.avg_col_len, None);
        assert_eq!(stats.last_analyzed, 7);
    }

    #[test]
    fn strings_keep_lengths_in_characters() {
        let stats = stats_of(
            HiveType::String,
            vec![Arc::new(StringArray::from(vec![
                Some(""),
                Some("héllo"),
                None,
                Some("ab"),
                Some("ab"),
            ]))],
        );
        assert_eq!(stats.avg_col_len, Some(9.0 / 4.0));
        assert_eq!(stats.max_col_len, Some(5));
        assert_eq!(stats.num_distincts, Some(3));
        assert_eq!(stats.low, None);
    }

    #[test]
    fn doubles_decimals_booleans_binaries_and_timestamps() {
        let doubles = stats_of(
            HiveType::Double,
            vec![Arc::new(Float64Array::from(vec![0.0, -0.0, 2.5, f64::NAN]))],
        );
        assert_eq!(doubles.low, Some(StatsValue::Double(-0.0)));
        assert_eq!(doubles.high, Some(StatsValue::Double(2.5)));
        assert_eq!(doubles.num_distincts, Some(3));

        let decimals = Decimal128Array::from(vec![-150, 2025])
            .with_precision_and_scale(10, 2)
            .expect("valid decimal type");
        let decimals = stats_of(HiveType::Decimal(10, 2), vec![Arc::new(decimals)]);
        assert_eq!(decimals.low, Some(StatsValue::Decimal("-1.50".into())));
        assert_eq!(decimals.high, Some(StatsValue::Decimal("20.25".into())));

        let booleans = stats_of(
            HiveType::Boolean,
            vec![Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                Some(true),
                None,
            ]))],
        );
        assert_eq!(
            (booleans.num_trues, booleans.num_falses),
            (Some(2), Some(1))
        );
        assert_eq!(booleans.num_distincts, None);

        let binaries = stats_of(
            HiveType::Binary,
            vec![Arc::new(BinaryArray::from(vec![&b"abc"[..], &b"a"[..]]))],
        );
        assert_eq!(binaries.avg_col_len, Some(2.0));
        assert_eq!(binaries.num_distincts, None);

        let timestamps = stats_of(
            HiveType::Timestamp,
            vec![Arc::new(TimestampNanosecondArray::from(vec![
                -1_500_000_000,
                3_000_000_000,
            ]))],
        );
        assert_eq!(timestamps.low, Some(StatsValue::Long(-2)));
        assert_eq!(timestamps.high, Some(StatsValue::Long(3)));
    }

    #[test]
    fn complex_types_have_no_column_statistics() {
        assert!(!has_column_statistics(&HiveType::Array(Box::new(
            HiveType::Int
        ))));
        assert!(
            ColumnStatsBuilder::new(&HiveType::Map(
                Box::new(HiveType::String),
                Box::new(HiveType::Int)
            ))
            .is_none()
        );
    }
}
