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
//! Whether the keys come in runs is seen batch by batch: a batch is folded this way while it
//! has at most half as many runs as rows and its runs' keys are (nearly) all different. The
//! first batch that fails, and everything after it, goes to DataFusion's own partial
//! aggregation, through [`HandoffExec`].

use std::fmt;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch, UInt64Array};
use datafusion::arrow::compute::kernels::partition::partition;
use datafusion::arrow::compute::take;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::HashSet;
use datafusion::common::hash_utils::{RandomState, create_hashes};
use datafusion::common::tree_node::TreeNodeRecursion;
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

    /// The batch's partial rows, one per run; `None` when its keys do not come in runs.
    fn fold(&self, batch: &RecordBatch) -> Result<Option<RecordBatch>> {
        let rows = batch.num_rows();
        let keys = self
            .aggregate
            .group_expr()
            .expr()
            .iter()
            .map(|(expr, _)| expr.evaluate(batch)?.into_array(rows))
            .collect::<Result<Vec<ArrayRef>>>()?;
        // Keys arrow cannot compare are left to the hash aggregation.
        let Ok(runs) = partition(&keys).map(|runs| runs.ranges()) else {
            return Ok(None);
        };
        if runs.len() as f64 > rows as f64 * MAX_RUNS_PER_ROW {
            return Ok(None);
        }
        let starts = UInt64Array::from_iter_values(runs.iter().map(|run| run.start as u64));
        let run_keys = keys
            .iter()
            .map(|key| Ok(take(key.as_ref(), &starts, None)?))
            .collect::<Result<Vec<ArrayRef>>>()?;
        // Repeats are told by the keys' hashes: a collision only makes a batch look less
        // ordered than it is, and what is folded is right either way (the final aggregation
        // merges partial rows of one key).
        let mut hashes = vec![0u64; runs.len()];
        if create_hashes(&run_keys, &RandomState::default(), &mut hashes).is_err() {
            return Ok(None);
        }
        let distinct: HashSet<u64> = hashes.iter().copied().collect();
        if (distinct.len() as f64) < runs.len() as f64 * MIN_DISTINCT_PER_RUN {
            return Ok(None);
        }

        let mut group_of_row = Vec::with_capacity(rows);
        for (group, run) in runs.iter().enumerate() {
            group_of_row.extend(std::iter::repeat_n(group, run.len()));
        }
        let mut columns = run_keys;
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
                runs.len(),
            )?;
            columns.extend(accumulator.state(EmitTo::All)?);
        }
        Ok(Some(RecordBatch::try_new(
            self.aggregate.schema(),
            columns,
        )?))
    }
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
