//! Filters on conjunctions run as [`AdaptiveFilterExec`]: the conjuncts are tested one after
//! another on the rows still passing, cheapest per dropped row first, as measured while the
//! query runs (the operator's module says how). Q6's five range tests on `lineitem` and
//! Q12's seven spent as long in DataFusion's `FilterExec` as in decoding the Parquet pages.
//! This rule runs after DataFusion's, so that filter pushdown has already moved what it can
//! into the scans and split the rest into one filter per input.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::filter::FilterExec;

use crate::execution::adaptive_filter::AdaptiveFilterExec;

#[derive(Debug, Default)]
pub struct AdaptiveFilters;

impl PhysicalOptimizerRule for AdaptiveFilters {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(filter) = node.downcast_ref::<FilterExec>() else {
                return Ok(Transformed::no(node));
            };
            match AdaptiveFilterExec::try_new(Arc::new(filter.clone()))? {
                Some(adaptive) => Ok(Transformed::yes(Arc::new(adaptive) as _)),
                None => Ok(Transformed::no(node)),
            }
        })
        .map(|transformed| transformed.data)
    }

    fn name(&self) -> &str {
        "AdaptiveFilters"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
