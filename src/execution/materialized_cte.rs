//! A WITH query computed once for all the places that read it
//! (`optimizer::materialized_ctes` decides which). Every reference scans the same
//! [`MaterializedCte`] table; the references share one physical plan of the query, the first
//! scan to run runs it and holds its rows in memory (counted against the session's memory
//! limit), and the others read them. Hive
//! materializes such a query into a temporary table before the main query runs
//! (`hive.optimize.cte.materialize.threshold`); here the rows never leave memory and are
//! computed when first needed, so EXPLAIN runs nothing.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session as CatalogSession;
use datafusion::common::{Statistics, internal_datafusion_err, project_schema};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::session_state::SessionState;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, collect,
};
use futures::{StreamExt, TryStreamExt};

use super::leaf_exec::leaf_exec_methods;
use super::run_once::RunOnce;

/// A query's rows, and the memory they hold.
struct Rows {
    batches: Vec<RecordBatch>,
    _reservation: MemoryReservation,
}

/// The table every reference to one WITH query scans.
pub struct MaterializedCte {
    name: String,
    plan: LogicalPlan,
    schema: SchemaRef,
    statistics: Statistics,
    /// The query's physical plan, made by the first reference planned and shared by all.
    query: tokio::sync::OnceCell<Arc<dyn ExecutionPlan>>,
    /// The one run of the query, shared by every scan of it (`run_once` says how).
    run: Arc<RunOnce<Rows>>,
}

impl fmt::Debug for MaterializedCte {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "MaterializedCte({})", self.name)
    }
}

impl MaterializedCte {
    /// `plan` is analyzed; `rows` is the estimate of its result's size.
    pub fn new(name: String, plan: LogicalPlan, rows: Option<usize>) -> Self {
        let schema = Arc::clone(plan.schema().inner());
        let mut statistics = Statistics::new_unknown(&schema);
        if let Some(rows) = rows {
            statistics.num_rows = datafusion::common::stats::Precision::Inexact(rows);
        }
        MaterializedCte {
            name,
            plan,
            schema,
            statistics,
            query: tokio::sync::OnceCell::new(),
            run: Arc::default(),
        }
    }
}

#[async_trait]
impl TableProvider for MaterializedCte {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    fn statistics(&self) -> Option<Statistics> {
        Some(self.statistics.clone())
    }

    async fn scan(
        &self,
        state: &dyn CatalogSession,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let state = state
            .as_any()
            .downcast_ref::<SessionState>()
            .ok_or_else(|| internal_datafusion_err!("a WITH query planned outside a session"))?;
        let query = self
            .query
            .get_or_try_init(|| async {
                let optimized = state
                    .optimizer()
                    .optimize(self.plan.clone(), state, |_, _| {})?;
                state
                    .query_planner()
                    .create_physical_plan(&optimized, state)
                    .await
            })
            .await?;
        let schema = project_schema(&self.schema, projection)?;
        let partitions = state.config().target_partitions().max(1);
        Ok(Arc::new(MaterializedCteExec {
            name: self.name.clone(),
            query: Arc::clone(query),
            run: Arc::clone(&self.run),
            projection: projection.cloned(),
            properties: Arc::new(PlanProperties::new(
                EquivalenceProperties::new(schema),
                Partitioning::UnknownPartitioning(partitions),
                EmissionType::Final,
                Boundedness::Bounded,
            )),
            metrics: ExecutionPlanMetricsSet::new(),
        }))
    }
}

/// One reference's scan of a WITH query's rows, computed by whichever scan runs first; its
/// partitions take the rows' batches in turn.
#[derive(Debug)]
pub struct MaterializedCteExec {
    name: String,
    query: Arc<dyn ExecutionPlan>,
    run: Arc<RunOnce<Rows>>,
    projection: Option<Vec<usize>>,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl fmt::Debug for Rows {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} batches", self.batches.len())
    }
}

impl DisplayAs for MaterializedCteExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "MaterializedCteExec: {}, computed once", self.name)
    }
}

impl ExecutionPlan for MaterializedCteExec {
    leaf_exec_methods!("MaterializedCteExec");

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let run = self
            .run
            .get(|| compute(self.name.clone(), Arc::clone(&self.query), context));
        let projection = self.projection.clone();
        let partitions = self.properties.partitioning.partition_count();
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let batches = async move {
            let rows = run.await?;
            let mine: Vec<Result<RecordBatch>> = rows
                .batches
                .iter()
                .skip(partition)
                .step_by(partitions)
                .map(|batch| match &projection {
                    Some(columns) => batch.project(columns).map_err(DataFusionError::from),
                    None => Ok(batch.clone()),
                })
                .collect();
            Ok::<_, DataFusionError>(futures::stream::iter(mine))
        };
        let stream = futures::stream::once(batches)
            .try_flatten()
            .inspect_ok(move |batch| baseline.record_output(batch.num_rows()));
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            stream.boxed(),
        )))
    }
}

/// Runs the query and holds its rows, counted against the memory limit.
async fn compute(
    name: String,
    query: Arc<dyn ExecutionPlan>,
    context: Arc<TaskContext>,
) -> Result<Rows> {
    let batches = collect(query, Arc::clone(&context)).await?;
    let reservation =
        MemoryConsumer::new(format!("WITH query {name}")).register(context.memory_pool());
    let bytes = batches.iter().map(RecordBatch::get_array_memory_size).sum();
    reservation.try_grow(bytes)?;
    Ok(Rows {
        batches,
        _reservation: reservation,
    })
}
