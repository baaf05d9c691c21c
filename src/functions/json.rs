//! JSON in strings, as Hive reads it:
//!
//! - `get_json_object(json, path)`: the value at a JSONPath of `$`, `.name`, `[n]` and `[*]`
//!   steps. A string comes out as its text, any other value as compact JSON with keys in
//!   their written order, a missing value, JSON `null` or bad JSON as NULL.
//! - The fields of `json_tuple(json, k1, k2, ...)`: [`field_udf`] looks up one top-level key,
//!   taken literally (a key may hold dots or brackets). It is planned by the lateral view
//!   planner and not registered under a name.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::as_string_array;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;
use serde_json::Value;

use super::array_function::ArrayFunction;

pub fn get_json_object_udf() -> ScalarUDF {
    ArrayFunction::udf(
        "get_json_object",
        DataType::Utf8,
        two_strings,
        |arrays, rows| lookup(arrays, rows, path_value),
    )
}

/// The value of one top-level key of a JSON object: a field of `json_tuple`.
pub fn field_udf() -> ScalarUDF {
    ArrayFunction::udf(
        "json_tuple_field",
        DataType::Utf8,
        two_strings,
        |arrays, rows| {
            lookup(arrays, rows, |json, key| match json {
                Value::Object(fields) => fields.get(key).cloned(),
                _ => None,
            })
        },
    )
}

fn two_strings(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    if arg_types.len() != 2 {
        return exec_err!("takes 2 arguments: a JSON string and a path or key");
    }
    Ok(vec![DataType::Utf8; 2])
}

/// Parses each row's JSON and renders what `find` picks out of it with the second argument.
fn lookup(
    arrays: &[ArrayRef],
    rows: usize,
    find: impl Fn(&Value, &str) -> Option<Value>,
) -> Result<ArrayRef> {
    let texts = as_string_array(&arrays[0])?;
    let selectors = as_string_array(&arrays[1])?;
    let mut out = StringBuilder::with_capacity(rows, rows * 8);
    for row in 0..rows {
        if texts.is_null(row) || selectors.is_null(row) {
            out.append_null();
            continue;
        }
        let value = serde_json::from_str::<Value>(texts.value(row))
            .ok()
            .and_then(|json| find(&json, selectors.value(row)));
        out.append_option(value.and_then(render));
    }
    Ok(Arc::new(out.finish()))
}

fn render(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

/// One step of a JSONPath.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Field(&'a str),
    Index(usize),
    Every,
}

/// The steps of `path` after its `$`, or `None` when it is not a path Hive accepts.
fn parse_path(path: &str) -> Option<Vec<Step<'_>>> {
    let mut rest = path.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return None;
            }
            steps.push(Step::Field(&after[..end]));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let (inside, remaining) = after.split_once(']')?;
            steps.push(if inside == "*" {
                Step::Every
            } else {
                Step::Index(inside.trim().parse().ok()?)
            });
            rest = remaining;
        } else {
            return None;
        }
    }
    Some(steps)
}

fn path_value(json: &Value, path: &str) -> Option<Value> {
    let steps = parse_path(path)?;
    // Values reached so far; `[*]` makes the result a list of what each element gives.
    let mut current = vec![json.clone()];
    let mut listed = false;
    for step in steps {
        let mut next = Vec::new();
        for value in current {
            match (&step, value) {
                (Step::Field(name), Value::Object(mut fields)) => {
                    next.extend(fields.remove(*name));
                }
                (Step::Field(name), Value::Array(items)) if listed => {
                    next.extend(items.into_iter().filter_map(|item| match item {
                        Value::Object(mut fields) => fields.remove(*name),
                        _ => None,
                    }));
                }
                (Step::Index(index), Value::Array(mut items)) if *index < items.len() => {
                    next.push(items.swap_remove(*index));
                }
                (Step::Every, Value::Array(items)) => {
                    listed = true;
                    next.extend(items);
                }
                _ => {}
            }
        }
        current = next;
    }
    if listed {
        return match current.len() {
            0 => None,
            1 => current.pop(),
            _ => Some(Value::Array(current)),
        };
    }
    current.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(json: &str, path: &str) -> Option<String> {
        let json: Value = serde_json::from_str(json).ok()?;
        path_value(&json, path).and_then(render)
    }

    const STORE: &str = r#"{"store":{"fruit":[{"weight":8,"type":"apple"},{"weight":9,"type":"pear"}],"bicycle":{"price":19.95,"color":"red"}},"email":"amy@only_for_json_udf_test.net","owner":"amy"}"#;

    #[test]
    fn paths_pick_values() {
        assert_eq!(get(STORE, "$.owner").as_deref(), Some("amy"));
        assert_eq!(
            get(STORE, "$.store.bicycle").as_deref(),
            Some(r#"{"price":19.95,"color":"red"}"#)
        );
        assert_eq!(
            get(STORE, "$.store.bicycle.price").as_deref(),
            Some("19.95")
        );
        assert_eq!(
            get(STORE, "$.store.fruit[0]").as_deref(),
            Some(r#"{"weight":8,"type":"apple"}"#)
        );
        assert_eq!(get(STORE, "$.store.fruit[1].type").as_deref(), Some("pear"));
        assert_eq!(
            get(STORE, "$.store.fruit[*].weight").as_deref(),
            Some("[8,9]")
        );
        assert_eq!(get(STORE, "$.store.fruit[5]"), None);
        assert_eq!(get(STORE, "$.nothing"), None);
    }

    #[test]
    fn bad_paths_and_json_give_null() {
        assert_eq!(get(STORE, "store.owner"), None);
        assert_eq!(get(STORE, "$..owner"), None);
        assert_eq!(get("{not json", "$.a"), None);
        assert_eq!(get(r#"{"a":null}"#, "$.a"), None);
        assert_eq!(get(r#"[1,2]"#, "$[1]").as_deref(), Some("2"));
    }
}
