//! Hive's casts never fail: a value that does not convert (`CAST('abc' AS INT)`, a string
//! summed as a DOUBLE, a date string that is not a date) becomes NULL. This analyzer rule runs
//! after DataFusion's type coercion and turns every cast, written or implied, into a
//! `TRY_CAST`, which has exactly that behaviour. A boolean cast to a string is `TRUE` or
//! `FALSE`, as Hive writes it.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::logical_expr::expr::{Cast, TryCast};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, lit, when};
use datafusion::optimizer::AnalyzerRule;

use super::rewrite_plan_expressions;

#[derive(Debug, Default)]
pub struct CastsNeverFail;

impl AnalyzerRule for CastsNeverFail {
    fn name(&self) -> &str {
        "hive_casts_never_fail"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        rewrite_plan_expressions(plan, |expr, schema| match expr {
            Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field })
                if field.data_type().is_string()
                    && expr.get_type(schema).ok() == Some(DataType::Boolean) =>
            {
                // Hive writes a boolean as text in capitals.
                Ok(Transformed::yes(
                    when(*expr.clone(), lit("TRUE"))
                        .when(Expr::Not(expr), lit("FALSE"))
                        .end()?,
                ))
            }
            Expr::Cast(Cast { expr, field }) => {
                Ok(Transformed::yes(Expr::TryCast(TryCast { expr, field })))
            }
            other => Ok(Transformed::no(other)),
        })
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn values_that_do_not_convert_are_null() {
        let text = super::super::run_with_rules(
            "select cast('abc' as int) is null a, cast('12' as int) + 1 b, cast('2024-13-01' as date) is null c",
        )
        .await;
        assert!(text.contains("| true | 13 | true |"), "{text}");
    }
}
