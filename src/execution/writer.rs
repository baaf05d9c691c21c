//! Writing a plan's rows into a staged data file, as Hive text, Parquet or ORC.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use futures::StreamExt;

use super::commit::Staging;
use super::format::{TableFormat, TextSerde, check_orc_writable};
use crate::driver::Session;
use crate::error::{ApiaryError, Result};
use crate::hive_text::{Style, write_value};

/// Runs `plan` and writes its rows into one new file in `staging`. Returns the row count;
/// no file is made for zero rows.
pub async fn write_plan(
    session: &Session,
    plan: LogicalPlan,
    staging: &mut Staging,
    format: &TableFormat,
) -> Result<u64> {
    let frame = DataFrame::new(session.ctx.state(), plan);
    let schema = frame.schema().inner().clone();
    let mut stream = frame.execute_stream().await?;
    let mut file: Option<DataFileWriter> = None;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        if file.is_none() {
            file = Some(DataFileWriter::create(
                staging.next_file_path(),
                format,
                schema.clone(),
            )?);
        }
        if let Some(file) = file.as_mut() {
            file.write(&batch)?;
        }
    }
    match file {
        Some(file) => file.finish(),
        None => Ok(0),
    }
}

/// One data file being written, in a table's format.
pub struct DataFileWriter {
    path: PathBuf,
    sink: Sink,
    rows: u64,
    /// For Parquet and ORC files, the schema the file holds when it differs from the rows':
    /// string views stored as plain strings.
    stored_schema: Option<SchemaRef>,
}

enum Sink {
    Text(std::io::BufWriter<std::fs::File>, TextSerde),
    Parquet(Box<ArrowWriter<std::fs::File>>),
    Orc(OrcWriterThread),
}

/// orc-rust's writer cannot move between threads, and a plan's rows arrive across awaits: it
/// runs on a thread of its own, fed batches through a channel, and reports when joined.
struct OrcWriterThread {
    batches: Option<SyncSender<RecordBatch>>,
    thread: Option<JoinHandle<std::result::Result<(), String>>>,
}

impl OrcWriterThread {
    fn start(file: std::fs::File, schema: SchemaRef) -> Self {
        let (batches, received) = sync_channel::<RecordBatch>(2);
        // orc-rust wants each batch's schema equal to the file's: all columns nullable, and
        // each batch rewrapped in that schema (plans differ in nullability and metadata).
        let fields: Vec<_> = schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let thread = std::thread::spawn(move || {
            let mut writer = orc_rust::ArrowWriterBuilder::new(&file, Arc::clone(&schema))
                .try_build()
                .map_err(|e| e.to_string())?;
            for batch in received {
                let batch = RecordBatch::try_new(Arc::clone(&schema), batch.columns().to_vec())
                    .map_err(|e| e.to_string())?;
                writer.write(&batch).map_err(|e| e.to_string())?;
            }
            writer.close().map_err(|e| e.to_string())?;
            file.sync_all().map_err(|e| e.to_string())
        });
        OrcWriterThread {
            batches: Some(batches),
            thread: Some(thread),
        }
    }

    /// Hands a batch to the writer; when it has stopped, its error.
    fn write(&mut self, batch: &RecordBatch) -> std::result::Result<(), String> {
        let sent = self
            .batches
            .as_ref()
            .is_some_and(|batches| batches.send(batch.clone()).is_ok());
        if sent { Ok(()) } else { self.finish() }
    }

    /// Closes the file and waits for the writer.
    fn finish(&mut self) -> std::result::Result<(), String> {
        self.batches = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err("the ORC writer stopped unexpectedly".into()),
            None => Err("the ORC file is already closed".into()),
        }
    }
}

impl DataFileWriter {
    pub fn create(path: PathBuf, format: &TableFormat, schema: SchemaRef) -> Result<Self> {
        let stored_schema = match format {
            TableFormat::Text(_) => None,
            TableFormat::Parquet | TableFormat::Orc => stored_types(&schema),
        };
        let schema = stored_schema.clone().unwrap_or(schema);
        let file = std::fs::File::create(&path).map_err(|e| write_error(&path, e))?;
        let sink = match format {
            TableFormat::Text(serde) => Sink::Text(
                std::io::BufWriter::with_capacity(1 << 20, file),
                serde.clone(),
            ),
            TableFormat::Orc => {
                check_orc_writable(&schema)?;
                Sink::Orc(OrcWriterThread::start(file, schema))
            }
            TableFormat::Parquet => {
                let properties = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                Sink::Parquet(Box::new(
                    ArrowWriter::try_new(file, schema, Some(properties))
                        .map_err(DataFusionError::from)?,
                ))
            }
        };
        Ok(DataFileWriter {
            path,
            sink,
            rows: 0,
            stored_schema,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        let stored;
        let batch = match &self.stored_schema {
            Some(schema) => {
                stored = stored_batch(batch, schema)?;
                &stored
            }
            None => batch,
        };
        match &mut self.sink {
            Sink::Text(out, serde) => {
                write_text(out, batch, serde).map_err(|e| write_error(&self.path, e))
            }
            Sink::Parquet(writer) => Ok(writer.write(batch).map_err(DataFusionError::from)?),
            Sink::Orc(writer) => writer.write(batch).map_err(|e| {
                ApiaryError::Execution(format!("cannot write {}: {e}", self.path.display()))
            }),
        }
    }

    /// Flushes the file to disk; returns the rows written.
    pub fn finish(self) -> Result<u64> {
        let file = match self.sink {
            Sink::Text(out, _) => out
                .into_inner()
                .map_err(|e| write_error(&self.path, e.into_error()))?,
            Sink::Parquet(writer) => writer.into_inner().map_err(DataFusionError::from)?,
            Sink::Orc(mut writer) => {
                writer.finish().map_err(|e| {
                    ApiaryError::Execution(format!("cannot write {}: {e}", self.path.display()))
                })?;
                return Ok(self.rows);
            }
        };
        file.sync_all().map_err(|e| write_error(&self.path, e))?;
        Ok(self.rows)
    }
}

/// The schema a Parquet or ORC file stores for rows of `schema`, when it differs: Apiary's
/// string views (an in-memory layout of STRING and BINARY values) are stored as the plain
/// types, which every reader of these files knows. `None` when there are no views.
fn stored_types(schema: &SchemaRef) -> Option<SchemaRef> {
    let fields: Vec<FieldRef> = schema.fields().iter().map(stored_field).collect();
    let stored = Schema::new_with_metadata(fields, schema.metadata().clone());
    (stored != **schema).then(|| Arc::new(stored))
}

fn stored_field(field: &FieldRef) -> FieldRef {
    let data_type = match field.data_type() {
        DataType::Utf8View => DataType::Utf8,
        DataType::BinaryView => DataType::Binary,
        DataType::List(item) => DataType::List(stored_field(item)),
        DataType::LargeList(item) => DataType::LargeList(stored_field(item)),
        DataType::Map(entries, sorted) => DataType::Map(stored_field(entries), *sorted),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(stored_field).collect()),
        other => other.clone(),
    };
    Arc::new(field.as_ref().clone().with_data_type(data_type))
}

/// `batch` with each column cast to the type `schema` stores it as.
fn stored_batch(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| cast(column, field.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(DataFusionError::from)?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns).map_err(DataFusionError::from)?)
}

fn write_error(path: &std::path::Path, error: std::io::Error) -> ApiaryError {
    ApiaryError::io(format!("cannot write {}", path.display()), error)
}

/// Rows as LazySimpleSerDe lines.
fn write_text(out: &mut impl Write, batch: &RecordBatch, serde: &TextSerde) -> std::io::Result<()> {
    let style = Style::Text {
        separators: &serde.separators,
        null_format: &serde.null_format,
        escape: serde.escape,
    };
    let mut line = String::new();
    for row in 0..batch.num_rows() {
        line.clear();
        for (i, column) in batch.columns().iter().enumerate() {
            if i > 0 {
                line.push(serde.separators[0] as char);
            }
            write_value(&mut line, column.as_ref(), row, &style);
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringViewArray};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    #[test]
    fn parquet_files_store_string_views_as_plain_strings() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("part-0.parquet");
        let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8View, true)]));
        let values: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("short"),
            None,
            Some("a string longer than twelve bytes"),
        ]));
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![values]).expect("batch");
        let mut writer =
            DataFileWriter::create(path.clone(), &TableFormat::Parquet, schema).expect("writer");
        writer.write(&batch).expect("write");
        assert_eq!(writer.finish().expect("finish"), 3);

        let file = std::fs::File::open(&path).expect("open");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).expect("footer");
        assert_eq!(reader.schema().field(0).data_type(), &DataType::Utf8);
        let rows: Vec<RecordBatch> = reader
            .build()
            .expect("reader")
            .collect::<std::result::Result<_, _>>()
            .expect("rows");
        let strings = rows[0].column(0).as_string::<i32>();
        assert_eq!(strings.value(2), "a string longer than twelve bytes");
        assert!(strings.is_null(1));
    }
}
