//! Hive types an integer literal as an INT when it fits one, a BIGINT otherwise; DataFusion
//! reads every integer literal as a BIGINT. This analyzer rule, before type coercion, makes
//! the literals that fit INTs, so that `SELECT 1` (and a CTAS of it) is an INT, `int_col + 1`
//! stays an INT, and `array(1, 2)` is an `array<int>`, as in Hive. A VALUES list is planned
//! again over its retyped rows; LIMIT and OFFSET counts stay as they are.

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use std::sync::Arc;

use datafusion::common::{DFSchema, ExprSchema, Result, ScalarValue};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, Subquery};
use datafusion::optimizer::AnalyzerRule;

use super::{rewrite_expressions, rewrite_plan_nodes};

#[derive(Debug, Default)]
pub struct IntLiterals;

impl AnalyzerRule for IntLiterals {
    fn name(&self) -> &str {
        "int_literals"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        rewrite_plan_nodes(plan, &|node| {
            if matches!(node, LogicalPlan::Limit(_)) {
                return Ok(Transformed::no(node));
            }
            if let LogicalPlan::Values(values) = node {
                let rows = values
                    .values
                    .into_iter()
                    .map(|row| row.into_iter().map(as_int).collect())
                    .collect();
                return LogicalPlanBuilder::values(rows)?
                    .build()
                    .map(Transformed::yes);
            }
            rewrite_expressions(node, &|e, outer_schema| match e {
                Expr::Exists(mut exists) => {
                    exists.subquery = retyped_outer_references(exists.subquery, outer_schema)?;
                    Ok(Transformed::yes(Expr::Exists(exists)))
                }
                Expr::InSubquery(mut in_subquery) => {
                    in_subquery.subquery =
                        retyped_outer_references(in_subquery.subquery, outer_schema)?;
                    Ok(Transformed::yes(Expr::InSubquery(in_subquery)))
                }
                Expr::ScalarSubquery(subquery) => Ok(Transformed::yes(Expr::ScalarSubquery(
                    retyped_outer_references(subquery, outer_schema)?,
                ))),
                literal @ Expr::Literal(ScalarValue::Int64(Some(_)), _) => {
                    Ok(Transformed::yes(as_int(literal)))
                }
                other => Ok(Transformed::no(other)),
            })
        })
    }
}

/// A BIGINT literal that fits an INT, as an INT; anything else as it is.
fn as_int(expr: Expr) -> Expr {
    match expr {
        Expr::Literal(ScalarValue::Int64(Some(v)), metadata) => match i32::try_from(v) {
            Ok(v) => Expr::Literal(ScalarValue::Int32(Some(v)), metadata),
            Err(_) => Expr::Literal(ScalarValue::Int64(Some(v)), metadata),
        },
        other => other,
    }
}

/// A subquery whose references to the outer query take the outer columns' types again: the
/// outer query's literals may have become INTs since the references were planned.
fn retyped_outer_references(subquery: Subquery, outer: &DFSchema) -> Result<Subquery> {
    let retype = |e: Expr| match e {
        Expr::OuterReferenceColumn(field, column) => {
            let field = match outer.field_from_column(&column) {
                Ok(outer_field) if outer_field.data_type() != field.data_type() => Arc::new(
                    field
                        .as_ref()
                        .clone()
                        .with_data_type(outer_field.data_type().clone()),
                ),
                _ => field,
            };
            Ok(Transformed::yes(Expr::OuterReferenceColumn(field, column)))
        }
        other => Ok(Transformed::no(other)),
    };
    let plan = Arc::unwrap_or_clone(subquery.subquery)
        .transform_up_with_subqueries(|node| {
            node.map_expressions(|expr| expr.transform_up(retype))?
                .map_data(|node| node.recompute_schema())
        })?
        .data;
    let outer_ref_columns = subquery
        .outer_ref_columns
        .into_iter()
        .map(|e| e.transform_up(retype).map(|t| t.data))
        .collect::<Result<_>>()?;
    Ok(Subquery {
        subquery: Arc::new(plan),
        outer_ref_columns,
        spans: subquery.spans,
    })
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn integer_literals_that_fit_are_ints() {
        let text = super::super::run_with_rules(
            "select arrow_typeof(1) a, arrow_typeof(3000000000) b, arrow_typeof(make_array(1, 2)) c",
        )
        .await;
        assert!(text.contains("| Int32 | Int64 |"), "{text}");
    }
}
