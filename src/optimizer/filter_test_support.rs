//! What the tests of the join filter rules (`semijoin_reduction`, `join_key_filters`) share:
//! a session with Apiary's rules over small Parquet tables, and a run of a query that
//! reports its plan, the work of one of its filters, and its rows.

use std::sync::Arc;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::physical_plan::collect;
use datafusion::physical_plan::display::DisplayableExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::driver::settings::Settings;

/// A session with Apiary's rules and 2 partitions over three Parquet tables: `big` with keys 0..10000, twenty rows each; `small` with the keys 3
/// and 7; `every` with each key of `big`.
pub async fn session(dir: &std::path::Path) -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(2);
    let ctx = SessionContext::new_with_state(super::session_state(config, &Settings::default()));
    for (name, sql) in [
        (
            "big",
            "select value % 10000 as k, value as v from generate_series(0, 199999)",
        ),
        ("small", "select * from (values (3), (7)) as t(k)"),
        ("every", "select value as k from generate_series(0, 9999)"),
    ] {
        let path = dir.join(format!("{name}.parquet"));
        let path = path.to_string_lossy();
        ctx.sql(sql)
            .await
            .unwrap()
            .write_parquet(&path, DataFrameWriteOptions::new(), None)
            .await
            .unwrap();
        ctx.register_parquet(name, &path, Default::default())
            .await
            .unwrap();
    }
    ctx
}

/// What ran a query: its plan with metrics, the output rows and the rows left untested of
/// the topmost operator named as asked (if there is one), and the result as a text table.
pub struct Run {
    pub plan: String,
    pub tested: Option<(usize, usize)>,
    pub rows: String,
}

pub async fn run(ctx: &SessionContext, sql: &str, filter: &str) -> Run {
    let plan = ctx
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let batches = collect(Arc::clone(&plan), ctx.task_ctx()).await.unwrap();
    let rows = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    let mut tested = None;
    plan.apply(|node| {
        if node.name() == filter
            && let Some(metrics) = node.metrics()
        {
            let untested = metrics.sum_by_name("untested_rows").map(|m| m.as_usize());
            tested = Some((metrics.output_rows().unwrap_or(0), untested.unwrap_or(0)));
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .unwrap();
    let plan = DisplayableExecutionPlan::with_metrics(plan.as_ref())
        .indent(false)
        .to_string();
    Run { plan, tested, rows }
}
