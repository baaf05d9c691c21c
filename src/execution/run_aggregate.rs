//! The partial stage of a grouping over input whose equal keys come in runs (Q18's lineitem,
//! in `l_orderkey` order): each run of equal keys becomes one partial row, with no hash table.
//!
//! DataFusion's partial aggregation interns every row's key in a hash table of the groups
//! seen so far. When the input is in key order that table only grows (6 million lineitem rows
//! make 750,000 groups per partition), and nearly every new key costs a cache miss, while the
//! rows of a key sit next to each other. Here each batch is cut into runs of equal keys
//! (arrow's `partition`), and the aggregates' own group accumulators fold each run into one
//! partial state, so the output is what the partial aggregation would give, split only where
//! a key's rows span two batches (the final aggregation merges those).
//!
//! A batch whose rows hold only a few distinct keys (Q1's four pairs of a return flag and a
//! line status, in any order) is folded the same way, one partial row per distinct key:
//! keys of integers, dates and strings of up to 12 bytes each become a 128-bit code that is
//! the value itself (a short string's view holds it whole), so telling the rows' groups takes
//! a lookup in a table of a few entries instead of DataFusion's hashing and comparing of
//! every value against the groups seen so far.
//!
//! Whether the keys come in runs, or are few, is seen batch by batch: a batch is folded while
//! it has at most a sixteenth as many distinct keys as rows (or four), or at most half as
//! many runs as rows with (nearly) all different keys. The first batch that fails, and
//! everything after it, goes to DataFusion's own partial aggregation, through
//! [`HandoffExec`].

use std::fmt;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt64Array};
use datafusion::arrow::compute::kernels::partition::partition;
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Date64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::hash_utils::{RandomState, create_hashes};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{HashMap, HashSet};
use datafusion::common::{Result, internal_datafusion_err};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::EmitTo;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
    SendableRecordBatchStream,
};
use futures::{StreamExt, stream};

use super::leaf_exec::leaf_exec_methods;
use super::one_input::only_input;

/// A batch is folded by its distinct keys when it has at most this many per row ...
const MAX_FEW_KEYS_PER_ROW: usize = 16;
/// ... and at most this many in all ...
const MAX_FEW_KEYS: usize = 1024;
/// ... while a short batch may have this many.
const MIN_FEW_KEYS: usize = 4;
/// A batch is folded by runs when it has at most this share of runs per row.
const MAX_RUNS_PER_ROW: f64 = 0.5;
/// ... and at least this share of its runs have keys no other run of the batch has.
const MIN_DISTINCT_PER_RUN: f64 = 0.9;

/// A partial `AggregateExec` that folds runs of equal keys, handing over to the aggregate
/// itself once the keys stop coming in runs.
#[derive(Debug)]
pub struct RunPartialAggregateExec {
    /// The partial `AggregateExec` this replaces, over the real input.
    aggregate: Arc<dyn ExecutionPlan>,
    /// The same aggregation over a [`HandoffExec`], run when a partition hands over.
    fallback: Arc<dyn ExecutionPlan>,
    handoff: Arc<HandoffExec>,
    metrics: ExecutionPlanMetricsSet,
}

impl RunPartialAggregateExec {
    /// `aggregate` must be a partial aggregation of one grouping set, without DISTINCT or
    /// ordered aggregates, whose aggregates all have group accumulators, and whose keys
    /// arrow's row format can hold ([`folds_keys_of`]).
    pub fn try_new(aggregate: Arc<dyn ExecutionPlan>) -> Result<Self> {
        let input = Arc::clone(as_aggregate(&aggregate)?.input());
        let handoff = Arc::new(HandoffExec {
            properties: Arc::clone(input.properties()),
            metrics: ExecutionPlanMetricsSet::new(),
            streams: (0..input.output_partitioning().partition_count())
                .map(|_| Mutex::new(None))
                .collect(),
        });
        let fallback = replace_children_if_necessary(
            Arc::clone(&aggregate),
            vec![Arc::clone(&handoff) as Arc<dyn ExecutionPlan>],
        )?;
        Ok(RunPartialAggregateExec {
            aggregate,
            fallback,
            handoff,
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }
}

impl DisplayAs for RunPartialAggregateExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "RunPartialAggregateExec: ")?;
        match self.aggregate.downcast_ref::<AggregateExec>() {
            Some(aggregate) => aggregate.fmt_as(t, f),
            None => Ok(()),
        }
    }
}

impl ExecutionPlan for RunPartialAggregateExec {
    fn name(&self) -> &str {
        "RunPartialAggregateExec"
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.aggregate.apply_expressions(f)
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.aggregate.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.aggregate.children()
    }

    fn metrics(&self) -> Option<MetricsSet> {
        let mut metrics = self.metrics.clone_inner();
        if let Some(fallback) = self.fallback.metrics() {
            for metric in fallback.iter() {
                metrics.push(Arc::clone(metric));
            }
        }
        Some(metrics)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = only_input(children, "RunPartialAggregateExec")?;
        let aggregate = replace_children_if_necessary(Arc::clone(&self.aggregate), vec![input])?;
        Ok(Arc::new(RunPartialAggregateExec::try_new(aggregate)?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let aggregate = as_aggregate(&self.aggregate)?;
        let input = aggregate.input().execute(partition, Arc::clone(&context))?;
        let folder = Box::new(RunFolder::new(aggregate));
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let folded_rows = MetricBuilder::new(&self.metrics).counter("folded_rows", partition);
        let handover = Handover {
            fallback: Arc::clone(&self.fallback),
            handoff: Arc::clone(&self.handoff),
            partition,
            context,
        };
        let state = FoldState::Folding {
            input,
            folder,
            handover,
        };
        let batches = stream::unfold(state, move |state| {
            let baseline = baseline.clone();
            let folded_rows = folded_rows.clone();
            async move { next_batch(state, &baseline, &folded_rows).await }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.aggregate.schema(),
            batches,
        )))
    }
}

/// What a partition needs to hand its input over to the aggregate itself.
struct Handover {
    fallback: Arc<dyn ExecutionPlan>,
    handoff: Arc<HandoffExec>,
    partition: usize,
    context: Arc<TaskContext>,
}

enum FoldState {
    Folding {
        input: SendableRecordBatchStream,
        folder: Box<RunFolder>,
        handover: Handover,
    },
    HandedOver(SendableRecordBatchStream),
    Done,
}

async fn next_batch(
    state: FoldState,
    baseline: &BaselineMetrics,
    folded_rows: &Count,
) -> Option<(Result<RecordBatch>, FoldState)> {
    match state {
        FoldState::Folding {
            mut input,
            folder,
            handover,
        } => loop {
            let batch = match input.next().await {
                None => return None,
                Some(Err(error)) => return Some((Err(error), FoldState::Done)),
                Some(Ok(batch)) if batch.num_rows() == 0 => continue,
                Some(Ok(batch)) => batch,
            };
            let timer = baseline.elapsed_compute().timer();
            let folded = folder.fold(&batch);
            timer.done();
            match folded {
                Ok(Some(folded)) => {
                    folded_rows.add(batch.num_rows());
                    baseline.record_output(folded.num_rows());
                    return Some((
                        Ok(folded),
                        FoldState::Folding {
                            input,
                            folder,
                            handover,
                        },
                    ));
                }
                Ok(None) => {
                    let rest = stream::once(async { Ok(batch) }).chain(input);
                    let rest: SendableRecordBatchStream = Box::pin(RecordBatchStreamAdapter::new(
                        handover.handoff.schema(),
                        rest,
                    ));
                    let handed = handover
                        .handoff
                        .put(handover.partition, rest)
                        .and_then(|()| {
                            handover
                                .fallback
                                .execute(handover.partition, Arc::clone(&handover.context))
                        });
                    return match handed {
                        Ok(mut aggregated) => {
                            let next = aggregated.next().await?;
                            Some((next, FoldState::HandedOver(aggregated)))
                        }
                        Err(error) => Some((Err(error), FoldState::Done)),
                    };
                }
                Err(error) => return Some((Err(error), FoldState::Done)),
            }
        },
        FoldState::HandedOver(mut aggregated) => {
            let next = aggregated.next().await?;
            Some((next, FoldState::HandedOver(aggregated)))
        }
        FoldState::Done => None,
    }
}

/// Whether the group keys of `aggregate` are of types arrow's row format holds: plain values
/// (not unions or the like), whose runs arrow's `partition` finds and whose repeats their
/// hashes tell.
pub fn folds_keys_of(aggregate: &AggregateExec) -> bool {
    key_fields(aggregate).is_ok_and(|fields| RowConverter::supports_fields(&fields))
}

/// The row-format fields of `aggregate`'s group keys.
fn key_fields(aggregate: &AggregateExec) -> Result<Vec<SortField>> {
    let input_schema = aggregate.input().schema();
    aggregate
        .group_expr()
        .expr()
        .iter()
        .map(|(expr, _)| expr.data_type(&input_schema).map(SortField::new))
        .collect()
}

fn as_aggregate(plan: &Arc<dyn ExecutionPlan>) -> Result<&AggregateExec> {
    plan.downcast_ref::<AggregateExec>()
        .ok_or_else(|| internal_datafusion_err!("RunPartialAggregateExec wraps an AggregateExec"))
}

/// Folds a batch's runs of equal keys into partial aggregate rows.
struct RunFolder {
    aggregate: AggregateExec,
}

impl RunFolder {
    fn new(aggregate: &AggregateExec) -> Self {
        RunFolder {
            aggregate: aggregate.clone(),
        }
    }

    /// The batch's partial rows, one per distinct key or per run; `None` when its keys are
    /// neither few nor in runs.
    fn fold(&self, batch: &RecordBatch) -> Result<Option<RecordBatch>> {
        let rows = batch.num_rows();
        let keys = self
            .aggregate
            .group_expr()
            .expr()
            .iter()
            .map(|(expr, _)| expr.evaluate(batch)?.into_array(rows))
            .collect::<Result<Vec<ArrayRef>>>()?;
        let Some(groups) = few_key_groups(&keys, rows).or_else(|| run_groups(&keys, rows)) else {
            return Ok(None);
        };
        let group_keys = keys
            .iter()
            .map(|key| Ok(take(key.as_ref(), &groups.first_rows, None)?))
            .collect::<Result<Vec<ArrayRef>>>()?;
        let group_count = groups.first_rows.len();
        let group_of_row = groups.group_of_row;
        let mut columns = group_keys;
        for (function, filter) in self
            .aggregate
            .aggr_expr()
            .iter()
            .zip(self.aggregate.filter_expr())
        {
            let values = function
                .expressions()
                .iter()
                .map(|expr| expr.evaluate(batch)?.into_array(rows))
                .collect::<Result<Vec<ArrayRef>>>()?;
            let filter = match filter {
                Some(filter) => Some(filter.evaluate(batch)?.into_array(rows)?),
                None => None,
            };
            let mut accumulator = function.create_groups_accumulator()?;
            accumulator.update_batch(
                &values,
                &group_of_row,
                filter.as_ref().map(|f| f.as_boolean()),
                group_count,
            )?;
            columns.extend(accumulator.state(EmitTo::All)?);
        }
        Ok(Some(RecordBatch::try_new(
            self.aggregate.schema(),
            columns,
        )?))
    }
}

/// A batch's rows in groups of equal keys: each row's group, and each group's first row.
struct Groups {
    group_of_row: Vec<usize>,
    first_rows: UInt64Array,
}

/// The groups of a batch whose keys come in runs: one per run, `None` when the batch has
/// more than half as many runs as rows or its runs repeat keys.
fn run_groups(keys: &[ArrayRef], rows: usize) -> Option<Groups> {
    // Keys arrow cannot compare are left to the hash aggregation.
    let runs = partition(keys).ok()?.ranges();
    if runs.len() as f64 > rows as f64 * MAX_RUNS_PER_ROW {
        return None;
    }
    let first_rows = UInt64Array::from_iter_values(runs.iter().map(|run| run.start as u64));
    let run_keys = keys
        .iter()
        .map(|key| take(key.as_ref(), &first_rows, None))
        .collect::<std::result::Result<Vec<ArrayRef>, _>>()
        .ok()?;
    // Repeats are told by the keys' hashes: a collision only makes a batch look less
    // ordered than it is, and what is folded is right either way (the final aggregation
    // merges partial rows of one key).
    let mut hashes = vec![0u64; runs.len()];
    create_hashes(&run_keys, &RandomState::default(), &mut hashes).ok()?;
    let distinct: HashSet<u64> = hashes.iter().copied().collect();
    if (distinct.len() as f64) < runs.len() as f64 * MIN_DISTINCT_PER_RUN {
        return None;
    }
    let mut group_of_row = Vec::with_capacity(rows);
    for (group, run) in runs.iter().enumerate() {
        group_of_row.extend(std::iter::repeat_n(group, run.len()));
    }
    Some(Groups {
        group_of_row,
        first_rows,
    })
}

/// The groups of a batch with few distinct keys: one per key, in the order of their first
/// rows. `None` when a key column is of a type without exact codes ([`column_ids`]) or the
/// batch has more than a sixteenth as many keys as rows (and more than four).
fn few_key_groups(keys: &[ArrayRef], rows: usize) -> Option<Groups> {
    let most = (rows / MAX_FEW_KEYS_PER_ROW).clamp(MIN_FEW_KEYS, MAX_FEW_KEYS);
    if keys.is_empty() {
        return None;
    }
    // Each column's values as dense ids, then each row's ids as one number: the ids of the
    // first column, plus those of the second times the first's count, and so on.
    let columns = keys
        .iter()
        .map(|key| column_ids(key.as_ref(), most))
        .collect::<Option<Vec<_>>>()?;
    let mut combined = vec![0u64; rows];
    let mut combinations = 1u64;
    for (ids, count) in columns {
        let next = combinations.checked_mul(count as u64)?;
        for (row_key, id) in combined.iter_mut().zip(ids) {
            *row_key += u64::from(id) * combinations;
        }
        combinations = next;
    }
    let mut first_rows = Vec::new();
    let mut group_of_row = Vec::with_capacity(rows);
    let mut new_group = |row: usize| {
        first_rows.push(row as u64);
        (first_rows.len() <= most).then_some(first_rows.len() - 1)
    };
    if combinations <= DENSE_COMBINATIONS {
        const NONE: usize = usize::MAX;
        let mut group_of_key = vec![NONE; combinations as usize];
        for (row, &key) in combined.iter().enumerate() {
            let slot = &mut group_of_key[key as usize];
            if *slot == NONE {
                *slot = new_group(row)?;
            }
            group_of_row.push(*slot);
        }
    } else {
        let mut group_of_key: HashMap<u64, usize> = HashMap::new();
        for (row, &key) in combined.iter().enumerate() {
            let group = match group_of_key.get(&key) {
                Some(&group) => group,
                None => {
                    let group = new_group(row)?;
                    group_of_key.insert(key, group);
                    group
                }
            };
            group_of_row.push(group);
        }
    }
    Some(Groups {
        group_of_row,
        first_rows: UInt64Array::from(first_rows),
    })
}

/// Combined keys up to this many find their group by index, not by hashing.
const DENSE_COMBINATIONS: u64 = 1 << 16;

/// Each row's value in one key column as a dense id, and the number of ids, when the column
/// has at most `most` distinct values (NULL among them). A value is told by an exact 128-bit
/// code: integers and dates by their bits, strings and binaries of up to 12 bytes by their
/// view, which holds them whole with zeros after them. `None` for other types, for views of
/// a longer value, and past `most` values.
fn column_ids(column: &dyn Array, most: usize) -> Option<(Vec<u32>, usize)> {
    fn integers<T: ArrowPrimitiveType>(
        column: &dyn Array,
        most: usize,
        bits: impl Fn(T::Native) -> u64,
    ) -> Option<(Vec<u32>, usize)> {
        let codes = column
            .as_primitive::<T>()
            .iter()
            .map(|value| value.map_or(NULL_CODE, |v| u128::from(bits(v))));
        dense_ids(codes, column.len(), most)
    }
    fn views(column: &dyn Array, views: &[u128], most: usize) -> Option<(Vec<u32>, usize)> {
        // Only views that hold their value whole.
        if views.iter().any(|&view| (view as u32) > 12) {
            return None;
        }
        let nulls = column.logical_nulls();
        let codes = views.iter().enumerate().map(|(row, &view)| {
            if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                NULL_CODE
            } else {
                view
            }
        });
        dense_ids(codes, views.len(), most)
    }
    match column.data_type() {
        DataType::Int8 => integers::<Int8Type>(column, most, |v| v as u64),
        DataType::Int16 => integers::<Int16Type>(column, most, |v| v as u64),
        DataType::Int32 => integers::<Int32Type>(column, most, |v| v as u64),
        DataType::Int64 => integers::<Int64Type>(column, most, |v| v as u64),
        DataType::UInt8 => integers::<UInt8Type>(column, most, u64::from),
        DataType::UInt16 => integers::<UInt16Type>(column, most, u64::from),
        DataType::UInt32 => integers::<UInt32Type>(column, most, u64::from),
        DataType::UInt64 => integers::<UInt64Type>(column, most, |v| v),
        DataType::Date32 => integers::<Date32Type>(column, most, |v| v as u64),
        DataType::Date64 => integers::<Date64Type>(column, most, |v| v as u64),
        DataType::Utf8View => views(column, column.as_string_view().views(), most),
        DataType::BinaryView => views(column, column.as_binary_view().views(), most),
        _ => None,
    }
}

/// Each code's dense id and the number of ids, `None` past `most` distinct codes.
fn dense_ids(
    codes: impl Iterator<Item = u128>,
    rows: usize,
    most: usize,
) -> Option<(Vec<u32>, usize)> {
    let mut ids = DenseIds::new(most);
    let mut out = Vec::with_capacity(rows);
    out.extend(codes.map(|code| ids.id(code)));
    ids.finish(out)
}

/// The code of NULL among a column's codes: no value has it (integers take the low 64 bits,
/// and a short string's view has a length of at most 12 in its low 32).
const NULL_CODE: u128 = u128::MAX;

/// Slots of the table that finds a code's id: a power of two.
const ID_SLOTS: usize = 256;
/// An empty slot's id.
const NO_ID: u32 = u32::MAX;

/// Dense ids of a column's codes, in the order the codes first come. A code's id is found in
/// a table indexed by the code's hash, without branching on the data while the codes are few
/// and their slots different; codes whose slot is taken go to a hash map.
struct DenseIds {
    most: usize,
    count: usize,
    slots: Box<[(u128, u32); ID_SLOTS]>,
    collided: HashMap<u128, u32>,
}

impl DenseIds {
    fn new(most: usize) -> Self {
        DenseIds {
            most,
            count: 0,
            slots: Box::new([(0, NO_ID); ID_SLOTS]),
            collided: HashMap::new(),
        }
    }

    /// The id of a code. Past `most` distinct codes, ids are no longer given (`finish` says
    /// so).
    #[inline(always)]
    fn id(&mut self, code: u128) -> u32 {
        let slot = slot_of(code);
        let (slot_code, id) = self.slots[slot];
        if slot_code == code && id != NO_ID {
            id
        } else {
            self.id_of_new(code, slot)
        }
    }

    /// The id of a code not in its slot: the slot's new code, or one from the hash map.
    #[inline(never)]
    fn id_of_new(&mut self, code: u128, slot: usize) -> u32 {
        if self.slots[slot].1 != NO_ID
            && let Some(&id) = self.collided.get(&code)
        {
            return id;
        }
        if self.count >= self.most {
            self.count = self.most + 1;
            return 0;
        }
        let id = self.count as u32;
        self.count += 1;
        if self.slots[slot].1 == NO_ID {
            self.slots[slot] = (code, id);
        } else {
            self.collided.insert(code, id);
        }
        id
    }

    /// The rows' ids and how many there are; `None` past `most`.
    fn finish(self, ids: Vec<u32>) -> Option<(Vec<u32>, usize)> {
        (self.count <= self.most).then_some((ids, self.count))
    }
}

/// A code's slot: a multiplicative hash of its two halves.
#[inline]
fn slot_of(code: u128) -> usize {
    let folded = (code as u64) ^ ((code >> 64) as u64).rotate_left(29);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - ID_SLOTS.trailing_zeros())) as usize
}

/// The input of the fallback aggregation: each partition's remaining input stream, put here
/// by the partition when it hands over.
pub struct HandoffExec {
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
    streams: Vec<Mutex<Option<SendableRecordBatchStream>>>,
}

impl HandoffExec {
    fn put(&self, partition: usize, stream: SendableRecordBatchStream) -> Result<()> {
        let slot = self
            .streams
            .get(partition)
            .ok_or_else(|| internal_datafusion_err!("no handoff partition {partition}"))?;
        *slot
            .lock()
            .map_err(|_| internal_datafusion_err!("handoff lock poisoned"))? = Some(stream);
        Ok(())
    }
}

impl fmt::Debug for HandoffExec {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("HandoffExec")
            .field("partitions", &self.streams.len())
            .finish()
    }
}

impl DisplayAs for HandoffExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "HandoffExec")
    }
}

impl ExecutionPlan for HandoffExec {
    leaf_exec_methods!("HandoffExec");

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        self.streams
            .get(partition)
            .and_then(|slot| slot.lock().ok()?.take())
            .ok_or_else(|| internal_datafusion_err!("partition {partition} was not handed over"))
    }
}
