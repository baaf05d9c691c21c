//! Hive's `bround(x [, d])`: `x` rounded to `d` decimal places (default 0) with HALF_EVEN
//! ("banker's") rounding: `bround(2.5)` is 2, `bround(3.5)` is 4. A negative `d` rounds to
//! tens, hundreds, ... The result is a DOUBLE.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{as_float64_array, as_int64_array};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("bround", DataType::Float64, coerce, evaluate)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types.len() {
        1 => Ok(vec![DataType::Float64]),
        2 => Ok(vec![DataType::Float64, DataType::Int64]),
        _ => exec_err!("bround takes 1 or 2 arguments: x [, d]"),
    }
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let values = as_float64_array(&arrays[0])?;
    let places = arrays.get(1).map(|a| as_int64_array(a)).transpose()?;
    let mut out = Float64Builder::with_capacity(rows);
    for row in 0..rows {
        if values.is_null(row) || places.is_some_and(|p| p.is_null(row)) {
            out.append_null();
            continue;
        }
        let d = places.map_or(0, |p| p.value(row));
        out.append_value(bround(values.value(row), d));
    }
    Ok(Arc::new(out.finish()))
}

fn bround(value: f64, places: i64) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::bround;

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
}
