//! The semantic analyzer: resolves the tables and views a query names against the session's
//! catalog (temporary tables, then the metastore), expands views, and has DataFusion's SQL
//! planner turn the query into a logical plan over them.

mod context_provider;
mod hive_arithmetic;
pub(crate) mod hive_decimal;
mod hive_indexing;
pub mod lateral_view;
mod regex_columns;
mod session_functions;
mod table_generators;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::datasource::{ViewTable, provider_as_source};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, col};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::planner::{ParserOptions, SqlToRel};
use datafusion::sql::resolve::resolve_table_references;
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, OrderBy, OrderByKind, Query, SelectItem, SetExpr, Statement, TableFactor,
    TableWithJoins,
};
use futures::future::BoxFuture;

use crate::analysis_err;
use crate::driver::Session;
use crate::error::{ApiaryError, Result};
use crate::execution::table_provider::HiveTableProvider;
use crate::parser::{BLOCK_SAMPLE_MARK, BlockSample, HiveStatement, parse_statement};
use context_provider::ResolvedContext;
pub use hive_arithmetic::HiveArithmetic;
pub use hive_indexing::HiveIndexing;

/// Views may name views; a chain this deep is a cycle.
const MAX_VIEW_DEPTH: usize = 32;

/// Plans a query in the session's current database.
pub async fn plan_query(session: &Session, query: &Query) -> Result<LogicalPlan> {
    let database = session.current_database().to_string();
    let mut query = query.clone();
    session_functions::resolve_session_functions(session, &mut query);
    regex_columns::expand_regex_columns(session, &mut query).await?;
    lateral_view::prepare_lateral_views(&mut query)?;
    name_unnamed_columns(&mut query);
    let plan = plan_in_database(session, &query, database, 0).await?;
    // Type coercion and Hive's typing rules run now, so that the plan's schema — what CTAS,
    // INSERT and views take their column types from — is the one its rows will have.
    let state = session.ctx.state_ref();
    let state = state.read();
    Ok(state
        .analyzer()
        .execute_and_check(plan, state.config_options(), |_, _| {})?)
}

/// Hive names a result column that is neither a column reference nor aliased `_c<position>`
/// (`select a, a + 1` gives `a`, `_c1`; a column selected again is named so too), in every
/// SELECT: the names users see in headers, CTAS
/// tables and views, and that outer queries use for subquery columns (`s._c1`). An ORDER BY
/// item equal to a renamed expression then names it, as Hive resolves ORDER BY against the
/// select list (this keeps `SELECT DISTINCT a + 1 ... ORDER BY a + 1` valid).
fn name_unnamed_columns(query: &mut Query) {
    if let Some(with) = &mut query.with {
        for cte in &mut with.cte_tables {
            name_unnamed_columns(&mut cte.query);
        }
    }
    let mut renamed = Vec::new();
    let orders_this_select = matches!(query.body.as_ref(), SetExpr::Select(_));
    name_in_set_expr(query.body.as_mut(), &mut renamed);
    if !orders_this_select {
        return;
    }
    if let Some(OrderBy {
        kind: OrderByKind::Expressions(items),
        ..
    }) = &mut query.order_by
    {
        for item in items {
            if let Some((_, alias)) = renamed.iter().find(|(expr, _)| *expr == item.expr) {
                item.expr = Expr::Identifier(alias.clone());
            }
        }
    }
}

/// Names the unnamed items of the SELECTs in `body`, recording in `renamed` those of its
/// first SELECT, and names those of the subqueries in their FROM clauses.
fn name_in_set_expr(body: &mut SetExpr, renamed: &mut Vec<(Expr, Ident)>) {
    match body {
        SetExpr::Select(select) => {
            let mut columns_seen: Vec<Expr> = Vec::new();
            for (position, item) in select.projection.iter_mut().enumerate() {
                // A column selected twice keeps its name the first time only: Hive allows the
                // repeat, DataFusion needs distinct names.
                let repeated = match item {
                    SelectItem::UnnamedExpr(
                        expr @ (Expr::Identifier(_) | Expr::CompoundIdentifier(_)),
                    ) => {
                        let seen = columns_seen.contains(expr);
                        columns_seen.push(expr.clone());
                        seen
                    }
                    _ => false,
                };
                if let SelectItem::UnnamedExpr(expr) = item
                    && (repeated
                        || !matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)))
                {
                    let alias = Ident::new(format!("_c{position}"));
                    renamed.push((expr.clone(), alias.clone()));
                    *item = SelectItem::ExprWithAlias {
                        expr: expr.clone(),
                        alias,
                    };
                }
            }
            for table in &mut select.from {
                name_in_table(table);
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            name_in_set_expr(left, renamed);
            name_in_set_expr(right, &mut Vec::new());
        }
        SetExpr::Query(inner) => name_unnamed_columns(inner),
        _ => {}
    }
}

fn name_in_table(table: &mut TableWithJoins) {
    for factor in
        std::iter::once(&mut table.relation).chain(table.joins.iter_mut().map(|j| &mut j.relation))
    {
        match factor {
            TableFactor::Derived { subquery, .. } => name_unnamed_columns(subquery),
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => name_in_table(table_with_joins),
            _ => {}
        }
    }
}

fn plan_in_database<'a>(
    session: &'a Session,
    query: &'a Query,
    database: String,
    depth: usize,
) -> BoxFuture<'a, Result<LogicalPlan>> {
    Box::pin(async move {
        if depth > MAX_VIEW_DEPTH {
            return Err(analysis_err!(
                "views nest deeper than {MAX_VIEW_DEPTH} levels (a view refers to itself?)"
            ));
        }
        let state = session.ctx.state();
        let statement = Statement::Query(Box::new(query.clone()));
        let (references, _) =
            resolve_table_references(&DFStatement::Statement(Box::new(statement.clone())), true)?;
        let mut context = ResolvedContext {
            state: &state,
            tables: HashMap::new(),
            current_database: database,
            relation_planners: vec![Arc::new(table_generators::LateralViewPlanner)],
        };
        for reference in references {
            let key = context.key(&reference);
            if context.tables.contains_key(&key) {
                continue;
            }
            if reference.catalog().is_some() {
                return Err(analysis_err!(
                    "catalog-qualified names are not supported: {reference}"
                ));
            }
            let table_function = reference.schema().is_none()
                && state.table_functions().contains_key(reference.table());
            if table_function && session.lookup_qualified(&key.0, &key.1)?.is_none() {
                // `range(10)` and friends: planned as table functions, not tables.
                continue;
            }
            // `TABLESAMPLE (n PERCENT)` and `(100M)` mark the table's name with the sample.
            let (table, sample) = match key.1.split_once(BLOCK_SAMPLE_MARK) {
                Some((table, mark)) => (table.to_string(), BlockSample::from_mark(mark)),
                None => (key.1.clone(), None),
            };
            let source = resolve_relation(session, &key.0, &table, sample, depth).await?;
            context.tables.insert(key, source);
        }
        let planner = SqlToRel::new_with_options(&context, parser_options(&state));
        Ok(planner.sql_statement_to_plan(statement)?)
    })
}

async fn resolve_relation(
    session: &Session,
    database: &str,
    table: &str,
    block_sample: Option<BlockSample>,
    depth: usize,
) -> Result<Arc<dyn datafusion::logical_expr::TableSource>> {
    let Some(entry) = session.lookup_qualified(database, table)? else {
        if session.engine.metastore.get_database(database)?.is_none() {
            return Err(analysis_err!("Database does not exist: {database}"));
        }
        return Err(analysis_err!("Table not found: {database}.{table}"));
    };
    let table = entry.table;
    if table.is_view() && block_sample.is_some() {
        return Err(analysis_err!(
            "TABLESAMPLE (n PERCENT) and (100M) sample a table's files; {} is a view",
            table.qualified_name()
        ));
    }
    if table.is_view() {
        let text = table.view_expanded_text.clone().unwrap_or_default();
        let HiveStatement::Query(mut query) = parse_statement(&text)? else {
            return Err(ApiaryError::Execution(format!(
                "view {} does not hold a query",
                table.qualified_name()
            )));
        };
        lateral_view::prepare_lateral_views(&mut query)?;
        let plan = plan_in_database(session, &query, table.database.clone(), depth + 1).await?;
        let plan = rename_view_columns(plan, &table)?;
        return Ok(provider_as_source(Arc::new(ViewTable::new(
            plan,
            Some(text),
        ))));
    }
    let metastore = (!entry.temporary).then(|| session.engine.metastore.clone());
    let provider = HiveTableProvider::try_new(
        table,
        metastore,
        Some(session.scan_log.clone()),
        Some(session.read_locks.clone()),
    )?;
    let provider = match block_sample {
        Some(sample) => provider.with_block_sample(sample),
        None => provider,
    };
    Ok(provider_as_source(Arc::new(provider)))
}

/// A view's columns carry the names stored with it (`CREATE VIEW v (a, b) AS ...`).
fn rename_view_columns(plan: LogicalPlan, view: &apiary_metastore::Table) -> Result<LogicalPlan> {
    let columns = &view.storage.columns;
    if columns.len() != plan.schema().fields().len() {
        return Err(ApiaryError::Execution(format!(
            "view {} declares {} columns but its query returns {}",
            view.qualified_name(),
            columns.len(),
            plan.schema().fields().len()
        )));
    }
    let expressions: Vec<_> = plan
        .schema()
        .columns()
        .into_iter()
        .zip(columns)
        .map(|(column, declared)| col(column).alias(&declared.name))
        .collect();
    Ok(LogicalPlanBuilder::from(plan)
        .project(expressions)?
        .build()?)
}

/// A query of one SELECT and nothing else.
fn select_query(
    select: datafusion::sql::sqlparser::ast::Select,
    with: Option<datafusion::sql::sqlparser::ast::With>,
) -> Query {
    Query {
        with,
        body: Box::new(SetExpr::Select(Box::new(select))),
        order_by: None,
        limit_clause: None,
        fetch: None,
        locks: Vec::new(),
        for_clause: None,
        settings: None,
        format_clause: None,
        pipe_operators: Vec::new(),
    }
}

fn parser_options(state: &SessionState) -> ParserOptions {
    let options = &state.config_options().sql_parser;
    ParserOptions {
        parse_float_as_decimal: options.parse_float_as_decimal,
        enable_ident_normalization: options.enable_ident_normalization,
        enable_options_value_normalization: options.enable_options_value_normalization,
        support_varchar_with_length: options.support_varchar_with_length,
        map_string_types_to_utf8view: options.map_string_types_to_utf8view,
        collect_spans: options.collect_spans,
        default_null_ordering: options.default_null_ordering.as_str().into(),
    }
}
