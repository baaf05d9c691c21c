//! `round(x [, d])` of a DOUBLE or FLOAT rounds the digits Java prints for `x`, half up, as
//! Hive does (see `functions::rounding`). This analyzer rule, after type coercion, plans
//! such calls with that function; `round` of other types stays DataFusion's.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, cast, lit};
use datafusion::optimizer::AnalyzerRule;

use super::rewrite_plan_expressions;

#[derive(Debug, Default)]
pub struct HiveRound;

impl AnalyzerRule for HiveRound {
    fn name(&self) -> &str {
        "hive_round"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        let round = Arc::new(crate::functions::round_half_up_udf());
        rewrite_plan_expressions(plan, |expr, schema| match expr {
            Expr::ScalarFunction(ScalarFunction { func, args })
                if func.name() == "round"
                    && args.first().is_some_and(|x| {
                        matches!(
                            x.get_type(schema),
                            Ok(DataType::Float64 | DataType::Float32)
                        )
                    }) =>
            {
                // Type coercion has run: the arguments take the function's types here.
                let mut args = args.into_iter();
                let mut typed = vec![cast(args.next().unwrap_or(lit(0.0)), DataType::Float64)];
                typed.extend(args.map(|places| cast(places, DataType::Int64)));
                Ok(Transformed::yes(round.call(typed)))
            }
            other => Ok(Transformed::no(other)),
        })
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn doubles_round_their_printed_digits() {
        let text = super::super::run_with_rules("select round(1808.235, 2) a, round(2.5) b").await;
        assert!(text.contains("| 1808.24 | 3.0 |"), "{text}");
    }
}
