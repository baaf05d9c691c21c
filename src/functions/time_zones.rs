//! Hive's `from_utc_timestamp(ts, zone)` and `to_utc_timestamp(ts, zone)`: a timestamp (or a
//! date, or text Hive's date functions read) taken as UTC and shown as the wall-clock time of
//! `zone`, and back. Zones are named as Java's `TimeZone.getTimeZone` names them: region IDs
//! (`America/Los_Angeles`), Java's three-letter IDs (`PST`, `CST`, `IST`, ...), `UTC`, `GMT`
//! and offsets (`GMT+08:00`, `+08:00`); a name Java does not know is GMT, as in Hive. A local
//! time the clock skipped is read with the offset before the change.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use chrono::{Duration, FixedOffset, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampNanosecondBuilder};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;
use super::hive_datetime::{coerced_type, date_time};

pub fn from_utc_timestamp_udf() -> ScalarUDF {
    ArrayFunction::udf(
        "from_utc_timestamp",
        timestamp_type(),
        coerce,
        |arrays, rows| shift(arrays, rows, |zone, value| zone.utc_to_local(value)),
    )
}

pub fn to_utc_timestamp_udf() -> ScalarUDF {
    ArrayFunction::udf(
        "to_utc_timestamp",
        timestamp_type(),
        coerce,
        |arrays, rows| shift(arrays, rows, |zone, value| zone.local_to_utc(value)),
    )
}

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, None)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [value, _] => Ok(vec![coerced_type(value), DataType::Utf8]),
        _ => exec_err!("takes 2 arguments: a timestamp and a time zone"),
    }
}

fn shift(
    arrays: &[ArrayRef],
    rows: usize,
    convert: fn(&Zone, NaiveDateTime) -> Option<NaiveDateTime>,
) -> Result<ArrayRef> {
    let zones = arrays[1].as_string::<i32>();
    let mut out = TimestampNanosecondBuilder::with_capacity(rows);
    let mut last: Option<(String, Zone)> = None;
    for row in 0..rows {
        let value = date_time(arrays[0].as_ref(), row).filter(|_| zones.is_valid(row));
        let Some(value) = value else {
            out.append_null();
            continue;
        };
        let name = zones.value(row);
        if last.as_ref().is_none_or(|(n, _)| n != name) {
            last = Some((name.to_string(), Zone::named(name)));
        }
        let shifted = last
            .as_ref()
            .and_then(|(_, zone)| convert(zone, value))
            .and_then(|t| t.and_utc().timestamp_nanos_opt());
        out.append_option(shifted);
    }
    Ok(Arc::new(out.finish()))
}

/// A time zone as Java names them.
enum Zone {
    Region(Tz),
    Fixed(FixedOffset),
}

/// Java's three-letter zone IDs (`ZoneId.SHORT_IDS`, as `TimeZone.getTimeZone` reads them).
const SHORT_IDS: &[(&str, &str)] = &[
    ("ACT", "Australia/Darwin"),
    ("AET", "Australia/Sydney"),
    ("AGT", "America/Argentina/Buenos_Aires"),
    ("ART", "Africa/Cairo"),
    ("AST", "America/Anchorage"),
    ("BET", "America/Sao_Paulo"),
    ("BST", "Asia/Dhaka"),
    ("CAT", "Africa/Harare"),
    ("CNT", "America/St_Johns"),
    ("CST", "America/Chicago"),
    ("CTT", "Asia/Shanghai"),
    ("EAT", "Africa/Addis_Ababa"),
    ("ECT", "Europe/Paris"),
    ("IET", "America/Indiana/Indianapolis"),
    ("IST", "Asia/Kolkata"),
    ("JST", "Asia/Tokyo"),
    ("MIT", "Pacific/Apia"),
    ("NET", "Asia/Yerevan"),
    ("NST", "Pacific/Auckland"),
    ("PLT", "Asia/Karachi"),
    ("PNT", "America/Phoenix"),
    ("PRT", "America/Puerto_Rico"),
    ("PST", "America/Los_Angeles"),
    ("SST", "Pacific/Guadalcanal"),
    ("VST", "Asia/Ho_Chi_Minh"),
];

/// Java's fixed three-letter zones.
const FIXED_SHORT_IDS: &[(&str, i32)] = &[("EST", -5), ("MST", -7), ("HST", -10)];

impl Zone {
    fn named(name: &str) -> Zone {
        let name = name.trim();
        if let Some((_, hours)) = FIXED_SHORT_IDS.iter().find(|(id, _)| *id == name) {
            return Zone::fixed_seconds(hours * 3600);
        }
        if let Some((_, region)) = SHORT_IDS.iter().find(|(id, _)| *id == name)
            && let Ok(tz) = Tz::from_str(region)
        {
            return Zone::Region(tz);
        }
        if let Ok(tz) = Tz::from_str(name) {
            return Zone::Region(tz);
        }
        let offset = name
            .strip_prefix("GMT")
            .or_else(|| name.strip_prefix("UTC"))
            .unwrap_or(name);
        Zone::fixed_seconds(parse_offset(offset).unwrap_or(0))
    }

    fn fixed_seconds(seconds: i32) -> Zone {
        Zone::Fixed(FixedOffset::east_opt(seconds).unwrap_or(Offset::fix(&chrono::Utc)))
    }

    fn utc_to_local(&self, value: NaiveDateTime) -> Option<NaiveDateTime> {
        Some(match self {
            Zone::Region(tz) => tz.from_utc_datetime(&value).naive_local(),
            Zone::Fixed(offset) => offset.from_utc_datetime(&value).naive_local(),
        })
    }

    fn local_to_utc(&self, value: NaiveDateTime) -> Option<NaiveDateTime> {
        let offset = match self {
            Zone::Fixed(offset) => *offset,
            Zone::Region(tz) => match tz.from_local_datetime(&value).earliest() {
                Some(time) => time.offset().fix(),
                // In a gap the clock skipped: the offset in force just before it.
                None => tz
                    .offset_from_utc_datetime(&value.checked_sub_signed(Duration::days(1))?)
                    .fix(),
            },
        };
        value.checked_sub_signed(Duration::seconds(i64::from(offset.local_minus_utc())))
    }
}

/// A time-zone field of `SimpleDateFormat` for a wall-clock `value` in the session's zone
/// (the process's `TZ`): `z` the zone's abbreviation (`PST`; `GMT-08:00` when the zone has
/// none), `Z` `-0800`, `X` `-08`, `XX` `-0800`, `XXX` `-08:00` (`Z` for UTC). Java's full
/// names (`zzzz`) are not known here: `None`.
pub(super) fn local_zone_field(value: NaiveDateTime, letter: char, count: usize) -> Option<String> {
    zone_field(value, letter, count, process_region())
}

/// The zone named by the process's `TZ`, read once: it is set before the process starts (the
/// q-test runner starts itself again with it), so it does not change while queries run.
fn process_region() -> Option<Tz> {
    static REGION: OnceLock<Option<Tz>> = OnceLock::new();
    *REGION.get_or_init(|| {
        std::env::var("TZ")
            .ok()
            .and_then(|name| Tz::from_str(name.trim_start_matches(':')).ok())
    })
}

/// [`local_zone_field`] in `region`, or in the system's zone (without abbreviations).
fn zone_field(
    value: NaiveDateTime,
    letter: char,
    count: usize,
    region: Option<Tz>,
) -> Option<String> {
    let (seconds, abbreviation) = match region {
        Some(tz) => {
            let time = tz.from_local_datetime(&value).earliest()?;
            let offset = time.offset();
            (
                offset.fix().local_minus_utc(),
                chrono_tz::OffsetName::abbreviation(offset)
                    .filter(|a| a.starts_with(|c: char| c.is_ascii_alphabetic()))
                    .map(str::to_string),
            )
        }
        None => (
            chrono::Local
                .from_local_datetime(&value)
                .earliest()?
                .offset()
                .local_minus_utc(),
            None,
        ),
    };
    let sign = if seconds < 0 { '-' } else { '+' };
    let (hours, minutes) = (seconds.abs() / 3600, seconds.abs() % 3600 / 60);
    Some(match (letter, count) {
        ('z', 1..=3) => abbreviation.unwrap_or_else(|| format!("GMT{sign}{hours:02}:{minutes:02}")),
        ('Z', _) => format!("{sign}{hours:02}{minutes:02}"),
        ('X', _) if seconds == 0 => "Z".to_string(),
        ('X', 1) => format!("{sign}{hours:02}"),
        ('X', 2) => format!("{sign}{hours:02}{minutes:02}"),
        ('X', 3) => format!("{sign}{hours:02}:{minutes:02}"),
        _ => return None,
    })
}

/// `+8`, `-08:00`, `+0530` as seconds east of UTC; empty is 0.
fn parse_offset(text: &str) -> Option<i32> {
    if text.is_empty() {
        return Some(0);
    }
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
        None if digits.len() > 2 => (
            digits[..digits.len() - 2].parse().ok()?,
            digits[digits.len() - 2..].parse().ok()?,
        ),
        None => (digits.parse().ok()?, 0),
    };
    (hours <= 23 && minutes <= 59).then_some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;

    use super::Zone;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn zone_letters_format_as_simple_date_format() {
        let region = Some(chrono_tz::Tz::America__Los_Angeles);
        let winter = at("2024-01-15 10:00:00");
        let field = |letter, count| super::zone_field(winter, letter, count, region);
        assert_eq!(field('z', 1).as_deref(), Some("PST"));
        assert_eq!(field('Z', 1).as_deref(), Some("-0800"));
        assert_eq!(field('X', 1).as_deref(), Some("-08"));
        assert_eq!(field('X', 3).as_deref(), Some("-08:00"));
        assert_eq!(field('z', 4), None);
        let summer = super::zone_field(at("2024-07-15 10:00:00"), 'z', 1, region);
        assert_eq!(summer.as_deref(), Some("PDT"));
        let utc = super::zone_field(winter, 'X', 1, Some(chrono_tz::Tz::UTC));
        assert_eq!(utc.as_deref(), Some("Z"));
    }

    #[test]
    fn zones_are_named_as_java_names_them() {
        let winter = at("2024-01-15 12:00:00");
        let shown = |zone: &str| Zone::named(zone).utc_to_local(winter).unwrap().to_string();
        assert_eq!(shown("PST"), "2024-01-15 04:00:00");
        assert_eq!(shown("America/New_York"), "2024-01-15 07:00:00");
        assert_eq!(shown("EST"), "2024-01-15 07:00:00");
        assert_eq!(shown("GMT+05:30"), "2024-01-15 17:30:00");
        assert_eq!(shown("Nowhere/Else"), "2024-01-15 12:00:00");
        let summer = at("2024-07-15 12:00:00");
        assert_eq!(
            Zone::named("PST").local_to_utc(summer).unwrap().to_string(),
            "2024-07-15 19:00:00"
        );
    }
}
