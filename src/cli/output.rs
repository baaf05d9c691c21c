//! Printing results: the Hive CLI's tab-separated form, an aligned table, CSV and JSON lines.

use std::io::{self, Write};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, SchemaRef};

use super::args::OutputFormat;
use crate::hive_text::{Style, write_value};

/// Every row's values rendered as the Hive CLI prints them.
pub fn rendered_rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|column| {
                        let mut value = String::new();
                        write_value(&mut value, column.as_ref(), row, &Style::Cli);
                        value
                    })
                    .collect(),
            );
        }
    }
    rows
}

pub fn print_rows(
    out: &mut impl Write,
    format: OutputFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    header: bool,
) -> io::Result<()> {
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let rows = rendered_rows(batches);
    match format {
        OutputFormat::Tsv => {
            if header {
                writeln!(out, "{}", names.join("\t"))?;
            }
            for row in rows {
                writeln!(out, "{}", row.join("\t"))?;
            }
        }
        OutputFormat::Csv => {
            if header {
                writeln!(
                    out,
                    "{}",
                    names
                        .iter()
                        .map(|n| csv_field(n))
                        .collect::<Vec<_>>()
                        .join(",")
                )?;
            }
            for row in rows {
                writeln!(
                    out,
                    "{}",
                    row.iter()
                        .map(|v| csv_field(v))
                        .collect::<Vec<_>>()
                        .join(",")
                )?;
            }
        }
        OutputFormat::Json => {
            for (row_index, row) in rows.iter().enumerate() {
                let mut object = serde_json::Map::new();
                for (i, (name, value)) in names.iter().zip(row).enumerate() {
                    object.insert(
                        name.clone(),
                        json_value(schema.field(i).data_type(), value, batches, row_index, i),
                    );
                }
                writeln!(out, "{}", serde_json::Value::Object(object))?;
            }
        }
        OutputFormat::Table => print_table(out, &names, &rows)?,
    }
    Ok(())
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn json_value(
    data_type: &DataType,
    text: &str,
    batches: &[RecordBatch],
    row: usize,
    column: usize,
) -> serde_json::Value {
    if is_null_at(batches, row, column) {
        return serde_json::Value::Null;
    }
    match data_type {
        DataType::Boolean => serde_json::Value::Bool(text == "true"),
        t if t.is_integer() => text
            .parse::<i64>()
            .map(Into::into)
            .unwrap_or_else(|_| text.into()),
        DataType::Float32 | DataType::Float64 => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(serde_json::Value::Number)
            .unwrap_or_else(|| text.into()),
        _ => serde_json::Value::String(text.to_string()),
    }
}

fn is_null_at(batches: &[RecordBatch], mut row: usize, column: usize) -> bool {
    for batch in batches {
        if row < batch.num_rows() {
            return batch.column(column).is_null(row);
        }
        row -= batch.num_rows();
    }
    false
}

fn print_table(out: &mut impl Write, names: &[String], rows: &[Vec<String>]) -> io::Result<()> {
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = names.iter().map(|n| width(n)).collect();
    for row in rows {
        for (i, value) in row.iter().enumerate() {
            widths[i] = widths[i].max(width(value));
        }
    }
    let border: String = widths
        .iter()
        .map(|w| format!("+{}", "-".repeat(w + 2)))
        .collect::<String>()
        + "+";
    let line = |values: &[String]| -> String {
        values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("| {}{} ", v, " ".repeat(w - width(v))))
            .collect::<String>()
            + "|"
    };
    writeln!(out, "{border}")?;
    writeln!(out, "{}", line(names))?;
    writeln!(out, "{border}")?;
    for row in rows {
        writeln!(out, "{}", line(row))?;
    }
    writeln!(out, "{border}")?;
    Ok(())
}
