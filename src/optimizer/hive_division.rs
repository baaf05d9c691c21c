//! Hive's division by zero is NULL rather than an error or an infinity: `a / b` and `a % b`
//! become `a / NULLIF(b, 0)` and `a % NULLIF(b, 0)` (`DIV` is the `div` function). (That `int / int` is a DOUBLE division is
//! settled earlier, as the SQL is planned: `analyzer::hive_arithmetic`.) The rule runs just
//! before DataFusion's type coercion.

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::functions::core::expr_fn::nullif;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator, lit};
use datafusion::optimizer::AnalyzerRule;

use super::rewrite_plan_expressions;

#[derive(Debug, Default)]
pub struct HiveDivision;

impl AnalyzerRule for HiveDivision {
    fn name(&self) -> &str {
        "hive_division"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        rewrite_plan_expressions(plan, rewrite)
    }
}

fn rewrite(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else {
        return Ok(Transformed::no(expr));
    };
    let op = *op;
    if !matches!(op, Operator::Divide | Operator::Modulo) {
        return Ok(Transformed::no(expr));
    }
    let (Ok(left_type), Ok(right_type)) = (left.get_type(schema), right.get_type(schema)) else {
        return Ok(Transformed::no(expr));
    };
    // A division already rewritten (the analyzer may run twice) has a NULLIF divisor.
    let rewritten = matches!(right.as_ref(), Expr::ScalarFunction(f) if f.name() == "nullif");
    if rewritten || !left_type.is_numeric() || !right_type.is_numeric() {
        return Ok(Transformed::no(expr));
    }
    let (left, right) = (left.as_ref().clone(), right.as_ref().clone());
    let zero = ScalarValue::new_zero(&right_type)?;
    Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
        Box::new(left),
        op,
        Box::new(nullif(right, lit(zero))),
    ))))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn integer_division_is_fractional_and_zero_divisors_give_null() {
        let text = super::super::run_with_rules(
            "select 3 / 2 a, 1 / 0 is null b, 1.5 / 0.0 is null c, 5 % 0 is null d, 5 % 3 e",
        )
        .await;
        assert!(text.contains("| 1.5 | true | true | true | 2 |"), "{text}");
    }
}
