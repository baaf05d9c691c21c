//! The local file system as the scans' object store, reading byte ranges on the calling
//! thread.
//!
//! `object_store`'s `LocalFileSystem` hands every read to tokio's blocking pool and waits for
//! it: a Parquet scan fetching the column chunks of a row group sleeps until another thread
//! has read them, then waits to be woken. For files in the page cache the read is a copy of
//! a few megabytes, shorter than the two thread switches around it. `InlineReads` reads the
//! ranges in the task that asks for them, as DuckDB's scans do; everything else (metadata,
//! listing, writes) goes to `LocalFileSystem` unchanged.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use datafusion::object_store::local::LocalFileSystem;
use datafusion::object_store::path::Path;
use datafusion::object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};
use futures::stream::BoxStream;

const STORE: &str = "LocalFileSystem";

/// `LocalFileSystem` whose `get_ranges` reads on the calling thread.
#[derive(Debug)]
pub struct InlineReads {
    files: Arc<LocalFileSystem>,
}

impl InlineReads {
    pub fn new(files: Arc<LocalFileSystem>) -> Self {
        InlineReads { files }
    }
}

impl fmt::Display for InlineReads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InlineReads({})", self.files)
    }
}

#[async_trait]
impl ObjectStore for InlineReads {
    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let path = self.files.path_to_filesystem(location)?;
        let file = File::open(&path).map_err(|error| read_error(&path, error))?;
        let size = file
            .metadata()
            .map_err(|error| read_error(&path, error))?
            .len();
        ranges
            .iter()
            .map(|range| read_range(&file, size, &path, range))
            .collect()
    }

    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.files.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.files.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.files.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.files.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.files.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.files.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.files.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.files.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.files.rename_opts(from, to, options).await
    }
}

/// The bytes of `range` of `file`, `size` bytes long, all of them: a range past the end is
/// an error (checked before allocating, as the range may come from a corrupt footer). The
/// buffer is filled by `read_to_end`, which reads into its spare capacity without zeroing it.
fn read_range(file: &File, size: u64, path: &std::path::Path, range: &Range<u64>) -> Result<Bytes> {
    if range.end > size {
        return Err(past_the_end(path, size, range));
    }
    let length = range.end.saturating_sub(range.start);
    let mut reader = file;
    reader
        .seek(SeekFrom::Start(range.start))
        .map_err(|error| read_error(path, error))?;
    let mut buffer = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    reader
        .take(length)
        .read_to_end(&mut buffer)
        .map_err(|error| read_error(path, error))?;
    if (buffer.len() as u64) < length {
        return Err(past_the_end(path, range.start + buffer.len() as u64, range));
    }
    Ok(Bytes::from(buffer))
}

fn past_the_end(
    path: &std::path::Path,
    end: u64,
    range: &Range<u64>,
) -> datafusion::object_store::Error {
    generic(format!(
        "{} ends before byte {end} of the range {}..{} asked for",
        path.display(),
        range.start,
        range.end
    ))
}

fn read_error(path: &std::path::Path, error: std::io::Error) -> datafusion::object_store::Error {
    if error.kind() == std::io::ErrorKind::NotFound {
        return datafusion::object_store::Error::NotFound {
            path: path.display().to_string(),
            source: Box::new(error),
        };
    }
    generic(format!("cannot read {}: {error}", path.display()))
}

fn generic(message: String) -> datafusion::object_store::Error {
    datafusion::object_store::Error::Generic {
        store: STORE,
        source: message.into(),
    }
}

/// Makes `InlineReads` the store of `file://` paths in `runtime`.
pub fn install(runtime: &datafusion::execution::runtime_env::RuntimeEnv) {
    let url = datafusion::execution::object_store::ObjectStoreUrl::local_filesystem();
    runtime.register_object_store(
        url.as_ref(),
        Arc::new(InlineReads::new(Arc::new(LocalFileSystem::new()))),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::object_store::ObjectStoreExt;

    fn store_with(bytes: &[u8]) -> (tempfile::TempDir, InlineReads, Path) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.bin");
        std::fs::write(&file, bytes).unwrap();
        let location = Path::from_filesystem_path(&file).unwrap();
        (
            dir,
            InlineReads::new(Arc::new(LocalFileSystem::new())),
            location,
        )
    }

    #[tokio::test]
    async fn reads_each_range_in_full() {
        let data: Vec<u8> = (0..=255).cycle().take(100_000).collect();
        let (_dir, store, location) = store_with(&data);
        let ranges = [0..10, 99_990..100_000, 5..5, 40_000..70_000];
        let read = store.get_ranges(&location, &ranges).await.unwrap();
        for (range, bytes) in ranges.iter().zip(&read) {
            assert_eq!(&bytes[..], &data[range.start as usize..range.end as usize]);
        }
    }

    #[tokio::test]
    async fn a_range_past_the_end_is_an_error() {
        let (_dir, store, location) = store_with(b"0123456789");
        let error = store
            .get_ranges(&location, &[0..2, 5..20])
            .await
            .unwrap_err();
        assert!(error.to_string().contains("ends before byte 10"), "{error}");
    }

    #[tokio::test]
    async fn a_range_no_file_could_hold_is_an_error_not_an_allocation() {
        let (_dir, store, location) = store_with(b"0123456789");
        let error = store
            .get_ranges(&location, &[0..1, 1..u64::MAX])
            .await
            .unwrap_err();
        assert!(error.to_string().contains("ends before byte 10"), "{error}");
    }

    #[tokio::test]
    async fn a_missing_file_is_not_found() {
        let (dir, store, location) = store_with(b"x");
        std::fs::remove_file(dir.path().join("data.bin")).unwrap();
        let error = store
            .get_ranges(&location, &[0..1, 0..1])
            .await
            .unwrap_err();
        assert!(
            matches!(error, datafusion::object_store::Error::NotFound { .. }),
            "{error}"
        );
    }

    #[tokio::test]
    async fn everything_else_is_the_local_file_system() {
        let (_dir, store, location) = store_with(b"0123456789");
        let whole = store.get(&location).await.unwrap().bytes().await.unwrap();
        assert_eq!(&whole[..], b"0123456789");
        let listed = store.head(&location).await.unwrap();
        assert_eq!(listed.size, 10);
    }
}
