//! Hive's `ceil` / `ceiling` and `floor`: a BIGINT for integers and FLOAT / DOUBLE (NULL past
//! the BIGINT range), and for DECIMAL(p, s) a DECIMAL(p - s + 1, 0), where DataFusion keeps
//! the argument's type.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Decimal128Array, Float64Array, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{as_decimal128_array, as_float64_array};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub fn ceil_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Rounding::new("ceil", &["ceiling"], true))
}

pub fn floor_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Rounding::new("floor", &[], false))
}

#[derive(Debug)]
struct Rounding {
    name: &'static str,
    aliases: Vec<String>,
    up: bool,
    signature: Signature,
}

impl Rounding {
    fn new(name: &'static str, aliases: &[&str], up: bool) -> Self {
        Rounding {
            name,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            up,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl PartialEq for Rounding {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Rounding {}

impl Hash for Rounding {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// The DECIMAL(p - s + 1, 0) that holds the rounded values of a DECIMAL(p, s).
fn rounded_decimal(precision: u8, scale: i8) -> DataType {
    let integer_digits = i16::from(precision) - i16::from(scale.max(0)) + 1;
    DataType::Decimal128(integer_digits.clamp(1, 38) as u8, 0)
}

impl ScalarUDFImpl for Rounding {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [arg] = arg_types else {
            return exec_err!("{} takes 1 argument", self.name);
        };
        Ok(vec![match arg {
            DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
                DataType::Decimal128(*p, *s)
            }
            _ => DataType::Float64,
        }])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match arg_types {
            [DataType::Decimal128(p, s)] => rounded_decimal(*p, *s),
            _ => DataType::Int64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else {
            return exec_err!("{} takes 1 argument", self.name);
        };
        let array = arg.to_array(args.number_rows)?;
        let result: ArrayRef = match array.data_type() {
            DataType::Decimal128(p, s) => {
                let (p, s) = (*p, *s);
                let divisor = 10_i128.pow(u32::try_from(s.max(0)).unwrap_or(0));
                let rounded: Decimal128Array = as_decimal128_array(&array)?.unary(|v| {
                    let (quotient, remainder) = (v / divisor, v % divisor);
                    match (self.up, remainder.signum()) {
                        (true, 1) => quotient + 1,
                        (false, -1) => quotient - 1,
                        _ => quotient,
                    }
                });
                let rounded = rounded.with_precision_and_scale(38, 0)?;
                cast(&rounded, &rounded_decimal(p, s))?
            }
            _ => {
                let values: &Float64Array = as_float64_array(&array)?;
                let up = self.up;
                let rounded: Int64Array = values
                    .iter()
                    .map(|v| {
                        v.map(|x| if up { x.ceil() } else { x.floor() })
                            .filter(|x| x.is_finite() && x.abs() < 9.2e18)
                            .map(|x| x as i64)
                    })
                    .collect();
                Arc::new(rounded)
            }
        };
        Ok(ColumnarValue::Array(result))
    }
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
