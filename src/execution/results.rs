//! Building the row results of commands (SHOW, DESCRIBE, SET) as string columns.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::driver::StatementOutput;

/// A one-column result.
pub fn single_column(name: &str, rows: Vec<String>) -> StatementOutput {
    string_table(&[name], rows.into_iter().map(|r| vec![r]).collect())
}

/// A result of string columns named `names`.
pub fn string_table(names: &[&str], rows: Vec<Vec<String>>) -> StatementOutput {
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|i| {
            Arc::new(StringArray::from_iter(
                rows.iter().map(|row| row.get(i).map(String::as_str)),
            )) as ArrayRef
        })
        .collect();
    let batches = match RecordBatch::try_new(schema.clone(), columns) {
        Ok(batch) if batch.num_rows() > 0 => vec![batch],
        _ => Vec::new(),
    };
    StatementOutput::Rows { schema, batches }
}
