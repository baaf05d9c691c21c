//! Partition values as typed values: the metastore keeps them as text, queries see them as
//! their key's type, and values given in a partition spec are checked and written in the
//! canonical form of that type (`007` becomes `7` for an INT key), as Hive normalizes them.

use apiary_metastore::{DEFAULT_PARTITION_NAME, Table};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;

use crate::analysis_err;
use crate::error::{ApiaryError, Result};
use crate::types::HiveType;

/// A partition value as its key's type; the default partition is NULL.
pub fn partition_scalar(value: &str, data_type: &DataType) -> Result<ScalarValue> {
    if value == DEFAULT_PARTITION_NAME {
        return Ok(ScalarValue::try_from(data_type)?);
    }
    Ok(ScalarValue::Utf8(Some(value.to_string()))
        .cast_to(data_type)
        .unwrap_or(ScalarValue::try_from(data_type)?))
}

/// The text a value of key `key_index` is stored as. Integer and date keys get their
/// canonical form, so that the metastore can compare them; a value that is not of the key's
/// type is an error.
pub fn canonical_partition_value(table: &Table, key_index: usize, value: &str) -> Result<String> {
    let key = &table.partition_keys[key_index];
    let key_type = HiveType::parse(&key.type_name)
        .map_err(|e| ApiaryError::Execution(format!("partition key {}: {e}", key.name)))?
        .to_arrow();
    let canonical = key_type.is_integer() || key_type == DataType::Date32;
    if !canonical || value == DEFAULT_PARTITION_NAME {
        return Ok(value.to_string());
    }
    let typed = partition_scalar(value.trim(), &key_type)?;
    if typed.is_null() {
        return Err(analysis_err!(
            "Partition value '{value}' of key '{}' cannot be converted to its type {}",
            key.name,
            key.type_name
        ));
    }
    Ok(typed.to_string())
}

/// The canonical values of a partition, in key order.
pub fn canonical_partition_values(table: &Table, values: Vec<String>) -> Result<Vec<String>> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| canonical_partition_value(table, i, &value))
        .collect::<Result<_, ApiaryError>>()
}
