//! SELECT and EXPLAIN.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::collect_partitioned;
use datafusion::sql::sqlparser::ast::Query;

use super::multi_insert;
use crate::analyzer;
use crate::driver::{Session, StatementOutput};
use crate::error::{ApiaryError, Result};
use crate::parser::HiveStatement;

pub async fn run_query(session: &Session, query: &Query) -> Result<StatementOutput> {
    let plan = analyzer::plan_query(session, query).await?;
    collect(session, plan).await
}

/// Runs a plan from [`analyzer::plan_query`] to completion. The output partitions run in
/// parallel and their rows follow one another in partition order (a UNION ALL's branches in
/// the order written), not in the order they happen to finish.
///
/// The plan is analyzed already, so only the optimizer and the physical planner run here:
/// the analyzer's rules end with a second type coercion that settles what Apiary's own rules
/// changed (see [`crate::optimizer::session_state`]).
async fn collect(session: &Session, plan: LogicalPlan) -> Result<StatementOutput> {
    let state = session.ctx.state();
    let schema = plan.schema().inner().clone();
    let optimized = state.optimizer().optimize(plan, &state, |_, _| {})?;
    let physical = state
        .query_planner()
        .create_physical_plan(&optimized, &state)
        .await?;
    let batches = collect_partitioned(physical, state.task_ctx())
        .await?
        .into_iter()
        .flatten()
        .collect();
    Ok(StatementOutput::Rows { schema, batches })
}

/// `EXPLAIN [EXTENDED|ANALYZE] statement`: the plan of a query, of an INSERT's SELECT, or of
/// each part of a multi-insert, followed by the partitions each scan reads.
pub async fn explain(
    session: &Session,
    statement: HiveStatement,
    analyze: bool,
    verbose: bool,
) -> Result<StatementOutput> {
    session.scan_log.start();
    let explained = explain_parts(session, statement, analyze, verbose).await;
    let scans = session.scan_log.finish();
    let mut rows = explained?;
    rows.extend(scans.iter().map(|scan| {
        (
            "partitions_scanned".to_string(),
            format!(
                "{}: {} of {} partitions",
                scan.table, scan.scanned, scan.total
            ),
        )
    }));
    let schema = Arc::new(Schema::new(vec![
        Field::new("plan_type", DataType::Utf8, false),
        Field::new("plan", DataType::Utf8, false),
    ]));
    let (plan_types, plans): (Vec<String>, Vec<String>) = rows.into_iter().unzip();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(plan_types)),
            Arc::new(StringArray::from(plans)),
        ],
    )
    .map_err(DataFusionError::from)?;
    Ok(StatementOutput::Rows {
        schema,
        batches: vec![batch],
    })
}

/// `EXPLAIN CBO query`: the optimized plan with each operator's estimated rows and each
/// join's cost, then the total cost of the join order.
pub async fn explain_cbo(session: &Session, statement: HiveStatement) -> Result<StatementOutput> {
    let query = match statement {
        HiveStatement::Query(query) => query,
        HiveStatement::Insert(insert) => insert.query,
        _ => {
            return Err(ApiaryError::NotSupported(
                "EXPLAIN CBO of statements other than queries and INSERT".into(),
            ));
        }
    };
    let plan = analyzer::plan_query(session, &query).await?;
    let optimized = session.ctx.state().optimize(&plan)?;
    let lines = crate::optimizer::join_order::explain::explain_cbo(&optimized);
    Ok(super::results::string_table(
        &["plan_type", "plan"],
        vec![vec!["cbo_plan".to_string(), lines.join("\n")]],
    ))
}

/// The (plan type, plan) rows of each plan the statement runs.
async fn explain_parts(
    session: &Session,
    statement: HiveStatement,
    analyze: bool,
    verbose: bool,
) -> Result<Vec<(String, String)>> {
    let parts: Vec<(String, LogicalPlan)> = match statement {
        HiveStatement::Query(query) => {
            vec![(String::new(), analyzer::plan_query(session, &query).await?)]
        }
        HiveStatement::Insert(insert) => {
            vec![(
                String::new(),
                analyzer::plan_query(session, &insert.query).await?,
            )]
        }
        HiveStatement::MultiInsert { source, inserts } => {
            if analyze {
                return Err(ApiaryError::NotSupported(
                    "EXPLAIN ANALYZE of a multi-insert".into(),
                ));
            }
            let plan = multi_insert::plan(session, source, &inserts).await?;
            let mut parts = vec![("source: ".to_string(), plan.source)];
            for (insert, branch) in inserts.iter().zip(plan.branches) {
                parts.push((format!("insert into {}: ", insert.table), branch));
            }
            parts
        }
        _ => {
            return Err(ApiaryError::NotSupported(
                "EXPLAIN of statements other than queries and INSERT".into(),
            ));
        }
    };
    let mut rows = Vec::new();
    for (label, plan) in parts {
        let explained = LogicalPlanBuilder::from(plan)
            .explain(verbose, analyze)?
            .build()?;
        let mut state = session.ctx.state();
        // Each operator of the physical plan shows its estimated rows; with ANALYZE, the rows
        // and time it took instead.
        state.config_mut().options_mut().explain.show_statistics = !analyze;
        let batches = DataFrame::new(state, explained).collect().await?;
        for batch in batches {
            let (Some(types), Some(plans)) = (
                batch.column(0).as_string_opt::<i32>(),
                batch.column(1).as_string_opt::<i32>(),
            ) else {
                return Err(ApiaryError::Execution("EXPLAIN returned no text".into()));
            };
            for row in 0..batch.num_rows() {
                rows.push((
                    format!("{label}{}", types.value(row)),
                    plans.value(row).to_string(),
                ));
            }
        }
    }
    Ok(rows)
}
