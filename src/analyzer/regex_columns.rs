//! Hive's regex column specifications: with `hive.support.quoted.identifiers=none`, a
//! backquoted name in a select list is a Java regex over the column names of the FROM clause
//! (`` SELECT `(ds|hr)?+.+` FROM t `` is every column but `ds` and `hr`), optionally
//! qualified (`` t.`k.*` ``). The regex must match a whole name; names match case-insensitively
//! as Hive's lower-case names do. The `fancy-regex` crate reads Java's possessive quantifiers
//! and atomic groups, which the `regex` crate does not.

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, Query, Select, SelectItem, SetExpr, TableFactor, WildcardAdditionalOptions,
};
use fancy_regex::Regex;
use futures::future::BoxFuture;

use crate::analysis_err;
use crate::driver::Session;
use crate::error::Result;

/// The setting that turns backquoted select items into regexes, and its value that does.
const SETTING: &str = "hive.support.quoted.identifiers";
const REGEX_MODE: &str = "none";

/// Expands the regex column specifications of `query`'s SELECTs, those of its derived tables
/// first, when the session asks for them.
pub async fn expand_regex_columns(session: &Session, query: &mut Query) -> Result<()> {
    let enabled = session
        .setting(SETTING)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(REGEX_MODE));
    if enabled {
        expand_query(session, query).await?;
    }
    Ok(())
}

fn expand_query<'a>(session: &'a Session, query: &'a mut Query) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let with = query.with.clone();
        expand_set_expr(session, query.body.as_mut(), &with).await
    })
}

fn expand_set_expr<'a>(
    session: &'a Session,
    body: &'a mut SetExpr,
    with: &'a Option<datafusion::sql::sqlparser::ast::With>,
) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        match body {
            SetExpr::Select(select) => expand_select(session, select, with).await,
            SetExpr::SetOperation { left, right, .. } => {
                expand_set_expr(session, left, with).await?;
                expand_set_expr(session, right, with).await
            }
            SetExpr::Query(inner) => expand_query(session, inner).await,
            _ => Ok(()),
        }
    })
}

/// A select item's regex and the qualifier it is restricted to.
fn regex_item(item: &SelectItem) -> Option<(Option<&Ident>, &str)> {
    let backquoted = |ident: &Ident| ident.quote_style == Some('`');
    match item {
        SelectItem::UnnamedExpr(Expr::Identifier(ident)) if backquoted(ident) => {
            Some((None, ident.value.as_str()))
        }
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => match parts.as_slice() {
            [qualifier, ident] if backquoted(ident) => {
                Some((Some(qualifier), ident.value.as_str()))
            }
            _ => None,
        },
        _ => None,
    }
}

async fn expand_select(
    session: &Session,
    select: &mut Select,
    with: &Option<datafusion::sql::sqlparser::ast::With>,
) -> Result<()> {
    for table in &mut select.from {
        for factor in std::iter::once(&mut table.relation)
            .chain(table.joins.iter_mut().map(|join| &mut join.relation))
        {
            if let TableFactor::Derived { subquery, .. } = factor {
                expand_query(session, subquery).await?;
            }
        }
    }
    if !select
        .projection
        .iter()
        .any(|item| regex_item(item).is_some())
    {
        return Ok(());
    }
    let columns = from_columns(session, select, with).await?;
    let mut projection = Vec::with_capacity(select.projection.len());
    for item in std::mem::take(&mut select.projection) {
        let Some((qualifier, pattern)) = regex_item(&item) else {
            projection.push(item);
            continue;
        };
        let regex = Regex::new(&format!("^(?:{pattern})$"))
            .map_err(|e| analysis_err!("invalid regex column specification `{pattern}`: {e}"))?;
        let wanted = qualifier.map(|q| q.value.to_lowercase());
        for (table, name) in &columns {
            let in_scope = wanted
                .as_ref()
                .is_none_or(|w| table.as_deref() == Some(w.as_str()));
            if in_scope && regex.is_match(name).unwrap_or(false) {
                let column = Ident::new(name.clone());
                projection.push(SelectItem::UnnamedExpr(match table {
                    Some(table) => {
                        Expr::CompoundIdentifier(vec![Ident::new(table.clone()), column])
                    }
                    None => Expr::Identifier(column),
                }));
            }
        }
    }
    if projection.is_empty() {
        return Err(analysis_err!(
            "the regex column specifications of a SELECT match no column"
        ));
    }
    select.projection = projection;
    Ok(())
}

/// The columns `SELECT *` over the SELECT's FROM clause gives, with their qualifiers.
async fn from_columns(
    session: &Session,
    select: &Select,
    with: &Option<datafusion::sql::sqlparser::ast::With>,
) -> Result<Vec<(Option<String>, String)>> {
    let mut probe = Select::clone(select);
    probe.projection = vec![SelectItem::Wildcard(WildcardAdditionalOptions::default())];
    probe.selection = None;
    probe.group_by =
        datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(Vec::new(), Vec::new());
    probe.having = None;
    probe.distinct = None;
    probe.named_window = Vec::new();
    let query = super::select_query(probe, with.clone());
    let plan = super::plan_query(session, &query).await?;
    Ok(plan
        .schema()
        .iter()
        .map(|(qualifier, field)| {
            (
                qualifier.map(|q| q.table().to_string()),
                field.name().clone(),
            )
        })
        .collect())
}
