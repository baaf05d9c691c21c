//! SHOW TABLES, SHOW CREATE TABLE, SHOW TBLPROPERTIES, SHOW COLUMNS, SHOW PARTITIONS,
//! SHOW FUNCTIONS, DESCRIBE FUNCTION.

use std::fmt::Write;

use apiary_metastore::{Column, TableType};

use super::database::hive_pattern_matches;
use super::results::{single_column, string_table};
use crate::analysis_err;
use crate::driver::{Session, StatementOutput};
use crate::error::Result;
use crate::functions::{self, function_names};
use crate::parser::TableName;

pub fn tables(
    session: &Session,
    database: Option<&str>,
    pattern: Option<&str>,
) -> Result<StatementOutput> {
    let database = database.unwrap_or(&session.current_database);
    if session.engine.metastore.get_database(database)?.is_none() {
        return Err(analysis_err!("Database does not exist: {database}"));
    }
    let mut names = session.engine.metastore.list_tables(database)?;
    names.extend(
        session
            .temp_tables
            .keys()
            .filter(|(db, _)| db == database)
            .map(|(_, t)| t.clone()),
    );
    names.sort();
    names.dedup();
    names.retain(|n| pattern.is_none_or(|p| hive_pattern_matches(p, n)));
    Ok(single_column("tab_name", names))
}

pub fn functions(session: &Session, pattern: Option<&str>) -> StatementOutput {
    let mut names = function_names(&session.ctx.state());
    names.retain(|n| pattern.is_none_or(|p| hive_pattern_matches(p, n)));
    single_column("tab_name", names)
}

pub fn describe_function(session: &Session, name: &str, extended: bool) -> StatementOutput {
    single_column(
        "tab_name",
        functions::describe_function(&session.ctx.state(), name, extended),
    )
}

pub fn tblproperties(
    session: &Session,
    name: &TableName,
    key: Option<&str>,
) -> Result<StatementOutput> {
    let table = session.require_table(name)?.table;
    let rows = match key {
        Some(key) => match table.parameters.get(key) {
            Some(value) => vec![vec![key.to_string(), value.clone()]],
            None => vec![vec![format!(
                "Table {} does not have property: {key}",
                table.qualified_name()
            )]],
        },
        None => table
            .parameters
            .iter()
            .map(|(k, v)| vec![k.clone(), v.clone()])
            .collect(),
    };
    Ok(string_table(&["prpt_name", "prpt_value"], rows))
}

pub fn columns(session: &Session, name: &TableName) -> Result<StatementOutput> {
    let table = session.require_table(name)?.table;
    let names = table
        .storage
        .columns
        .iter()
        .chain(&table.partition_keys)
        .map(|c| c.name.clone())
        .collect();
    Ok(single_column("field", names))
}

fn quote(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

fn column_list(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| match &c.comment {
            Some(comment) => format!(
                "  `{}` {} COMMENT '{}'",
                c.name,
                c.type_name,
                quote(comment)
            ),
            None => format!("  `{}` {}", c.name, c.type_name),
        })
        .collect::<Vec<_>>()
        .join(",\n")
}

fn escape_delimiter(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if (c as u32) < 0x20 {
                format!("\\u{:04X}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

pub fn create_table(session: &Session, name: &TableName) -> Result<StatementOutput> {
    let table = session.require_table(name)?.table;
    let mut ddl = String::new();
    if table.table_type == TableType::View {
        let _ = write!(
            ddl,
            "CREATE VIEW `{}`.`{}` AS {}",
            table.database,
            table.name,
            table.view_original_text.clone().unwrap_or_default()
        );
        return Ok(single_column(
            "createtab_stmt",
            ddl.lines().map(String::from).collect(),
        ));
    }
    let external = if table.table_type == TableType::External {
        "EXTERNAL "
    } else {
        ""
    };
    let _ = writeln!(
        ddl,
        "CREATE {external}TABLE `{}`.`{}`(",
        table.database, table.name
    );
    let _ = writeln!(ddl, "{})", column_list(&table.storage.columns));
    if let Some(comment) = table.comment() {
        let _ = writeln!(ddl, "COMMENT '{}'", quote(comment));
    }
    if !table.partition_keys.is_empty() {
        let _ = writeln!(
            ddl,
            "PARTITIONED BY (\n{})",
            column_list(&table.partition_keys)
        );
    }
    let serde = &table.storage.serde;
    let _ = writeln!(ddl, "ROW FORMAT SERDE\n  '{}'", serde.serialization_lib);
    let params: Vec<String> = serde
        .parameters
        .iter()
        .map(|(k, v)| format!("  '{}'='{}'", k, escape_delimiter(&quote(v))))
        .collect();
    if !params.is_empty() {
        let _ = writeln!(ddl, "WITH SERDEPROPERTIES (\n{})", params.join(",\n"));
    }
    let _ = writeln!(
        ddl,
        "STORED AS INPUTFORMAT\n  '{}'\nOUTPUTFORMAT\n  '{}'",
        table.storage.input_format, table.storage.output_format
    );
    let _ = writeln!(ddl, "LOCATION\n  '{}'", table.storage.location);
    let properties: Vec<String> = table
        .parameters
        .iter()
        .filter(|(k, _)| *k != "comment" && *k != "EXTERNAL")
        .map(|(k, v)| format!("  '{}'='{}'", k, quote(v)))
        .collect();
    if !properties.is_empty() {
        let _ = write!(ddl, "TBLPROPERTIES (\n{})", properties.join(",\n"));
    }
    Ok(single_column(
        "createtab_stmt",
        ddl.trim_end().lines().map(String::from).collect(),
    ))
}
