//! Join key filters (`optimizer::join_key_filters`): a hash join's build side publishes the
//! set of its integer keys, and its probe side drops the rows whose key is not in the set
//! before the join hashes them, or further down, where they are read.
//!
//! The join itself already drops those rows, but each costs it a hash and a hash-table probe
//! (about 10 ns on this project's benchmark machine, even for a table that fits in cache).
//! The set is a bitmap over the build keys' range (one bit per value, built with arrow's
//! `BooleanBufferBuilder`), so a row's test is a subtraction and a bit lookup; when the range
//! is too wide for a bitmap, only its bounds are tested. The test is exact, with no false
//! positives: TPC-H keys are dense integers.
//!
//! [`JoinKeyCollectExec`] sits on the join's build input and passes its batches on unchanged,
//! keeping their key columns; when its input ends, it builds the [`KeySet`] and publishes it
//! in the [`JoinKeySets`] it shares with the [`JoinKeyFilterExec`]s on the probe side. A
//! hash join reads its probe side only once its build side is complete, so the set is there
//! when probe rows come; rows that come earlier pass untested. A filter that keeps most rows
//! stops testing (`filter_stream::KeepSample`).

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use datafusion::arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, BooleanArray, BooleanBufferBuilder,
    PrimitiveArray, RecordBatch,
};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::{BatchCoalescer, cast, or};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type,
};
use datafusion::common::exec_err;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, Gauge, MetricBuilder, MetricType, MetricsSet,
    Time,
};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::{Stream, StreamExt};

use super::filter_stream::{FilteredStream, KeepSample, RowFilter};
use super::one_input::only_input;

/// The widest bitmap a build side of `keys` keys gets, in bits: 256 per key (about what the
/// join's own hash table spends on a key), at least 8 Mi (1 MiB), at most 256 Mi (32 MiB).
fn bitmap_limit(keys: usize) -> u64 {
    (keys as u64).saturating_mul(256).clamp(1 << 23, 1 << 28)
}

/// Whether join keys of `data_type` can be collected into a [`KeySet`].
pub fn is_key_type(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::Date32
    )
}

/// The keys of a join's build side.
#[derive(Debug)]
pub enum KeySet {
    /// The values `min + i` for the set bits `i`.
    Bitmap { min: i64, bits: BooleanBuffer },
    /// Values between the bounds, inclusive: the keys' range was too wide for a bitmap.
    Range { min: i64, max: i64 },
    /// No key at all (or only NULLs): no row joins.
    Empty,
}

impl KeySet {
    /// The set of the non-NULL values of `keys`, all `Int64`: a bitmap when their range is at
    /// most [`bitmap_limit`] values wide and `reserve` grants its bytes, else the range.
    fn of(keys: &[ArrayRef], reserve: impl FnOnce(usize) -> bool) -> KeySet {
        let values = || {
            keys.iter()
                .flat_map(|array| array.as_primitive::<Int64Type>().iter().flatten())
        };
        let (count, min, max) = values().fold((0, i64::MAX, i64::MIN), |(count, min, max), v| {
            (count + 1, min.min(v), max.max(v))
        });
        if count == 0 {
            return KeySet::Empty;
        }
        // The width of the range, less one: it fits a u64 whatever the bounds.
        let span = max.abs_diff(min);
        if span >= bitmap_limit(count) {
            return KeySet::Range { min, max };
        }
        let width = span as usize + 1;
        if !reserve(width.div_ceil(8)) {
            return KeySet::Range { min, max };
        }
        let mut bits = BooleanBufferBuilder::new(width);
        bits.append_n(width, false);
        for value in values() {
            bits.set_bit(value.abs_diff(min) as usize, true);
        }
        KeySet::Bitmap {
            min,
            bits: bits.finish(),
        }
    }

    /// Bytes the set holds.
    fn size(&self) -> usize {
        match self {
            KeySet::Bitmap { bits, .. } => bits.inner().capacity(),
            KeySet::Range { .. } | KeySet::Empty => 0,
        }
    }

    /// Which rows of `keys` hold a value of the set (NULLs never do), or `None` when `keys`
    /// are not of a key type.
    pub fn contains(&self, keys: &dyn Array) -> Option<BooleanArray> {
        let found = match keys.data_type() {
            DataType::Int8 => self.contains_values(keys.as_primitive::<Int8Type>()),
            DataType::Int16 => self.contains_values(keys.as_primitive::<Int16Type>()),
            DataType::Int32 => self.contains_values(keys.as_primitive::<Int32Type>()),
            DataType::Int64 => self.contains_values(keys.as_primitive::<Int64Type>()),
            DataType::UInt8 => self.contains_values(keys.as_primitive::<UInt8Type>()),
            DataType::UInt16 => self.contains_values(keys.as_primitive::<UInt16Type>()),
            DataType::UInt32 => self.contains_values(keys.as_primitive::<UInt32Type>()),
            DataType::Date32 => self.contains_values(keys.as_primitive::<Date32Type>()),
            _ => return None,
        };
        let found = match keys.nulls() {
            Some(nulls) => &found & nulls.inner(),
            None => found,
        };
        Some(BooleanArray::new(found, None))
    }

    fn contains_values<T>(&self, keys: &PrimitiveArray<T>) -> BooleanBuffer
    where
        T: ArrowPrimitiveType,
        T::Native: Into<i64>,
    {
        let values = keys.values();
        match self {
            KeySet::Bitmap { min, bits } => {
                let width = bits.len() as u64;
                BooleanBuffer::collect_bool(values.len(), |i| {
                    // Values below `min` wrap around to offsets past the bitmap.
                    let offset = values[i].into().wrapping_sub(*min) as u64;
                    offset < width && bits.value(offset as usize)
                })
            }
            KeySet::Range { min, max } => BooleanBuffer::collect_bool(values.len(), |i| {
                let value = values[i].into();
                *min <= value && value <= *max
            }),
            KeySet::Empty => BooleanBuffer::new_unset(values.len()),
        }
    }
}

/// Which rows of `keys` hold a key of any of `sets`; `None` when there are no sets (none
/// published yet) or the keys are not of a key type.
pub(super) fn contained_in(sets: &[Arc<KeySet>], keys: &dyn Array) -> Result<Option<BooleanArray>> {
    let Some((first, others)) = sets.split_first() else {
        return Ok(None);
    };
    let mut found = first.contains(keys);
    for set in others {
        found = match (found, set.contains(keys)) {
            (Some(found), Some(more)) => Some(or(&found, &more)?),
            _ => None,
        };
    }
    Ok(found)
}

/// The key sets of one join, one per partition of its build side, shared by the operator that
/// collects them and the filters that test them.
#[derive(Debug)]
pub struct JoinKeySets {
    sets: Vec<Mutex<Option<PublishedSet>>>,
}

/// A published key set, and the memory pool's grant for its bitmap, held as long as the set.
#[derive(Debug)]
struct PublishedSet {
    set: Arc<KeySet>,
    _reservation: MemoryReservation,
}

impl JoinKeySets {
    pub fn new(partitions: usize) -> Self {
        JoinKeySets {
            sets: (0..partitions).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// The sets a probe partition tests against, once they are complete: build partition
    /// `partition`'s, or with `None`, every partition's.
    pub(super) fn get(&self, partition: Option<usize>) -> Option<Vec<Arc<KeySet>>> {
        let slots = match partition {
            Some(partition) => self.sets.get(partition..=partition)?,
            None => &self.sets[..],
        };
        slots
            .iter()
            .map(|slot| {
                let published = slot.lock().ok()?;
                published
                    .as_ref()
                    .map(|published| Arc::clone(&published.set))
            })
            .collect()
    }

    fn put(&self, partition: usize, published: Option<PublishedSet>) {
        if let Some(slot) = self.sets.get(partition)
            && let Ok(mut slot) = slot.lock()
        {
            *slot = published;
        }
    }
}

/// Its input's batches, unchanged; collects their `key` values into the key set of `sets` for
/// the partition.
#[derive(Debug)]
pub struct JoinKeyCollectExec {
    input: Arc<dyn ExecutionPlan>,
    key: Arc<dyn PhysicalExpr>,
    sets: Arc<JoinKeySets>,
    metrics: ExecutionPlanMetricsSet,
}

impl JoinKeyCollectExec {
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        key: Arc<dyn PhysicalExpr>,
        sets: Arc<JoinKeySets>,
    ) -> Self {
        JoinKeyCollectExec {
            input,
            key,
            sets,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for JoinKeyCollectExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "JoinKeyCollectExec: key={}", self.key)
    }
}

impl ExecutionPlan for JoinKeyCollectExec {
    fn name(&self) -> &str {
        "JoinKeyCollectExec"
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        f(&self.key)
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(JoinKeyCollectExec::new(
            only_input(children, "JoinKeyCollectExec")?,
            Arc::clone(&self.key),
            Arc::clone(&self.sets),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        // A join run again (a recursive query's next step) collects its keys afresh.
        self.sets.put(partition, None);
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let reservation = MemoryConsumer::new(format!("JoinKeyCollectExec[{partition}]"))
            .register(context.memory_pool());
        Ok(Box::pin(CollectingStream {
            input,
            key: Arc::clone(&self.key),
            keys: Some(Vec::new()),
            reservation,
            sets: Arc::clone(&self.sets),
            partition,
            baseline: BaselineMetrics::new(&self.metrics, partition),
            bitmap_bytes: MetricBuilder::new(&self.metrics).gauge("bitmap_bytes", partition),
        }))
    }
}

/// One build partition's batches, passed on while their keys are collected.
struct CollectingStream {
    input: SendableRecordBatchStream,
    key: Arc<dyn PhysicalExpr>,
    /// The keys so far, as `Int64`; `None` once published, or given up for lack of memory.
    keys: Option<Vec<ArrayRef>>,
    reservation: MemoryReservation,
    sets: Arc<JoinKeySets>,
    partition: usize,
    baseline: BaselineMetrics,
    bitmap_bytes: Gauge,
}

impl CollectingStream {
    fn collect_keys(&mut self, batch: &RecordBatch) -> Result<()> {
        let Some(keys) = self.keys.as_mut() else {
            return Ok(());
        };
        let _timer = self.baseline.elapsed_compute().timer();
        let values = self.key.evaluate(batch)?.into_array(batch.num_rows())?;
        let values = cast(&values, &DataType::Int64)?;
        if self
            .reservation
            .try_grow(values.get_array_memory_size())
            .is_err()
        {
            // The join goes on without the filter rather than fail for its sake.
            self.keys = None;
            self.reservation.free();
            return Ok(());
        }
        keys.push(values);
        Ok(())
    }

    /// Builds the key set and hands it to the probe side's filters.
    fn publish(&mut self) {
        let Some(keys) = self.keys.take() else {
            return;
        };
        let _timer = self.baseline.elapsed_compute().timer();
        // A bitmap the memory pool cannot hold is not built: the bounds still filter.
        let set = KeySet::of(&keys, |bytes| self.reservation.try_grow(bytes).is_ok());
        drop(keys);
        self.bitmap_bytes.set(set.size());
        // The keys are gone; the bitmap stays, as long as the plan.
        self.reservation.resize(set.size());
        let published = PublishedSet {
            set: Arc::new(set),
            _reservation: self.reservation.take(),
        };
        self.sets.put(self.partition, Some(published));
    }
}

impl Stream for CollectingStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.input.poll_next_unpin(cx);
        let polled = match polled {
            Poll::Ready(Some(Ok(batch))) => match self.collect_keys(&batch) {
                Ok(()) => Poll::Ready(Some(Ok(batch))),
                Err(error) => Poll::Ready(Some(Err(error))),
            },
            Poll::Ready(None) => {
                self.publish();
                Poll::Ready(None)
            }
            other => other,
        };
        self.baseline.record_poll(polled)
    }
}

impl RecordBatchStream for CollectingStream {
    fn schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        self.input.schema()
    }
}

/// Which build partitions' sets a filter's partition tests against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetPartition {
    /// The build side is one partition, shared by every probe partition.
    Shared,
    /// Probe partition `i` joins build partition `i`.
    Same,
    /// Each build partition holds the keys of one hash partition, and the filter's rows are
    /// yet to be dealt out to them: a row's key is tested against every partition's set.
    All,
}

/// Its input's rows whose `key` column holds a key of the join's build side.
#[derive(Debug)]
pub struct JoinKeyFilterExec {
    input: Arc<dyn ExecutionPlan>,
    key: Column,
    sets: Arc<JoinKeySets>,
    set_partition: SetPartition,
    metrics: ExecutionPlanMetricsSet,
}

impl JoinKeyFilterExec {
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        key: Column,
        sets: Arc<JoinKeySets>,
        set_partition: SetPartition,
    ) -> Result<Self> {
        let schema = input.schema();
        match schema.fields().get(key.index()) {
            Some(field) if is_key_type(field.data_type()) => Ok(JoinKeyFilterExec {
                input,
                key,
                sets,
                set_partition,
                metrics: ExecutionPlanMetricsSet::new(),
            }),
            _ => exec_err!("JoinKeyFilterExec: {key} is not an integer column of its input"),
        }
    }
}

impl DisplayAs for JoinKeyFilterExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let sets = match self.set_partition {
            SetPartition::Shared => "shared",
            SetPartition::Same => "same partition",
            SetPartition::All => "every partition",
        };
        write!(f, "JoinKeyFilterExec: key={}, keys={sets}", self.key)
    }
}

impl ExecutionPlan for JoinKeyFilterExec {
    fn name(&self) -> &str {
        "JoinKeyFilterExec"
    }

    /// The key column it tests, as `JoinKeyCollectExec` gives the key it collects.
    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        f(&(Arc::new(self.key.clone()) as Arc<dyn PhysicalExpr>))
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(JoinKeyFilterExec::try_new(
            only_input(children, "JoinKeyFilterExec")?,
            self.key.clone(),
            Arc::clone(&self.sets),
            self.set_partition,
        )?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let filter = KeyRows {
            sets: Arc::clone(&self.sets),
            set_partition: match self.set_partition {
                SetPartition::Shared => Some(0),
                SetPartition::Same => Some(partition),
                SetPartition::All => None,
            },
            tested_sets: Vec::new(),
            key: self.key.index(),
            sample: KeepSample::default(),
            elapsed: baseline.elapsed_compute().clone(),
            untested: MetricBuilder::new(&self.metrics)
                .with_type(MetricType::Summary)
                .counter("untested_rows", partition),
        };
        let batch_size = context.session_config().batch_size();
        Ok(Box::pin(FilteredStream::new(
            input,
            filter,
            self.input.schema(),
            batch_size,
            baseline,
        )))
    }
}

/// One probe partition's test of its rows.
struct KeyRows {
    sets: Arc<JoinKeySets>,
    set_partition: Option<usize>,
    /// The build side's keys, once published (see [`JoinKeySets::get`]).
    tested_sets: Vec<Arc<KeySet>>,
    key: usize,
    sample: KeepSample,
    elapsed: Time,
    untested: Count,
}

impl RowFilter for KeyRows {
    fn admit(&mut self, batch: RecordBatch, kept: &mut BatchCoalescer) -> Result<()> {
        if self.tested_sets.is_empty() {
            self.tested_sets = self.sets.get(self.set_partition).unwrap_or_default();
        }
        let found = if self.sample.testing() {
            let _timer = self.elapsed.timer();
            contained_in(&self.tested_sets, batch.column(self.key).as_ref())?
        } else {
            None
        };
        let Some(found) = found else {
            self.untested.add(batch.num_rows());
            return Ok(kept.push_batch(batch)?);
        };
        self.sample.record(batch.num_rows(), found.true_count());
        let _timer = self.elapsed.timer();
        Ok(kept.push_batch_with_filter(batch, &found)?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, ArrayRef, Date32Array, Int32Array, Int64Array};

    use super::{KeySet, bitmap_limit};

    fn set_of(values: &[Option<i64>]) -> KeySet {
        let keys: ArrayRef = Arc::new(Int64Array::from(values.to_vec()));
        KeySet::of(&[keys], |_| true)
    }

    fn found(set: &KeySet, keys: &dyn Array) -> Vec<bool> {
        set.contains(keys)
            .unwrap()
            .iter()
            .map(|b| b == Some(true))
            .collect()
    }

    #[test]
    fn a_bitmap_holds_exactly_the_build_keys() {
        let set = set_of(&[Some(10), Some(12), None, Some(12), Some(15)]);
        assert!(matches!(set, KeySet::Bitmap { min: 10, .. }), "{set:?}");
        let probe = Int64Array::from(vec![
            Some(9),
            Some(10),
            Some(11),
            Some(12),
            None,
            Some(15),
            Some(16),
            Some(i64::MIN),
            Some(i64::MAX),
        ]);
        assert_eq!(
            found(&set, &probe),
            [false, true, false, true, false, true, false, false, false]
        );
        // Narrower key types read the same set.
        let probe = Int32Array::from(vec![10, 11, 15]);
        assert_eq!(found(&set, &probe), [true, false, true]);
        let probe = Date32Array::from(vec![12, 13]);
        assert_eq!(found(&set, &probe), [true, false]);
    }

    #[test]
    fn a_range_too_wide_keeps_only_its_bounds() {
        let set = set_of(&[Some(-5), Some(100_000_000)]);
        assert!(
            matches!(
                set,
                KeySet::Range {
                    min: -5,
                    max: 100_000_000
                }
            ),
            "{set:?}"
        );
        let probe = Int64Array::from(vec![-6, -5, 7, 100_000_000, 100_000_001]);
        assert_eq!(found(&set, &probe), [false, true, true, true, false]);
        // The extreme values do not overflow the width.
        let set = set_of(&[Some(i64::MIN), Some(i64::MAX)]);
        assert!(matches!(set, KeySet::Range { .. }), "{set:?}");
        // Nor is a bitmap built that the memory pool refuses.
        let keys: ArrayRef = Arc::new(Int64Array::from(vec![1, 5]));
        let set = KeySet::of(&[keys], |_| false);
        assert!(matches!(set, KeySet::Range { min: 1, max: 5 }), "{set:?}");
    }

    #[test]
    fn no_keys_admit_no_rows() {
        let set = set_of(&[None, None]);
        assert!(matches!(set, KeySet::Empty), "{set:?}");
        assert_eq!(found(&set, &Int64Array::from(vec![1, 2])), [false, false]);
    }

    #[test]
    fn other_types_are_not_tested() {
        let set = set_of(&[Some(1)]);
        let strings = datafusion::arrow::array::StringArray::from(vec!["1"]);
        assert!(set.contains(&strings).is_none());
    }

    #[test]
    fn bitmaps_grow_with_the_build_side_within_bounds() {
        assert_eq!(bitmap_limit(10), 1 << 23);
        assert_eq!(bitmap_limit(100_000), 25_600_000);
        assert_eq!(bitmap_limit(usize::MAX), 1 << 28);
    }
}
