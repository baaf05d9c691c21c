//! Hive's `str_to_map(text [, pair_delimiter [, key_delimiter]])`: `text` split into pairs at
//! each match of the pair delimiter (a Java regex, `,` by default; empty trailing pieces
//! dropped, as Java's `split` drops them), each pair split at the first match of the key
//! delimiter (`:` by default) into a key and a value (NULL when there is none). A key seen
//! again takes the later value and keeps its first place.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, MapBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;
use super::regex_cache::RegexCache;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("str_to_map", map_type(), coerce, evaluate)
}

fn map_type() -> DataType {
    let entries = Fields::from(vec![
        Field::new("keys", DataType::Utf8, false),
        Field::new("values", DataType::Utf8, true),
    ]);
    DataType::Map(
        Arc::new(Field::new("entries", DataType::Struct(entries), false)),
        false,
    )
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    if arg_types.is_empty() || arg_types.len() > 3 {
        return exec_err!(
            "str_to_map takes 1 to 3 arguments: text [, pair delimiter [, key delimiter]]"
        );
    }
    Ok(vec![DataType::Utf8; arg_types.len()])
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let texts = arrays[0].as_string::<i32>();
    let delimiter = |index: usize, default: &'static str| {
        let column = arrays.get(index).map(|a| a.as_string::<i32>());
        move |row: usize| match column {
            Some(c) if c.is_null(row) => None,
            Some(c) => Some(c.value(row)),
            None => Some(default),
        }
    };
    let (pair_delimiter, key_delimiter) = (delimiter(1, ","), delimiter(2, ":"));
    let mut regexes = RegexCache::default();
    let mut out = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for row in 0..rows {
        let (Some(pairs), Some(key_pattern)) = (pair_delimiter(row), key_delimiter(row)) else {
            out.append(false)?;
            continue;
        };
        if texts.is_null(row) {
            out.append(false)?;
            continue;
        }
        let mut entries: Vec<(String, Option<String>)> = Vec::new();
        let mut pieces: Vec<String> = regexes
            .get(pairs, "str_to_map")?
            .split(texts.value(row))
            .map(str::to_string)
            .collect();
        while pieces.len() > 1 && pieces.last().is_some_and(|p| p.is_empty()) {
            pieces.pop();
        }
        let key_regex = regexes.get(key_pattern, "str_to_map")?;
        for piece in pieces {
            let mut parts = key_regex.splitn(&piece, 2);
            let key = parts.next().unwrap_or_default().to_string();
            let value = parts.next().map(str::to_string);
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key, value)),
            }
        }
        for (key, value) in entries {
            out.keys().append_value(key);
            out.values().append_option(value);
        }
        out.append(true)?;
    }
    Ok(Arc::new(out.finish()))
}
