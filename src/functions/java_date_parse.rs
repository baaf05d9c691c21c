//! Reading a date and time with a Java `SimpleDateFormat` pattern, as Hive's
//! `unix_timestamp(text, pattern)` does (US locale, lenient): `y M d H h k K m s S a D E`,
//! quoted text in `'...'`, other characters matched as written. A numeric field reads all the
//! digits there are, or exactly its letter count when another numeric field follows without
//! a separator (`yyyyMMdd`). Lenient means out-of-range fields carry over (`2024-13-01` is
//! `2025-01-01`). Text after the pattern is ignored, as `SimpleDateFormat.parse` ignores it.
//!
//! Written by hand: chrono's parser takes strftime patterns and is strict about ranges.

use chrono::{Duration, Months, NaiveDate, NaiveDateTime};

use super::hive_datetime::{DAY_NAMES, MONTH_NAMES};

/// The fields read so far; each defaults as Java's calendar does (1970-01-01 00:00:00).
#[derive(Default)]
struct Fields {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    hour: i64,
    hour_is_12: bool,
    pm: bool,
    minute: i64,
    second: i64,
    millisecond: i64,
}

fn is_numeric_letter(c: char) -> bool {
    matches!(
        c,
        'y' | 'M' | 'd' | 'H' | 'h' | 'k' | 'K' | 'm' | 's' | 'S' | 'D'
    )
}

/// `text` read by `pattern`, or `None` when it does not match.
pub fn parse(text: &str, pattern: &str) -> Option<NaiveDateTime> {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let mut at = 0;
    let mut fields = Fields::default();
    let mut i = 0;
    while i < pattern.len() {
        let c = pattern[i];
        if c == '\'' {
            if pattern.get(i + 1) == Some(&'\'') {
                expect(&text, &mut at, '\'')?;
                i += 2;
                continue;
            }
            // Quoted text, in which '' is a quote.
            i += 1;
            loop {
                match (pattern.get(i)?, pattern.get(i + 1)) {
                    ('\'', Some('\'')) => {
                        expect(&text, &mut at, '\'')?;
                        i += 2;
                    }
                    ('\'', _) => break,
                    (&literal, _) => {
                        expect(&text, &mut at, literal)?;
                        i += 1;
                    }
                }
            }
            i += 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            expect(&text, &mut at, c)?;
            i += 1;
            continue;
        }
        let count = pattern[i..].iter().take_while(|&&l| l == c).count();
        let abutting = pattern
            .get(i + count)
            .is_some_and(|&n| is_numeric_letter(n));
        read_field(&text, &mut at, c, count, abutting, &mut fields)?;
        i += count;
    }
    fields.resolve()
}

fn expect(text: &[char], at: &mut usize, c: char) -> Option<()> {
    (text.get(*at) == Some(&c)).then(|| *at += 1)
}

fn read_number(text: &[char], at: &mut usize, width: Option<usize>) -> Option<i64> {
    let start = *at;
    let limit = width.map_or(text.len(), |w| (start + w).min(text.len()));
    while *at < limit && text[*at].is_ascii_digit() {
        *at += 1;
    }
    if *at == start {
        return None;
    }
    text[start..*at].iter().collect::<String>().parse().ok()
}

/// Reads one of `names` (or its three-letter form), case-insensitively; its index.
fn read_name(text: &[char], at: &mut usize, names: &[&str]) -> Option<usize> {
    let rest: String = text[*at..].iter().collect::<String>().to_lowercase();
    for (index, name) in names.iter().enumerate() {
        let name = name.to_lowercase();
        for form in [name.as_str(), &name[..3]] {
            if rest.starts_with(form) {
                *at += form.chars().count();
                return Some(index);
            }
        }
    }
    None
}

fn read_field(
    text: &[char],
    at: &mut usize,
    letter: char,
    count: usize,
    abutting: bool,
    fields: &mut Fields,
) -> Option<()> {
    let width = abutting.then_some(count);
    match letter {
        'M' if count >= 3 => fields.month = Some(read_name(text, at, &MONTH_NAMES)? as i64 + 1),
        'E' => {
            read_name(text, at, &DAY_NAMES)?;
        }
        'a' => {
            let rest: String = text[*at..]
                .iter()
                .take(2)
                .collect::<String>()
                .to_lowercase();
            fields.pm = match rest.as_str() {
                "am" => false,
                "pm" => true,
                _ => return None,
            };
            *at += 2;
        }
        'y' => {
            let start = *at;
            let year = read_number(text, at, width)?;
            // Two digits with a pattern of at most two letters: the century within 80 years
            // before and 20 after now, as Java picks it (fixed here to 1950..2049).
            fields.year = Some(if count <= 2 && *at - start == 2 {
                if year < 50 { 2000 + year } else { 1900 + year }
            } else {
                year
            });
        }
        'M' => fields.month = Some(read_number(text, at, width)?),
        'd' => fields.day = Some(read_number(text, at, width)?),
        'D' => fields.day_of_year = Some(read_number(text, at, width)?),
        'H' => fields.hour = read_number(text, at, width)?,
        'k' => fields.hour = read_number(text, at, width)? % 24,
        'K' => {
            fields.hour = read_number(text, at, width)?;
            fields.hour_is_12 = true;
        }
        'h' => {
            fields.hour = read_number(text, at, width)? % 12;
            fields.hour_is_12 = true;
        }
        'm' => fields.minute = read_number(text, at, width)?,
        's' => fields.second = read_number(text, at, width)?,
        'S' => fields.millisecond = read_number(text, at, width)?,
        _ => return None,
    }
    Some(())
}

impl Fields {
    /// The date and time, out-of-range fields carried over.
    fn resolve(self) -> Option<NaiveDateTime> {
        let year = i32::try_from(self.year.unwrap_or(1970)).ok()?;
        let start = NaiveDate::from_ymd_opt(year, 1, 1)?;
        let date = match self.day_of_year {
            Some(day) if self.month.is_none() && self.day.is_none() => {
                start.checked_add_signed(Duration::try_days(day.checked_sub(1)?)?)?
            }
            _ => {
                let months = self.month.unwrap_or(1).checked_sub(1)?;
                let shifted = if months >= 0 {
                    start.checked_add_months(Months::new(u32::try_from(months).ok()?))?
                } else {
                    start.checked_sub_months(Months::new(u32::try_from(-months).ok()?))?
                };
                shifted.checked_add_signed(Duration::try_days(
                    self.day.unwrap_or(1).checked_sub(1)?,
                )?)?
            }
        };
        let hour = if self.hour_is_12 && self.pm {
            self.hour.checked_add(12)?
        } else {
            self.hour
        };
        // Field values are read leniently, so any of them may be huge: checked arithmetic.
        let time = Duration::try_hours(hour)?
            .checked_add(&Duration::try_minutes(self.minute)?)?
            .checked_add(&Duration::try_seconds(self.second)?)?
            .checked_add(&Duration::try_milliseconds(self.millisecond)?)?;
        date.and_hms_opt(0, 0, 0)?.checked_add_signed(time)
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn text(value: &str, pattern: &str) -> Option<String> {
        parse(value, pattern).map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
    }

    #[test]
    fn java_patterns_read_dates_and_times() {
        assert_eq!(
            text("2024-03-05", "yyyy-MM-dd").as_deref(),
            Some("2024-03-05 00:00:00.000")
        );
        assert_eq!(
            text("20240305 0712", "yyyyMMdd HHmm").as_deref(),
            Some("2024-03-05 07:12:00.000")
        );
        assert_eq!(
            text("05/Mar/2024:10:00:01 PM", "dd/MMM/yyyy:hh:mm:ss a").as_deref(),
            Some("2024-03-05 22:00:01.000")
        );
        assert_eq!(
            text(
                "Tue, 5 March 24 at 07 o'clock",
                "EEE, d MMMM yy 'at' HH 'o''clock'"
            )
            .as_deref(),
            Some("2024-03-05 07:00:00.000")
        );
    }

    #[test]
    fn lenient_fields_carry_over_and_mismatches_fail() {
        assert_eq!(
            text("2024-13-32", "yyyy-MM-dd").as_deref(),
            Some("2025-02-01 00:00:00.000")
        );
        assert_eq!(text("2024/03/05", "yyyy-MM-dd"), None);
        // Huge lenient fields give nothing rather than overflow.
        assert_eq!(text("99999999999999999", "dd"), None);
        assert_eq!(text("9223372036854775807", "HH"), None);
        assert_eq!(
            text("2024-03-05 trailing", "yyyy-MM-dd").as_deref(),
            Some("2024-03-05 00:00:00.000")
        );
    }
}
