//! Hive's `from_unixtime(seconds [, pattern])` and `unix_timestamp([text])`, in the session's
//! local time zone (the process's `TZ`), as Hive's are in the JVM's:
//!
//! - `from_unixtime` formats a count of seconds since the epoch as local time, by default
//!   `yyyy-MM-dd HH:mm:ss`, with Java `SimpleDateFormat` patterns;
//! - `unix_timestamp()` is now in seconds; `unix_timestamp(text)` reads `yyyy-MM-dd
//!   HH:mm:ss` (and the other forms Hive's date functions read) as local time, and
//!   `unix_timestamp(text, pattern)` reads `text` with a Java `SimpleDateFormat` pattern
//!   (`java_date_parse`). A date or timestamp argument is taken as it is, pattern or not.
//!   `to_unix_timestamp` is the same function, with an argument.

use std::sync::Arc;

use chrono::{Local, LocalResult, NaiveDateTime, TimeZone};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::exec_err;
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;
use super::date_format::format;
use super::hive_datetime::{coerced_type, date_time};
use super::java_date_parse::parse;

const DEFAULT_PATTERN: &str = "yyyy-MM-dd HH:mm:ss";

pub fn from_unixtime_udf() -> ScalarUDF {
    ArrayFunction::udf(
        "from_unixtime",
        DataType::Utf8,
        |types| match types.len() {
            1 => Ok(vec![DataType::Int64]),
            2 => Ok(vec![DataType::Int64, DataType::Utf8]),
            _ => exec_err!("from_unixtime takes 1 or 2 arguments: seconds [, pattern]"),
        },
        |arrays, rows| {
            let seconds = arrays[0].as_primitive::<Int64Type>();
            let patterns = arrays.get(1).map(|a| a.as_string::<i32>());
            let mut out = StringBuilder::with_capacity(rows, rows * 19);
            for row in 0..rows {
                let pattern = match patterns {
                    Some(p) if p.is_null(row) => None,
                    Some(p) => Some(p.value(row)),
                    None => Some(DEFAULT_PATTERN),
                };
                let local = seconds
                    .is_valid(row)
                    .then(|| Local.timestamp_opt(seconds.value(row), 0).single())
                    .flatten();
                out.append_option(
                    local
                        .zip(pattern)
                        .and_then(|(time, pattern)| format(time.naive_local(), pattern)),
                );
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        },
    )
}

pub fn unix_timestamp_udf() -> ScalarUDF {
    unix_timestamp("unix_timestamp")
}

pub fn to_unix_timestamp_udf() -> ScalarUDF {
    unix_timestamp("to_unix_timestamp")
}

fn unix_timestamp(name: &'static str) -> ScalarUDF {
    ArrayFunction::udf(
        name,
        DataType::Int64,
        |types| match types {
            [] => Ok(vec![]),
            [value] => Ok(vec![coerced_type(value)]),
            [value, _] => Ok(vec![coerced_type(value), DataType::Utf8]),
            _ => exec_err!("unix_timestamp takes at most 2 arguments: [text [, pattern]]"),
        },
        |arrays, rows| {
            let mut out = Int64Builder::with_capacity(rows);
            for row in 0..rows {
                let seconds = match arrays {
                    [] => Some(Local::now().timestamp()),
                    [values, patterns] if values.data_type() == &DataType::Utf8 => {
                        let (values, patterns) =
                            (values.as_string::<i32>(), patterns.as_string::<i32>());
                        (values.is_valid(row) && patterns.is_valid(row))
                            .then(|| parse(values.value(row), patterns.value(row)))
                            .flatten()
                            .and_then(local_seconds)
                    }
                    [values, ..] => date_time(values.as_ref(), row).and_then(local_seconds),
                };
                out.append_option(seconds);
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        },
    )
}

/// Seconds since the epoch of a local date and time; the earlier instant when the clock
/// went back, none in a gap the clock skipped.
fn local_seconds(value: NaiveDateTime) -> Option<i64> {
    match Local.from_local_datetime(&value) {
        LocalResult::Single(time) | LocalResult::Ambiguous(time, _) => Some(time.timestamp()),
        LocalResult::None => None,
    }
}
