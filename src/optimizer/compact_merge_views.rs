//! String views compacted before a sort-preserving merge on one string key, under a memory
//! limit. A sorted batch of string views points into the buffers of every batch its rows came
//! from, and DataFusion's merge on a single `Utf8View` key reserves memory for all of those
//! buffers per batch before it compacts them: a sort that spilled correctly then fails at its
//! final merge for memory it does not use. With a limit set, this rule puts each such merge's
//! input behind [`CompactViewsExec`], which copies each batch's views into buffers of their
//! own. Without a limit nothing can fail and the plan is left as it is.

use std::fmt;
use std::sync::Arc;

use crate::execution::one_input::only_input;
use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};
use futures::StreamExt;

#[derive(Debug, Default)]
pub struct CompactMergeViews;

/// Whether `merge` sorts on a single expression of type `Utf8View`.
fn merges_on_one_view_key(merge: &SortPreservingMergeExec) -> bool {
    let keys = merge.expr();
    let schema = merge.input().schema();
    keys.len() == 1
        && keys
            .first()
            .expr
            .data_type(&schema)
            .is_ok_and(|t| t == DataType::Utf8View)
}

impl PhysicalOptimizerRule for CompactMergeViews {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(merge) = node.downcast_ref::<SortPreservingMergeExec>() else {
                return Ok(Transformed::no(node));
            };
            if !merges_on_one_view_key(merge) {
                return Ok(Transformed::no(node));
            }
            let compacted = Arc::new(CompactViewsExec::new(Arc::clone(merge.input())));
            Ok(Transformed::yes(replace_children_if_necessary(
                node,
                vec![compacted],
            )?))
        })
        .map(|transformed| transformed.data)
    }

    fn name(&self) -> &str {
        "CompactMergeViews"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Its input's batches with their string views compacted (see [`compact`]).
#[derive(Debug)]
pub struct CompactViewsExec {
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
}

impl CompactViewsExec {
    pub fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        let properties = Arc::clone(input.properties());
        CompactViewsExec { input, properties }
    }
}

/// `batch` with each `Utf8View` column whose buffers hold more than twice the bytes its
/// views use copied into buffers of its own (the threshold arrow's batch coalescer uses);
/// compact columns are kept as they are.
fn compact(batch: RecordBatch) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Utf8View => {
                let views = column.as_string_view();
                let held: usize = views.data_buffers().iter().map(|b| b.len()).sum();
                if held > 2 * views.total_buffer_bytes_used() {
                    Arc::new(views.gc()) as ArrayRef
                } else {
                    Arc::clone(column)
                }
            }
            _ => Arc::clone(column),
        })
        .collect();
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

impl DisplayAs for CompactViewsExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "CompactViewsExec")
    }
}

impl ExecutionPlan for CompactViewsExec {
    fn name(&self) -> &str {
        "CompactViewsExec"
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = only_input(children, "CompactViewsExec")?;
        Ok(Arc::new(CompactViewsExec::new(input)))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let schema = input.schema();
        let compacted = input.map(|batch| batch.and_then(compact));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, compacted)))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, StringViewArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn compacted_views_hold_only_their_own_strings() {
        let long: Vec<String> = (0..1000)
            .map(|i| format!("value {i:04} padded past twelve bytes"))
            .collect();
        let all: ArrayRef = Arc::new(StringViewArray::from_iter_values(&long));
        let one_row = all.slice(7, 1);
        let schema = Arc::new(Schema::new(vec![Field::new(
            "s",
            DataType::Utf8View,
            false,
        )]));
        let batch = RecordBatch::try_new(schema, vec![one_row]).expect("batch");
        let before = batch.column(0).get_buffer_memory_size();

        let compacted = compact(batch).expect("compact");
        let column = compacted.column(0);
        assert!(column.get_buffer_memory_size() * 10 < before);
        assert_eq!(
            column.as_string_view().value(0),
            "value 0007 padded past twelve bytes"
        );
    }

    #[test]
    fn compact_views_are_kept_as_they_are() {
        let strings: ArrayRef = Arc::new(StringViewArray::from_iter_values([
            "one string past twelve bytes",
            "and another past twelve bytes",
        ]));
        let schema = Arc::new(Schema::new(vec![Field::new(
            "s",
            DataType::Utf8View,
            false,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::clone(&strings)]).expect("batch");
        let kept = compact(batch).expect("compact");
        assert!(Arc::ptr_eq(kept.column(0), &strings));
    }
}
