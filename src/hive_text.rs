//! Rendering values the way Hive prints them: in the CLI (`NULL`, `true`, `1.0E10`, `[1,2]`,
//! `{"k":1}`, `{"a":1,"b":"x"}`) and inside delimited text files, where nested values are
//! separated by a delimiter per nesting level.

use std::fmt::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use datafusion::arrow::array::{
    Array, AsArray, BooleanArray, Date32Array, Float32Array, Float64Array, Int8Array, Int16Array,
    Int32Array, Int64Array, MapArray, StructArray, TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, Date64Type, Decimal128Type, Decimal256Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// How nested values and NULLs are written.
pub enum Style<'a> {
    /// As the Hive CLI prints query results: top-level NULL is `NULL`, nested values are
    /// JSON-like with quoted strings and `null`.
    Cli,
    /// As LazySimpleSerDe writes a text file: NULL is `null_format`, nested values separated
    /// by `separators[level]`, delimiter characters escaped when `escape` is set.
    Text {
        separators: &'a [u8],
        null_format: &'a str,
        escape: Option<u8>,
    },
}

/// Appends the value at `row` of `array` to `out`, in `style`.
pub fn write_value(out: &mut String, array: &dyn Array, row: usize, style: &Style<'_>) {
    write_at_level(out, array, row, style, 0)
}

fn write_at_level(
    out: &mut String,
    array: &dyn Array,
    row: usize,
    style: &Style<'_>,
    level: usize,
) {
    if array.is_null(row) {
        match style {
            Style::Cli if level == 0 => out.push_str("NULL"),
            Style::Cli => out.push_str("null"),
            Style::Text { null_format, .. } => out.push_str(null_format),
        }
        return;
    }
    match array.data_type() {
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
            let values = list_values(array, row);
            let (open, sep, close) = nested_marks(style, level, "[", ",", "]");
            out.push_str(open);
            for i in 0..values.len() {
                if i > 0 {
                    out.push_str(&sep);
                }
                write_nested(out, values.as_ref(), i, style, level + 1);
            }
            out.push_str(close);
        }
        DataType::Map(_, _) => {
            let map: &MapArray = array.as_map();
            let entries = map.value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let (open, sep, close) = nested_marks(style, level, "{", ",", "}");
            let (_, kv_sep, _) = nested_marks(style, level + 1, "", ":", "");
            out.push_str(open);
            for i in 0..entries.len() {
                if i > 0 {
                    out.push_str(&sep);
                }
                write_nested(out, keys.as_ref(), i, style, level + 2);
                out.push_str(&kv_sep);
                write_nested(out, values.as_ref(), i, style, level + 2);
            }
            out.push_str(close);
        }
        DataType::Struct(fields) => {
            let array: &StructArray = array.as_struct();
            let (open, sep, close) = nested_marks(style, level, "{", ",", "}");
            out.push_str(open);
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(&sep);
                }
                if matches!(style, Style::Cli) {
                    let _ = write!(out, "\"{}\":", field.name());
                }
                write_nested(out, array.column(i).as_ref(), row, style, level + 1);
            }
            out.push_str(close);
        }
        _ => write_primitive(out, array, row, style, level),
    }
}

/// Nested strings, dates and timestamps are quoted in the CLI style, as Hive's JSON-like
/// rendering of complex values quotes them.
fn write_nested(out: &mut String, array: &dyn Array, row: usize, style: &Style<'_>, level: usize) {
    let cli_value = matches!(style, Style::Cli) && !array.is_null(row);
    match array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View if cli_value => {
            out.push('"');
            write_json_escaped(out, string_value(array, row));
            out.push('"');
        }
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) if cli_value => {
            out.push('"');
            write_at_level(out, array, row, style, level);
            out.push('"');
        }
        _ => write_at_level(out, array, row, style, level),
    }
}

fn nested_marks(
    style: &Style<'_>,
    level: usize,
    open: &'static str,
    sep: &'static str,
    close: &'static str,
) -> (&'static str, String, &'static str) {
    match style {
        Style::Cli => (open, sep.to_string(), close),
        Style::Text { separators, .. } => {
            // Level 0 is the field separator; a value nested at level n uses separators[n + 1].
            let byte = separators.get(level + 1).copied().unwrap_or(b'\x01');
            ("", (byte as char).to_string(), "")
        }
    }
}

fn list_values(array: &dyn Array, row: usize) -> std::sync::Arc<dyn Array> {
    match array.data_type() {
        DataType::List(_) => array.as_list::<i32>().value(row),
        DataType::LargeList(_) => array.as_list::<i64>().value(row),
        _ => array.as_fixed_size_list().value(row),
    }
}

fn string_value(array: &dyn Array, row: usize) -> &str {
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(row),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row),
        _ => array.as_string_view().value(row),
    }
}

fn write_json_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

fn write_primitive(
    out: &mut String,
    array: &dyn Array,
    row: usize,
    style: &Style<'_>,
    level: usize,
) {
    macro_rules! display {
        ($t:ty) => {{
            let _ = write!(
                out,
                "{}",
                array
                    .as_any()
                    .downcast_ref::<$t>()
                    .map(|a| a.value(row))
                    .unwrap_or_default()
            );
        }};
    }
    match array.data_type() {
        DataType::Boolean => {
            let value = array
                .as_any()
                .downcast_ref::<BooleanArray>()
                .is_some_and(|a| a.value(row));
            out.push_str(if value { "true" } else { "false" });
        }
        DataType::Int8 => display!(Int8Array),
        DataType::Int16 => display!(Int16Array),
        DataType::Int32 => display!(Int32Array),
        DataType::Int64 => display!(Int64Array),
        DataType::UInt8 => {
            let _ = write!(out, "{}", array.as_primitive::<UInt8Type>().value(row));
        }
        DataType::UInt16 => {
            let _ = write!(out, "{}", array.as_primitive::<UInt16Type>().value(row));
        }
        DataType::UInt32 => {
            let _ = write!(out, "{}", array.as_primitive::<UInt32Type>().value(row));
        }
        DataType::UInt64 => {
            let _ = write!(out, "{}", array.as_primitive::<UInt64Type>().value(row));
        }
        DataType::Float32 => {
            let value = array
                .as_any()
                .downcast_ref::<Float32Array>()
                .map(|a| a.value(row))
                .unwrap_or_default();
            out.push_str(&java_float_string(value as f64, true));
        }
        DataType::Float64 => {
            let value = array
                .as_any()
                .downcast_ref::<Float64Array>()
                .map(|a| a.value(row))
                .unwrap_or_default();
            out.push_str(&java_float_string(value, false));
        }
        DataType::Decimal128(_, scale) => {
            let text = format_decimal(array.as_primitive::<Decimal128Type>().value(row), *scale);
            // The CLI prints a nested DECIMAL as Hive's JSON form does: without trailing
            // zeros (`[1,1.5]`); top-level values and text files keep the type's scale.
            if level > 0 && matches!(style, Style::Cli) && text.contains('.') {
                out.push_str(text.trim_end_matches('0').trim_end_matches('.'));
            } else {
                out.push_str(&text);
            }
        }
        DataType::Decimal256(_, _) => {
            let _ = write!(
                out,
                "{}",
                array.as_primitive::<Decimal256Type>().value_as_string(row)
            );
        }
        DataType::Date32 => {
            if let Some(date) = array
                .as_any()
                .downcast_ref::<Date32Array>()
                .and_then(|a| a.value_as_date(row))
            {
                let _ = write!(out, "{}", date.format("%Y-%m-%d"));
            }
        }
        DataType::Date64 => {
            if let Some(date) = array.as_primitive::<Date64Type>().value_as_datetime(row) {
                let _ = write!(out, "{}", date.format("%Y-%m-%d"));
            }
        }
        DataType::Timestamp(unit, _) => {
            let nanos = match unit {
                TimeUnit::Nanosecond => array
                    .as_any()
                    .downcast_ref::<TimestampNanosecondArray>()
                    .map(|a| a.value(row) as i128),
                TimeUnit::Microsecond => Some(
                    array.as_primitive::<TimestampMicrosecondType>().value(row) as i128 * 1_000,
                ),
                TimeUnit::Millisecond => Some(
                    array.as_primitive::<TimestampMillisecondType>().value(row) as i128 * 1_000_000,
                ),
                TimeUnit::Second => Some(
                    array.as_primitive::<TimestampSecondType>().value(row) as i128 * 1_000_000_000,
                ),
            };
            if let Some(nanos) = nanos {
                out.push_str(&format_timestamp_nanos(nanos));
            }
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = string_value(array, row);
            match style {
                Style::Text {
                    separators,
                    escape: Some(escape),
                    ..
                } => write_escaped(out, text, separators, *escape, level),
                _ => out.push_str(text),
            }
        }
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => {
            let bytes: &[u8] = match array.data_type() {
                DataType::Binary => array.as_binary::<i32>().value(row),
                DataType::LargeBinary => array.as_binary::<i64>().value(row),
                DataType::BinaryView => array.as_binary_view().value(row),
                _ => array.as_fixed_size_binary().value(row),
            };
            match style {
                // LazySimpleSerDe stores binary values base64-encoded.
                Style::Text { .. } => out.push_str(&BASE64.encode(bytes)),
                Style::Cli => out.push_str(&String::from_utf8_lossy(bytes)),
            }
        }
        _ => {
            let options = FormatOptions::default().with_null("NULL");
            match ArrayFormatter::try_new(array, &options) {
                Ok(formatter) => {
                    let _ = write!(out, "{}", formatter.value(row));
                }
                Err(e) => {
                    let _ = write!(out, "<{e}>");
                }
            }
        }
    }
}

fn write_escaped(out: &mut String, text: &str, separators: &[u8], escape: u8, level: usize) {
    let active = &separators[..separators.len().min(level + 2)];
    for c in text.chars() {
        if c.is_ascii() && (active.contains(&(c as u8)) || c as u8 == escape) {
            out.push(escape as char);
            out.push(c);
        } else if c == '\n' {
            out.push(escape as char);
            out.push('n');
        } else if c == '\r' {
            out.push(escape as char);
            out.push('r');
        } else {
            out.push(c);
        }
    }
}

/// Java's `Double.toString` / `Float.toString`: the shortest digits that read back the same,
/// in plain notation for magnitudes in [1e-3, 1e7) and `d.dddE±n` outside it.
pub fn java_float_string(value: f64, single: bool) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let magnitude = value.abs();
    if (1e-3..1e7).contains(&magnitude) {
        let plain = if single {
            format!("{}", value as f32)
        } else {
            format!("{value}")
        };
        return if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        };
    }
    if !single && let Some(text) = java8_large_integer(value) {
        return text;
    }
    let scientific = if single {
        format!("{:e}", value as f32)
    } else {
        format!("{value:e}")
    };
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

/// How many low decimal digits Java 8's `Double.toString` rounds off an integer of
/// 2^(p + 54) to 2^(p + 55), indexed by p.
const JAVA8_INSIGNIFICANT_DIGITS: [u32; 9] = [0, 0, 0, 0, 1, 1, 1, 2, 2];

/// Java 8's `Double.toString` (the Java Hive runs on) prints a double in [2^53, 2^63), all of
/// which are integers, from the integer's own digits, rounding off only a few low ones; that
/// can be a digit more than the shortest form (`7.6207893758573389E17` where the shortest
/// is `7.620789375857339E17`). Other doubles get the shortest digits there too.
fn java8_large_integer(value: f64) -> Option<String> {
    let magnitude = value.abs();
    let binary_exponent = ((magnitude.to_bits() >> 52) & 0x7ff) as i64 - 1023;
    if !(53..=62).contains(&binary_exponent) {
        return None;
    }
    let mut integer = magnitude as u64;
    let mut exponent = 0u32;
    let insignificant = usize::try_from(binary_exponent - 54)
        .ok()
        .filter(|p| *p > 1)
        .and_then(|p| JAVA8_INSIGNIFICANT_DIGITS.get(p).copied())
        .unwrap_or(0);
    if insignificant > 0 {
        let scale = 10u64.pow(insignificant);
        let residue = integer % scale;
        integer /= scale;
        if residue >= scale / 2 {
            integer += 1;
        }
        exponent = insignificant;
    }
    let digits = integer.to_string();
    let significant = digits.trim_end_matches('0');
    let exponent = exponent as usize + digits.len() - 1;
    let (first, rest) = significant.split_at(1);
    let rest = if rest.is_empty() { "0" } else { rest };
    let sign = if value < 0.0 { "-" } else { "" };
    Some(format!("{sign}{first}.{rest}E{exponent}"))
}

/// A Decimal128 unscaled value printed with exactly `scale` digits after the point.
pub fn format_decimal(unscaled: i128, scale: i8) -> String {
    if scale <= 0 {
        let factor = 10i128.checked_pow((-scale) as u32).unwrap_or(1);
        return (unscaled.saturating_mul(factor)).to_string();
    }
    let digits = unscaled.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int_part, frac_part) = padded.split_at(padded.len() - scale);
    let sign = if unscaled < 0 { "-" } else { "" };
    format!("{sign}{int_part}.{frac_part}")
}

/// `yyyy-MM-dd HH:mm:ss[.fffffffff]`, fraction without trailing zeros, as Hive prints.
pub fn format_timestamp_nanos(nanos: i128) -> String {
    let seconds = nanos.div_euclid(1_000_000_000) as i64;
    let fraction = nanos.rem_euclid(1_000_000_000) as u32;
    let Some(datetime) = chrono::DateTime::from_timestamp(seconds, fraction) else {
        return format!("<timestamp out of range: {nanos}ns>");
    };
    let mut text = datetime.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string();
    if fraction > 0 {
        let digits = format!("{fraction:09}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, ListArray, StringArray};
    use datafusion::arrow::datatypes::Int32Type;

    use super::*;

    fn cli(array: &dyn Array, row: usize) -> String {
        let mut out = String::new();
        write_value(&mut out, array, row, &Style::Cli);
        out
    }

    #[test]
    fn doubles_print_like_java() {
        for (value, text) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (0.0001, "1.0E-4"),
            (-2.5, "-2.5"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
            // Hive's decimal_udf.q: Java 8 keeps a digit the shortest form drops.
            (7.620789375857339E17, "7.6207893758573389E17"),
            (-1.5241578753238835E18, "-1.52415787532388352E18"),
            (9007199254740993.0, "9.007199254740992E15"),
            (1e18, "1.0E18"),
        ] {
            assert_eq!(java_float_string(value, false), text);
        }
        assert_eq!(java_float_string(0.1f32 as f64, true), "0.1");
    }

    #[test]
    fn decimals_and_timestamps() {
        assert_eq!(format_decimal(12345, 2), "123.45");
        assert_eq!(format_decimal(-5, 3), "-0.005");
        assert_eq!(format_decimal(7, 0), "7");
        assert_eq!(format_timestamp_nanos(0), "1970-01-01 00:00:00");
        assert_eq!(
            format_timestamp_nanos(1_500_000_000),
            "1970-01-01 00:00:01.5"
        );
    }

    #[test]
    fn nested_values_in_cli_and_text_styles() {
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
            None,
        ]));
        assert_eq!(cli(list.as_ref(), 0), "[1,null,3]");
        assert_eq!(cli(list.as_ref(), 1), "NULL");
        let mut text = String::new();
        let style = Style::Text {
            separators: b"\x01\x02\x03",
            null_format: "\\N",
            escape: None,
        };
        write_value(&mut text, list.as_ref(), 0, &style);
        assert_eq!(text, "1\x02\\N\x023");

        let strings: ArrayRef = Arc::new(StringArray::from(vec!["a,b"]));
        let mut escaped = String::new();
        let style = Style::Text {
            separators: b",",
            null_format: "\\N",
            escape: Some(b'\\'),
        };
        write_value(&mut escaped, strings.as_ref(), 0, &style);
        assert_eq!(escaped, "a\\,b");
    }
}
