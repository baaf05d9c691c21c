//! With its cost-based optimizer on (`hive.cbo.enable`, the default), Hive plans a grouped
//! `var_pop`, `var_samp`, `stddev_pop` or `stddev_samp` (and their other names) as sums: the
//! aggregate computes `sum(x * x)`, `sum(x)` and `count(x)`, and a projection above it
//! `(sum(x * x) - sum(x) * sum(x) / count(x)) / count(x)` (the sample forms divide by
//! `count(x) - 1`, NULL for one row; the deviations take `power(.., 0.5)`). The digits that
//! gives differ from Hive's streaming formula, which windows and `hive.cbo.enable=false`
//! keep. This analyzer rule, after type coercion, plans grouped aggregates the same way.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, Result};
use datafusion::functions::math::power;
use datafusion::functions_aggregate::count::count;
use datafusion::functions_aggregate::sum::sum;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{Aggregate, Expr, LogicalPlan, Projection, cast, lit, when};
use datafusion::optimizer::AnalyzerRule;

#[derive(Debug, Default)]
pub struct VarianceFromSums;

/// Which formula a reducible aggregate takes.
#[derive(Clone, Copy)]
struct Reduced {
    sample: bool,
    deviation: bool,
}

fn reducible(f: &AggregateFunction) -> Option<Reduced> {
    let plain = !f.params.distinct && f.params.filter.is_none() && f.params.args.len() == 1;
    let reduced = match f.func.name() {
        "var_pop" => Reduced {
            sample: false,
            deviation: false,
        },
        "var_samp" => Reduced {
            sample: true,
            deviation: false,
        },
        "stddev_pop" => Reduced {
            sample: false,
            deviation: true,
        },
        "stddev_samp" => Reduced {
            sample: true,
            deviation: true,
        },
        _ => return None,
    };
    plain.then_some(reduced)
}

impl AnalyzerRule for VarianceFromSums {
    fn name(&self) -> &str {
        "variance_from_sums"
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
    aggregate.aggr_expr.iter().any(|e| match unaliased(e) {
        Expr::AggregateFunction(f) => reducible(f).is_some(),
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
    let group_count = old_schema.fields().len() - aggregate.aggr_expr.len();
    let mut new_aggregates = Vec::new();
    let mut outputs = Vec::new();
    for (i, expr) in aggregate.aggr_expr.iter().enumerate() {
        let (qualifier, field) = old_schema.qualified_field(group_count + i);
        let name = field.name();
        let reduced = match unaliased(expr) {
            Expr::AggregateFunction(f) => reducible(f).map(|r| (r, f.params.args[0].clone())),
            _ => None,
        };
        match reduced {
            Some((formula, x)) => {
                let part = |suffix: &str| format!("__apiary_{suffix}_{i}");
                new_aggregates.push(sum(x.clone() * x.clone()).alias(part("sum_squares")));
                new_aggregates.push(sum(x.clone()).alias(part("sum")));
                new_aggregates.push(count(x).alias(part("count")));
                let column = |suffix: &str| Expr::Column(Column::from_name(part(suffix)));
                let count = cast(column("count"), DataType::Float64);
                let spread = column("sum_squares") - column("sum") * column("sum") / count.clone();
                let divisor = if formula.sample {
                    when(
                        column("count").eq(lit(1_i64)),
                        lit(datafusion::common::ScalarValue::Float64(None)),
                    )
                    .otherwise(count - lit(1.0))?
                } else {
                    count
                };
                let variance = spread / divisor;
                let value = if formula.deviation {
                    power().call(vec![variance, lit(0.5)])
                } else {
                    variance
                };
                outputs.push(value.alias_qualified(qualifier.cloned(), name));
            }
            None => {
                new_aggregates.push(expr.clone());
                outputs.push(Expr::Column(Column::new(qualifier.cloned(), name)));
            }
        }
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
