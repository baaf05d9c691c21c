//! Dates and timestamps as Hive's date functions take them: DATE and TIMESTAMP values, or
//! strings read leniently (`2015-4-8`, `95-01-01 10:30:45.123`, `2015-04-08T10:30:45`; a
//! time part without seconds is ignored).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Date32Type, TimeUnit, TimestampNanosecondType};

/// English month names, as Java's US locale writes them (`MMMM`; `MMM` is the first three).
pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English day names from Monday, as Java's US locale writes them (`EEEE`; `EEE` is the first
/// three).
pub const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The type an argument of a Hive date function is given as.
pub fn coerced_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Date32 | DataType::Date64 => DataType::Date32,
        DataType::Timestamp(..) => DataType::Timestamp(TimeUnit::Nanosecond, None),
        _ => DataType::Utf8,
    }
}

/// The value at `row` of an array of a [`coerced_type`] as a date and time (midnight for a
/// date); `None` for NULL or a string that is not a date.
pub fn date_time(array: &dyn Array, row: usize) -> Option<NaiveDateTime> {
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
pub fn parse_lenient(text: &str) -> Option<NaiveDateTime> {
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
    let time = time.and_then(parse_time).unwrap_or(NaiveTime::MIN);
    Some(date.and_time(time))
}

/// `h:m:s[.fraction]`.
fn parse_time(text: &str) -> Option<NaiveTime> {
    let (clock, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fields: Vec<u32> = clock
        .split(':')
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = fields[..] else {
        return None;
    };
    let digits: String = fraction.chars().take(9).collect();
    let nanos = if digits.is_empty() {
        0
    } else {
        digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32)
    };
    NaiveTime::from_hms_nano_opt(h, m, s, nanos)
}

#[cfg(test)]
mod tests {
    use super::parse_lenient;

    #[test]
    fn reads_dates_as_hive_does() {
        let text = |s: &str| parse_lenient(s).map(|t| t.to_string());
        assert_eq!(text("5-2-02").as_deref(), Some("0005-02-02 00:00:00"));
        assert_eq!(
            text("2015-04-08T10:30:45.123").as_deref(),
            Some("2015-04-08 10:30:45.123")
        );
        assert_eq!(
            text("2015-04-08 10:30").as_deref(),
            Some("2015-04-08 00:00:00")
        );
        assert_eq!(text("2015-02-30"), None);
    }
}
