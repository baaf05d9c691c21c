//! Isolation between the queries and the writes of a table, as Hive's lock manager gives it
//! (SHARED locks for reads, EXCLUSIVE ones while a write changes data): an advisory lock on a
//! hidden file in the table's directory. A query takes it shared before it lists the table's
//! files and keeps it until its statement ends; a commit takes it exclusive while it moves
//! files in and out. So a query sees each write whole or not at all, and the files it listed
//! stay until it has read them. A commit waits for the queries running on its table.
//!
//! Locks are released when their file closes, so a killed process holds none. A statement
//! gives up its shared locks before it commits, so no process holds one lock while waiting
//! for another, and two writers cannot wait on each other.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{ApiaryError, Result};

/// The lock file, hidden from readers, MSCK and other engines like every name starting with `.`.
pub const LOCK_FILE: &str = ".apiary-lock";

/// The longest a commit waits for the queries reading its table.
const COMMIT_WAIT: Duration = Duration::from_secs(600);

/// Opens the lock file of the table in `table_dir`, creating it if it can. A directory where
/// it cannot be created (a read-only external table, or one not created yet) has no lock.
fn open_lock(table_dir: &Path) -> Option<File> {
    let path = table_dir.join(LOCK_FILE);
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .or_else(|_| File::open(&path))
        .ok()
}

/// The shared locks one statement holds, one per table directory.
#[derive(Debug, Default)]
pub struct ReadLocks {
    held: Mutex<BTreeMap<PathBuf, File>>,
}

impl ReadLocks {
    /// Takes the shared lock of the table in `table_dir`, unless this statement holds it,
    /// waiting for a commit in progress to finish.
    pub fn acquire(&self, table_dir: &Path) -> Result<()> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.contains_key(table_dir) {
            return Ok(());
        }
        let Some(file) = open_lock(table_dir) else {
            return Ok(());
        };
        file.lock_shared().map_err(|e| {
            ApiaryError::io(
                format!("cannot lock {} for reading", table_dir.display()),
                e,
            )
        })?;
        held.insert(table_dir.to_path_buf(), file);
        Ok(())
    }

    /// Releases every lock: the statement has read all it reads.
    pub fn release_all(&self) {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// The exclusive lock of the table in `table_dir`, held until the returned file drops; `None`
/// when the table has no lock file. Waits for running queries, up to a limit.
pub fn lock_for_commit(table_dir: &Path) -> Result<Option<File>> {
    let Some(file) = open_lock(table_dir) else {
        return Ok(None);
    };
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(TryLockError::WouldBlock) if started.elapsed() < COMMIT_WAIT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(ApiaryError::Execution(format!(
                    "gave up waiting {}s for the queries reading {} to finish; nothing was written",
                    COMMIT_WAIT.as_secs(),
                    table_dir.display()
                )));
            }
            Err(TryLockError::Error(e)) => {
                return Err(ApiaryError::io(
                    format!("cannot lock {} for writing", table_dir.display()),
                    e,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_wait_for_readers_and_readers_for_commits() {
        let dir = tempfile::tempdir().unwrap();
        let readers = ReadLocks::default();
        readers.acquire(dir.path()).unwrap();
        // Another reader shares the table.
        let other = ReadLocks::default();
        other.acquire(dir.path()).unwrap();
        let writer = open_lock(dir.path()).unwrap();
        assert!(matches!(writer.try_lock(), Err(TryLockError::WouldBlock)));
        readers.release_all();
        other.release_all();
        let held = lock_for_commit(dir.path()).unwrap().unwrap();
        let reader = open_lock(dir.path()).unwrap();
        assert!(matches!(
            reader.try_lock_shared(),
            Err(TryLockError::WouldBlock)
        ));
        drop(held);
        assert!(reader.try_lock_shared().is_ok());
    }
}
