//! A source read once and fed to several plans, as a multi-insert's branches read their
//! common FROM clause: one task runs the source and sends each batch to every branch through
//! a bounded channel; in each branch's plan the source's subtree is replaced by a scan of its
//! channel. A slow branch slows the source (the channels are bounded), so memory stays
//! bounded whatever the source's size.

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::Session as CatalogSession;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, ScalarValue, project_schema};
use datafusion::datasource::{TableProvider, TableType, provider_as_source};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::leaf_exec::leaf_exec_methods;

/// What travels to a branch: a batch, or the source's error as text (errors do not clone).
type SharedBatch = std::result::Result<RecordBatch, String>;
type BatchReceiver = Mutex<Option<mpsc::Receiver<SharedBatch>>>;
/// The end of a branch's channel the source writes to.
pub type SharedSender = mpsc::Sender<SharedBatch>;

/// The relation name the channel scans are planned under.
const SHARED_SOURCE_TABLE: &str = "__shared_source";

/// Batches in flight per branch.
const CHANNEL_CAPACITY: usize = 4;

/// Sends every batch of `source` to every sender, until the source ends or no branch listens.
pub async fn broadcast(mut source: SendableRecordBatchStream, mut senders: Vec<SharedSender>) {
    while let Some(item) = source.next().await {
        let item = item.map_err(|e| e.to_string());
        let failed = item.is_err();
        let mut open = Vec::with_capacity(senders.len());
        for sender in senders {
            if sender.send(item.clone()).await.is_ok() {
                open.push(sender);
            }
        }
        senders = open;
        if senders.is_empty() || failed {
            return;
        }
    }
}

/// Replaces the subtree `source` of `plan` by a scan of a new channel, and returns the plan
/// with the channel's sender, or `None` when `plan` does not contain `source`.
pub fn read_from_channel(
    plan: LogicalPlan,
    source: &LogicalPlan,
) -> Result<Option<(LogicalPlan, SharedSender)>> {
    let (sender, receiver) = mpsc::channel(CHANNEL_CAPACITY);
    let replacement = channel_scan(source, receiver)?;
    let mut replaced = false;
    let plan = plan
        .transform_down(|node| {
            if !replaced && node == *source {
                replaced = true;
                return Ok(Transformed::new(
                    replacement.clone(),
                    true,
                    TreeNodeRecursion::Jump,
                ));
            }
            Ok(Transformed::no(node))
        })?
        .data;
    Ok(replaced.then_some((plan, sender)))
}

/// The source columns an optimized branch plan reads from its channel (`None`: all).
pub fn columns_read(optimized: &LogicalPlan) -> Result<Option<Vec<usize>>> {
    let mut read: Option<Vec<usize>> = Some(Vec::new());
    optimized.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && scan.table_name.table() == SHARED_SOURCE_TABLE
        {
            read = match (read.take(), &scan.projection) {
                (Some(mut columns), Some(projection)) => {
                    columns.extend(projection);
                    Some(columns)
                }
                _ => None,
            };
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(read)
}

/// `source` with the columns outside `needed` replaced by NULLs of their types, so that its
/// scans read only what some branch uses while column positions stay as they are.
pub fn keep_columns(source: LogicalPlan, needed: &[usize]) -> Result<LogicalPlan> {
    let exprs = source
        .schema()
        .iter()
        .enumerate()
        .map(|(i, (qualifier, field))| {
            let value = if needed.contains(&i) {
                Expr::Column(Column::new(qualifier.cloned(), field.name()))
            } else {
                Expr::Literal(ScalarValue::try_from(field.data_type())?, None)
            };
            Ok(value.alias_qualified(qualifier.cloned(), field.name()))
        })
        .collect::<Result<Vec<_>>>()?;
    LogicalPlanBuilder::from(source).project(exprs)?.build()
}

/// A plan with `source`'s schema (its qualified column names included) reading `receiver`:
/// a scan of columns `c0, c1, ...` renamed back to the source's columns.
fn channel_scan(
    source: &LogicalPlan,
    receiver: mpsc::Receiver<SharedBatch>,
) -> Result<LogicalPlan> {
    let source_schema = source.schema();
    let fields: Vec<Field> = source_schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| field.as_ref().clone().with_name(format!("c{i}")))
        .collect();
    let table = Arc::new(ChannelTable {
        schema: Arc::new(Schema::new(fields)),
        receiver: Arc::new(Mutex::new(Some(receiver))),
    });
    let renames: Vec<Expr> = source_schema
        .iter()
        .enumerate()
        .map(|(i, (qualifier, field))| {
            Expr::Column(Column::new(Some(SHARED_SOURCE_TABLE), format!("c{i}")))
                .alias_qualified(qualifier.cloned(), field.name())
        })
        .collect();
    LogicalPlanBuilder::scan(SHARED_SOURCE_TABLE, provider_as_source(table), None)?
        .project(renames)?
        .build()
}

/// The table a branch reads its source through.
#[derive(Debug)]
struct ChannelTable {
    schema: SchemaRef,
    receiver: Arc<BatchReceiver>,
}

#[async_trait]
impl TableProvider for ChannelTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _state: &dyn CatalogSession,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = project_schema(&self.schema, projection)?;
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Ok(Arc::new(ChannelScanExec {
            projection: projection.cloned(),
            receiver: self.receiver.clone(),
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
        }))
    }
}

/// Streams the batches a branch receives from the shared source.
#[derive(Debug)]
struct ChannelScanExec {
    projection: Option<Vec<usize>>,
    receiver: Arc<BatchReceiver>,
    properties: Arc<PlanProperties>,
    /// None recorded: the rows are counted by the operators above.
    metrics: ExecutionPlanMetricsSet,
}

impl DisplayAs for ChannelScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SharedSourceScanExec")
    }
}

impl ExecutionPlan for ChannelScanExec {
    leaf_exec_methods!("SharedSourceScanExec");

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let receiver = self
            .receiver
            .lock()
            .map_err(|_| DataFusionError::Internal("shared source lock poisoned".into()))?
            .take()
            .filter(|_| partition == 0)
            .ok_or_else(|| {
                DataFusionError::Internal("a shared source can be read only once".into())
            })?;
        let projection = self.projection.clone();
        let batches = futures::stream::unfold(receiver, move |mut receiver| {
            let projection = projection.clone();
            async move {
                let item = receiver.recv().await?;
                let batch =
                    item.map_err(DataFusionError::Execution)
                        .and_then(|batch| match &projection {
                            Some(columns) => Ok(batch.project(columns)?),
                            None => Ok(batch),
                        });
                Some((batch, receiver))
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            batches,
        )))
    }
}
