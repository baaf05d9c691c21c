//! Result rows as HiveServer2 sends them. From protocol V6 on a row set is columnar: each
//! column's values in the Thrift type of its Hive type, with a bitmap of its NULLs; older
//! clients get rows of values. Numbers, booleans and binaries travel as themselves; every
//! other type as the text the Hive CLI prints (dates, timestamps, decimals, and complex values
//! as JSON-like text), as HiveServer2 sends them.

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, RecordBatch, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type, Int8Type, Int16Type};
use datafusion::arrow::datatypes::{Int32Type, Int64Type, Schema};
use thrift::OrderedFloat;

use super::protocol::{
    TBinaryColumn, TBoolColumn, TBoolValue, TByteColumn, TByteValue, TColumn, TColumnValue,
    TDoubleColumn, TDoubleValue, TI16Column, TI16Value, TI32Column, TI32Value, TI64Column,
    TI64Value, TRow, TRowSet, TStringColumn, TStringValue, TTypeId,
};
use super::type_desc::WireType;
use crate::error::{ApiaryError, Result};
use crate::hive_text::{Style, write_value};

/// One column's values, in the Thrift type they travel as.
enum Values {
    Bool(Vec<bool>),
    Byte(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    Double(Vec<OrderedFloat<f64>>),
    String(Vec<String>),
    Binary(Vec<Vec<u8>>),
}

struct ColumnValues {
    values: Values,
    nulls: Vec<bool>,
}

/// The rows of `batches` (all of `schema`) as a row set starting at row `start_offset`.
pub fn row_set(
    schema: &Schema,
    batches: &[RecordBatch],
    start_offset: i64,
    columnar: bool,
) -> Result<TRowSet> {
    let columns = (0..schema.fields().len())
        .map(|i| {
            let wire_type = WireType::of(schema.field(i).data_type());
            column_values(batches.iter().map(|b| b.column(i)), &wire_type)
        })
        .collect::<Result<Vec<_>>>()?;
    if columnar {
        let columns: Vec<TColumn> = columns.into_iter().map(to_column).collect();
        let count = i32::try_from(columns.len()).unwrap_or(i32::MAX);
        Ok(TRowSet::new(
            start_offset,
            Vec::new(),
            Some(columns),
            None,
            Some(count),
        ))
    } else {
        let row_count: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let rows = (0..row_count)
            .map(|row| TRow::new(columns.iter().map(|c| row_value(c, row)).collect()))
            .collect();
        Ok(TRowSet::new(start_offset, rows, None, None, None))
    }
}

fn column_values<'a>(
    arrays: impl Iterator<Item = &'a ArrayRef>,
    wire_type: &WireType,
) -> Result<ColumnValues> {
    let type_id = wire_type.type_id();
    let mut values = match type_id {
        TTypeId::BOOLEAN_TYPE => Values::Bool(Vec::new()),
        TTypeId::TINYINT_TYPE => Values::Byte(Vec::new()),
        TTypeId::SMALLINT_TYPE => Values::I16(Vec::new()),
        TTypeId::INT_TYPE => Values::I32(Vec::new()),
        TTypeId::BIGINT_TYPE => Values::I64(Vec::new()),
        TTypeId::FLOAT_TYPE | TTypeId::DOUBLE_TYPE => Values::Double(Vec::new()),
        TTypeId::BINARY_TYPE => Values::Binary(Vec::new()),
        _ => Values::String(Vec::new()),
    };
    let mut nulls = Vec::new();
    for array in arrays {
        // Logical nulls: a NULL-typed column has no null buffer but is all NULL.
        let logical_nulls = array.logical_nulls();
        let is_null = |i: usize| logical_nulls.as_ref().is_some_and(|n| n.is_null(i));
        nulls.extend((0..array.len()).map(is_null));
        append(&mut values, array, &is_null)?;
    }
    Ok(ColumnValues { values, nulls })
}

fn append(values: &mut Values, array: &ArrayRef, is_null: &dyn Fn(usize) -> bool) -> Result<()> {
    let as_type = |data_type: DataType| {
        cast(array, &data_type).map_err(|e| ApiaryError::DataFusion(e.into()))
    };
    match values {
        Values::Bool(out) => {
            let array = as_type(DataType::Boolean)?;
            let array: &BooleanArray = array.as_boolean();
            out.extend((0..array.len()).map(|i| array.is_valid(i) && array.value(i)));
        }
        Values::Byte(out) => out.extend(
            as_type(DataType::Int8)?
                .as_primitive::<Int8Type>()
                .iter()
                .map(Option::unwrap_or_default),
        ),
        Values::I16(out) => out.extend(
            as_type(DataType::Int16)?
                .as_primitive::<Int16Type>()
                .iter()
                .map(Option::unwrap_or_default),
        ),
        Values::I32(out) => out.extend(
            as_type(DataType::Int32)?
                .as_primitive::<Int32Type>()
                .iter()
                .map(Option::unwrap_or_default),
        ),
        Values::I64(out) => out.extend(
            as_type(DataType::Int64)?
                .as_primitive::<Int64Type>()
                .iter()
                .map(Option::unwrap_or_default),
        ),
        Values::Double(out) => {
            if let Some(floats) = array.as_primitive_opt::<Float32Type>() {
                // A FLOAT travels as the DOUBLE its printed digits read as (0.1, not
                // 0.10000000149011612), as HiveServer2 widens it.
                out.extend(floats.iter().map(|value| {
                    let value = value.unwrap_or_default();
                    OrderedFloat(value.to_string().parse().unwrap_or(f64::from(value)))
                }));
            } else {
                out.extend(
                    as_type(DataType::Float64)?
                        .as_primitive::<Float64Type>()
                        .iter()
                        .map(|v| OrderedFloat(v.unwrap_or_default())),
                );
            }
        }
        Values::Binary(out) => {
            let array = as_type(DataType::Binary)?;
            let array: &BinaryArray = array.as_binary();
            out.extend((0..array.len()).map(|i| {
                if array.is_valid(i) {
                    array.value(i).to_vec()
                } else {
                    Vec::new()
                }
            }));
        }
        Values::String(out) => match array.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                let array = as_type(DataType::Utf8)?;
                let array: &StringArray = array.as_string();
                out.extend(array.iter().map(|v| v.unwrap_or_default().to_string()));
            }
            _ => out.extend((0..array.len()).map(|i| {
                let mut text = String::new();
                if !is_null(i) {
                    write_value(&mut text, array.as_ref(), i, &Style::Cli);
                }
                text
            })),
        },
    }
    Ok(())
}

/// Bit `i % 8` of byte `i / 8` is set when row `i` is NULL.
fn null_bitmap(nulls: &[bool]) -> Vec<u8> {
    let mut bitmap = vec![0u8; nulls.len().div_ceil(8)];
    for (i, _) in nulls.iter().enumerate().filter(|(_, null)| **null) {
        bitmap[i / 8] |= 1 << (i % 8);
    }
    bitmap
}

fn to_column(column: ColumnValues) -> TColumn {
    let nulls = null_bitmap(&column.nulls);
    match column.values {
        Values::Bool(v) => TColumn::BoolVal(TBoolColumn::new(v, nulls)),
        Values::Byte(v) => TColumn::ByteVal(TByteColumn::new(v, nulls)),
        Values::I16(v) => TColumn::I16Val(TI16Column::new(v, nulls)),
        Values::I32(v) => TColumn::I32Val(TI32Column::new(v, nulls)),
        Values::I64(v) => TColumn::I64Val(TI64Column::new(v, nulls)),
        Values::Double(v) => TColumn::DoubleVal(TDoubleColumn::new(v, nulls)),
        Values::String(v) => TColumn::StringVal(TStringColumn::new(v, nulls)),
        Values::Binary(v) => TColumn::BinaryVal(TBinaryColumn::new(v, nulls)),
    }
}

/// One value of a row-oriented row set; before V6, BINARY travels as text.
fn row_value(column: &ColumnValues, row: usize) -> TColumnValue {
    let valid = !column.nulls[row];
    match &column.values {
        Values::Bool(v) => TColumnValue::BoolVal(TBoolValue::new(valid.then(|| v[row]))),
        Values::Byte(v) => TColumnValue::ByteVal(TByteValue::new(valid.then(|| v[row]))),
        Values::I16(v) => TColumnValue::I16Val(TI16Value::new(valid.then(|| v[row]))),
        Values::I32(v) => TColumnValue::I32Val(TI32Value::new(valid.then(|| v[row]))),
        Values::I64(v) => TColumnValue::I64Val(TI64Value::new(valid.then(|| v[row]))),
        Values::Double(v) => TColumnValue::DoubleVal(TDoubleValue::new(valid.then(|| v[row]))),
        Values::String(v) => {
            TColumnValue::StringVal(TStringValue::new(valid.then(|| v[row].clone())))
        }
        Values::Binary(v) => TColumnValue::StringVal(TStringValue::new(
            valid.then(|| String::from_utf8_lossy(&v[row]).into_owned()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        Date32Array, Decimal128Array, Float32Array, Int32Array, ListArray, NullArray,
    };
    use datafusion::arrow::datatypes::{Field, Int32Type};

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    #[test]
    fn columns_travel_in_their_thrift_types_with_null_bitmaps() {
        let ints: ArrayRef = Arc::new(Int32Array::from_iter(
            (0..10).map(|i| (i % 3 != 0).then_some(i)),
        ));
        let floats: ArrayRef = Arc::new(Float32Array::from(vec![0.1f32; 10]));
        let batch = batch(vec![("i", ints), ("f", floats)]);
        let set = row_set(
            &batch.schema(),
            &[batch.slice(0, 4), batch.slice(4, 6)],
            5,
            true,
        )
        .unwrap();
        assert_eq!(set.start_row_offset, 5);
        let columns = set.columns.unwrap();
        let TColumn::I32Val(ints) = &columns[0] else {
            panic!("{:?}", columns[0]);
        };
        assert_eq!(ints.values, vec![0, 1, 2, 0, 4, 5, 0, 7, 8, 0]);
        // Rows 0, 3, 6 and 9 are NULL.
        assert_eq!(ints.nulls, vec![0b0100_1001, 0b10]);
        let TColumn::DoubleVal(doubles) = &columns[1] else {
            panic!("{:?}", columns[1]);
        };
        assert_eq!(doubles.values[0], OrderedFloat(0.1));
    }

    #[test]
    fn other_types_travel_as_the_cli_prints_them() {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
        ]);
        let batch = batch(vec![
            ("l", Arc::new(list) as ArrayRef),
            (
                "d",
                Arc::new(
                    Decimal128Array::from(vec![Some(150), None])
                        .with_precision_and_scale(5, 2)
                        .unwrap(),
                ),
            ),
            (
                "day",
                Arc::new(Date32Array::from(vec![Some(0), Some(19000)])),
            ),
            ("n", Arc::new(NullArray::new(2))),
        ]);
        let set = row_set(&batch.schema(), &[batch], 0, true).unwrap();
        let strings: Vec<(Vec<String>, Vec<u8>)> = set
            .columns
            .unwrap()
            .into_iter()
            .map(|c| match c {
                TColumn::StringVal(s) => (s.values, s.nulls),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(strings[0], (vec!["[1,null]".into(), "".into()], vec![0b10]));
        assert_eq!(strings[1], (vec!["1.50".into(), "".into()], vec![0b10]));
        assert_eq!(
            strings[2].0,
            vec!["1970-01-01".to_string(), "2022-01-08".to_string()]
        );
        assert_eq!(strings[3].1, vec![0b11]);
    }

    #[test]
    fn old_clients_get_rows() {
        let schema = Schema::new(vec![Field::new("i", DataType::Int32, true)]);
        let batch = RecordBatch::try_new(
            Arc::new(schema.clone()),
            vec![Arc::new(Int32Array::from(vec![Some(7), None]))],
        )
        .unwrap();
        let set = row_set(&schema, &[batch], 0, false).unwrap();
        assert!(set.columns.is_none());
        assert_eq!(
            set.rows[1].col_vals[0],
            TColumnValue::I32Val(TI32Value::new(None))
        );
        assert_eq!(
            set.rows[0].col_vals[0],
            TColumnValue::I32Val(TI32Value::new(Some(7)))
        );
    }
}
