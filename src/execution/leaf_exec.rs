//! The `ExecutionPlan` methods every leaf operator (a scan without children) shares.

/// Expands, inside `impl ExecutionPlan for T`, the methods of a leaf named `$name` whose
/// plan properties are in the field `properties` and metrics in the field `metrics`.
macro_rules! leaf_exec_methods {
    ($name:literal) => {
        fn name(&self) -> &str {
            $name
        }

        fn properties(&self) -> &std::sync::Arc<datafusion::physical_plan::PlanProperties> {
            &self.properties
        }

        fn metrics(&self) -> Option<datafusion::physical_plan::metrics::MetricsSet> {
            Some(self.metrics.clone_inner())
        }

        fn children(&self) -> Vec<&std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
            Vec::new()
        }

        fn apply_expressions(
            &self,
            _f: &mut dyn FnMut(
                &std::sync::Arc<dyn datafusion::physical_expr::PhysicalExpr>,
            ) -> datafusion::error::Result<
                datafusion::common::tree_node::TreeNodeRecursion,
            >,
        ) -> datafusion::error::Result<datafusion::common::tree_node::TreeNodeRecursion> {
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        }

        fn with_new_children(
            self: std::sync::Arc<Self>,
            children: Vec<std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>>,
        ) -> datafusion::error::Result<std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>>
        {
            if children.is_empty() {
                Ok(self)
            } else {
                Err(datafusion::error::DataFusionError::Internal(format!(
                    "{} has no children",
                    $name
                )))
            }
        }
    };
}

pub(crate) use leaf_exec_methods;

/// Expands, inside `impl ExecutionPlan for T`, `partition_statistics` of a table scan whose
/// table statistics are in the field `statistics`, output columns in `projection` and row
/// limit in `limit`.
macro_rules! scan_statistics_method {
    () => {
        /// The table's estimates, projected; per output partition nothing is known.
        fn partition_statistics(
            &self,
            partition: Option<usize>,
        ) -> datafusion::error::Result<std::sync::Arc<datafusion::common::Statistics>> {
            if partition.is_some() {
                return Ok(std::sync::Arc::new(
                    datafusion::common::Statistics::new_unknown(&self.schema()),
                ));
            }
            let projected = self
                .statistics
                .as_ref()
                .clone()
                .project(Some(&self.projection));
            Ok(std::sync::Arc::new(projected.with_fetch(self.limit, 0, 1)?))
        }
    };
}

pub(crate) use scan_statistics_method;
