//! Hive's `conv(num, from_base, to_base)`: a number written in one base (2 to 36), written
//! in another. The number is read as an unsigned 64-bit value up to its first character that
//! is not a digit of the base (overflow gives all ones); a negative number is its two's
//! complement unless `to_base` is negative, which prints a signed result. Bases out of range
//! give NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("conv", DataType::Utf8, coerce, evaluate)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    if arg_types.len() != 3 {
        return exec_err!("conv takes 3 arguments: conv(num, from_base, to_base)");
    }
    Ok(vec![DataType::Utf8, DataType::Int64, DataType::Int64])
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let (numbers, from, to) = (
        arrays[0].as_string::<i32>(),
        arrays[1].as_primitive::<Int64Type>(),
        arrays[2].as_primitive::<Int64Type>(),
    );
    let mut out = StringBuilder::with_capacity(rows, rows * 8);
    for row in 0..rows {
        let converted = (numbers.is_valid(row) && from.is_valid(row) && to.is_valid(row))
            .then(|| convert(numbers.value(row), from.value(row), to.value(row)))
            .flatten();
        out.append_option(converted);
    }
    Ok(Arc::new(out.finish()))
}

fn convert(number: &str, from_base: i64, to_base: i64) -> Option<String> {
    if !(2..=36).contains(&from_base) || !(2..=36).contains(&to_base.abs()) || number.is_empty() {
        return None;
    }
    let (mut negative, digits) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let mut unsigned: u64 = 0;
    for c in digits.chars() {
        let Some(digit) = c.to_digit(from_base as u32) else {
            break;
        };
        match unsigned
            .checked_mul(from_base as u64)
            .and_then(|v| v.checked_add(u64::from(digit)))
        {
            Some(next) => unsigned = next,
            None => {
                unsigned = u64::MAX;
                break;
            }
        }
    }
    let mut value = unsigned as i64;
    if negative && to_base > 0 {
        value = if value < 0 { -1 } else { value.wrapping_neg() };
    }
    if to_base < 0 && value < 0 {
        value = value.wrapping_neg();
        negative = true;
    }
    let radix = to_base.unsigned_abs();
    let mut rest = value as u64;
    let mut text = Vec::new();
    loop {
        let digit = (rest % radix) as u32;
        text.push(std::char::from_digit(digit, radix as u32)?.to_ascii_uppercase());
        rest /= radix;
        if rest == 0 {
            break;
        }
    }
    if negative && to_base < 0 {
        text.push('-');
    }
    Some(text.into_iter().rev().collect())
}

#[cfg(test)]
mod tests {
    use super::convert;

    #[test]
    fn converts_as_hive_does() {
        let cases = [
            ("4521", 10, 36, Some("3HL")),
            ("facebook", 36, 16, Some("116ED2B2FB4")),
            ("-641", 10, -10, Some("-641")),
            ("1011", 2, -16, Some("B")),
            ("-1", 10, 16, Some("FFFFFFFFFFFFFFFF")),
            ("-15", 10, 16, Some("FFFFFFFFFFFFFFF1")),
            ("9223372036854775807", 36, 16, Some("FFFFFFFFFFFFFFFF")),
            ("9223372036854775807", 36, -16, Some("-1")),
            ("123455", 3, 10, Some("5")),
            ("131", 1, 5, None),
            ("515", 5, 100, None),
            ("10", -2, 2, None),
        ];
        for (number, from, to, expected) in cases {
            assert_eq!(
                convert(number, from, to).as_deref(),
                expected,
                "conv({number}, {from}, {to})"
            );
        }
    }
}
