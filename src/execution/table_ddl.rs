//! CREATE TABLE (plain, LIKE, AS SELECT), DROP TABLE, TRUNCATE TABLE and ALTER TABLE.

use std::collections::BTreeMap;

use apiary_metastore::{Column, Table, TableType};

use super::commit::Staging;
use super::files::{create_dir, local_path};
use super::format::storage_descriptor;
use super::insert::{conform_to_table, now, record_write, write_new_table};
use super::partition_ddl;
use super::paths::default_table_location;
use crate::analysis_err;
use crate::analyzer;
use crate::driver::{Session, StatementOutput, TableEntry};
use crate::error::{ApiaryError, Result};
use crate::parser::{AlterTable, ColumnDef, CreateTable, PartitionSpec, TableName};
use crate::types::HiveType;

fn to_column(def: &ColumnDef) -> Column {
    Column {
        name: def.name.clone(),
        type_name: def.data_type.to_string(),
        comment: def.comment.clone(),
    }
}

fn check_unique(columns: &[Column], partition_keys: &[Column]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for column in columns {
        if !seen.insert(column.name.as_str()) {
            return Err(analysis_err!("Duplicate column name: {}", column.name));
        }
    }
    for key in partition_keys {
        if seen.contains(key.name.as_str()) {
            return Err(analysis_err!(
                "Column repeated in partitioning columns: {}",
                key.name
            ));
        }
    }
    Ok(())
}

pub async fn create(session: &mut Session, create: CreateTable) -> Result<StatementOutput> {
    let (database_name, name) = session.qualify(&create.name);
    let Some(database) = session.engine.metastore.get_database(&database_name)? else {
        return Err(analysis_err!("Database does not exist: {database_name}"));
    };
    if session.lookup_qualified(&database_name, &name)?.is_some() {
        if create.if_not_exists {
            return Ok(StatementOutput::Done);
        }
        return Err(analysis_err!(
            "Table already exists: {database_name}.{name}"
        ));
    }
    if create.temporary && !create.partitioned_by.is_empty() {
        return Err(analysis_err!(
            "Partition columns are not supported on temporary tables"
        ));
    }
    let location = match (&create.location, create.temporary) {
        (Some(location), _) => local_path(location).display().to_string(),
        (None, true) => session
            .scratch_dir
            .join(&database_name)
            .join(&name)
            .display()
            .to_string(),
        (None, false) => default_table_location(&database, &name),
    };
    let mut parameters = create.properties.clone();
    if let Some(comment) = &create.comment {
        parameters.insert("comment".into(), comment.clone());
    }
    parameters.insert("transient_lastDdlTime".into(), now().to_string());
    if create.location.is_none()
        && create.as_query.is_none()
        && create.partitioned_by.is_empty()
        && session.setting_bool("hive.stats.autogather")
    {
        // A new managed table starts empty, with its basic statistics known. A partitioned
        // table's statistics are its partitions'.
        for key in ["numFiles", "numRows", "totalSize"] {
            parameters.insert(key.into(), "0".into());
        }
        crate::statistics::accuracy::mark_written(&mut parameters, true);
    }
    if create.external {
        parameters.insert("EXTERNAL".into(), "TRUE".into());
    }
    let table_type = if create.external {
        TableType::External
    } else {
        TableType::Managed
    };

    let mut table = if let Some(like) = &create.like {
        let source = session.require_table(like)?.table;
        if source.is_view() {
            return Err(ApiaryError::NotSupported(
                "CREATE TABLE ... LIKE a view".into(),
            ));
        }
        let mut storage = source.storage.clone();
        storage.location = location;
        let mut parameters = parameters;
        if let Some(comment) = source.comment() {
            parameters
                .entry("comment".into())
                .or_insert_with(|| comment.to_string());
        }
        Table {
            storage,
            partition_keys: source.partition_keys.clone(),
            parameters,
            ..new_table(&database_name, &name, session, table_type)
        }
    } else {
        let stored_as = create
            .stored_as
            .clone()
            .or_else(|| session.setting("hive.default.fileformat"))
            .unwrap_or_else(|| "TEXTFILE".into());
        let mut storage = storage_descriptor(&stored_as, &create.row_format, location)?;
        storage.columns = create.columns.iter().map(to_column).collect();
        storage.num_buckets = create.num_buckets.unwrap_or(-1);
        Table {
            storage,
            partition_keys: create.partitioned_by.iter().map(to_column).collect(),
            parameters,
            ..new_table(&database_name, &name, session, table_type)
        }
    };

    let ctas_plan = match &create.as_query {
        Some(query) => {
            if create.external || !create.partitioned_by.is_empty() || !create.columns.is_empty() {
                return Err(analysis_err!(
                    "CREATE TABLE AS SELECT makes a non-partitioned managed table whose columns come from the query"
                ));
            }
            let plan = analyzer::plan_query(session, query).await?;
            table.storage.columns = plan
                .schema()
                .fields()
                .iter()
                .map(|f| {
                    let data_type = HiveType::from_arrow(f.data_type())
                        .map_err(|e| analysis_err!("CTAS column {}: {e}", f.name()))?;
                    Ok(Column::new(f.name().to_lowercase(), data_type.to_string()))
                })
                .collect::<Result<_>>()?;
            Some(conform_to_table(plan, &table, &[], 0)?)
        }
        None => None,
    };
    if table.storage.columns.is_empty() {
        return Err(analysis_err!(
            "Either list of columns or a custom serializer should be specified"
        ));
    }
    check_unique(&table.storage.columns, &table.partition_keys)?;

    let location_path = local_path(&table.storage.location);
    let mut entry = TableEntry {
        table,
        temporary: create.temporary,
    };
    let created_dir = !location_path.exists();
    create_dir(&location_path)?;
    if let Some(plan) = ctas_plan
        && let Err(error) = write_new_table(session, &mut entry, plan).await
    {
        if created_dir {
            let _ = std::fs::remove_dir_all(&location_path);
        }
        return Err(error);
    }
    if entry.temporary {
        session
            .temp_tables
            .insert((database_name, name), entry.table);
    } else if let Err(error) = session.engine.metastore.create_table(&entry.table) {
        if created_dir && entry.table.table_type == TableType::Managed {
            let _ = std::fs::remove_dir_all(&location_path);
        }
        return Err(error.into());
    }
    Ok(StatementOutput::Done)
}

fn new_table(database: &str, name: &str, session: &Session, table_type: TableType) -> Table {
    Table {
        database: database.to_string(),
        name: name.to_string(),
        owner: Some(session.user.clone()),
        create_time: now(),
        table_type,
        storage: Default::default(),
        partition_keys: Vec::new(),
        parameters: BTreeMap::new(),
        view_original_text: None,
        view_expanded_text: None,
    }
}

pub fn drop(
    session: &mut Session,
    name: &TableName,
    if_exists: bool,
    _purge: bool,
) -> Result<StatementOutput> {
    let (database, table_name) = session.qualify(name);
    let Some(entry) = session.lookup_qualified(&database, &table_name)? else {
        if if_exists {
            return Ok(StatementOutput::Done);
        }
        return Err(analysis_err!("Table not found: {database}.{table_name}"));
    };
    if entry.table.is_view() {
        return Err(analysis_err!(
            "Cannot drop a view with DROP TABLE: use DROP VIEW {database}.{table_name}"
        ));
    }
    let mut directories = vec![local_path(&entry.table.storage.location)];
    if entry.temporary {
        session.temp_tables.remove(&(database, table_name));
    } else {
        if entry.table.table_type == TableType::Managed {
            for partition in session
                .engine
                .metastore
                .list_partitions(&database, &table_name)?
            {
                directories.push(local_path(&partition.storage.location));
            }
        }
        session
            .engine
            .metastore
            .drop_table(&database, &table_name)?;
    }
    // Managed data goes with the table (there is no trash, so PURGE changes nothing);
    // external data stays.
    if entry.table.table_type == TableType::Managed {
        for dir in directories {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(ApiaryError::io(
                        format!("dropped the table but cannot delete {}", dir.display()),
                        e,
                    ));
                }
            }
        }
    }
    Ok(StatementOutput::Done)
}

pub fn truncate(
    session: &mut Session,
    name: &TableName,
    partition: Option<PartitionSpec>,
) -> Result<StatementOutput> {
    let entry = session.require_table(name)?;
    let table = &entry.table;
    if table.table_type != TableType::Managed {
        return Err(analysis_err!(
            "Cannot truncate non-managed table {}",
            table.qualified_name()
        ));
    }
    let mut targets = Vec::new();
    if table.partition_keys.is_empty() || entry.temporary {
        if partition.is_some() {
            return Err(analysis_err!(
                "Table {} is not partitioned",
                table.qualified_name()
            ));
        }
        targets.push((None, local_path(&table.storage.location)));
    } else {
        for p in session
            .engine
            .metastore
            .list_partitions(&table.database, &table.name)?
        {
            let selected = partition.as_ref().is_none_or(|spec| {
                spec.iter().all(|(key, value)| {
                    let index = table.partition_keys.iter().position(|k| &k.name == key);
                    index.is_some_and(|i| value.as_ref().is_none_or(|v| p.values.get(i) == Some(v)))
                })
            });
            if selected {
                targets.push((Some(p.clone()), local_path(&p.storage.location)));
            }
        }
    }
    for (partition, dir) in targets {
        Staging::create(&dir, &local_path(&table.storage.location))?.commit(true)?;
        let values = partition.as_ref().map(|p| p.values.clone());
        record_write(session, &entry, values, partition, &dir, Some(0), true)?;
    }
    Ok(StatementOutput::Done)
}

pub fn alter(
    session: &mut Session,
    name: &TableName,
    action: AlterTable,
) -> Result<StatementOutput> {
    let entry = session.require_table(name)?;
    let (database, table_name) = (entry.table.database.clone(), entry.table.name.clone());
    let mut updated = entry.clone();
    updated
        .table
        .parameters
        .insert("transient_lastDdlTime".into(), now().to_string());
    match action {
        AlterTable::RenameTo(new_name) => {
            let (new_database, new_table) = session.qualify(&new_name);
            if session
                .lookup_qualified(&new_database, &new_table)?
                .is_some()
            {
                return Err(analysis_err!(
                    "Table already exists: {new_database}.{new_table}"
                ));
            }
            let Some(target_db) = session.engine.metastore.get_database(&new_database)? else {
                return Err(analysis_err!("Database does not exist: {new_database}"));
            };
            updated.table.database = new_database;
            updated.table.name = new_table.clone();
            let old_dir = local_path(&entry.table.storage.location);
            let moves_data = entry.table.table_type == TableType::Managed
                && !entry.temporary
                && entry.table.partition_keys.is_empty();
            if moves_data {
                let new_location = default_table_location(&target_db, &new_table);
                if old_dir.exists() {
                    std::fs::rename(&old_dir, local_path(&new_location)).map_err(|e| {
                        ApiaryError::io(
                            format!("cannot move {} to {new_location}", old_dir.display()),
                            e,
                        )
                    })?;
                }
                updated.table.storage.location = new_location;
            }
            if let Err(error) = session.save_table(&updated, &database, &table_name) {
                if moves_data {
                    let _ = std::fs::rename(local_path(&updated.table.storage.location), &old_dir);
                }
                return Err(error);
            }
            return Ok(StatementOutput::Done);
        }
        AlterTable::SetProperties(properties) => updated.table.parameters.extend(properties),
        AlterTable::UnsetProperties { keys, if_exists } => {
            for key in keys {
                if updated.table.parameters.remove(&key).is_none() && !if_exists {
                    return Err(analysis_err!(
                        "Attempt to unset table property that does not exist: {key}"
                    ));
                }
            }
        }
        AlterTable::AddColumns(columns) => {
            if entry.table.is_view() {
                return Err(analysis_err!("Cannot add columns to a view"));
            }
            updated
                .table
                .storage
                .columns
                .extend(columns.iter().map(to_column));
            check_unique(
                &updated.table.storage.columns,
                &updated.table.partition_keys,
            )?;
        }
        AlterTable::SetLocation(location) => {
            updated.table.storage.location = local_path(&location).display().to_string();
        }
        // Partition DDL changes partitions, not the table's definition.
        AlterTable::AddPartitions {
            if_not_exists,
            partitions,
        } => {
            return partition_ddl::add(session, name, if_not_exists, partitions);
        }
        AlterTable::DropPartitions {
            if_exists,
            filters,
            purge: _,
        } => {
            return partition_ddl::drop(session, name, if_exists, filters);
        }
        AlterTable::RenamePartition { from, to } => {
            return partition_ddl::rename(session, name, &from, &to);
        }
        AlterTable::SetPartitionLocation { spec, location } => {
            return partition_ddl::set_location(session, name, &spec, &location);
        }
    }
    session.save_table(&updated, &database, &table_name)?;
    Ok(StatementOutput::Done)
}
