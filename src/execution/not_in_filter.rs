//! `key NOT IN (subquery)` as a filter on the outer rows (`optimizer::not_in_filters` puts it
//! in place of DataFusion's null-aware anti join).
//!
//! DataFusion plans `NOT IN` as a hash join that builds on the outer rows, the only side its
//! null-aware join can build on, and emits them from one partition once the subquery's rows
//! have all probed it: everything above the join then runs on one core. TPC-H Q16 builds on
//! 118,000 `partsupp ⋈ part` rows to drop those of 4 suppliers, and groups them on one
//! thread. Here the subquery runs once (the first partition to start runs it on a task of
//! its own, counted against the memory limit), its keys go into a set, and each partition of
//! the outer rows is tested against the set as it streams. The outcome is SQL's and Hive's:
//!
//! - an empty subquery keeps every row, a NULL key too;
//! - a subquery with a NULL key keeps none (`x NOT IN (..., NULL)` is never true);
//! - otherwise a row is kept when its key is not NULL and not in the set.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::{BatchCoalescer, concat};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{HashSet, Statistics, internal_err};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::joins::HashJoinExec;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet, Time,
};
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream, apply_expression_roots, execute_stream,
};
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};

use super::filter_stream::{FilteredStream, RowFilter, write_projection};
use super::run_once::RunOnce;

/// What the subquery returned, as far as `NOT IN` cares.
enum SubqueryKeys {
    /// No rows: every outer row is kept.
    Empty,
    /// A NULL among the keys: no outer row is kept.
    WithNull,
    /// The keys, row-encoded, and the memory they hold.
    Set {
        converter: RowConverter,
        keys: HashSet<Box<[u8]>>,
        _reservation: MemoryReservation,
    },
}

impl fmt::Debug for SubqueryKeys {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            SubqueryKeys::Empty => write!(f, "no keys"),
            SubqueryKeys::WithNull => write!(f, "a NULL key"),
            SubqueryKeys::Set { keys, .. } => write!(f, "{} keys", keys.len()),
        }
    }
}

/// The rows of `input` whose `key` is not in what `subquery_key` gives over `subquery`.
#[derive(Debug)]
pub struct NotInFilterExec {
    /// The join this replaces: its output schema, projection and statistics.
    join: Arc<HashJoinExec>,
    input: Arc<dyn ExecutionPlan>,
    subquery: Arc<dyn ExecutionPlan>,
    key: Arc<dyn PhysicalExpr>,
    subquery_key: Arc<dyn PhysicalExpr>,
    properties: Arc<PlanProperties>,
    /// The one run of the subquery, shared by every partition.
    run: RunOnce<SubqueryKeys>,
    metrics: ExecutionPlanMetricsSet,
}

impl NotInFilterExec {
    /// The filter for `join`, a null-aware anti join on one key, with `input` (its outer,
    /// left side, without the coalescing of a collected build side) in its place.
    pub fn try_new(join: Arc<HashJoinExec>, input: Arc<dyn ExecutionPlan>) -> Result<Self> {
        let [(key, subquery_key)] = join.on() else {
            return internal_err!("NOT IN over more than one key");
        };
        let (key, subquery_key) = (Arc::clone(key), Arc::clone(subquery_key));
        let subquery = Arc::clone(join.right());
        let schema = join.schema();
        let input_properties = input.properties();
        // The join's statistics stand for this operator's; its output is its left side's
        // columns, so the outer rows' orderings and partitioning carry over.
        let properties = if join.contains_projection() {
            PlanProperties::new(
                EquivalenceProperties::new(Arc::clone(&schema)),
                Partitioning::UnknownPartitioning(input_properties.partitioning.partition_count()),
                EmissionType::Incremental,
                input_properties.boundedness,
            )
        } else {
            PlanProperties::new(
                input_properties
                    .equivalence_properties()
                    .clone()
                    .with_new_schema(Arc::clone(&schema))?,
                input_properties.partitioning.clone(),
                EmissionType::Incremental,
                input_properties.boundedness,
            )
        };
        Ok(NotInFilterExec {
            join,
            input,
            subquery,
            key,
            subquery_key,
            properties: Arc::new(properties),
            run: RunOnce::default(),
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }

    /// The subquery's keys, gathered by the first partition to ask.
    fn subquery_keys(
        &self,
        context: &Arc<TaskContext>,
    ) -> BoxFuture<'static, Result<Arc<SubqueryKeys>>> {
        let subquery = Arc::clone(&self.subquery);
        let key = Arc::clone(&self.subquery_key);
        let context = Arc::clone(context);
        self.run.get(|| {
            let rows = MetricBuilder::new(&self.metrics).global_counter("subquery_rows");
            collect_keys(subquery, key, context, rows)
        })
    }
}

/// Runs the subquery and gathers its keys.
async fn collect_keys(
    subquery: Arc<dyn ExecutionPlan>,
    key: Arc<dyn PhysicalExpr>,
    context: Arc<TaskContext>,
    rows: Count,
) -> Result<SubqueryKeys> {
    let reservation = MemoryConsumer::new("NOT IN subquery keys").register(context.memory_pool());
    let mut columns: Vec<ArrayRef> = Vec::new();
    let mut batches = execute_stream(subquery, Arc::clone(&context))?;
    while let Some(batch) = batches.next().await {
        let batch = batch?;
        rows.add(batch.num_rows());
        let column = key.evaluate(&batch)?.into_array(batch.num_rows())?;
        if column.null_count() > 0 {
            // Nothing can pass; the rest of the subquery need not run.
            return Ok(SubqueryKeys::WithNull);
        }
        reservation.try_grow(column.get_array_memory_size())?;
        columns.push(column);
    }
    let data_type = match columns.first() {
        Some(column) => column.data_type().clone(),
        None => return Ok(SubqueryKeys::Empty),
    };
    let all: Vec<&dyn Array> = columns.iter().map(|c| c.as_ref()).collect();
    let column = concat(&all)?;
    drop(columns);
    let converter = RowConverter::new(vec![SortField::new(data_type)])?;
    let encoded = converter.convert_columns(&[column])?;
    // The set's own memory: each key's bytes and a boxed slice with its table slot.
    let per_key = std::mem::size_of::<Box<[u8]>>() * 2;
    reservation.resize(encoded.size() + encoded.num_rows() * per_key);
    let mut keys = HashSet::with_capacity(encoded.num_rows());
    for row in encoded.iter() {
        keys.insert(Box::<[u8]>::from(row.as_ref()));
    }
    Ok(SubqueryKeys::Set {
        converter,
        keys,
        _reservation: reservation,
    })
}

impl DisplayAs for NotInFilterExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "NotInFilterExec: {} NOT IN ({})",
            self.key, self.subquery_key
        )?;
        match &self.join.projection {
            Some(projection) => write_projection(f, &self.input.schema(), projection),
            None => Ok(()),
        }
    }
}

impl ExecutionPlan for NotInFilterExec {
    fn name(&self) -> &str {
        "NotInFilterExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input, &self.subquery]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        apply_expression_roots([&self.key, &self.subquery_key], f)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true, false]
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        self.join.child_stats_requests(partition)
    }

    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        self.join.statistics_from_inputs(input_stats, args)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [input, subquery]: [Arc<dyn ExecutionPlan>; 2] = match children.try_into() {
            Ok(children) => children,
            Err(_) => return internal_err!("NotInFilterExec takes two inputs"),
        };
        let join = self
            .join
            .builder()
            .with_new_children(vec![Arc::clone(&input), subquery])?
            .reset_state()
            .build()?;
        Ok(Arc::new(NotInFilterExec::try_new(Arc::new(join), input)?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let run = self.subquery_keys(&context);
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let elapsed = baseline.elapsed_compute().clone();
        let schema = self.schema();
        let batch_size = context.session_config().batch_size();
        let key = Arc::clone(&self.key);
        let projection = self.join.projection.clone();
        let output_schema = Arc::clone(&schema);
        let filtered = async move {
            let keys = run.await?;
            if let SubqueryKeys::WithNull = *keys {
                // No row can pass: the outer rows are not read at all.
                return Ok(futures::stream::empty().boxed());
            }
            let rows = NotInRows {
                keys,
                elapsed,
                key,
                projection,
                schema: Arc::clone(&output_schema),
            };
            Ok::<_, DataFusionError>(
                FilteredStream::new(input, rows, output_schema, batch_size, baseline).boxed(),
            )
        };
        let stream = futures::stream::once(filtered).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

/// One partition's test of its rows against the subquery's keys.
struct NotInRows {
    keys: Arc<SubqueryKeys>,
    elapsed: Time,
    key: Arc<dyn PhysicalExpr>,
    projection: Option<Arc<[usize]>>,
    schema: SchemaRef,
}

impl NotInRows {
    /// The output columns of `batch`, under the join's schema.
    fn output(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let columns = match &self.projection {
            Some(projection) => projection
                .iter()
                .map(|&index| Arc::clone(batch.column(index)))
                .collect(),
            None => batch.columns().to_vec(),
        };
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        Ok(RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            columns,
            &options,
        )?)
    }
}

impl RowFilter for NotInRows {
    fn admit(&mut self, batch: RecordBatch, kept: &mut BatchCoalescer) -> Result<()> {
        let elapsed = self.elapsed.clone();
        let _timer = elapsed.timer();
        match &*self.keys {
            SubqueryKeys::Empty => Ok(kept.push_batch(self.output(&batch)?)?),
            // Keeps nothing; `execute` does not even read the outer rows then.
            SubqueryKeys::WithNull => Ok(()),
            SubqueryKeys::Set {
                converter, keys, ..
            } => {
                let column = self.key.evaluate(&batch)?.into_array(batch.num_rows())?;
                let encoded = converter.convert_columns(&[Arc::clone(&column)])?;
                let passing = BooleanBuffer::collect_bool(batch.num_rows(), |row| {
                    column.is_valid(row) && !keys.contains(encoded.row(row).as_ref())
                });
                let mask = BooleanArray::new(passing, None);
                Ok(kept.push_batch_with_filter(self.output(&batch)?, &mask)?)
            }
        }
    }
}
