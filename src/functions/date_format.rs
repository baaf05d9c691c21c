//! Hive's `date_format(value, pattern)` with Java `SimpleDateFormat` patterns (US locale):
//! `G y Y M w W D d F E u a H k K h m s S`, and the time-zone letters `z Z X`, which show the
//! session's zone (the process's `TZ`) at that wall-clock time, as Hive shows the JVM's;
//! quoted text in `'...'`. Another pattern letter gives NULL, as an invalid pattern does in
//! Hive.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;
use super::hive_datetime::{DAY_NAMES, MONTH_NAMES, coerced_type, date_time};
use super::time_zones::local_zone_field;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("date_format", DataType::Utf8, coerce, evaluate)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    let [value, _] = arg_types else {
        return exec_err!("date_format takes 2 arguments: date_format(date, pattern)");
    };
    Ok(vec![coerced_type(value), DataType::Utf8])
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let patterns = arrays[1].as_string::<i32>();
    let mut out = StringBuilder::with_capacity(rows, rows * 16);
    for row in 0..rows {
        let value = date_time(arrays[0].as_ref(), row);
        let formatted = value
            .filter(|_| patterns.is_valid(row))
            .and_then(|value| format(value, patterns.value(row)));
        out.append_option(formatted);
    }
    Ok(Arc::new(out.finish()))
}

/// `value` formatted by `pattern`, or `None` for a pattern letter Apiary does not know.
pub(super) fn format(value: NaiveDateTime, pattern: &str) -> Option<String> {
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // '' is a quote; '...' is literal text.
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            let end = chars[i + 1..].iter().position(|&q| q == '\'')?;
            out.extend(&chars[i + 1..i + 1 + end]);
            i += end + 2;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let count = chars[i..].iter().take_while(|&&l| l == c).count();
        out.push_str(&field(value, c, count)?);
        i += count;
    }
    Some(out)
}

fn number(value: i64, width: usize) -> String {
    format!("{value:0width$}")
}

/// Weeks start on Sunday and week 1 holds January 1st (the US rules).
fn week_of(date: NaiveDate, first: NaiveDate) -> i64 {
    let offset = i64::from(first.weekday().num_days_from_sunday());
    (date.signed_duration_since(first).num_days() + offset) / 7 + 1
}

/// The week-based year and the week of it.
fn week_year(date: NaiveDate) -> (i32, i64) {
    let next_year = NaiveDate::from_ymd_opt(date.year() + 1, 1, 1);
    if let Some(next) = next_year {
        let start_of_its_week =
            next - chrono::Duration::days(i64::from(next.weekday().num_days_from_sunday()));
        if date >= start_of_its_week {
            return (date.year() + 1, 1);
        }
    }
    let first = NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date);
    (date.year(), week_of(date, first))
}

fn field(value: NaiveDateTime, letter: char, count: usize) -> Option<String> {
    let date = value.date();
    let year_text = |year: i32| {
        if count == 2 {
            number(i64::from(year.rem_euclid(100)), 2)
        } else {
            number(i64::from(year), count)
        }
    };
    let hour = value.hour();
    Some(match letter {
        'G' => if date.year() > 0 { "AD" } else { "BC" }.to_string(),
        'y' => year_text(date.year()),
        'Y' => year_text(week_year(date).0),
        'M' => {
            let name = MONTH_NAMES[date.month0() as usize];
            match count {
                1 | 2 => number(i64::from(date.month()), count),
                3 => name[..3].to_string(),
                _ => name.to_string(),
            }
        }
        'w' => number(week_year(date).1, count),
        'W' => number(week_of(date, date.with_day(1)?), count),
        'D' => number(i64::from(date.ordinal()), count),
        'd' => number(i64::from(date.day()), count),
        'F' => number(i64::from((date.day() - 1) / 7 + 1), count),
        'E' => {
            let name = DAY_NAMES[date.weekday().num_days_from_monday() as usize];
            if count >= 4 { name } else { &name[..3] }.to_string()
        }
        'u' => number(i64::from(date.weekday().number_from_monday()), count),
        'a' => if hour < 12 { "AM" } else { "PM" }.to_string(),
        'H' => number(i64::from(hour), count),
        'k' => number(i64::from(if hour == 0 { 24 } else { hour }), count),
        'K' => number(i64::from(hour % 12), count),
        'h' => number(
            i64::from(if hour.is_multiple_of(12) {
                12
            } else {
                hour % 12
            }),
            count,
        ),
        'm' => number(i64::from(value.minute()), count),
        's' => number(i64::from(value.second()), count),
        'S' => number(i64::from(value.nanosecond() / 1_000_000), count),
        'z' | 'Z' | 'X' => local_zone_field(value, letter, count)?,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::format;
    use crate::functions::hive_datetime::parse_lenient;

    fn formatted(value: &str, pattern: &str) -> Option<String> {
        format(parse_lenient(value)?, pattern)
    }

    #[test]
    fn formats_like_simple_date_format() {
        let date = "2015-04-08";
        let cases = [
            ("E", "Wed"),
            ("EEEE", "Wednesday"),
            ("G", "AD"),
            ("y", "2015"),
            ("YY", "15"),
            ("MMM", "Apr"),
            ("w", "15"),
            ("W", "2"),
            ("D", "98"),
            ("d", "8"),
            ("yyyy-MM-dd 'at' HH:mm", "2015-04-08 at 00:00"),
            ("", ""),
        ];
        for (pattern, expected) in cases {
            assert_eq!(
                formatted(date, pattern).as_deref(),
                Some(expected),
                "{pattern}"
            );
        }
        assert_eq!(
            formatted("2015-04-08 21:30:45.123", "hh a SSS").as_deref(),
            Some("09 PM 123")
        );
        assert_eq!(formatted("2014-12-30", "Y w").as_deref(), Some("2015 1"));
        assert_eq!(formatted(date, "Q"), None);
    }
}
