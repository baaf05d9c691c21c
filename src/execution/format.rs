//! Table storage formats: which files a table's storage descriptor means, and the
//! LazySimpleSerDe parameters of text tables.

use std::collections::BTreeMap;

use apiary_metastore::{SerDeInfo, StorageDescriptor, Table};

use crate::error::{ApiaryError, Result};
use crate::parser::RowFormat;

pub const LAZY_SIMPLE_SERDE: &str = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe";
const TEXT_INPUT: &str = "org.apache.hadoop.mapred.TextInputFormat";
const TEXT_OUTPUT: &str = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";
const PARQUET_SERDE: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";
const PARQUET_INPUT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
const PARQUET_OUTPUT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
const ORC_SERDE: &str = "org.apache.hadoop.hive.ql.io.orc.OrcSerde";
const ORC_INPUT: &str = "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat";
const ORC_OUTPUT: &str = "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat";

/// How a table's files are read and written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableFormat {
    Text(TextSerde),
    Parquet,
    /// Written with `orc-rust`, for the primitive types it encodes (see [`orc_writable`]).
    Orc,
}

/// An error naming the first column of `schema` the ORC writer does not encode.
pub fn check_orc_writable(schema: &datafusion::arrow::datatypes::Schema) -> Result<()> {
    match schema
        .fields()
        .iter()
        .find(|f| !orc_writable(f.data_type()))
    {
        Some(field) => Err(TableFormat::orc_write_error(
            field.name(),
            field.data_type(),
        )),
        None => Ok(()),
    }
}

/// Whether `orc-rust` writes columns of `data_type`: numbers but DECIMAL, strings, BINARY,
/// BOOLEAN, DATE, TIMESTAMP. It encodes no DECIMAL, ARRAY, MAP or STRUCT yet.
fn orc_writable(data_type: &datafusion::arrow::datatypes::DataType) -> bool {
    use datafusion::arrow::datatypes::DataType as T;
    matches!(
        data_type,
        T::Int8
            | T::Int16
            | T::Int32
            | T::Int64
            | T::Float32
            | T::Float64
            | T::Utf8
            | T::LargeUtf8
            | T::Utf8View
            | T::Binary
            | T::LargeBinary
            | T::Boolean
            | T::Date32
            | T::Timestamp(_, None)
    )
}

impl TableFormat {
    /// The format of `table` when Apiary can write its files: for ORC, when every column's
    /// type is one the ORC writer encodes.
    pub fn for_writing(table: &Table) -> Result<TableFormat> {
        let format = TableFormat::of(table)?;
        if format == TableFormat::Orc {
            let (schema, _) = super::table_provider::table_schema(table)?;
            check_orc_writable(&schema)?;
        }
        Ok(format)
    }

    fn orc_write_error(
        column: &str,
        data_type: &datafusion::arrow::datatypes::DataType,
    ) -> ApiaryError {
        ApiaryError::NotSupported(format!(
            "writing ORC column {column} of type {data_type} (ORC tables of numbers, strings, \
             booleans, binaries, dates and timestamps are written; DECIMAL and complex \
             columns are read only)"
        ))
    }

    pub fn of(table: &Table) -> Result<TableFormat> {
        let sd = &table.storage;
        if sd.input_format == PARQUET_INPUT || sd.serde.serialization_lib == PARQUET_SERDE {
            return Ok(TableFormat::Parquet);
        }
        if sd.input_format == ORC_INPUT || sd.serde.serialization_lib == ORC_SERDE {
            return Ok(TableFormat::Orc);
        }
        if sd.input_format == TEXT_INPUT && sd.serde.serialization_lib == LAZY_SIMPLE_SERDE {
            return Ok(TableFormat::Text(TextSerde::from_parameters(
                &sd.serde.parameters,
                &table.parameters,
            )));
        }
        Err(ApiaryError::NotSupported(format!(
            "reading {} (input format {}, serde {})",
            table.qualified_name(),
            sd.input_format,
            sd.serde.serialization_lib
        )))
    }
}

/// The storage descriptor for `STORED AS format` with `ROW FORMAT ...` at `location`.
pub fn storage_descriptor(
    stored_as: &str,
    row_format: &RowFormat,
    location: String,
) -> Result<StorageDescriptor> {
    let (input, output, serde) = match stored_as.to_ascii_uppercase().as_str() {
        "TEXTFILE" => (TEXT_INPUT, TEXT_OUTPUT, LAZY_SIMPLE_SERDE),
        "PARQUET" | "PARQUETFILE" => (PARQUET_INPUT, PARQUET_OUTPUT, PARQUET_SERDE),
        "ORC" => (ORC_INPUT, ORC_OUTPUT, ORC_SERDE),
        other => {
            return Err(ApiaryError::NotSupported(format!(
                "STORED AS {other} (supported: TEXTFILE, PARQUET, ORC)"
            )));
        }
    };
    let serialization_lib = row_format
        .serde
        .clone()
        .unwrap_or_else(|| serde.to_string());
    if serialization_lib != serde {
        return Err(ApiaryError::NotSupported(format!(
            "ROW FORMAT SERDE '{serialization_lib}' for STORED AS {stored_as}"
        )));
    }
    let mut parameters = row_format.parameters.clone();
    if serde == LAZY_SIMPLE_SERDE {
        parameters
            .entry("serialization.format".into())
            .or_insert_with(|| "1".into());
        // Hive 3 calls it collection.delim; Hive 2 and earlier (and Spark's Hive 2.3 SerDe)
        // read only the old, misspelled key. Both are written so that every reader agrees.
        if let Some(delimiter) = parameters.get("collection.delim").cloned() {
            parameters
                .entry("colelction.delim".into())
                .or_insert(delimiter);
        }
    }
    Ok(StorageDescriptor {
        location,
        input_format: input.into(),
        output_format: output.into(),
        serde: SerDeInfo {
            serialization_lib,
            parameters,
        },
        columns: Vec::new(),
        compressed: false,
        num_buckets: -1,
    })
}

/// LazySimpleSerDe's reading and writing parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSerde {
    /// Separators by nesting level: fields, collection items, map keys, then \004..\010.
    pub separators: Vec<u8>,
    pub escape: Option<u8>,
    pub null_format: String,
    pub skip_header_lines: usize,
}

impl Default for TextSerde {
    fn default() -> Self {
        TextSerde::from_parameters(&BTreeMap::new(), &BTreeMap::new())
    }
}

impl TextSerde {
    pub fn from_parameters(
        serde: &BTreeMap<String, String>,
        table: &BTreeMap<String, String>,
    ) -> Self {
        let get = |keys: &[&str]| keys.iter().find_map(|k| serde.get(*k));
        let field = delimiter_byte(get(&["field.delim", "serialization.format"]), 1);
        let collection = delimiter_byte(get(&["collection.delim", "colelction.delim"]), 2);
        let map_key = delimiter_byte(get(&["mapkey.delim"]), 3);
        let mut separators = vec![field, collection, map_key];
        separators.extend(4u8..=8);
        TextSerde {
            separators,
            escape: get(&["escape.delim"]).and_then(|e| e.bytes().next()),
            null_format: get(&["serialization.null.format"])
                .cloned()
                .unwrap_or_else(|| "\\N".to_string()),
            skip_header_lines: table
                .get("skip.header.line.count")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
        }
    }
}

/// Hive's `getByte`: a delimiter given as a number is that byte, otherwise its first byte.
fn delimiter_byte(value: Option<&String>, default: u8) -> u8 {
    match value {
        None => default,
        Some(v) if v.is_empty() => default,
        Some(v) => v
            .trim()
            .parse::<i8>()
            .map(|b| b as u8)
            .unwrap_or_else(|_| v.as_bytes()[0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_parameters() {
        let params = BTreeMap::from([
            ("field.delim".to_string(), ",".to_string()),
            ("serialization.format".to_string(), ",".to_string()),
            ("collection.delim".to_string(), "9".to_string()),
            ("serialization.null.format".to_string(), "".to_string()),
        ]);
        let table = BTreeMap::from([("skip.header.line.count".to_string(), "1".to_string())]);
        let serde = TextSerde::from_parameters(&params, &table);
        assert_eq!(&serde.separators[..4], b",\t\x03\x04");
        assert_eq!(serde.null_format, "");
        assert_eq!(serde.skip_header_lines, 1);
        assert_eq!(TextSerde::default().separators[0], 1);
        // The SD Apiary writes for a plain text table reads back as the Hive defaults.
        let sd = storage_descriptor("textfile", &RowFormat::default(), "/x".into()).unwrap();
        assert_eq!(
            TextSerde::from_parameters(&sd.serde.parameters, &BTreeMap::new()).separators[0],
            1
        );
    }
}
