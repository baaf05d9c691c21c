//! Writing a plan's rows into a staged data file, as Hive text, Parquet or ORC.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
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
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
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
