//! SELECT and EXPLAIN.

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
    let plan = analyzer::plan_query(session, &query).await?;
    let explained = LogicalPlanBuilder::from(plan)
        .explain(verbose, analyze)?
        .build()?;
    collect(session, explained).await
}
