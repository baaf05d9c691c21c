//! Hive's `bround(x [, d])`: HALF_EVEN ("banker's") rounding to `d` decimal places (default
//! 0; a negative `d` rounds to tens, hundreds, ...). A DECIMAL(p, s) stays a DECIMAL, of
//! scale `max(d, 0)` and one more integer digit when rounding drops digits, as Hive types it;
//! that type depends on `d`, which must then be a constant. Anything else is a DOUBLE,
//! rounded as `rounding::bround` rounds.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Builder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef};
use datafusion::common::cast::{as_float64_array, as_int64_array};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::rounding::bround as bround_double;

/// Hive's largest DECIMAL precision.
const MAX_PRECISION: i64 = 38;

pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Bround {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Bround {
    signature: Signature,
}

/// The DECIMAL type of `bround` of a DECIMAL(precision, scale) to `places`.
fn decimal_result(precision: u8, scale: i8, places: i64) -> (u8, i8) {
    let scale = i64::from(scale);
    let integer_digits = i64::from(precision) - scale;
    let integer_digits = if places < scale {
        integer_digits + 1
    } else {
        integer_digits
    };
    let new_scale = places.clamp(0, MAX_PRECISION);
    let new_precision = (integer_digits + new_scale).clamp(1, MAX_PRECISION);
    (new_precision as u8, new_scale as i8)
}

/// The unscaled `value` of scale `scale` rounded half-even to `places` decimals and written
/// with scale `new_scale`; `None` when it does not fit.
fn round_decimal(value: i128, scale: i8, places: i64, new_scale: i8) -> Option<i128> {
    let drop = i64::from(scale) - places;
    let rounded = if drop > 0 {
        let divisor = 10i128.checked_pow(u32::try_from(drop).ok()?)?;
        let quotient = value / divisor;
        let remainder = value % divisor;
        let twice = remainder.unsigned_abs() * 2;
        let away = match twice.cmp(&divisor.unsigned_abs()) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => quotient % 2 != 0,
            std::cmp::Ordering::Less => false,
        };
        let quotient = if away {
            quotient + value.signum()
        } else {
            quotient
        };
        // Back to the result's scale: up by what rounding left of the point removed.
        let up = i64::from(new_scale) - places;
        quotient.checked_mul(10i128.checked_pow(u32::try_from(up).ok()?)?)?
    } else {
        let up = i64::from(new_scale) - i64::from(scale);
        value.checked_mul(10i128.checked_pow(u32::try_from(up).ok()?)?)?
    };
    Some(rounded)
}

impl ScalarUDFImpl for Bround {
    fn name(&self) -> &str {
        "bround"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let value = match arg_types.first() {
            Some(decimal @ DataType::Decimal128(..)) => decimal.clone(),
            Some(t) if t.is_numeric() || t.is_null() || t.is_string() => DataType::Float64,
            _ => return plan_err!("bround takes a number and an optional number of places"),
        };
        // An integer `d` keeps its type, so that a constant stays a literal the result type
        // can be read from.
        match arg_types {
            [_] => Ok(vec![value]),
            [_, places] if places.is_integer() => Ok(vec![value, places.clone()]),
            [_, _] => Ok(vec![value, DataType::Int64]),
            _ => plan_err!("bround takes 1 or 2 arguments: x [, d]"),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(DataType::Decimal128(p, s)) => {
                let (p, s) = decimal_result(*p, *s, 0);
                Ok(DataType::Decimal128(p, s))
            }
            _ => Ok(DataType::Float64),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let data_type = match args.arg_fields.first().map(|f| f.data_type()) {
            Some(DataType::Decimal128(p, s)) => {
                let places = match args.scalar_arguments.get(1) {
                    None => 0,
                    Some(Some(constant)) => match constant.cast_to(&DataType::Int64)? {
                        ScalarValue::Int64(d) => d.unwrap_or(0),
                        _ => 0,
                    },
                    Some(None) => {
                        return plan_err!("bround of a DECIMAL takes a constant number of places");
                    }
                };
                let (p, s) = decimal_result(*p, *s, places);
                DataType::Decimal128(p, s)
            }
            _ => DataType::Float64,
        };
        Ok(Arc::new(Field::new(self.name(), data_type, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<_>>()?;
        let places = arrays
            .get(1)
            .map(|a| cast(a, &DataType::Int64))
            .transpose()?;
        let places = places.as_ref().map(|a| as_int64_array(a)).transpose()?;
        let place = |row: usize| match places {
            Some(p) if p.is_null(row) => None,
            Some(p) => Some(p.value(row)),
            None => Some(0),
        };
        let result: ArrayRef = match (arrays[0].data_type(), args.return_field.data_type()) {
            (DataType::Decimal128(_, scale), DataType::Decimal128(p, new_scale)) => {
                let values = arrays[0].as_primitive::<Decimal128Type>();
                let mut out = Decimal128Builder::with_capacity(rows);
                for row in 0..rows {
                    let rounded = place(row)
                        .filter(|_| values.is_valid(row))
                        .and_then(|d| round_decimal(values.value(row), *scale, d, *new_scale));
                    out.append_option(rounded);
                }
                Arc::new(out.finish().with_precision_and_scale(*p, *new_scale)?)
            }
            (DataType::Float64, _) => {
                let values = as_float64_array(&arrays[0])?;
                Arc::new(
                    (0..rows)
                        .map(|row| {
                            let d = place(row)?;
                            values
                                .is_valid(row)
                                .then(|| bround_double(values.value(row), d))
                        })
                        .collect::<datafusion::arrow::array::Float64Array>(),
                )
            }
            (other, _) => return exec_err!("bround of {other}"),
        };
        Ok(ColumnarValue::Array(result))
    }
}

#[cfg(test)]
mod tests {
    use super::{decimal_result, round_decimal};

    #[test]
    fn decimals_round_half_even_to_hives_type() {
        // bround(DECIMAL(3,1) 2.5) is DECIMAL(3,0) 2; 3.5 is 4; -2.5 is -2.
        assert_eq!(decimal_result(3, 1, 0), (3, 0));
        assert_eq!(round_decimal(25, 1, 0, 0), Some(2));
        assert_eq!(round_decimal(35, 1, 0, 0), Some(4));
        assert_eq!(round_decimal(-25, 1, 0, 0), Some(-2));
        // bround(1234.565 as DECIMAL(7,3), 2) is 1234.56; to -2 places, 1200.
        assert_eq!(round_decimal(1_234_565, 3, 2, 2), Some(123_456));
        assert_eq!(round_decimal(1_234_565, 3, -2, 0), Some(1200));
        // More places than the scale keep the value.
        assert_eq!(decimal_result(3, 1, 3), (5, 3));
        assert_eq!(round_decimal(25, 1, 3, 3), Some(2500));
    }
}
