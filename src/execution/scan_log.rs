//! What the scans of one statement read, recorded while EXPLAIN plans it: for each
//! partitioned table, how many of its partitions pruning left.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The partitions one scan reads out of its table's total.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartitionScan {
    pub table: String,
    pub scanned: usize,
    pub total: u64,
}

/// Scans record into the log only while it is recording, so that ordinary queries do not
/// pay for counting every table's partitions.
#[derive(Debug, Default)]
pub struct ScanLog {
    recording: AtomicBool,
    scans: Mutex<Vec<PartitionScan>>,
}

impl ScanLog {
    pub fn is_recording(&self) -> bool {
        self.recording.load(Ordering::Relaxed)
    }

    /// Starts recording afresh.
    pub fn start(&self) {
        self.scans_mut().clear();
        self.recording.store(true, Ordering::Relaxed);
    }

    /// Stops recording and returns what was recorded, sorted.
    pub fn finish(&self) -> Vec<PartitionScan> {
        self.recording.store(false, Ordering::Relaxed);
        let mut scans = std::mem::take(&mut *self.scans_mut());
        scans.sort();
        scans
    }

    pub fn record(&self, table: String, scanned: usize, total: u64) {
        self.scans_mut().push(PartitionScan {
            table,
            scanned,
            total,
        });
    }

    fn scans_mut(&self) -> std::sync::MutexGuard<'_, Vec<PartitionScan>> {
        self.scans
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
