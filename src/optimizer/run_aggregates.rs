//! Partial aggregations that fold runs of equal keys (`execution/run_aggregate.rs`): every
//! partial `AggregateExec` of one grouping set whose aggregates can all run on group
//! accumulators (no DISTINCT, no ordered aggregates) runs as a `RunPartialAggregateExec`,
//! which folds batches whose keys come in runs or are few and hands anything else to the
//! aggregate.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::InputOrderMode;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};

use crate::execution::run_aggregate::{RunPartialAggregateExec, folds_keys_of};

#[derive(Debug)]
pub struct RunAggregates;

impl PhysicalOptimizerRule for RunAggregates {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| match node.downcast_ref::<AggregateExec>() {
            Some(aggregate) if folds_runs(aggregate) => Ok(Transformed::yes(Arc::new(
                RunPartialAggregateExec::try_new(Arc::clone(&node))?,
            ))),
            _ => Ok(Transformed::no(node)),
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "apiary_run_aggregates"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Whether `aggregate` is a partial aggregation that runs can fold.
fn folds_runs(aggregate: &AggregateExec) -> bool {
    *aggregate.mode() == AggregateMode::Partial
        && aggregate.group_expr().is_single()
        && !aggregate.group_expr().is_empty()
        && *aggregate.input_order_mode() == InputOrderMode::Linear
        && aggregate.limit_options().is_none()
        && aggregate.dynamic_expressions_produced().is_empty()
        && folds_keys_of(aggregate)
        && aggregate.aggr_expr().iter().all(|function| {
            !function.is_distinct()
                && function.order_bys().is_empty()
                && function.groups_accumulator_supported()
        })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use std::sync::Arc;

    use datafusion::datasource::MemTable;
    use datafusion::physical_plan::ExecutionPlan;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use crate::driver::settings::Settings;
    use crate::optimizer::session_state;

    /// A session of two partitions and small batches over a table `t(k, v)` of `keys` and
    /// `values` (NULL where a value is negative), in four input partitions.
    async fn table(keys: &[Option<i64>], values: &[i64]) -> SessionContext {
        let config = SessionConfig::new()
            .with_target_partitions(2)
            .with_batch_size(64);
        let ctx = SessionContext::new_with_state(session_state(config, &Settings::default()));
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, true),
            Field::new("v", DataType::Int64, true),
        ]));
        let quarter = keys.len().div_ceil(4);
        let partitions = (0..4)
            .map(|p| {
                let range = (p * quarter).min(keys.len())..((p + 1) * quarter).min(keys.len());
                let k = Int64Array::from(keys[range.clone()].to_vec());
                let v: Int64Array = values[range]
                    .iter()
                    .map(|&v| (v >= 0).then_some(v))
                    .collect();
                let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(k), Arc::new(v)])
                    .expect("batch");
                batch
                    .columns()
                    .first()
                    .map(|_| {
                        (0..batch.num_rows())
                            .step_by(50)
                            .map(|o| batch.slice(o, 50.min(batch.num_rows() - o)))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
            .collect();
        let table = MemTable::try_new(schema, partitions).expect("table");
        ctx.register_table("t", Arc::new(table)).expect("register");
        ctx
    }

    const QUERY: &str = "select k, sum(v), count(v), count(*), min(v), max(v), \
        sum(v) filter (where v > 500) from t group by k order by k";

    /// What QUERY gives, computed directly.
    fn expected(keys: &[Option<i64>], values: &[i64]) -> Vec<String> {
        type Groups = (i64, i64, i64, Option<i64>, Option<i64>, Option<i64>, bool);
        let mut groups: BTreeMap<Option<i64>, Groups> = BTreeMap::new();
        for (key, &value) in keys.iter().zip(values) {
            let g = groups
                .entry(*key)
                .or_insert((0, 0, 0, None, None, None, false));
            g.2 += 1;
            if value >= 0 {
                g.0 += value;
                g.1 += 1;
                g.6 = true;
                g.3 = Some(g.3.map_or(value, |m| m.min(value)));
                g.4 = Some(g.4.map_or(value, |m| m.max(value)));
                if value > 500 {
                    g.5 = Some(g.5.unwrap_or(0) + value);
                }
            }
        }
        let text = |v: Option<i64>| v.map_or("NULL".to_string(), |v| v.to_string());
        groups
            .into_iter()
            .map(|(k, (sum, count, rows, min, max, filtered, seen))| {
                format!(
                    "{} {} {} {} {} {} {}",
                    text(k),
                    text(seen.then_some(sum)),
                    count,
                    rows,
                    text(min),
                    text(max),
                    text(filtered)
                )
            })
            .collect()
    }

    /// QUERY's rows as text, sorted (where the NULL key sorts depends on the session), and
    /// the input rows the run folding took.
    async fn actual(ctx: &SessionContext) -> (Vec<String>, usize) {
        let plan = ctx
            .sql(QUERY)
            .await
            .expect("plan")
            .create_physical_plan()
            .await
            .expect("physical");
        let batches = datafusion::physical_plan::collect(Arc::clone(&plan), ctx.task_ctx())
            .await
            .expect("run");
        let text = pretty_format_batches(&batches).expect("format").to_string();
        let rows = text
            .lines()
            .filter(|l| l.starts_with("| ") && !l.contains(" k "))
            .map(|l| {
                l.trim_matches('|')
                    .split('|')
                    .map(|c| match c.trim() {
                        "" => "NULL",
                        other => other,
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<String>>();
        (
            sorted(rows),
            folded_rows(&plan).expect("a run partial aggregation"),
        )
    }

    /// The `folded_rows` of the plan's `RunPartialAggregateExec`.
    fn folded_rows(plan: &Arc<dyn ExecutionPlan>) -> Option<usize> {
        if plan.name() == "RunPartialAggregateExec" {
            return plan
                .metrics()
                .and_then(|m| m.sum_by_name("folded_rows"))
                .map(|v| v.as_usize());
        }
        plan.children().into_iter().find_map(folded_rows)
    }

    fn sorted(mut rows: Vec<String>) -> Vec<String> {
        rows.sort();
        rows
    }

    fn data(key_of_row: impl Fn(i64) -> Option<i64>) -> (Vec<Option<i64>>, Vec<i64>) {
        let rows = 4000;
        let keys = (0..rows).map(key_of_row).collect();
        // Every seventh value is NULL.
        let values = (0..rows)
            .map(|i| if i % 7 == 3 { -1 } else { (i * 37) % 1000 })
            .collect();
        (keys, values)
    }

    #[tokio::test]
    async fn runs_of_keys_fold_into_the_same_groups() {
        // Runs of four rows per key, a run of NULL keys among them.
        let (keys, values) = data(|i| (!(400..420).contains(&i)).then_some(i / 4));
        let ctx = table(&keys, &values).await;
        let (rows, folded) = actual(&ctx).await;
        assert_eq!(folded, keys.len());
        assert_eq!(rows, sorted(expected(&keys, &values)));
    }

    #[tokio::test]
    async fn few_keys_fold_into_the_same_groups() {
        // Two keys and NULL, in no order: no runs, but few keys in every batch.
        let (keys, values) = data(|i| (i % 7 != 5).then_some(i % 2));
        let ctx = table(&keys, &values).await;
        let (rows, folded) = actual(&ctx).await;
        assert_eq!(folded, keys.len());
        assert_eq!(rows, sorted(expected(&keys, &values)));
    }

    #[tokio::test]
    async fn keys_out_of_order_go_to_the_hash_aggregation() {
        type KeyOfRow = Box<dyn Fn(i64) -> Option<i64>>;
        let cases: [(KeyOfRow, usize); 3] = [
            // No runs at all.
            (Box::new(|i| Some(i % 13)), 0),
            // Runs, but of few keys that come back.
            (Box::new(|i| Some((i / 3) % 5)), 0),
            // Runs in the first half of the rows, in order, then none: each of the four
            // input partitions folds until its first batch without runs.
            (
                Box::new(|i| Some(if i < 2000 { i / 4 } else { i % 11 })),
                2000,
            ),
        ];
        for (key_of_row, folded_expected) in cases {
            let (keys, values) = data(key_of_row);
            let ctx = table(&keys, &values).await;
            let (rows, folded) = actual(&ctx).await;
            assert_eq!(folded, folded_expected);
            assert_eq!(rows, sorted(expected(&keys, &values)));
        }
    }
}
