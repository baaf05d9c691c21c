//! Parquet files written by Arrow-based tools (tpchgen-cli, DataFusion, Polars) may carry an
//! Arrow schema hint that their strings and binaries are views (`string_view`). DataFusion's
//! reader follows the hint and decodes views, then copies every value into the table's
//! `Utf8` / `Binary` arrays, which is what Hive's STRING and BINARY are in Apiary. This reader
//! factory rewrites such a hint to the plain types before the reader sees it, so the columns
//! decode straight into the table's types. Every other hint is kept.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::ParquetFileReaderFactory;
use datafusion::parquet::arrow::arrow_reader::ArrowReaderOptions;
use datafusion::parquet::arrow::async_reader::AsyncFileReader;
use datafusion::parquet::arrow::{
    ARROW_SCHEMA_META_KEY, encode_arrow_schema, parquet_to_arrow_schema,
};
use datafusion::parquet::errors::Result as ParquetResult;
use datafusion::parquet::file::metadata::{
    FileMetaData, KeyValue, ParquetMetaData, ParquetMetaDataBuilder,
};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::FutureExt;
use futures::future::BoxFuture;

/// Wraps a reader factory so that its readers report view hints as plain types.
#[derive(Debug)]
pub struct PlainStringHints<F>(pub F);

impl<F: ParquetFileReaderFactory> ParquetFileReaderFactory for PlainStringHints<F> {
    fn create_reader(
        &self,
        partition_index: usize,
        partitioned_file: PartitionedFile,
        metadata_size_hint: Option<usize>,
        metrics: &ExecutionPlanMetricsSet,
    ) -> datafusion::error::Result<Box<dyn AsyncFileReader + Send>> {
        let inner = self.0.create_reader(
            partition_index,
            partitioned_file,
            metadata_size_hint,
            metrics,
        )?;
        Ok(Box::new(PlainStringReader(inner)))
    }
}

struct PlainStringReader(Box<dyn AsyncFileReader + Send>);

impl AsyncFileReader for PlainStringReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, ParquetResult<Bytes>> {
        self.0.get_bytes(range)
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, ParquetResult<Vec<Bytes>>> {
        self.0.get_byte_ranges(ranges)
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, ParquetResult<Arc<ParquetMetaData>>> {
        async move {
            let metadata = self.0.get_metadata(options).await?;
            Ok(without_view_hints(&metadata).map_or(metadata, Arc::new))
        }
        .boxed()
    }
}

/// `metadata` with its Arrow schema hint's view types made plain; `None` when it has none.
fn without_view_hints(metadata: &ParquetMetaData) -> Option<ParquetMetaData> {
    let file = metadata.file_metadata();
    let pairs = file.key_value_metadata()?;
    if !pairs.iter().any(|kv| kv.key == ARROW_SCHEMA_META_KEY) {
        return None;
    }
    let hinted = parquet_to_arrow_schema(file.schema_descr(), Some(pairs)).ok()?;
    if !hinted.fields().iter().any(|f| has_view(f.data_type())) {
        return None;
    }
    let plain = Schema::new_with_metadata(
        hinted
            .fields()
            .iter()
            .map(|f| Arc::new(plain_field(f)))
            .collect::<Vec<_>>(),
        hinted.metadata().clone(),
    );
    let pairs = pairs
        .iter()
        .map(|kv| match kv.key.as_str() {
            ARROW_SCHEMA_META_KEY => KeyValue::new(kv.key.clone(), encode_arrow_schema(&plain)),
            _ => kv.clone(),
        })
        .collect();
    let file = FileMetaData::new(
        file.version(),
        file.num_rows(),
        file.created_by().map(str::to_string),
        Some(pairs),
        file.schema_descr_ptr(),
        file.column_orders().cloned(),
    );
    let rebuilt = ParquetMetaDataBuilder::new(file)
        .set_row_groups(metadata.row_groups().to_vec())
        .set_column_index(metadata.column_index().cloned())
        .set_offset_index(metadata.offset_index().cloned())
        .build();
    Some(rebuilt)
}

fn has_view(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8View | DataType::BinaryView => true,
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            has_view(f.data_type())
        }
        DataType::Map(f, _) => has_view(f.data_type()),
        DataType::Struct(fields) => fields.iter().any(|f| has_view(f.data_type())),
        _ => false,
    }
}

fn plain_field(field: &Field) -> Field {
    field.clone().with_data_type(plain_type(field.data_type()))
}

fn plain_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Utf8View => DataType::Utf8,
        DataType::BinaryView => DataType::Binary,
        DataType::List(f) => DataType::List(Arc::new(plain_field(f))),
        DataType::LargeList(f) => DataType::LargeList(Arc::new(plain_field(f))),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(Arc::new(plain_field(f)), *n),
        DataType::Map(f, sorted) => DataType::Map(Arc::new(plain_field(f)), *sorted),
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| Arc::new(plain_field(f)))
                .collect::<Vec<_>>()
                .into(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringViewArray};
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::file::metadata::ParquetMetaDataReader;

    use super::*;

    #[test]
    fn view_hints_become_plain_types_and_others_stay() {
        let strings: ArrayRef = Arc::new(StringViewArray::from(vec!["a", "bb"]));
        let numbers: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        let batch = RecordBatch::try_from_iter([("s", strings), ("n", numbers)]).expect("a batch");
        let mut file = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut file, batch.schema(), None).expect("a writer");
        writer.write(&batch).expect("written");
        writer.close().expect("closed");
        let metadata = ParquetMetaDataReader::new()
            .parse_and_finish(&Bytes::from(file))
            .expect("a footer");

        let hinted = |m: &ParquetMetaData| {
            let file = m.file_metadata();
            parquet_to_arrow_schema(file.schema_descr(), file.key_value_metadata())
                .expect("a schema")
        };
        assert_eq!(hinted(&metadata).field(0).data_type(), &DataType::Utf8View);
        let plain = without_view_hints(&metadata).expect("a rewritten hint");
        assert_eq!(hinted(&plain).field(0).data_type(), &DataType::Utf8);
        assert_eq!(hinted(&plain).field(1).data_type(), &DataType::Int64);
        assert_eq!(plain.row_groups().len(), metadata.row_groups().len());
        // Nothing to rewrite the second time.
        assert!(without_view_hints(&plain).is_none());
    }
}
