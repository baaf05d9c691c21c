//! LOAD DATA [LOCAL] INPATH: files become the table's (or partition's) data. LOCAL copies
//! them; otherwise they move, as in Hive. Either way they are staged and committed
//! atomically, and a moved source is removed only after the commit.

use std::path::{Path, PathBuf};

use super::commit::Staging;
use super::files::{is_hidden, local_path};
use super::insert::{PartitionTarget, partition_target, record_write, write_target};
use crate::analysis_err;
use crate::driver::{Session, StatementOutput};
use crate::error::{ApiaryError, Result};
use crate::parser::{PartitionSpec, TableName};

pub fn load_data(
    session: &mut Session,
    local: bool,
    path: &str,
    overwrite: bool,
    table_name: &TableName,
    partition: Option<PartitionSpec>,
) -> Result<StatementOutput> {
    let entry = session.require_table(table_name)?;
    let table = &entry.table;
    if table.is_view() {
        return Err(analysis_err!(
            "Cannot load data into a view: {}",
            table.qualified_name()
        ));
    }
    let sources = source_files(&local_path(path))?;
    let dynamic = partition
        .as_ref()
        .is_some_and(|spec| spec.iter().any(|(_, v)| v.is_none()));
    if dynamic {
        return Err(analysis_err!(
            "LOAD DATA needs a value for every partition key"
        ));
    }
    let values = match partition_target(session, table, partition.as_ref())? {
        PartitionTarget::Unpartitioned => None,
        PartitionTarget::Static(values) => Some(values),
        PartitionTarget::Dynamic { .. } => {
            return Err(analysis_err!(
                "LOAD DATA needs a value for every partition key"
            ));
        }
    };
    let (target, existing) = write_target(session, table, values.as_deref())?;
    let staging = Staging::create(&target, &local_path(&table.storage.location))?;
    for source in &sources {
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let staged = staging.path_for(&name);
        // A hard link stages a move without touching the source; other filesystems copy.
        if local || std::fs::hard_link(source, &staged).is_err() {
            std::fs::copy(source, &staged)
                .map_err(|e| ApiaryError::io(format!("cannot copy {}", source.display()), e))?;
        }
    }
    staging.commit(overwrite)?;
    if !local {
        for source in &sources {
            let _ = std::fs::remove_file(source);
        }
    }
    // LOAD moves files without reading them: the row count becomes unknown.
    record_write(session, &entry, values, existing, &target, None, overwrite)?;
    Ok(StatementOutput::Done)
}

/// The file itself, or the visible files of a directory.
fn source_files(path: &Path) -> Result<Vec<PathBuf>> {
    let metadata = std::fs::metadata(path)
        .map_err(|_| analysis_err!("Invalid path '{}': No files matching path", path.display()))?;
    if metadata.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path)
        .map_err(|e| ApiaryError::io(format!("cannot list {}", path.display()), e))?
    {
        let entry =
            entry.map_err(|e| ApiaryError::io(format!("cannot list {}", path.display()), e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_file() && !is_hidden(&name) {
            files.push(entry.path());
        }
    }
    if files.is_empty() {
        return Err(analysis_err!(
            "Invalid path '{}': source contains no files",
            path.display()
        ));
    }
    files.sort();
    Ok(files)
}
