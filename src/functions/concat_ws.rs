//! Hive's `concat_ws(sep, a, b, ...)`: the strings joined with `sep`, where an argument may be
//! an array of strings whose elements are joined in turn. NULL strings and elements are
//! skipped; a NULL separator gives NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::cast::{as_list_array, as_string_array};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("concat_ws", DataType::Utf8, coerce, evaluate)
}

fn string_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    if arg_types.len() < 2 {
        return exec_err!("concat_ws takes a separator and at least one string or array");
    }
    Ok(arg_types
        .iter()
        .enumerate()
        .map(|(position, data_type)| match data_type {
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)
                if position > 0 =>
            {
                string_list()
            }
            _ => DataType::Utf8,
        })
        .collect())
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let separators = as_string_array(&arrays[0])?;
    let mut out = StringBuilder::with_capacity(rows, rows * 16);
    let mut parts: Vec<String> = Vec::new();
    for row in 0..rows {
        if separators.is_null(row) {
            out.append_null();
            continue;
        }
        parts.clear();
        for array in &arrays[1..] {
            if array.is_null(row) {
                continue;
            }
            if matches!(array.data_type(), DataType::List(_)) {
                let items = as_list_array(array)?.value(row);
                let items = as_string_array(&items)?;
                parts.extend(items.iter().flatten().map(str::to_string));
            } else {
                parts.push(as_string_array(array)?.value(row).to_string());
            }
        }
        out.append_value(parts.join(separators.value(row)));
    }
    Ok(Arc::new(out.finish()))
}
