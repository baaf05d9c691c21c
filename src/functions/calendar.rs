//! Hive's calendar functions over dates, timestamps and strings read leniently, each giving
//! a `yyyy-MM-dd` string as Hive 3.1's do:
//!
//! - `last_day(d)`: the last day of `d`'s month;
//! - `add_months(d, n)`: `n` months later, clamped to the month's length, and the last day of
//!   the month when `d` is the last day of its month (`add_months('2024-02-29', 1)` is
//!   `2024-03-31`);
//! - `next_day(d, 'MO')`: the first given day of the week after `d` (`MO`, `MON`, `MONDAY`, ...).

use std::sync::Arc;

use chrono::{Datelike, Months, NaiveDate, Weekday};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;
use super::hive_datetime::{DAY_NAMES, coerced_type, date_time};

pub fn last_day_udf() -> ScalarUDF {
    ArrayFunction::udf("last_day", DataType::Utf8, one_date, |arrays, rows| {
        dates(arrays, rows, |date, _| Some(last_day(date)))
    })
}

pub fn add_months_udf() -> ScalarUDF {
    ArrayFunction::udf(
        "add_months",
        DataType::Utf8,
        |types| date_and(types, DataType::Int64),
        |arrays, rows| {
            let months = arrays[1].as_primitive::<Int64Type>();
            dates(arrays, rows, |date, row| {
                months
                    .is_valid(row)
                    .then(|| add_months(date, months.value(row)))?
            })
        },
    )
}

pub fn next_day_udf() -> ScalarUDF {
    ArrayFunction::udf(
        "next_day",
        DataType::Utf8,
        |types| date_and(types, DataType::Utf8),
        |arrays, rows| {
            let days = arrays[1].as_string::<i32>();
            dates(arrays, rows, |date, row| {
                let weekday = weekday(days.is_valid(row).then(|| days.value(row))?)?;
                let ahead = (7 + weekday.num_days_from_monday()
                    - date.weekday().num_days_from_monday()
                    - 1)
                    % 7
                    + 1;
                date.checked_add_days(chrono::Days::new(u64::from(ahead)))
            })
        },
    )
}

fn one_date(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [date] => Ok(vec![coerced_type(date)]),
        _ => exec_err!("takes 1 argument: a date"),
    }
}

fn date_and(arg_types: &[DataType], second: DataType) -> Result<Vec<DataType>> {
    match arg_types {
        [date, _] => Ok(vec![coerced_type(date), second]),
        _ => exec_err!("takes 2 arguments"),
    }
}

/// Applies `f` to each row's date (the first argument), giving `yyyy-MM-dd` strings.
fn dates(
    arrays: &[ArrayRef],
    rows: usize,
    f: impl Fn(NaiveDate, usize) -> Option<NaiveDate>,
) -> Result<ArrayRef> {
    let mut out = StringBuilder::with_capacity(rows, rows * 10);
    for row in 0..rows {
        let result = date_time(arrays[0].as_ref(), row).and_then(|value| f(value.date(), row));
        out.append_option(result.map(|date| date.format("%Y-%m-%d").to_string()));
    }
    Ok(Arc::new(out.finish()))
}

fn last_day(date: NaiveDate) -> NaiveDate {
    let first = date.with_day(1).unwrap_or(date);
    first
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(date)
}

fn add_months(date: NaiveDate, months: i64) -> Option<NaiveDate> {
    let count = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    let moved = if months >= 0 {
        date.checked_add_months(count)?
    } else {
        date.checked_sub_months(count)?
    };
    Some(if date == last_day(date) {
        last_day(moved)
    } else {
        moved
    })
}

/// A day of the week by its two-letter, three-letter or full English name, as Hive's
/// `next_day` reads it.
fn weekday(name: &str) -> Option<Weekday> {
    let name = name.trim().to_ascii_uppercase();
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    days.into_iter().zip(DAY_NAMES).find_map(|(day, full)| {
        let full = full.to_ascii_uppercase();
        [&full[..2], &full[..3], full.as_str()]
            .contains(&name.as_str())
            .then_some(day)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn months_keep_the_last_day() {
        assert_eq!(add_months(date("2024-01-31"), 1), Some(date("2024-02-29")));
        assert_eq!(add_months(date("2024-02-29"), 1), Some(date("2024-03-31")));
        assert_eq!(add_months(date("2024-03-15"), -2), Some(date("2024-01-15")));
        assert_eq!(last_day(date("2023-02-10")), date("2023-02-28"));
    }

    #[test]
    fn weekdays_by_any_name() {
        assert_eq!(weekday("mo"), Some(Weekday::Mon));
        assert_eq!(weekday("Tue"), Some(Weekday::Tue));
        assert_eq!(weekday("sunday"), Some(Weekday::Sun));
        assert_eq!(weekday("xx"), None);
    }
}
