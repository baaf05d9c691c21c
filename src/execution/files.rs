//! Listing a table's data files the way Hive does: regular files directly inside the
//! directory, skipping names that start with `.` or `_` (staging and marker files).

use std::path::{Path, PathBuf};

use crate::error::{ApiaryError, Result};

/// A data file and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    pub path: PathBuf,
    pub size: u64,
    /// With the size, what tells a rewritten file from the one cached metadata describes
    /// (see [`version_stamp`]).
    pub modified: std::time::SystemTime,
}

pub fn is_hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}

/// The visible data files of a directory, sorted by name. A missing directory has none.
pub fn list_data_files(dir: &Path) -> Result<Vec<DataFile>> {
    Ok(list_dir(dir)?.0)
}

/// The visible data files of a directory, sorted by name, and the names of its hidden
/// entries (staging directories among them).
pub fn list_dir(dir: &Path) -> Result<(Vec<DataFile>, Vec<String>)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(ApiaryError::io(format!("cannot list {}", dir.display()), e)),
    };
    let mut files = Vec::new();
    let mut hidden = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| ApiaryError::io(format!("cannot list {}", dir.display()), e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_hidden(&name) {
            hidden.push(name);
            continue;
        }
        let metadata = entry
            .metadata()
            .map_err(|e| ApiaryError::io(format!("cannot stat {}", entry.path().display()), e))?;
        if metadata.is_file() {
            files.push(DataFile {
                path: entry.path(),
                size: metadata.len(),
                modified: version_stamp(&metadata),
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((files, hidden))
}

/// Creates a directory and its parents.
pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| ApiaryError::io(format!("cannot create {}", dir.display()), e))
}

/// A location string from the metastore as a local path (`file:` URIs accepted).
pub fn local_path(location: &str) -> PathBuf {
    let path = location
        .strip_prefix("file://")
        .or_else(|| location.strip_prefix("file:"))
        .unwrap_or(location);
    PathBuf::from(path)
}

/// A file's modification time, made distinct for distinct files: the kernel's coarse clock
/// can give two quick rewrites of one name the same time (and, often, the same size), so
/// the inode number is folded into the nanoseconds. A rewrite is staged while the file it
/// replaces still exists, so the two never share an inode.
fn version_stamp(metadata: &std::fs::Metadata) -> std::time::SystemTime {
    let modified = metadata.modified().unwrap_or(std::time::UNIX_EPOCH);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let since_epoch = modified
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let nanos = since_epoch.subsec_nanos() ^ (metadata.ino() as u32 & 0x000F_FFFF);
        let stamp = std::time::Duration::new(since_epoch.as_secs(), nanos % 1_000_000_000);
        std::time::UNIX_EPOCH + stamp
    }
    #[cfg(not(unix))]
    modified
}
