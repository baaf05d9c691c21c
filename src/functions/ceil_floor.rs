//! Hive's `ceil` / `ceiling` and `floor`: a BIGINT for integers and FLOAT / DOUBLE (NULL past
//! the BIGINT range), and for DECIMAL(p, s) a DECIMAL(p - s + 1, 0), where DataFusion keeps
//! the argument's type.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Decimal128Array, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{as_decimal128_array, as_float64_array};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;

pub fn ceil_udf() -> ScalarUDF {
    ArrayFunction::udf_with_return_type("ceil", return_type, coerce, |arrays, _| {
        round_to_integer(&arrays[0], true)
    })
    .with_aliases(["ceiling"])
}

pub fn floor_udf() -> ScalarUDF {
    ArrayFunction::udf_with_return_type("floor", return_type, coerce, |arrays, _| {
        round_to_integer(&arrays[0], false)
    })
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    let [arg] = arg_types else {
        return exec_err!("ceil and floor take 1 argument");
    };
    Ok(vec![match arg {
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
            DataType::Decimal128(*p, *s)
        }
        _ => DataType::Float64,
    }])
}

fn return_type(arg_types: &[DataType]) -> Result<DataType> {
    Ok(match arg_types {
        [DataType::Decimal128(p, s)] => rounded_decimal(*p, *s),
        _ => DataType::Int64,
    })
}

/// The DECIMAL(p - s + 1, 0) that holds the rounded values of a DECIMAL(p, s).
fn rounded_decimal(precision: u8, scale: i8) -> DataType {
    let integer_digits = i16::from(precision) - i16::from(scale.max(0)) + 1;
    DataType::Decimal128(integer_digits.clamp(1, 38) as u8, 0)
}

/// The values rounded up (`up`) or down to integers.
fn round_to_integer(array: &ArrayRef, up: bool) -> Result<ArrayRef> {
    if let DataType::Decimal128(p, s) = array.data_type() {
        let (p, s) = (*p, *s);
        let divisor = 10_i128.pow(u32::try_from(s.max(0)).unwrap_or(0));
        let rounded: Decimal128Array = as_decimal128_array(array)?.unary(|v| {
            let (quotient, remainder) = (v / divisor, v % divisor);
            match (up, remainder.signum()) {
                (true, 1) => quotient + 1,
                (false, -1) => quotient - 1,
                _ => quotient,
            }
        });
        let rounded = rounded.with_precision_and_scale(38, 0)?;
        return Ok(cast(&rounded, &rounded_decimal(p, s))?);
    }
    let rounded: Int64Array = as_float64_array(array)?
        .iter()
        .map(|v| {
            v.map(|x| if up { x.ceil() } else { x.floor() })
                .filter(|x| x.is_finite() && x.abs() < 9.2e18)
                .map(|x| x as i64)
        })
        .collect();
    Ok(Arc::new(rounded))
}

#[cfg(test)]
mod tests {
    use super::rounded_decimal;
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn decimal_results_keep_the_integer_digits() {
        assert_eq!(rounded_decimal(20, 10), DataType::Decimal128(11, 0));
        assert_eq!(rounded_decimal(5, 0), DataType::Decimal128(6, 0));
    }
}
