//! Hive's bit functions on integers, with Java's semantics: `bin(x)` (the two's complement
//! digits of a BIGINT, `bin(-1)` is 64 ones), `shiftleft(a, b)`, `shiftright(a, b)` (sign
//! kept) and `shiftrightunsigned(a, b)` (zeros shifted in). TINYINT, SMALLINT and INT shift as
//! a 32-bit INT, BIGINT as 64 bits; the distance is taken modulo the width, as Java takes it.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray, StringBuilder};
use datafusion::arrow::datatypes::{ArrowPrimitiveType, DataType, Int32Type, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;

pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        ArrayFunction::udf("bin", DataType::Utf8, bin_types, bin),
        shift("shiftleft", |a, r| {
            apply(a, r, |x, n| x.wrapping_shl(n), |x, n| x.wrapping_shl(n))
        }),
        shift("shiftright", |a, r| {
            apply(a, r, |x, n| x.wrapping_shr(n), |x, n| x.wrapping_shr(n))
        }),
        shift("shiftrightunsigned", |a, r| {
            apply(
                a,
                r,
                |x, n| (x as u32).wrapping_shr(n) as i32,
                |x, n| (x as u64).wrapping_shr(n) as i64,
            )
        }),
    ]
}

fn bin_types(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [t] if t.is_integer() || t.is_null() => Ok(vec![DataType::Int64]),
        _ => exec_err!("bin takes one integer argument"),
    }
}

fn bin(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let values = arrays[0].as_primitive::<Int64Type>();
    let mut out = StringBuilder::with_capacity(rows, rows * 8);
    for row in 0..rows {
        out.append_option(
            values
                .is_valid(row)
                .then(|| format!("{:b}", values.value(row))),
        );
    }
    Ok(Arc::new(out.finish()))
}

fn shift_width(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Null => {
            Some(DataType::Int32)
        }
        DataType::UInt8 | DataType::UInt16 => Some(DataType::Int32),
        DataType::Int64 | DataType::UInt32 => Some(DataType::Int64),
        _ => None,
    }
}

fn shift(name: &'static str, evaluate: fn(&[ArrayRef], usize) -> Result<ArrayRef>) -> ScalarUDF {
    ArrayFunction::udf_with_return_type(
        name,
        |types| Ok(types.first().cloned().unwrap_or(DataType::Int32)),
        |types| match types {
            [value, distance] if distance.is_integer() || distance.is_null() => {
                match shift_width(value) {
                    Some(width) => Ok(vec![width, DataType::Int32]),
                    None => exec_err!("shifts take an integer and a distance"),
                }
            }
            _ => exec_err!("shifts take 2 arguments: an integer and a distance"),
        },
        evaluate,
    )
}

fn apply(
    arrays: &[ArrayRef],
    rows: usize,
    int: fn(i32, u32) -> i32,
    long: fn(i64, u32) -> i64,
) -> Result<ArrayRef> {
    let distances = arrays[1].as_primitive::<Int32Type>();
    Ok(match arrays[0].data_type() {
        DataType::Int64 => shift_each::<Int64Type>(&arrays[0], distances, rows, long),
        _ => shift_each::<Int32Type>(&arrays[0], distances, rows, int),
    })
}

/// `shift(value, distance)` of each row; NULL when either is NULL.
fn shift_each<T: ArrowPrimitiveType>(
    values: &ArrayRef,
    distances: &PrimitiveArray<Int32Type>,
    rows: usize,
    shift: fn(T::Native, u32) -> T::Native,
) -> ArrayRef {
    let values = values.as_primitive::<T>();
    let shifted: PrimitiveArray<T> = (0..rows)
        .map(|row| {
            let valid = values.is_valid(row) && distances.is_valid(row);
            valid.then(|| shift(values.value(row), distances.value(row) as u32))
        })
        .collect();
    Arc::new(shifted)
}
