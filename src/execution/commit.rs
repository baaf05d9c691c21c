//! Atomic writes into a table or partition directory.
//!
//! A write puts its files into a hidden staging directory inside the target (readers skip
//! hidden names). Committing writes a manifest — the files to delete (for OVERWRITE) and the
//! files to move into place — and renames it to `_COMMIT`: that rename is the commit point.
//! The manifest is then applied and the staging directory removed. A writer killed before the
//! commit point leaves only a hidden directory, removed by the next writer or reader of the
//! table; one killed after it has its manifest rolled forward by the next one. Either way
//! readers see the old contents or the new, never part of a write.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::files::{DataFile, list_data_files, list_dir};
use super::table_lock::lock_for_commit;
use crate::error::{ApiaryError, Result};

const STAGING_PREFIX: &str = ".apiary-staging-";
const MANIFEST: &str = "_COMMIT";

static STAGING_COUNTER: AtomicU64 = AtomicU64::new(0);

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    deletes: Vec<PathBuf>,
    moves: Vec<(PathBuf, PathBuf)>,
}

/// A write in progress into `target`. Dropped without [`Staging::commit`], it leaves no trace.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    target: PathBuf,
    /// The directory of the table written, whose lock the commit takes.
    table_dir: PathBuf,
    next_file: usize,
    committed: bool,
}

impl Staging {
    /// Starts a write into the directory `target` (the table's directory `table_dir`, or one
    /// of its partitions'), creating it if needed.
    pub fn create(target: &Path, table_dir: &Path) -> Result<Staging> {
        recover(target)?;
        let name = format!(
            "{STAGING_PREFIX}{}-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default(),
            STAGING_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let dir = target.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| {
            ApiaryError::io(
                format!("cannot create staging directory in {}", target.display()),
                e,
            )
        })?;
        Ok(Staging {
            dir,
            target: target.to_path_buf(),
            table_dir: table_dir.to_path_buf(),
            next_file: 0,
            committed: false,
        })
    }

    /// A fresh path inside the staging directory for the next data file (Hive's `000000_0`).
    pub fn next_file_path(&mut self) -> PathBuf {
        let path = self.dir.join(format!("{:06}_0", self.next_file));
        self.next_file += 1;
        path
    }

    /// A path in the staging directory keeping a loaded file's own name.
    pub fn path_for(&self, file_name: &str) -> PathBuf {
        self.dir.join(file_name)
    }

    /// Makes the staged files the directory's data: added to it, or replacing it if
    /// `overwrite`.
    pub fn commit(mut self, overwrite: bool) -> Result<()> {
        // No query of the table lists its files while they change.
        let _lock = lock_for_commit(&self.table_dir)?;
        let deletes = if overwrite {
            list_data_files(&self.target)?
                .into_iter()
                .map(|f| f.path)
                .collect()
        } else {
            Vec::new()
        };
        let mut moves = Vec::new();
        let mut staged = list_data_files(&self.dir)?;
        staged.sort_by(|a, b| a.path.cmp(&b.path));
        let mut taken: Vec<PathBuf> = Vec::new();
        for file in staged {
            let name = file
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let destination = free_name(&self.target, &name, overwrite, &taken);
            taken.push(destination.clone());
            moves.push((file.path, destination));
        }
        let manifest = Manifest { deletes, moves };
        let text = serde_json::to_vec(&manifest)
            .map_err(|e| ApiaryError::Execution(format!("cannot encode commit manifest: {e}")))?;
        let temporary = self.dir.join(".manifest.tmp");
        let io = |e| {
            ApiaryError::io(
                format!("cannot write commit manifest in {}", self.dir.display()),
                e,
            )
        };
        let mut file = std::fs::File::create(&temporary).map_err(io)?;
        file.write_all(&text).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&temporary, self.dir.join(MANIFEST)).map_err(io)?;
        // Committed: from here on the write happens, now or at the next recovery.
        self.committed = true;
        apply(&manifest)?;
        remove_dir(&self.dir)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Hive's naming for a file that already exists: `name_copy_1`, `name_copy_2`, ...
fn free_name(target: &Path, name: &str, overwrite: bool, taken: &[PathBuf]) -> PathBuf {
    let mut candidate = target.join(name);
    let mut copy = 1;
    while taken.contains(&candidate) || (!overwrite && candidate.exists()) {
        candidate = target.join(format!("{name}_copy_{copy}"));
        copy += 1;
    }
    candidate
}

fn apply(manifest: &Manifest) -> Result<()> {
    for path in &manifest.deletes {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ApiaryError::io(
                    format!("cannot delete {}", path.display()),
                    e,
                ));
            }
        }
    }
    for (from, to) in &manifest.moves {
        if from.exists() {
            move_without_replacing(from, to)?;
        }
    }
    Ok(())
}

/// Moves `from` to `to`, or to `to_copy_N` if another writer took `to` meanwhile: a hard
/// link never replaces an existing file, so concurrent writers cannot lose each other's data.
fn move_without_replacing(from: &Path, to: &Path) -> Result<()> {
    let io = |e| {
        ApiaryError::io(
            format!("cannot move {} to {}", from.display(), to.display()),
            e,
        )
    };
    let mut destination = to.to_path_buf();
    let mut copy = 0;
    loop {
        match std::fs::hard_link(from, &destination) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if same_file(from, &destination) {
                    // Linked by an earlier attempt that died before removing the source.
                    break;
                }
                copy += 1;
                let name = to
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                destination = to.with_file_name(format!("{name}_copy_{copy}"));
            }
            // No hard links on this file system: a plain rename.
            Err(_) => return std::fs::rename(from, to).map_err(io),
        }
    }
    std::fs::remove_file(from).map_err(io)
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_a: &Path, _b: &Path) -> bool {
    false
}

fn remove_dir(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ApiaryError::io(
            format!("cannot remove {}", dir.display()),
            e,
        )),
    }
}

/// The data files of `dir` once interrupted writes there are finished or removed: one listing
/// of the directory unless a staging directory is present.
pub fn committed_files(dir: &Path) -> Result<Vec<DataFile>> {
    let (files, hidden) = list_dir(dir)?;
    if !hidden.iter().any(|name| name.starts_with(STAGING_PREFIX)) {
        return Ok(files);
    }
    recover(dir)?;
    list_data_files(dir)
}

/// Finishes committed writes and removes abandoned ones in `target`. Staging directories of
/// live processes are left alone.
pub fn recover(target: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(target) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(STAGING_PREFIX) else {
            continue;
        };
        let dir = entry.path();
        let manifest_path = dir.join(MANIFEST);
        if manifest_path.exists() {
            let text = std::fs::read(&manifest_path).map_err(|e| {
                ApiaryError::io(format!("cannot read {}", manifest_path.display()), e)
            })?;
            let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| {
                ApiaryError::Execution(format!(
                    "corrupt commit manifest {}: {e}",
                    manifest_path.display()
                ))
            })?;
            apply(&manifest)?;
            remove_dir(&dir)?;
        } else if !owner_alive(rest) {
            remove_dir(&dir)?;
        }
    }
    Ok(())
}

fn owner_alive(staging_suffix: &str) -> bool {
    let Some(pid) = staging_suffix
        .split('-')
        .next()
        .and_then(|p| p.parse::<u32>().ok())
    else {
        return false;
    };
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    // Without /proc (not Linux) nothing can be known: keep the directory.
    !proc.exists() || proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        list_data_files(dir)
            .unwrap()
            .iter()
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn commit_appends_and_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..2 {
            let mut staging = Staging::create(dir.path(), dir.path()).unwrap();
            std::fs::write(staging.next_file_path(), "a\n").unwrap();
            staging.commit(false).unwrap();
        }
        assert_eq!(names(dir.path()), vec!["000000_0", "000000_0_copy_1"]);
        let mut staging = Staging::create(dir.path(), dir.path()).unwrap();
        std::fs::write(staging.next_file_path(), "b\n").unwrap();
        staging.commit(true).unwrap();
        assert_eq!(names(dir.path()), vec!["000000_0"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("000000_0")).unwrap(),
            "b\n"
        );
        let (_, hidden) = list_dir(dir.path()).unwrap();
        assert!(
            !hidden.iter().any(|name| name.starts_with(STAGING_PREFIX)),
            "no staging left: {hidden:?}"
        );
    }

    #[test]
    fn concurrent_commits_never_replace_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Staging::create(dir.path(), dir.path()).unwrap();
        let mut second = Staging::create(dir.path(), dir.path()).unwrap();
        std::fs::write(first.next_file_path(), "first").unwrap();
        std::fs::write(second.next_file_path(), "second").unwrap();
        // Both chose their destination before either moved in.
        let first_manifest = Manifest {
            deletes: vec![],
            moves: vec![(first.dir.join("000000_0"), dir.path().join("000000_0"))],
        };
        let second_manifest = Manifest {
            deletes: vec![],
            moves: vec![(second.dir.join("000000_0"), dir.path().join("000000_0"))],
        };
        apply(&first_manifest).unwrap();
        apply(&second_manifest).unwrap();
        first.committed = true;
        second.committed = true;
        let mut contents: Vec<String> = list_data_files(dir.path())
            .unwrap()
            .iter()
            .map(|f| std::fs::read_to_string(&f.path).unwrap())
            .collect();
        contents.sort();
        assert_eq!(contents, vec!["first", "second"]);
    }

    #[test]
    fn dropped_staging_leaves_nothing_and_committed_manifest_rolls_forward() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut staging = Staging::create(dir.path(), dir.path()).unwrap();
            std::fs::write(staging.next_file_path(), "x").unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        // A writer that died right after its commit point.
        std::fs::write(dir.path().join("old"), "old").unwrap();
        let staged = dir.path().join(".apiary-staging-999999999-1-1");
        std::fs::create_dir(&staged).unwrap();
        std::fs::write(staged.join("000000_0"), "new").unwrap();
        let manifest = Manifest {
            deletes: vec![dir.path().join("old")],
            moves: vec![(staged.join("000000_0"), dir.path().join("000000_0"))],
        };
        std::fs::write(
            staged.join(MANIFEST),
            serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();
        // And one that died before it.
        let abandoned = dir.path().join(".apiary-staging-999999998-1-1");
        std::fs::create_dir(&abandoned).unwrap();
        std::fs::write(abandoned.join("000000_0"), "partial").unwrap();

        recover(dir.path()).unwrap();
        assert_eq!(names(dir.path()), vec!["000000_0"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("000000_0")).unwrap(),
            "new"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
