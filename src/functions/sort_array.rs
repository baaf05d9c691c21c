//! Hive's `sort_array(a)`: the array's elements in ascending order, NULLs first, by Hive's
//! comparison of values. That is arrow's ordering, except for maps, which arrow compares by
//! their entries as stored: Hive compares two maps by size, then entry by entry in key order
//! (key, then value). Maps are compared so at any depth (in structs and arrays too).

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, UInt32Array};
use datafusion::arrow::array::{DynComparator, make_comparator};
use datafusion::arrow::compute::{SortOptions, take};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf_with_return_type("sort_array", return_type, coerce, evaluate)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [list @ DataType::List(_)] => Ok(vec![list.clone()]),
        [DataType::Null] => Ok(vec![DataType::Null]),
        _ => plan_err!("sort_array takes one array, got {arg_types:?}"),
    }
}

fn return_type(arg_types: &[DataType]) -> Result<DataType> {
    Ok(arg_types.first().cloned().unwrap_or(DataType::Null))
}

fn evaluate(arrays: &[ArrayRef], _rows: usize) -> Result<ArrayRef> {
    let Some(list) = arrays[0].as_list_opt::<i32>() else {
        return Ok(Arc::clone(&arrays[0]));
    };
    let values = list.values();
    let compare = hive_comparator(values)?;
    let mut indices: Vec<u32> = Vec::with_capacity(values.len());
    let mut offsets: Vec<i32> = Vec::with_capacity(list.len() + 1);
    offsets.push(0);
    for row in 0..list.len() {
        let start = list.value_offsets()[row] as usize;
        let end = list.value_offsets()[row + 1] as usize;
        let mut row_indices: Vec<usize> = (start..end).collect();
        if list.is_valid(row) {
            row_indices.sort_by(|a, b| compare(*a, *b));
            indices.extend(row_indices.iter().map(|i| *i as u32));
        }
        offsets.push(indices.len() as i32);
    }
    let sorted = take(values.as_ref(), &UInt32Array::from(indices), None)?;
    let DataType::List(field) = list.data_type() else {
        return Ok(Arc::clone(&arrays[0]));
    };
    Ok(Arc::new(ListArray::try_new(
        Arc::clone(field),
        datafusion::arrow::buffer::OffsetBuffer::new(offsets.into()),
        sorted,
        list.nulls().cloned(),
    )?))
}

/// NULLs first, ascending.
const ASCENDING: SortOptions = SortOptions {
    descending: false,
    nulls_first: true,
};

fn contains_map(data_type: &DataType) -> bool {
    match data_type {
        DataType::Map(..) => true,
        DataType::List(field) | DataType::LargeList(field) => contains_map(field.data_type()),
        DataType::Struct(fields) => fields.iter().any(|f| contains_map(f.data_type())),
        _ => false,
    }
}

/// Compares two elements of `array` by index, as Hive orders values.
fn hive_comparator(array: &ArrayRef) -> Result<DynComparator> {
    if !contains_map(array.data_type()) {
        return Ok(make_comparator(array.as_ref(), array.as_ref(), ASCENDING)?);
    }
    let nulls = array.logical_nulls();
    let is_null = move |i: usize| nulls.as_ref().is_some_and(|n| n.is_null(i));
    let inner: DynComparator = match array.data_type() {
        DataType::Map(..) => map_comparator(array)?,
        DataType::Struct(_) => {
            let fields = array.as_struct().columns().to_vec();
            let comparators = fields
                .iter()
                .map(hive_comparator)
                .collect::<Result<Vec<_>>>()?;
            Box::new(move |a, b| {
                comparators
                    .iter()
                    .map(|compare| compare(a, b))
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            })
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>().clone();
            let compare = hive_comparator(list.values())?;
            Box::new(move |a, b| {
                let (a_start, a_end) = bounds(&list, a);
                let (b_start, b_end) = bounds(&list, b);
                (a_start..a_end)
                    .zip(b_start..b_end)
                    .map(|(x, y)| compare(x, y))
                    .find(|o| o.is_ne())
                    .unwrap_or_else(|| (a_end - a_start).cmp(&(b_end - b_start)))
            })
        }
        other => return plan_err!("sort_array cannot order values of type {other}"),
    };
    Ok(Box::new(move |a, b| match (is_null(a), is_null(b)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => inner(a, b),
    }))
}

fn bounds(list: &ListArray, row: usize) -> (usize, usize) {
    let offsets = list.value_offsets();
    (offsets[row] as usize, offsets[row + 1] as usize)
}

/// Maps by size, then entry by entry in key order: key, then value.
fn map_comparator(array: &ArrayRef) -> Result<DynComparator> {
    let map = array.as_map().clone();
    let keys = Arc::clone(map.keys());
    let compare_keys = hive_comparator(&keys)?;
    let compare_values = hive_comparator(map.values())?;
    // Each map's entry indices, in key order.
    let offsets = map.value_offsets();
    let sorted_entries: Vec<Vec<usize>> = (0..map.len())
        .map(|row| {
            let mut entries: Vec<usize> =
                (offsets[row] as usize..offsets[row + 1] as usize).collect();
            entries.sort_by(|a, b| compare_keys(*a, *b));
            entries
        })
        .collect();
    Ok(Box::new(move |a, b| {
        let (a_entries, b_entries) = (&sorted_entries[a], &sorted_entries[b]);
        a_entries.len().cmp(&b_entries.len()).then_with(|| {
            a_entries
                .iter()
                .zip(b_entries)
                .map(|(x, y)| compare_keys(*x, *y).then_with(|| compare_values(*x, *y)))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        })
    }))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn maps_sort_by_size_then_entries_in_key_order() {
        let ctx = datafusion::prelude::SessionContext::new();
        ctx.register_udf(super::udf());
        let batches = ctx
            .sql(
                "select sort_array(make_array(map(['b', 'a'], [2, 9]), map(['c', 'a'], [3, 1]), \
                 map(['a', 'b'], [1, 8]), map(['z'], [0]))) s, sort_array(make_array(3, null, 1)) n",
            )
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        assert!(
            text.contains("[{z: 0}, {a: 1, b: 8}, {c: 3, a: 1}, {b: 2, a: 9}]"),
            "{text}"
        );
        assert!(text.contains("[, 1, 3]"), "{text}");
    }
}
