//! CREATE [OR REPLACE] VIEW and DROP VIEW. A view is kept in the metastore with its text and
//! the names and types of its columns; queries expand it when they name it.

use apiary_metastore::{Column, StorageDescriptor, Table, TableType};

use super::insert::now;
use crate::analysis_err;
use crate::analyzer;
use crate::driver::{Session, StatementOutput};
use crate::error::Result;
use crate::parser::{CreateView, TableName};
use crate::types::HiveType;

pub async fn create(session: &mut Session, view: CreateView) -> Result<StatementOutput> {
    let (database, name) = session.qualify(&view.name);
    if session.engine.metastore.get_database(&database)?.is_none() {
        return Err(analysis_err!("Database does not exist: {database}"));
    }
    let existing = session.lookup_qualified(&database, &name)?;
    match &existing {
        Some(entry) if !entry.table.is_view() => {
            return Err(analysis_err!("{database}.{name} is a table, not a view"));
        }
        Some(_) if view.if_not_exists => return Ok(StatementOutput::Done),
        Some(_) if !view.or_replace => {
            return Err(analysis_err!("Table already exists: {database}.{name}"));
        }
        _ => {}
    }
    let plan = analyzer::plan_query(session, &view.query).await?;
    let fields = plan.schema().fields();
    if !view.columns.is_empty() && view.columns.len() != fields.len() {
        return Err(analysis_err!(
            "The number of columns produced by the SELECT clause ({}) does not match the number of column names specified by CREATE VIEW ({})",
            fields.len(),
            view.columns.len()
        ));
    }
    let columns = fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let data_type = HiveType::from_arrow(field.data_type())
                .map_err(|e| analysis_err!("view column {}: {e}", field.name()))?;
            let (name, comment) = view
                .columns
                .get(i)
                .cloned()
                .unwrap_or_else(|| (field.name().to_lowercase(), None));
            Ok(Column {
                name,
                type_name: data_type.to_string(),
                comment,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut parameters = view.properties.clone();
    if let Some(comment) = &view.comment {
        parameters.insert("comment".into(), comment.clone());
    }
    parameters.insert("transient_lastDdlTime".into(), now().to_string());
    let table = Table {
        database: database.clone(),
        name: name.clone(),
        owner: Some(session.user.clone()),
        create_time: now(),
        table_type: TableType::View,
        storage: StorageDescriptor {
            columns,
            ..Default::default()
        },
        partition_keys: Vec::new(),
        parameters,
        view_original_text: Some(view.query_text.clone()),
        view_expanded_text: Some(view.query_text),
    };
    if existing.is_some() {
        session
            .engine
            .metastore
            .alter_table(&database, &name, &table)?;
    } else {
        session.engine.metastore.create_table(&table)?;
    }
    Ok(StatementOutput::Done)
}

pub fn drop(session: &mut Session, name: &TableName, if_exists: bool) -> Result<StatementOutput> {
    let (database, view) = session.qualify(name);
    match session.lookup_qualified(&database, &view)? {
        None if if_exists => Ok(StatementOutput::Done),
        None => Err(analysis_err!("Table not found: {database}.{view}")),
        Some(entry) if !entry.table.is_view() => Err(analysis_err!(
            "Cannot drop a table with DROP VIEW: use DROP TABLE {database}.{view}"
        )),
        Some(_) => {
            session.engine.metastore.drop_table(&database, &view)?;
            Ok(StatementOutput::Done)
        }
    }
}
