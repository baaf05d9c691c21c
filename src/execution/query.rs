//! SELECT and EXPLAIN.

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::sql::sqlparser::ast::Query;

use crate::analyzer;
use crate::driver::{Session, StatementOutput};
use crate::error::{ApiaryError, Result};
use crate::parser::HiveStatement;

pub async fn run_query(session: &Session, query: &Query) -> Result<StatementOutput> {
    let plan = analyzer::plan_query(session, query).await?;
    collect(session, plan).await
}

/// Runs a logical plan to completion.
pub async fn collect(session: &Session, plan: LogicalPlan) -> Result<StatementOutput> {
    let frame = DataFrame::new(session.ctx.state(), plan);
    let schema = frame.schema().inner().clone();
    let batches = frame.collect().await?;
    Ok(StatementOutput::Rows { schema, batches })
}

/// `EXPLAIN [EXTENDED|ANALYZE] statement`: the plan of a query or of an INSERT's SELECT.
pub async fn explain(
    session: &Session,
    statement: HiveStatement,
    analyze: bool,
    verbose: bool,
) -> Result<StatementOutput> {
    let query = match statement {
        HiveStatement::Query(query) => query,
        HiveStatement::Insert(insert) => insert.query,
        other => {
            return Err(ApiaryError::NotSupported(format!("EXPLAIN of {other:?}")));
        }
    };
    session.scan_log.start();
    let explained = explain_plan(session, &query, analyze, verbose).await;
    let scans = session.scan_log.finish();
    let StatementOutput::Rows {
        schema,
        mut batches,
    } = explained?
    else {
        return Err(ApiaryError::Execution("EXPLAIN returned no plan".into()));
    };
    if !scans.is_empty() {
        let lines = scans.iter().map(|scan| {
            format!(
                "{}: {} of {} partitions",
                scan.table, scan.scanned, scan.total
            )
        });
        let plan_types = StringArray::from(vec!["partitions_scanned"; scans.len()]);
        let plans = StringArray::from_iter_values(lines);
        batches.push(
            RecordBatch::try_new(schema.clone(), vec![Arc::new(plan_types), Arc::new(plans)])
                .map_err(datafusion::error::DataFusionError::from)?,
        );
    }
    Ok(StatementOutput::Rows { schema, batches })
}

async fn explain_plan(
    session: &Session,
    query: &Query,
    analyze: bool,
    verbose: bool,
) -> Result<StatementOutput> {
    let plan = analyzer::plan_query(session, query).await?;
    let explained = LogicalPlanBuilder::from(plan)
        .explain(verbose, analyze)?
        .build()?;
    collect(session, explained).await
}
