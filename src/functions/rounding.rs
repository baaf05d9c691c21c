//! Hive's rounding of DOUBLEs to `d` decimal places (default 0; a negative `d` rounds to
//! tens, hundreds, ...), each a DOUBLE:
//!
//! - `bround(x [, d])`: HALF_EVEN ("banker's") rounding: `bround(2.5)` is 2, `bround(3.5)` 4
//!   (the function, with its DECIMAL form, is `bround.rs`).
//! - `round(x [, d])` of a DOUBLE or FLOAT: the decimal digits Java prints for `x` rounded
//!   half up (`round(1808.235, 2)` is 1808.24), as Hive rounds `BigDecimal.valueOf(x)`.
//!   Rounding the binary value instead (`x * 100`, then round) gives 1808.23, since 1808.235
//!   is stored as 1808.23499999... The `hive_round` analyzer rule plans DOUBLE and FLOAT
//!   arguments with it; other types keep DataFusion's `round`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{as_float64_array, as_int64_array};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;

pub fn round_half_up_udf() -> ScalarUDF {
    ArrayFunction::udf(
        "hive_round_double",
        DataType::Float64,
        coerce,
        |arrays, rows| round_each(arrays, rows, round_half_up),
    )
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types.len() {
        1 => Ok(vec![DataType::Float64]),
        2 => Ok(vec![DataType::Float64, DataType::Int64]),
        _ => exec_err!("takes 1 or 2 arguments: x [, d]"),
    }
}

/// `round(x, d)` of each row; NULL when either is NULL.
fn round_each(arrays: &[ArrayRef], rows: usize, round: fn(f64, i64) -> f64) -> Result<ArrayRef> {
    let values = as_float64_array(&arrays[0])?;
    let places = arrays.get(1).map(|a| as_int64_array(a)).transpose()?;
    let mut out = Float64Builder::with_capacity(rows);
    for row in 0..rows {
        if values.is_null(row) || places.is_some_and(|p| p.is_null(row)) {
            out.append_null();
            continue;
        }
        let d = places.map_or(0, |p| p.value(row));
        out.append_value(round(values.value(row), d));
    }
    Ok(Arc::new(out.finish()))
}

pub(super) fn bround(value: f64, places: i64) -> f64 {
    if !value.is_finite() {
        return value;
    }
    let places = places.clamp(-308, 308) as i32;
    let scale = 10f64.powi(places.abs());
    if places >= 0 {
        (value * scale).round_ties_even() / scale
    } else {
        (value / scale).round_ties_even() * scale
    }
}

/// `value`'s shortest decimal digits rounded half up (away from zero) to `places` decimals.
pub fn round_half_up(value: f64, places: i64) -> f64 {
    if !value.is_finite() {
        return value;
    }
    // Rust prints the shortest digits that read back as `value`, without an exponent.
    let text = format!("{}", value.abs());
    let (integer, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut digits: Vec<u8> = integer
        .bytes()
        .chain(fraction.bytes())
        .map(|b| b - b'0')
        .collect();
    let point = integer.len() as i64;
    let keep = point.saturating_add(places);
    if keep >= digits.len() as i64 {
        return value;
    }
    if keep < 0 {
        return 0.0;
    }
    let keep = keep as usize;
    let round_up = digits[keep] >= 5;
    digits.truncate(keep);
    let mut point = point;
    if round_up && add_one_to_last(&mut digits) {
        point += 1;
    }
    // Digits before the point, padded with zeros when rounding left of it.
    let point = point.max(0) as usize;
    while digits.len() < point {
        digits.push(0);
    }
    let as_text = |ds: &[u8]| ds.iter().map(|d| char::from(b'0' + d)).collect::<String>();
    let integer = as_text(&digits[..point]);
    let fraction = as_text(&digits[point..]);
    let rounded: f64 = format!(
        "{}.{}0",
        if integer.is_empty() { "0" } else { &integer },
        fraction
    )
    .parse()
    .unwrap_or(value.abs());
    // A decimal has no negative zero: `round(-0.4)` is 0.
    if rounded == 0.0 {
        0.0
    } else {
        rounded.copysign(value)
    }
}

/// Adds one to the last of `digits` (0-9 each), carrying left; whether a new leading digit
/// was needed (`999` becomes `1000`).
pub(super) fn add_one_to_last(digits: &mut Vec<u8>) -> bool {
    for digit in digits.iter_mut().rev() {
        if *digit == 9 {
            *digit = 0;
        } else {
            *digit += 1;
            return false;
        }
    }
    digits.insert(0, 1);
    true
}

#[cfg(test)]
mod tests {
    use super::{bround, round_half_up};

    #[test]
    fn halves_round_to_even() {
        assert_eq!(bround(2.5, 0), 2.0);
        assert_eq!(bround(3.5, 0), 4.0);
        assert_eq!(bround(-2.5, 0), -2.0);
        assert_eq!(bround(8.25, 1), 8.2);
        assert_eq!(bround(8.35, 1), 8.4);
        assert_eq!(bround(55.0, -1), 60.0);
        assert_eq!(bround(45.0, -1), 40.0);
    }

    #[test]
    fn halves_of_the_printed_digits_round_up() {
        assert_eq!(round_half_up(1808.235, 2), 1808.24);
        assert_eq!(round_half_up(2.5, 0), 3.0);
        assert_eq!(round_half_up(-2.5, 0), -3.0);
        assert_eq!(round_half_up(0.125, 2), 0.13);
        assert_eq!(round_half_up(9.995, 2), 10.0);
        assert_eq!(round_half_up(1234.5, -2), 1200.0);
        assert_eq!(round_half_up(1250.0, -2), 1300.0);
        assert_eq!(round_half_up(49.0, -2), 0.0);
        assert_eq!(round_half_up(1.5, 3), 1.5);
        assert!(round_half_up(-0.4, 0).is_sign_positive());
    }
}
