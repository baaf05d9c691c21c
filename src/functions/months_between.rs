//! Hive's `months_between(end, start)`: whole months when both days are the same day of the
//! month or both the last day of their months; otherwise the months plus the difference of
//! the day-and-time parts over a 31-day month. Rounded to 8 decimals. Arguments are dates,
//! timestamps or strings read as Hive reads them (`1995-2-2`, `95-01-01 10:30:00`; a time
//! part without seconds is ignored).

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{ArrayRef, Float64Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;
use super::hive_datetime::{coerced_type, date_time};

const SECONDS_IN_31_DAYS: f64 = 31.0 * 86_400.0;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("months_between", DataType::Float64, coerce, evaluate)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    if arg_types.len() != 2 {
        return exec_err!("months_between takes 2 arguments");
    }
    Ok(arg_types.iter().map(coerced_type).collect())
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

    use crate::functions::hive_datetime::parse_lenient;

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
