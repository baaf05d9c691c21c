//! Hive's `split(str, regex)`: the pieces of `str` around each match of a Java regex, as an
//! array of strings; empty pieces are kept, trailing ones too (`split('a,', ',')` is
//! `["a",""]`). A NULL argument gives NULL; a pattern that does not compile is an error.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::cast::as_string_array;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;
use super::regex_cache::RegexCache;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf(
        "split",
        DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
        coerce,
        evaluate,
    )
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    if arg_types.len() != 2 {
        return exec_err!("split takes 2 arguments: a string and a regex");
    }
    Ok(vec![DataType::Utf8; 2])
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let texts = as_string_array(&arrays[0])?;
    let patterns = as_string_array(&arrays[1])?;
    let mut out = ListBuilder::new(StringBuilder::new());
    let mut regexes = RegexCache::default();
    for row in 0..rows {
        if texts.is_null(row) || patterns.is_null(row) {
            out.append_null();
            continue;
        }
        let regex = regexes.get(patterns.value(row), "split")?;
        for piece in regex.split(texts.value(row)) {
            out.values().append_value(piece);
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}
