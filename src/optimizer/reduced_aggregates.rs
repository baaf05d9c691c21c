//! With its cost-based optimizer on (`hive.cbo.enable`, the default), Hive plans some grouped
//! aggregates as sums (Calcite's reduction of aggregate functions), and the digits and types
//! that gives are Hive's answer:
//!
//! - `var_pop`, `var_samp`, `stddev_pop`, `stddev_samp` (and their other names): the
//!   aggregate computes `sum(x * x)`, `sum(x)` and `count(x)`, and a projection above it
//!   `(sum(x * x) - sum(x) * sum(x) / count(x)) / count(x)` (the sample forms divide by
//!   `count(x) - 1`, NULL for one row; the deviations take `power(.., 0.5)`). Windows and
//!   `hive.cbo.enable=false` keep Hive's streaming formula.
//! - `avg` of a DECIMAL(p, s): `sum(x) / count(x)` typed as Hive divides a DECIMAL(p, s) by a
//!   BIGINT, scale s + 20 as far as 38 digits allow (`avg` of a DECIMAL(20,10) is a
//!   DECIMAL(38,28)); without CBO Hive's `avg` type is DECIMAL(p + 4, s + 4).
//!
//! This analyzer rule, after type coercion, plans grouped aggregates the same way.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, Result, ScalarValue};
use datafusion::functions::core::expr_fn::nullif;
use datafusion::functions::math::power;
use datafusion::functions_aggregate::count::count;
use datafusion::functions_aggregate::sum::sum;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{
    Aggregate, Expr, ExprSchemable, LogicalPlan, Operator, Projection, cast, lit, when,
};
use datafusion::optimizer::AnalyzerRule;

use crate::analyzer::hive_decimal::decimal_arithmetic;

#[derive(Debug, Default)]
pub struct ReducedAggregates;

/// What a reducible aggregate becomes.
#[derive(Clone)]
enum Reduction {
    Variance { sample: bool, deviation: bool },
    DecimalAverage { input: DataType },
}

fn reducible(f: &AggregateFunction, schema: &DFSchema) -> Option<Reduction> {
    let plain = !f.params.distinct && f.params.filter.is_none() && f.params.args.len() == 1;
    if !plain {
        return None;
    }
    let variance = |sample, deviation| Some(Reduction::Variance { sample, deviation });
    match f.func.name() {
        "var_pop" => variance(false, false),
        "var_samp" => variance(true, false),
        "stddev_pop" => variance(false, true),
        "stddev_samp" => variance(true, true),
        "avg" => match f.params.args[0].get_type(schema).ok()? {
            input @ DataType::Decimal128(..) => Some(Reduction::DecimalAverage { input }),
            _ => None,
        },
        _ => None,
    }
}

impl AnalyzerRule for ReducedAggregates {
    fn name(&self) -> &str {
        "reduced_aggregates"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| match node {
            LogicalPlan::Aggregate(aggregate) if has_reducible(&aggregate) => {
                reduce(aggregate).map(Transformed::yes)
            }
            other => Ok(Transformed::no(other)),
        })
        .map(|t| t.data)
    }
}

fn has_reducible(aggregate: &Aggregate) -> bool {
    let schema = aggregate.input.schema();
    aggregate.aggr_expr.iter().any(|e| match unaliased(e) {
        Expr::AggregateFunction(f) => reducible(f, schema).is_some(),
        _ => false,
    })
}

fn unaliased(expr: &Expr) -> &Expr {
    match expr {
        Expr::Alias(alias) => unaliased(&alias.expr),
        other => other,
    }
}

/// The aggregate with sums in place of each reducible call, under a projection that gives
/// every output column its old name.
fn reduce(aggregate: Aggregate) -> Result<LogicalPlan> {
    let old_schema = Arc::clone(&aggregate.schema);
    let input_schema = Arc::clone(aggregate.input.schema());
    let group_count = old_schema.fields().len() - aggregate.aggr_expr.len();
    let mut new_aggregates = Vec::new();
    let mut outputs = Vec::new();
    for (i, expr) in aggregate.aggr_expr.iter().enumerate() {
        let (qualifier, field) = old_schema.qualified_field(group_count + i);
        let name = field.name();
        let reduced = match unaliased(expr) {
            Expr::AggregateFunction(f) => {
                reducible(f, &input_schema).map(|r| (r, f.params.args[0].clone()))
            }
            _ => None,
        };
        let Some((reduction, x)) = reduced else {
            new_aggregates.push(expr.clone());
            outputs.push(Expr::Column(Column::new(qualifier.cloned(), name)));
            continue;
        };
        let part = |suffix: &str| format!("__apiary_{suffix}_{i}");
        let column = |suffix: &str| Expr::Column(Column::from_name(part(suffix)));
        let value = match reduction {
            Reduction::Variance { sample, deviation } => {
                new_aggregates.push(sum(x.clone() * x.clone()).alias(part("sum_squares")));
                new_aggregates.push(sum(x.clone()).alias(part("sum")));
                new_aggregates.push(count(x).alias(part("count")));
                let count = cast(column("count"), DataType::Float64);
                let spread = column("sum_squares") - column("sum") * column("sum") / count.clone();
                let divisor = if sample {
                    when(
                        column("count").eq(lit(1_i64)),
                        lit(ScalarValue::Float64(None)),
                    )
                    .otherwise(count - lit(1.0))?
                } else {
                    count
                };
                let variance = spread / divisor;
                if deviation {
                    power().call(vec![variance, lit(0.5)])
                } else {
                    variance
                }
            }
            Reduction::DecimalAverage { input } => {
                new_aggregates.push(sum(x.clone()).alias(part("sum")));
                new_aggregates.push(count(x).alias(part("count")));
                let count = nullif(column("count"), lit(0_i64));
                decimal_arithmetic(
                    &column("sum"),
                    &input,
                    Operator::Divide,
                    &count,
                    &DataType::Int64,
                )
                .unwrap_or_else(|| column("sum") / count)
            }
        };
        outputs.push(value.alias_qualified(qualifier.cloned(), name));
    }
    let groups = (0..group_count).map(|i| {
        let (qualifier, field) = old_schema.qualified_field(i);
        Expr::Column(Column::new(qualifier.cloned(), field.name()))
    });
    let projection: Vec<Expr> = groups.chain(outputs).collect();
    let reduced = Aggregate::try_new(aggregate.input, aggregate.group_expr, new_aggregates)?;
    Ok(LogicalPlan::Projection(Projection::try_new(
        projection,
        Arc::new(LogicalPlan::Aggregate(reduced)),
    )?))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn decimal_average_is_a_sum_divided_as_hive_divides() {
        let text = super::super::run_with_rules(
            "select avg(x), arrow_typeof(avg(x)) from \
             (values (cast(1.12 as decimal(20,10))), (cast(1.0 as decimal(20,10))), \
             (cast(1.0 as decimal(20,10)))) t(x)",
        )
        .await;
        assert!(
            text.contains("| 1.0400000000000000000000000000 |"),
            "{text}"
        );
        assert!(text.contains("| Decimal128(38, 28) "), "{text}");
    }

    #[tokio::test]
    async fn grouped_variance_is_computed_from_sums_as_hive_plans_it() {
        // Hive's decimal_udf.q golden output for this group: the sums' digits, not the
        // streaming formula's (0.0035142400000000066).
        let text = super::super::run_with_rules(
            "select var_pop(x), var_samp(y) is null as one_row from \
             (values (1.0, 1.0), (1.0, NULL), (1.12, NULL), (1.122, NULL), (1.0, NULL)) t(x, y)",
        )
        .await;
        assert!(
            text.contains("| 0.003514240000000157 | true    |"),
            "{text}"
        );
    }
}
