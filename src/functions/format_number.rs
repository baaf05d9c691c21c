//! Hive's `format_number(x, d)` and `format_number(x, 'pattern')`: `x` rounded half-even to
//! `d` decimals and grouped by thousands (`12,332.1235`), or formatted by a `#,##0.###`-style
//! pattern, as Java's `DecimalFormat` does. Doubles are formatted from their shortest exact
//! decimal form, FLOATs as the DOUBLE they widen to, DECIMALs and integers exactly.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;
use super::rounding::add_one_to_last;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("format_number", DataType::Utf8, coerce, evaluate)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    let [number, format] = arg_types else {
        return exec_err!("format_number takes 2 arguments: format_number(x, d or 'pattern')");
    };
    let number = match number {
        DataType::Decimal128(..) | DataType::Decimal256(..) => number.clone(),
        t if t.is_integer() => DataType::Int64,
        _ => DataType::Float64,
    };
    let format = match format {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        _ => DataType::Int64,
    };
    Ok(vec![number, format])
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let (numbers, formats) = (&arrays[0], &arrays[1]);
    let decimals = FormatOptions::default();
    let decimal_text = ArrayFormatter::try_new(numbers.as_ref(), &decimals)?;
    let mut out = StringBuilder::with_capacity(rows, rows * 16);
    for row in 0..rows {
        if numbers.is_null(row) || formats.is_null(row) {
            out.append_null();
            continue;
        }
        let text = match numbers.data_type() {
            DataType::Float64 => {
                let value = numbers.as_primitive::<Float64Type>().value(row);
                if !value.is_finite() {
                    out.append_null();
                    continue;
                }
                format!("{value}")
            }
            DataType::Int64 => numbers.as_primitive::<Int64Type>().value(row).to_string(),
            _ => decimal_text.value(row).to_string(),
        };
        let pattern = match formats.data_type() {
            DataType::Utf8 => Pattern::parse(formats.as_string::<i32>().value(row)),
            _ => Pattern::decimals(formats.as_primitive::<Int64Type>().value(row)),
        };
        out.append_option(pattern.map(|p| p.format(&text)));
    }
    Ok(Arc::new(out.finish()))
}

/// What a `DecimalFormat` pattern asks for.
#[derive(Debug, PartialEq)]
struct Pattern {
    min_integer: usize,
    grouping: Option<usize>,
    min_fraction: usize,
    max_fraction: usize,
}

impl Pattern {
    /// `#,###,###,###,###,###,##0` with `d` zeros after the point.
    fn decimals(d: i64) -> Option<Pattern> {
        let d = usize::try_from(d).ok()?;
        Some(Pattern {
            min_integer: 1,
            grouping: Some(3),
            min_fraction: d,
            max_fraction: d,
        })
    }

    fn parse(pattern: &str) -> Option<Pattern> {
        let (integer, fraction) = pattern.split_once('.').unwrap_or((pattern, ""));
        if !integer.chars().all(|c| matches!(c, '#' | '0' | ','))
            || !fraction.chars().all(|c| matches!(c, '#' | '0'))
        {
            return None;
        }
        Some(Pattern {
            min_integer: integer.chars().filter(|c| *c == '0').count().max(1),
            grouping: integer
                .rfind(',')
                .map(|at| integer.len() - at - 1)
                .filter(|size| *size > 0),
            min_fraction: fraction.chars().filter(|c| *c == '0').count(),
            max_fraction: fraction.len(),
        })
    }

    /// Formats the plain decimal `text` (`-12.5`, `3`).
    fn format(&self, text: &str) -> String {
        let (negative, magnitude) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (integer, fraction) = magnitude.split_once('.').unwrap_or((magnitude, ""));
        let (integer, mut fraction) = round_half_even(integer, fraction, self.max_fraction);
        while fraction.len() > self.min_fraction && fraction.ends_with('0') {
            fraction.pop();
        }
        let mut integer = integer.trim_start_matches('0').to_string();
        while integer.len() < self.min_integer {
            integer.insert(0, '0');
        }
        if let Some(size) = self.grouping {
            integer = group(&integer, size);
        }
        let zero =
            integer.chars().all(|c| matches!(c, '0' | ',')) && fraction.chars().all(|c| c == '0');
        let mut out = String::new();
        if negative && !zero {
            out.push('-');
        }
        out.push_str(&integer);
        if !fraction.is_empty() {
            out.push('.');
            out.push_str(&fraction);
        }
        out
    }
}

/// `integer.fraction` rounded half-even to `keep` fraction digits (padded with zeros).
fn round_half_even(integer: &str, fraction: &str, keep: usize) -> (String, String) {
    let mut digits: Vec<u8> = integer
        .bytes()
        .chain(fraction.bytes())
        .map(|b| b - b'0')
        .collect();
    let point = integer.len();
    let cut = point + keep;
    if digits.len() > cut {
        let first_dropped = digits[cut];
        let rest_nonzero = digits[cut + 1..].iter().any(|d| *d != 0);
        let last_kept_odd = cut > 0 && digits[cut - 1] % 2 == 1;
        let up = first_dropped > 5 || (first_dropped == 5 && (rest_nonzero || last_kept_odd));
        digits.truncate(cut);
        if up {
            add_one_to_last(&mut digits);
        }
    }
    digits.resize(digits.len().max(cut), 0);
    let integer_len = digits.len() - keep;
    let text = |ds: &[u8]| ds.iter().map(|d| char::from(b'0' + d)).collect::<String>();
    (text(&digits[..integer_len]), text(&digits[integer_len..]))
}

fn group(integer: &str, size: usize) -> String {
    let mut out = String::with_capacity(integer.len() + integer.len() / size);
    for (i, c) in integer.chars().enumerate() {
        if i > 0 && (integer.len() - i).is_multiple_of(size) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn decimals(text: &str, d: i64) -> String {
        Pattern::decimals(d)
            .map(|p| p.format(text))
            .unwrap_or_default()
    }

    fn pattern(text: &str, pattern: &str) -> String {
        Pattern::parse(pattern)
            .map(|p| p.format(text))
            .unwrap_or_default()
    }

    #[test]
    fn formats_like_java_decimal_format() {
        assert_eq!(decimals("12332.123456", 4), "12,332.1235");
        assert_eq!(decimals("12332.2", 0), "12,332");
        assert_eq!(decimals("0.123456789", 12), "0.123456789000");
        assert_eq!(decimals("-1234567.123456789", 2), "-1,234,567.12");
        assert_eq!(decimals("-0.0", 4), "0.0000");
        assert_eq!(decimals("0.125", 2), "0.12");
        assert_eq!(decimals("0.135", 2), "0.14");
        assert_eq!(decimals("999.5", 0), "1,000");
        assert_eq!(decimals("12332.099609375", 4), "12,332.0996");
        assert_eq!(pattern("12332.2", "##################.###"), "12332.2");
        assert_eq!(pattern("-0.123456789", "##################.###"), "-0.123");
        assert_eq!(pattern("0.0000", "##################.###"), "0");
        assert_eq!(pattern("1234", "#,##0.00"), "1,234.00");
    }
}
