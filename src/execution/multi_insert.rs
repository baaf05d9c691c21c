//! `FROM source INSERT ... SELECT ... INSERT ... SELECT ...`: every branch is planned over
//! the common source, the source runs once and feeds all branches at the same time
//! ([`shared_source`](super::shared_source)), and the branches' writes are committed only
//! when all of them have been staged, so a failing branch leaves every table as it was.

use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr, WildcardAdditionalOptions};

use super::insert::InsertTarget;
use super::shared_source::{
    SharedSender, broadcast, columns_read, keep_columns, read_from_channel,
};
use crate::analyzer;
use crate::driver::{Session, StatementOutput};
use crate::error::{ApiaryError, Result};
use crate::parser::{HiveStatement, Insert, InsertSource, parse_statement};

pub async fn multi_insert(
    session: &mut Session,
    source: InsertSource,
    inserts: Vec<Insert>,
) -> Result<StatementOutput> {
    let targets = inserts
        .iter()
        .map(|insert| InsertTarget::new(session, insert))
        .collect::<Result<Vec<_>>>()?;
    let MultiInsertPlan {
        source: source_plan,
        branches: plans,
        senders,
    } = plan(session, source, &inserts).await?;
    let source_rows = DataFrame::new(session.ctx.state(), source_plan)
        .execute_stream()
        .await?;
    let shared: &Session = session;
    let branches = targets
        .into_iter()
        .zip(plans)
        .map(|(target, plan)| target.stage(shared, plan));
    let ((), staged) = futures::join!(
        broadcast(source_rows, senders),
        futures::future::join_all(branches)
    );
    // Any failure drops every staged write, which removes its files.
    let staged = staged.into_iter().collect::<Result<Vec<_>>>()?;
    for insert in staged {
        insert.commit(session)?;
    }
    Ok(StatementOutput::Done)
}

/// The plans of a multi-insert: the source's, and each branch's reading the source through
/// the channel of the sender at the same position.
pub struct MultiInsertPlan {
    pub source: LogicalPlan,
    pub branches: Vec<LogicalPlan>,
    pub senders: Vec<SharedSender>,
}

pub async fn plan(
    session: &Session,
    source: InsertSource,
    inserts: &[Insert],
) -> Result<MultiInsertPlan> {
    let source = plan_source(session, source).await?;
    let mut branches = Vec::with_capacity(inserts.len());
    let mut senders = Vec::with_capacity(inserts.len());
    // The source columns some branch reads (`None`: all of them).
    let mut needed = Some(Vec::new());
    for insert in inserts {
        let plan = analyzer::plan_query(session, &insert.query).await?;
        let Some((plan, sender)) = read_from_channel(plan, &source)? else {
            return Err(ApiaryError::Execution(format!(
                "the multi-insert branch into {} does not read the FROM clause",
                insert.table
            )));
        };
        let optimized = session.ctx.state().optimize(&plan)?;
        needed = match (needed, columns_read(&optimized)?) {
            (Some(mut all), Some(columns)) => {
                all.extend(columns);
                Some(all)
            }
            _ => None,
        };
        branches.push(plan);
        senders.push(sender);
    }
    let source = match needed {
        Some(columns) => keep_columns(source, &columns)?,
        None => source,
    };
    Ok(MultiInsertPlan {
        source,
        branches,
        senders,
    })
}

/// The logical plan of the FROM clause alone: the input of `SELECT * FROM source`.
async fn plan_source(session: &Session, source: InsertSource) -> Result<LogicalPlan> {
    let HiveStatement::Query(mut query) = parse_statement("SELECT *")? else {
        return Err(ApiaryError::Execution("SELECT * is not a query".into()));
    };
    query.with = source.with;
    if let SetExpr::Select(select) = query.body.as_mut() {
        select.from = source.tables;
        select.projection = vec![SelectItem::Wildcard(WildcardAdditionalOptions::default())];
    }
    let mut plan = analyzer::plan_query(session, &query).await?;
    while let LogicalPlan::Projection(projection) = plan {
        plan = projection.input.as_ref().clone();
    }
    Ok(plan)
}
