//! Hive's `printf(format, args...)`: Java's `String.format` for the conversions Hive users
//! write: `%d`, `%x`, `%X`, `%o` (integers), `%f`, `%e`, `%E` (numbers), `%s`, `%S` (any
//! value, as Hive prints it), `%c`, `%b`, `%%` and `%n`, with the flags `-`, `0`, `+`, space and
//! `,`, a width and a precision. A NULL argument prints `null`; a NULL format gives NULL. A
//! conversion that does not fit its argument (`%d` of a string) is an error, as in Java.
//!
//! Written by hand: no crate formats with Java's rules.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::as_string_array;
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;
use crate::hive_text::{Style, write_value};

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("printf", DataType::Utf8, coerce, evaluate)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    if arg_types.is_empty() {
        return exec_err!("printf takes a format string and its arguments");
    }
    Ok(arg_types
        .iter()
        .enumerate()
        .map(|(position, data_type)| match data_type {
            _ if position == 0 => DataType::Utf8,
            t if t.is_integer() => DataType::Int64,
            t if t.is_numeric() => DataType::Float64,
            other => other.clone(),
        })
        .collect())
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let formats = as_string_array(&arrays[0])?;
    let mut out = StringBuilder::with_capacity(rows, rows * 16);
    for row in 0..rows {
        if formats.is_null(row) {
            out.append_null();
            continue;
        }
        out.append_value(format(formats.value(row), &arrays[1..], row)?);
    }
    Ok(Arc::new(out.finish()))
}

/// One `%[flags][width][.precision]conversion` of a format.
#[derive(Debug, Default, PartialEq)]
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    grouping: bool,
    width: usize,
    precision: Option<usize>,
    conversion: char,
}

fn format(format: &str, args: &[ArrayRef], row: usize) -> Result<String> {
    let mut out = String::with_capacity(format.len() + 16);
    let mut chars = format.chars().peekable();
    let mut next_arg = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&flag) = chars.peek() {
            match flag {
                '-' => spec.left = true,
                '0' => spec.zero = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                ',' => spec.grouping = true,
                _ => break,
            }
            chars.next();
        }
        spec.width = digits(&mut chars).unwrap_or(0);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.precision = Some(digits(&mut chars).unwrap_or(0));
        }
        spec.conversion = chars.next().ok_or_else(|| {
            printf_error(format!("the format '{format}' ends inside a conversion"))
        })?;
        let text = match spec.conversion {
            '%' => "%".to_string(),
            'n' => "\n".to_string(),
            _ => {
                let array = args.get(next_arg).ok_or_else(|| {
                    printf_error(format!("the format '{format}' needs more arguments"))
                })?;
                next_arg += 1;
                convert(&spec, array.as_ref(), row)?
            }
        };
        pad(&mut out, &text, &spec);
    }
    Ok(out)
}

fn digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
    let mut value: Option<usize> = None;
    while let Some(digit) = chars.peek().and_then(|c| c.to_digit(10)) {
        value = Some(
            value
                .unwrap_or(0)
                .saturating_mul(10)
                .saturating_add(digit as usize),
        );
        chars.next();
    }
    value
}

fn printf_error(message: String) -> DataFusionError {
    DataFusionError::Execution(format!("printf: {message}"))
}

/// The text of one argument under `spec`, before padding to the width.
fn convert(spec: &Spec, array: &dyn Array, row: usize) -> Result<String> {
    if array.is_null(row) {
        return Ok("null".to_string());
    }
    let value = ScalarValue::try_from_array(array, row)?;
    let mismatch = || {
        printf_error(format!(
            "%{} does not apply to a {} argument",
            spec.conversion,
            array.data_type()
        ))
    };
    let text = match (spec.conversion, &value) {
        ('d', ScalarValue::Int64(Some(n))) => signed(spec, n.unsigned_abs().to_string(), *n < 0),
        ('x' | 'X', ScalarValue::Int64(Some(n))) => {
            let hex = format!("{n:x}");
            if spec.conversion == 'X' {
                hex.to_uppercase()
            } else {
                hex
            }
        }
        ('o', ScalarValue::Int64(Some(n))) => format!("{n:o}"),
        ('f', ScalarValue::Float64(Some(x))) => {
            let digits = format!("{:.*}", spec.precision.unwrap_or(6), x.abs());
            signed(spec, digits, x.is_sign_negative() && *x != 0.0)
        }
        ('f', ScalarValue::Int64(Some(_))) | ('d', ScalarValue::Float64(Some(_))) => {
            return Err(mismatch());
        }
        ('e' | 'E', ScalarValue::Float64(Some(x))) => {
            let text = scientific(*x, spec.precision.unwrap_or(6));
            if spec.conversion == 'E' {
                text.to_uppercase()
            } else {
                text
            }
        }
        ('c', ScalarValue::Int64(Some(n))) => u32::try_from(*n)
            .ok()
            .and_then(char::from_u32)
            .map(String::from)
            .ok_or_else(mismatch)?,
        ('b', ScalarValue::Boolean(Some(b))) => b.to_string(),
        ('b', _) => "true".to_string(),
        ('s' | 'S' | 'c', _) => {
            let mut text = String::new();
            write_value(&mut text, array, row, &Style::Cli);
            if spec.conversion == 'c' {
                text.chars().next().map(String::from).unwrap_or_default()
            } else if spec.conversion == 'S' {
                text.to_uppercase()
            } else {
                text
            }
        }
        _ => return Err(mismatch()),
    };
    Ok(match (spec.conversion, spec.precision) {
        ('s' | 'S', Some(precision)) => text.chars().take(precision).collect(),
        _ => text,
    })
}

/// Digits of a number's magnitude with its sign, grouping and zero padding.
fn signed(spec: &Spec, magnitude: String, negative: bool) -> String {
    let magnitude = if spec.grouping {
        group_thousands(&magnitude)
    } else {
        magnitude
    };
    let sign = if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    if spec.zero && !spec.left {
        let fill = spec
            .width
            .saturating_sub(sign.len() + magnitude.chars().count());
        format!("{sign}{}{magnitude}", "0".repeat(fill))
    } else {
        format!("{sign}{magnitude}")
    }
}

fn group_thousands(digits: &str) -> String {
    let (integer, fraction) = digits
        .split_once('.')
        .map_or((digits, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::with_capacity(integer.len() + integer.len() / 3 + 8);
    for (i, c) in integer.chars().enumerate() {
        if i > 0 && (integer.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if let Some(fraction) = fraction {
        grouped.push('.');
        grouped.push_str(fraction);
    }
    grouped
}

/// Java's `%e`: one digit, a fraction of `precision` digits, and a signed two-digit exponent.
fn scientific(value: f64, precision: usize) -> String {
    let text = format!("{value:.precision$e}");
    let Some((mantissa, exponent)) = text.split_once('e') else {
        return text;
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

fn pad(out: &mut String, text: &str, spec: &Spec) {
    let fill = spec.width.saturating_sub(text.chars().count());
    if spec.left {
        out.push_str(text);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};

    fn printf(format_text: &str, args: Vec<ArrayRef>) -> String {
        format(format_text, &args, 0).expect("formats")
    }

    #[test]
    fn java_conversions() {
        let int: ArrayRef = Arc::new(Int64Array::from(vec![-1234567]));
        let float: ArrayRef = Arc::new(Float64Array::from(vec![1.23456]));
        let text: ArrayRef = Arc::new(StringArray::from(vec!["hive"]));
        assert_eq!(
            printf(
                "%d|%,d|%10d|%-5s|",
                vec![int.clone(), int.clone(), int, text.clone()]
            ),
            "-1234567|-1,234,567|  -1234567|hive |"
        );
        assert_eq!(
            printf("%.2f %08.3f %e", vec![float.clone(), float.clone(), float]),
            "1.23 0001.235 1.234560e+00"
        );
        assert_eq!(printf("%s%%%n", vec![text]), "hive%\n");
    }

    #[test]
    fn mismatches_are_errors() {
        let text: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
        assert!(format("%d", &[text], 0).is_err());
        assert!(format("%d", &[], 0).is_err());
    }
}
