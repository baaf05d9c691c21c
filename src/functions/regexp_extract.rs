//! Hive's `regexp_extract(subject, pattern [, index])`: the text of capture group `index`
//! (default 1; 0 is the whole match) of the first match of a Java regex in `subject`, or the
//! empty string when nothing matches or the group took no part. A NULL argument gives NULL;
//! a group the pattern does not have is an error, as in Hive.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{as_int64_array, as_string_array};
use datafusion::common::{Result, exec_datafusion_err, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;
use super::regex_cache::RegexCache;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("regexp_extract", DataType::Utf8, coerce, evaluate)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types.len() {
        2 => Ok(vec![DataType::Utf8; 2]),
        3 => Ok(vec![DataType::Utf8, DataType::Utf8, DataType::Int64]),
        _ => exec_err!("regexp_extract takes 2 or 3 arguments: subject, pattern [, index]"),
    }
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let subjects = as_string_array(&arrays[0])?;
    let patterns = as_string_array(&arrays[1])?;
    let indexes = arrays.get(2).map(|a| as_int64_array(a)).transpose()?;
    let mut out = StringBuilder::with_capacity(rows, rows * 8);
    let mut regexes = RegexCache::default();
    for row in 0..rows {
        let index_null = indexes.is_some_and(|i| i.is_null(row));
        if subjects.is_null(row) || patterns.is_null(row) || index_null {
            out.append_null();
            continue;
        }
        let pattern = patterns.value(row);
        let regex = regexes.get(pattern, "regexp_extract")?;
        let index = indexes.map_or(1, |i| i.value(row));
        let group = usize::try_from(index)
            .ok()
            .filter(|g| *g < regex.captures_len())
            .ok_or_else(|| {
                exec_datafusion_err!("regexp_extract: the pattern '{pattern}' has no group {index}")
            })?;
        let text = regex
            .captures(subjects.value(row))
            .and_then(|captures| captures.get(group))
            .map_or("", |m| m.as_str());
        out.append_value(text);
    }
    Ok(Arc::new(out.finish()))
}
