//! The memory a session's queries may use. `apiary.memory.limit` is a size (`4GB`, `512MB`)
//! or a share of the machine's memory (`80%`, the default; the container's limit counts as
//! the machine's). The DataFusion runtime built here enforces it with a memory pool: sorts,
//! grouped aggregations and sort-merge joins spill to temporary files past it, and an
//! operator that cannot spill (a hash join's build side) fails the query with
//! [`crate::error::ApiaryError::OutOfMemory`] instead of the process being killed.

use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock};

use datafusion::common::config::{ConfigOptions, ExecutionOptions};
use datafusion::error::Result as DFResult;
use datafusion::execution::memory_pool::{
    FairSpillPool, MemoryLimit as PoolLimit, MemoryPool, MemoryReservation, TrackConsumersPool,
};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};

/// The setting's name.
pub const MEMORY_LIMIT: &str = "apiary.memory.limit";

/// The default: a share of physical memory, as DuckDB's default is.
pub const DEFAULT_MEMORY_LIMIT: &str = "80%";

/// How many of the largest memory users an out-of-memory error names.
const CONSUMERS_REPORTED: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryLimit {
    Unlimited,
    Bytes(usize),
}

/// Reads a limit: `unlimited`, or a number of bytes with an optional binary unit (`K`, `M`,
/// `G`, `T`, each with or without `B`, any case: `512MB`, `4g`), or a percentage of
/// `machine_memory` (unlimited when the machine's memory is unknown).
pub fn parse_limit(text: &str, machine_memory: Option<u64>) -> Result<MemoryLimit, String> {
    let invalid = || {
        format!(
            "Invalid value for {MEMORY_LIMIT}: '{text}' (expected a size such as 4GB or 512MB, \
             a share of memory such as 50%, or unlimited)"
        )
    };
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("unlimited") {
        return Ok(MemoryLimit::Unlimited);
    }
    if let Some(percent) = trimmed.strip_suffix('%') {
        let share: f64 = percent.trim().parse().map_err(|_| invalid())?;
        if !(share > 0.0 && share <= 100.0) {
            return Err(invalid());
        }
        return Ok(match machine_memory {
            Some(total) => MemoryLimit::Bytes((total as f64 * share / 100.0) as usize),
            None => MemoryLimit::Unlimited,
        });
    }
    let upper = trimmed.to_ascii_uppercase();
    let number_end = upper
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(upper.len());
    let (number, unit) = upper.split_at(number_end);
    let scale: u64 = match unit.trim().trim_end_matches('B') {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(invalid()),
    };
    let amount: f64 = number.parse().map_err(|_| invalid())?;
    let bytes = amount * scale as f64;
    if !(bytes >= 1.0 && bytes < usize::MAX as f64) {
        return Err(invalid());
    }
    Ok(MemoryLimit::Bytes(bytes as usize))
}

/// The session's limit from its setting's value; a value that does not parse (refused when
/// it was set) falls back to the default.
pub fn session_limit(value: Option<&str>) -> MemoryLimit {
    let machine = machine_memory();
    value
        .and_then(|v| parse_limit(v, machine).ok())
        .or_else(|| parse_limit(DEFAULT_MEMORY_LIMIT, machine).ok())
        .unwrap_or(MemoryLimit::Unlimited)
}

/// A runtime whose memory pool holds queries to `limit`. Spill files go to the system's
/// temporary directory.
pub fn runtime(limit: MemoryLimit) -> DFResult<Arc<RuntimeEnv>> {
    let builder = RuntimeEnvBuilder::new();
    let builder = match limit {
        MemoryLimit::Unlimited => builder,
        // Spilling operators share the pool fairly; the top consumers are named when it runs
        // out.
        MemoryLimit::Bytes(bytes) => {
            builder.with_memory_pool(Arc::new(RepartitionsNeverSpill(TrackConsumersPool::new(
                FairSpillPool::new(bytes),
                NonZeroUsize::new(CONSUMERS_REPORTED).unwrap_or(NonZeroUsize::MIN),
            ))))
        }
    };
    builder.build_arc()
}

/// A pool in which a `RepartitionExec`'s buffers always get their memory (still counted).
///
/// DataFusion 55's `RepartitionExec` writes a batch it cannot reserve memory for to a spill
/// file, and can deadlock doing so: when two of its input tasks spill to one output at once,
/// the reader waits on the older file for a batch that is in the newer one, and the query
/// stops for good, neither finishing nor failing (apache/datafusion#24883, fixed after 55.2).
/// A WITH query computed once under a tight limit ran into it. Without the spill path, a
/// repartition's buffers (a few batches per output, as its channels are gated) count against
/// the limit and make the operators that can spill do so sooner.
#[derive(Debug)]
struct RepartitionsNeverSpill<P>(P);

/// Whether a reservation belongs to a `RepartitionExec`'s output buffers (its consumers are
/// named `RepartitionExec[n]`; a sort-preserving merge's are `RepartitionExec[Merge n]`).
fn is_repartition_buffer(reservation: &MemoryReservation) -> bool {
    let name = reservation.consumer().name();
    name.strip_prefix("RepartitionExec[")
        .is_some_and(|rest| rest.trim_end_matches(']').parse::<usize>().is_ok())
}

impl<P: MemoryPool> std::fmt::Display for RepartitionsNeverSpill<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl<P: MemoryPool> MemoryPool for RepartitionsNeverSpill<P> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn register(&self, consumer: &datafusion::execution::memory_pool::MemoryConsumer) {
        self.0.register(consumer);
    }

    fn unregister(&self, consumer: &datafusion::execution::memory_pool::MemoryConsumer) {
        self.0.unregister(consumer);
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.0.grow(reservation, additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.0.shrink(reservation, shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> DFResult<()> {
        if is_repartition_buffer(reservation) {
            self.0.grow(reservation, additional);
            return Ok(());
        }
        self.0.try_grow(reservation, additional)
    }

    fn reserved(&self) -> usize {
        self.0.reserved()
    }

    fn memory_limit(&self) -> PoolLimit {
        self.0.memory_limit()
    }
}

/// DataFusion sets aside `sort_spill_reservation_bytes` (10 MB by default) per sorting
/// partition for the merge of its spill files, reserved as the sort starts. Under a small
/// limit, two partitions' 10 MB leave a 16 MB limit too little to buffer rows before they
/// spill, and a sort that should spill fails instead. At its default, the reservation is
/// capped at an eighth of the limit shared among the partitions; a value set by the user
/// stays.
pub fn fit_sort_reservations(options: &mut ConfigOptions, limit: usize) {
    let execution = &mut options.execution;
    if execution.sort_spill_reservation_bytes
        != ExecutionOptions::default().sort_spill_reservation_bytes
    {
        return;
    }
    let partitions = execution.target_partitions.max(1);
    let share = limit / 8 / partitions;
    execution.sort_spill_reservation_bytes = execution.sort_spill_reservation_bytes.min(share);
}

/// The memory this process may use: physical memory, or the cgroup's limit when that is
/// lower (in a container). None where neither can be read. Read once per process.
pub fn machine_memory() -> Option<u64> {
    static MACHINE_MEMORY: OnceLock<Option<u64>> = OnceLock::new();
    *MACHINE_MEMORY.get_or_init(read_machine_memory)
}

fn read_machine_memory() -> Option<u64> {
    let physical = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| meminfo_total(&text));
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok());
    match (physical, cgroup) {
        (Some(p), Some(c)) => Some(p.min(c)),
        (p, c) => p.or(c),
    }
}

/// `MemTotal` of /proc/meminfo, in bytes.
fn meminfo_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_binary_units() {
        assert_eq!(
            parse_limit("512MB", None),
            Ok(MemoryLimit::Bytes(512 << 20))
        );
        assert_eq!(parse_limit("4g", None), Ok(MemoryLimit::Bytes(4 << 30)));
        assert_eq!(
            parse_limit(" 1.5 GB ", None),
            Ok(MemoryLimit::Bytes(3 << 29))
        );
        assert_eq!(parse_limit("2048", None), Ok(MemoryLimit::Bytes(2048)));
        assert_eq!(parse_limit("64kb", None), Ok(MemoryLimit::Bytes(64 << 10)));
        assert_eq!(parse_limit("Unlimited", None), Ok(MemoryLimit::Unlimited));
    }

    #[test]
    fn shares_of_machine_memory() {
        assert_eq!(parse_limit("50%", Some(1000)), Ok(MemoryLimit::Bytes(500)));
        assert_eq!(parse_limit("80%", None), Ok(MemoryLimit::Unlimited));
    }

    #[test]
    fn nonsense_is_refused() {
        for text in ["", "abc", "12XB", "0", "-5MB", "0%", "150%", "1e400GB", "%"] {
            let error = parse_limit(text, Some(1 << 30)).unwrap_err();
            assert!(error.contains(MEMORY_LIMIT), "{text}: {error}");
        }
    }

    #[test]
    fn sort_reservations_fit_small_limits() {
        let mut options = ConfigOptions::new();
        options.execution.target_partitions = 2;
        fit_sort_reservations(&mut options, 16 << 20);
        assert_eq!(options.execution.sort_spill_reservation_bytes, 1 << 20);
        let mut roomy = ConfigOptions::new();
        roomy.execution.target_partitions = 2;
        fit_sort_reservations(&mut roomy, 8 << 30);
        assert_eq!(roomy.execution.sort_spill_reservation_bytes, 10 << 20);
        let mut chosen = ConfigOptions::new();
        chosen.execution.sort_spill_reservation_bytes = 12 << 20;
        fit_sort_reservations(&mut chosen, 16 << 20);
        assert_eq!(chosen.execution.sort_spill_reservation_bytes, 12 << 20);
    }

    #[test]
    fn repartition_buffers_grow_past_the_limit_and_others_do_not() {
        use datafusion::execution::memory_pool::MemoryConsumer;
        let Ok(runtime) = runtime(MemoryLimit::Bytes(1000)) else {
            panic!("a runtime with a limit")
        };
        let pool = &runtime.memory_pool;
        let buffer = MemoryConsumer::new("RepartitionExec[1]")
            .with_can_spill(true)
            .register(pool);
        assert!(buffer.try_grow(5000).is_ok());
        assert_eq!(pool.reserved(), 5000);
        let merge = MemoryConsumer::new("RepartitionExec[Merge 1]").register(pool);
        assert!(merge.try_grow(5000).is_err());
        let sort = MemoryConsumer::new("ExternalSorter[0]")
            .with_can_spill(true)
            .register(pool);
        assert!(sort.try_grow(5000).is_err());
        assert!(sort.try_grow(100).is_ok());
    }

    #[test]
    fn meminfo_total_is_in_bytes() {
        let meminfo = "MemTotal:       24000000 kB\nMemFree:  100 kB\n";
        assert_eq!(meminfo_total(meminfo), Some(24_000_000 * 1024));
        assert_eq!(meminfo_total("nothing"), None);
    }
}
