//! CREATE / DROP / ALTER / SHOW / DESCRIBE DATABASE.

use std::collections::BTreeMap;
use std::path::Path;

use apiary_metastore::{Database, TableType};

use super::files::{create_dir, local_path};
use super::paths::default_database_location;
use super::results::{single_column, string_table};
use crate::analysis_err;
use crate::driver::{Session, StatementOutput};
use crate::error::Result;

pub fn create(
    session: &mut Session,
    name: String,
    if_not_exists: bool,
    comment: Option<String>,
    location: Option<String>,
    properties: BTreeMap<String, String>,
) -> Result<StatementOutput> {
    let metastore = &session.engine.metastore;
    if metastore.get_database(&name)?.is_some() {
        if if_not_exists {
            return Ok(StatementOutput::Done);
        }
        return Err(analysis_err!("Database {name} already exists"));
    }
    let location = match location {
        Some(location) => local_path(&location).display().to_string(),
        None => default_database_location(&session.engine.config.warehouse, &name),
    };
    create_dir(Path::new(&location))?;
    let database = Database {
        name,
        comment,
        location,
        owner: Some(session.user.clone()),
        properties,
    };
    metastore.create_database(&database)?;
    Ok(StatementOutput::Done)
}

pub fn drop(
    session: &mut Session,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> Result<StatementOutput> {
    let metastore = session.engine.metastore.clone();
    let Some(database) = metastore.get_database(name)? else {
        if if_exists {
            return Ok(StatementOutput::Done);
        }
        return Err(analysis_err!("Database does not exist: {name}"));
    };
    if name == "default" {
        return Err(analysis_err!("Can not drop default database"));
    }
    let tables = metastore.list_tables(name)?;
    if !tables.is_empty() && !cascade {
        return Err(analysis_err!(
            "Database {name} is not empty. One or more tables exist."
        ));
    }
    let mut doomed = Vec::new();
    for table_name in &tables {
        if let Some(table) = metastore.get_table(name, table_name)?
            && table.table_type == TableType::Managed
        {
            doomed.push(local_path(&table.storage.location));
            for partition in metastore.list_partitions(name, table_name)? {
                doomed.push(local_path(&partition.storage.location));
            }
        }
    }
    metastore.drop_database(name, cascade)?;
    session.temp_tables.retain(|(db, _), _| db != name);
    doomed.push(local_path(&database.location));
    for dir in doomed {
        if dir.exists() && dir != session.engine.config.warehouse {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    if session.current_database == name {
        session.current_database = "default".into();
    }
    Ok(StatementOutput::Done)
}

pub fn alter(
    session: &mut Session,
    name: &str,
    properties: BTreeMap<String, String>,
) -> Result<StatementOutput> {
    let Some(mut database) = session.engine.metastore.get_database(name)? else {
        return Err(analysis_err!("Database does not exist: {name}"));
    };
    database.properties.extend(properties);
    session.engine.metastore.alter_database(&database)?;
    Ok(StatementOutput::Done)
}

pub fn show(session: &Session, pattern: Option<&str>) -> Result<StatementOutput> {
    let names = session.engine.metastore.list_databases()?;
    let names = names
        .into_iter()
        .filter(|n| pattern.is_none_or(|p| hive_pattern_matches(p, n)))
        .collect();
    Ok(single_column("database_name", names))
}

pub fn describe(session: &Session, name: &str, extended: bool) -> Result<StatementOutput> {
    let Some(database) = session.engine.metastore.get_database(name)? else {
        return Err(analysis_err!("Database does not exist: {name}"));
    };
    let mut row = vec![
        database.name.clone(),
        database.comment.clone().unwrap_or_default(),
        database.location.clone(),
        database.owner.clone().unwrap_or_default(),
        "USER".to_string(),
    ];
    let mut columns = vec!["db_name", "comment", "location", "owner_name", "owner_type"];
    if extended {
        let parameters: Vec<String> = database
            .properties
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        row.push(if parameters.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", parameters.join(", "))
        });
        columns.push("parameters");
    }
    Ok(string_table(&columns, vec![row]))
}

/// Hive's SHOW ... LIKE patterns: `*` matches anything, `|` separates alternatives,
/// case-insensitively.
pub fn hive_pattern_matches(pattern: &str, name: &str) -> bool {
    pattern.split('|').any(|alternative| {
        glob(
            alternative.trim().to_lowercase().as_bytes(),
            name.to_lowercase().as_bytes(),
        )
    })
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..])),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::hive_pattern_matches;

    #[test]
    fn patterns() {
        assert!(hive_pattern_matches("sales*", "sales_2024"));
        assert!(hive_pattern_matches("a*|b*", "beta"));
        assert!(hive_pattern_matches("*ORD*", "orders"));
        assert!(!hive_pattern_matches("x*", "orders"));
    }
}
