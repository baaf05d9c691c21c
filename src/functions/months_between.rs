//! Hive's `months_between(end, start)`: whole months when both days are the same day of the
//! month or both the last day of their months; otherwise the months plus the difference of
//! the day-and-time parts over a 31-day month. Rounded to 8 decimals. Arguments are dates,
//! timestamps or strings read as Hive reads them (`1995-2-2`, `95-01-01 10:30:00`; a time
//! part without seconds is ignored).

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Builder};
use datafusion::arrow::datatypes::{DataType, Date32Type, TimeUnit, TimestampNanosecondType};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;

const SECONDS_IN_31_DAYS: f64 = 31.0 * 86_400.0;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("months_between", DataType::Float64, coerce, evaluate)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    if arg_types.len() != 2 {
        return exec_err!("months_between takes 2 arguments");
    }
    Ok(arg_types
        .iter()
        .map(|t| match t {
            DataType::Date32 | DataType::Date64 => DataType::Date32,
            DataType::Timestamp(..) => DataType::Timestamp(TimeUnit::Nanosecond, None),
            _ => DataType::Utf8,
        })
        .collect())
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let mut out = Float64Builder::with_capacity(rows);
    for row in 0..rows {
        let end = date_time(arrays[0].as_ref(), row);
        let start = date_time(arrays[1].as_ref(), row);
        out.append_option(
            end.zip(start)
                .map(|(end, start)| months_between(end, start)),
        );
    }
    Ok(Arc::new(out.finish()))
}

/// The value at `row` as a date and time (midnight for dates).
fn date_time(array: &dyn Array, row: usize) -> Option<NaiveDateTime> {
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(row);
            NaiveDate::from_num_days_from_ce_opt(days + 719_163).map(|d| d.and_time(NaiveTime::MIN))
        }
        DataType::Timestamp(TimeUnit::Nanosecond, None) => {
            let nanos = array.as_primitive::<TimestampNanosecondType>().value(row);
            Some(chrono::DateTime::from_timestamp_nanos(nanos).naive_utc())
        }
        DataType::Utf8 => parse_lenient(array.as_string::<i32>().value(row)),
        _ => None,
    }
}

/// `y-m-d[ h:m:s[.f]]` with digits of any count; a time without all three parts is ignored.
fn parse_lenient(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    let (date, time) = match text.split_once([' ', 'T']) {
        Some((date, time)) => (date, Some(time.trim())),
        None => (text, None),
    };
    let mut parts = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )?;
    let time = time
        .and_then(|time| {
            let clock = time.split('.').next().unwrap_or(time);
            let fields: Vec<u32> = clock
                .split(':')
                .map(|f| f.parse().ok())
                .collect::<Option<_>>()?;
            match fields[..] {
                [h, m, s] => NaiveTime::from_hms_opt(h, m, s),
                _ => None,
            }
        })
        .unwrap_or(NaiveTime::MIN);
    Some(date.and_time(time))
}

fn last_day_of_month(date: NaiveDate) -> u32 {
    let (year, month) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|first| first.pred_opt())
        .map_or(31, |last| last.day())
}

fn months_between(end: NaiveDateTime, start: NaiveDateTime) -> f64 {
    let months = (i64::from(end.year()) - i64::from(start.year())) * 12
        + (i64::from(end.month()) - i64::from(start.month()));
    let (d1, d2) = (end.day(), start.day());
    let both_last = d1 == last_day_of_month(end.date()) && d2 == last_day_of_month(start.date());
    let value = if d1 == d2 || both_last {
        months as f64
    } else {
        let seconds = |t: NaiveDateTime| {
            i64::from(t.day()) * 86_400 + i64::from(t.num_seconds_from_midnight())
        };
        months as f64 + (seconds(end) - seconds(start)) as f64 / SECONDS_IN_31_DAYS
    };
    (value * 1e8).round() / 1e8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn between(end: &str, start: &str) -> Option<f64> {
        Some(months_between(parse_lenient(end)?, parse_lenient(start)?))
    }

    #[test]
    fn follows_hive() {
        assert_eq!(between("1995-02-02", "1995-01-01"), Some(1.03225806));
        assert_eq!(between("2003-07-17", "2005-07-06"), Some(-23.64516129));
        assert_eq!(between("2001-06-30", "2000-05-31"), Some(13.0));
        assert_eq!(between("2002-02-28", "2002-03-01"), Some(-0.12903226));
        assert_eq!(
            between("1976-01-01 00:00:00", "1975-12-31 23:59:59"),
            Some(3.7e-7)
        );
        assert_eq!(
            between("1997-02-28 10:30:00", "1996-10-30"),
            Some(3.94959677)
        );
        assert_eq!(between("2002-03-24 10:30:00", "2002-02-24"), Some(1.0));
        assert_eq!(between("1995-02-02 10:39", "1995-01-01"), Some(1.03225806));
        assert_eq!(between("5-2-02", "5-01-1"), Some(1.03225806));
        assert_eq!(between("2012-02-30", "2012-01-01"), None);
    }
}
