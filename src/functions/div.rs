//! Hive's `a DIV b` (also callable as `div(a, b)`): the operands as BIGINTs (fractions
//! truncated), divided as integers, the quotient truncated toward zero; NULL for a zero
//! divisor or an overflow. Kept apart from `/`, which Hive divides as DOUBLE.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int64Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::as_int64_array;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("div", DataType::Int64, coerce, evaluate)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    if arg_types.len() != 2 {
        return exec_err!("DIV takes 2 operands");
    }
    Ok(vec![DataType::Int64; 2])
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let (dividends, divisors) = (as_int64_array(&arrays[0])?, as_int64_array(&arrays[1])?);
    let mut out = Int64Builder::with_capacity(rows);
    for row in 0..rows {
        let quotient = (dividends.is_valid(row) && divisors.is_valid(row))
            .then(|| dividends.value(row).checked_div(divisors.value(row)))
            .flatten();
        out.append_option(quotient);
    }
    Ok(Arc::new(out.finish()))
}
