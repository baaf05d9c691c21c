//! Hive's `hash(a, b, ...)`: the INT hash Hive's `ObjectInspectorUtils.hashCode` gives, the
//! one its bucketing (version 1) and `TABLESAMPLE (BUCKET x OUT OF y ON c)` use. Arguments
//! combine as `31 * h + hash(arg)`; NULL hashes to 0. Per type: integers are their value
//! (BIGINT folded as Java's `Long.hashCode`), booleans 1 / 0, FLOAT and DOUBLE their IEEE bits
//! folded as Java does, strings `31 * h + byte` over their UTF-8 bytes from 1 (Hadoop's
//! `Text.hashCode`), dates their day number. Other types are refused.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int32Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("hash", DataType::Int32, coerce, evaluate)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    arg_types
        .iter()
        .map(|t| match t {
            DataType::Utf8View | DataType::LargeUtf8 => Ok(DataType::Utf8),
            DataType::Null
            | DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Utf8
            | DataType::Date32 => Ok(t.clone()),
            other => exec_err!("Not supported yet: hash of a {other} value"),
        })
        .collect()
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let mut out = Int32Builder::with_capacity(rows);
    for row in 0..rows {
        let mut hash = 0i32;
        for array in arrays {
            let value = ScalarValue::try_from_array(array, row)?;
            hash = hash.wrapping_mul(31).wrapping_add(value_hash(&value));
        }
        out.append_value(hash);
    }
    Ok(Arc::new(out.finish()))
}

fn fold(bits: u64) -> i32 {
    (bits ^ (bits >> 32)) as i32
}

fn value_hash(value: &ScalarValue) -> i32 {
    match value {
        ScalarValue::Boolean(Some(b)) => i32::from(*b),
        ScalarValue::Int8(Some(n)) => i32::from(*n),
        ScalarValue::Int16(Some(n)) => i32::from(*n),
        ScalarValue::Int32(Some(n)) => *n,
        ScalarValue::Int64(Some(n)) => fold(*n as u64),
        ScalarValue::Float32(Some(x)) => x.to_bits() as i32,
        ScalarValue::Float64(Some(x)) => fold(x.to_bits()),
        ScalarValue::Utf8(Some(text)) => text.bytes().fold(1i32, |h, b| {
            h.wrapping_mul(31).wrapping_add(i32::from(b as i8))
        }),
        ScalarValue::Date32(Some(days)) => *days,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_follow_java() {
        assert_eq!(value_hash(&ScalarValue::Int32(Some(86))), 86);
        assert_eq!(value_hash(&ScalarValue::Int64(Some(-1))), 0);
        // Hadoop Text("abc").hashCode()
        assert_eq!(value_hash(&ScalarValue::Utf8(Some("abc".into()))), 126_145);
        // java.lang.Double.hashCode(1.5)
        assert_eq!(value_hash(&ScalarValue::Float64(Some(1.5))), 1_073_217_536);
        assert_eq!(value_hash(&ScalarValue::Utf8(None)), 0);
    }
}
