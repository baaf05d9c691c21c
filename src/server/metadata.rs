//! The catalog calls (GetCatalogs, GetSchemas, GetTables, GetTableTypes, GetColumns,
//! GetTypeInfo, GetFunctions, GetPrimaryKeys, GetCrossReference) as result sets with the
//! column names and types JDBC's `DatabaseMetaData` defines, read from the metastore.

use std::sync::Arc;

use apiary_metastore::{Metastore, Table, TableType};
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Int8Builder, Int16Builder, Int32Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use regex::{Regex, RegexBuilder};

use super::operations::Results;
use super::type_desc::{jdbc_facts, type_infos};
use crate::error::{ApiaryError, Result};
use crate::types::HiveType;

/// One value of a metadata row.
#[derive(Debug, Clone)]
enum Cell {
    Text(Option<String>),
    Int(Option<i32>),
    Small(Option<i16>),
    Tiny(Option<i8>),
    Bool(Option<bool>),
}

fn text(value: impl Into<String>) -> Cell {
    Cell::Text(Some(value.into()))
}

const NO_TEXT: Cell = Cell::Text(None);

/// A result set of the given columns and rows.
fn table(columns: &[(&str, DataType)], rows: Vec<Vec<Cell>>) -> Result<Results> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, data_type)| Field::new(*name, data_type.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, data_type))| column_array(data_type, rows.iter().map(|row| &row[i])))
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| ApiaryError::DataFusion(e.into()))?;
    Ok(Results::new(schema, vec![batch]))
}

fn column_array<'a>(data_type: &DataType, cells: impl Iterator<Item = &'a Cell>) -> ArrayRef {
    macro_rules! build {
        ($builder:ty, $variant:ident) => {{
            let mut builder = <$builder>::new();
            for cell in cells {
                match cell {
                    Cell::$variant(value) => builder.append_option(value.clone()),
                    _ => builder.append_null(),
                }
            }
            Arc::new(builder.finish()) as ArrayRef
        }};
    }
    match data_type {
        DataType::Int32 => build!(Int32Builder, Int),
        DataType::Int16 => build!(Int16Builder, Small),
        DataType::Int8 => build!(Int8Builder, Tiny),
        DataType::Boolean => build!(BooleanBuilder, Bool),
        _ => build!(StringBuilder, Text),
    }
}

/// A JDBC search pattern as HiveServer2 reads it: `%` is any run of characters, `_` any one
/// character, `\` escapes the next; `*` and `|` are also read as the metastore reads them, and
/// `.` stays a regular expression's any-character (clients send `.*`). Case-insensitive.
/// No pattern, or an empty one, matches everything.
pub struct NamePattern(Option<Regex>);

impl NamePattern {
    pub fn new(pattern: Option<&str>) -> Result<NamePattern> {
        let Some(pattern) = pattern.filter(|p| !p.is_empty()) else {
            return Ok(NamePattern(None));
        };
        let mut regex = String::from("^(?:");
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '%' | '*' => regex.push_str(".*"),
                '_' | '.' => regex.push('.'),
                '|' => regex.push('|'),
                '\\' => {
                    if let Some(escaped) = chars.next() {
                        regex.push_str(&regex::escape(&escaped.to_string()));
                    }
                }
                other => regex.push_str(&regex::escape(&other.to_string())),
            }
        }
        regex.push_str(")$");
        RegexBuilder::new(&regex)
            .case_insensitive(true)
            .build()
            .map(|r| NamePattern(Some(r)))
            .map_err(|e| ApiaryError::Analysis(format!("invalid name pattern '{pattern}': {e}")))
    }

    pub fn matches(&self, name: &str) -> bool {
        self.0.as_ref().is_none_or(|r| r.is_match(name))
    }
}

fn databases(metastore: &dyn Metastore, pattern: Option<&str>) -> Result<Vec<String>> {
    let pattern = NamePattern::new(pattern)?;
    let mut names = metastore.list_databases()?;
    names.retain(|name| pattern.matches(name));
    names.sort();
    Ok(names)
}

pub fn catalogs() -> Result<Results> {
    table(&[("TABLE_CAT", DataType::Utf8)], Vec::new())
}

pub fn schemas(metastore: &dyn Metastore, schema_pattern: Option<&str>) -> Result<Results> {
    let rows = databases(metastore, schema_pattern)?
        .into_iter()
        .map(|name| vec![text(name), text("")])
        .collect();
    table(
        &[
            ("TABLE_SCHEM", DataType::Utf8),
            ("TABLE_CATALOG", DataType::Utf8),
        ],
        rows,
    )
}

/// The JDBC table type of a metastore table: managed and external tables are `TABLE`.
fn jdbc_table_type(table_type: &TableType) -> &'static str {
    match table_type {
        TableType::View => "VIEW",
        _ => "TABLE",
    }
}

pub const TABLE_TYPES: [&str; 2] = ["TABLE", "VIEW"];

pub fn table_types() -> Result<Results> {
    let rows = TABLE_TYPES.iter().map(|t| vec![text(*t)]).collect();
    table(&[("TABLE_TYPE", DataType::Utf8)], rows)
}

/// The tables whose database and name match, by database then name.
fn matching_tables(
    metastore: &dyn Metastore,
    schema_pattern: Option<&str>,
    table_pattern: Option<&str>,
) -> Result<Vec<Table>> {
    let table_pattern = NamePattern::new(table_pattern)?;
    let mut tables = Vec::new();
    for database in databases(metastore, schema_pattern)? {
        let mut names = metastore.list_tables(&database)?;
        names.sort();
        for name in names.iter().filter(|n| table_pattern.matches(n)) {
            // A table dropped meanwhile is left out.
            tables.extend(metastore.get_table(&database, name)?);
        }
    }
    Ok(tables)
}

pub fn tables(
    metastore: &dyn Metastore,
    schema_pattern: Option<&str>,
    table_pattern: Option<&str>,
    table_types: Option<&[String]>,
) -> Result<Results> {
    let mut rows = Vec::new();
    for found in matching_tables(metastore, schema_pattern, table_pattern)? {
        let table_type = jdbc_table_type(&found.table_type);
        let wanted = table_types
            .is_none_or(|types| types.iter().any(|t| t.eq_ignore_ascii_case(table_type)));
        if wanted {
            rows.push(vec![
                text(""),
                text(&found.database),
                text(&found.name),
                text(table_type),
                Cell::Text(found.comment().map(str::to_string)),
                NO_TEXT,
                NO_TEXT,
                NO_TEXT,
                NO_TEXT,
                NO_TEXT,
            ]);
        }
    }
    table(
        &[
            ("TABLE_CAT", DataType::Utf8),
            ("TABLE_SCHEM", DataType::Utf8),
            ("TABLE_NAME", DataType::Utf8),
            ("TABLE_TYPE", DataType::Utf8),
            ("REMARKS", DataType::Utf8),
            ("TYPE_CAT", DataType::Utf8),
            ("TYPE_SCHEM", DataType::Utf8),
            ("TYPE_NAME", DataType::Utf8),
            ("SELF_REFERENCING_COL_NAME", DataType::Utf8),
            ("REF_GENERATION", DataType::Utf8),
        ],
        rows,
    )
}

pub fn columns(
    metastore: &dyn Metastore,
    schema_pattern: Option<&str>,
    table_pattern: Option<&str>,
    column_pattern: Option<&str>,
) -> Result<Results> {
    let column_pattern = NamePattern::new(column_pattern)?;
    let mut rows = Vec::new();
    for found in matching_tables(metastore, schema_pattern, table_pattern)? {
        let (database, name) = (&found.database, &found.name);
        let all_columns = found.storage.columns.iter().chain(&found.partition_keys);
        for (position, column) in all_columns.enumerate() {
            if !column_pattern.matches(&column.name) {
                continue;
            }
            let hive_type = HiveType::parse(&column.type_name).map_err(|e| {
                ApiaryError::Analysis(format!(
                    "column {} of {database}.{name} has a type Apiary cannot read: {e}",
                    column.name
                ))
            })?;
            let facts = jdbc_facts(&hive_type);
            rows.push(vec![
                NO_TEXT,
                text(database),
                text(name),
                text(&column.name),
                Cell::Int(Some(facts.data_type)),
                text(facts.type_name),
                Cell::Int(facts.column_size),
                Cell::Tiny(None),
                Cell::Int(facts.decimal_digits),
                Cell::Int(facts.num_prec_radix),
                // DatabaseMetaData.columnNullable
                Cell::Int(Some(1)),
                Cell::Text(column.comment.clone()),
                NO_TEXT,
                Cell::Int(None),
                Cell::Int(None),
                Cell::Int(None),
                Cell::Int(Some(i32::try_from(position + 1).unwrap_or(i32::MAX))),
                text("YES"),
                NO_TEXT,
                NO_TEXT,
                NO_TEXT,
                Cell::Small(None),
                text("NO"),
            ]);
        }
    }
    table(
        &[
            ("TABLE_CAT", DataType::Utf8),
            ("TABLE_SCHEM", DataType::Utf8),
            ("TABLE_NAME", DataType::Utf8),
            ("COLUMN_NAME", DataType::Utf8),
            ("DATA_TYPE", DataType::Int32),
            ("TYPE_NAME", DataType::Utf8),
            ("COLUMN_SIZE", DataType::Int32),
            ("BUFFER_LENGTH", DataType::Int8),
            ("DECIMAL_DIGITS", DataType::Int32),
            ("NUM_PREC_RADIX", DataType::Int32),
            ("NULLABLE", DataType::Int32),
            ("REMARKS", DataType::Utf8),
            ("COLUMN_DEF", DataType::Utf8),
            ("SQL_DATA_TYPE", DataType::Int32),
            ("SQL_DATETIME_SUB", DataType::Int32),
            ("CHAR_OCTET_LENGTH", DataType::Int32),
            ("ORDINAL_POSITION", DataType::Int32),
            ("IS_NULLABLE", DataType::Utf8),
            ("SCOPE_CATALOG", DataType::Utf8),
            ("SCOPE_SCHEMA", DataType::Utf8),
            ("SCOPE_TABLE", DataType::Utf8),
            ("SOURCE_DATA_TYPE", DataType::Int16),
            ("IS_AUTO_INCREMENT", DataType::Utf8),
        ],
        rows,
    )
}

pub fn type_info() -> Result<Results> {
    let rows = type_infos()
        .into_iter()
        .map(|info| {
            vec![
                text(info.name),
                Cell::Int(Some(info.data_type)),
                Cell::Int(info.precision),
                Cell::Text(info.literal_quote.map(str::to_string)),
                Cell::Text(info.literal_quote.map(str::to_string)),
                NO_TEXT,
                // DatabaseMetaData.typeNullable
                Cell::Small(Some(1)),
                Cell::Bool(Some(info.case_sensitive)),
                Cell::Small(Some(info.searchable)),
                Cell::Bool(Some(info.unsigned)),
                Cell::Bool(Some(false)),
                Cell::Bool(Some(false)),
                NO_TEXT,
                Cell::Small(Some(0)),
                Cell::Small(info.maximum_scale),
                Cell::Int(None),
                Cell::Int(None),
                Cell::Int(info.num_prec_radix),
            ]
        })
        .collect();
    table(
        &[
            ("TYPE_NAME", DataType::Utf8),
            ("DATA_TYPE", DataType::Int32),
            ("PRECISION", DataType::Int32),
            ("LITERAL_PREFIX", DataType::Utf8),
            ("LITERAL_SUFFIX", DataType::Utf8),
            ("CREATE_PARAMS", DataType::Utf8),
            ("NULLABLE", DataType::Int16),
            ("CASE_SENSITIVE", DataType::Boolean),
            ("SEARCHABLE", DataType::Int16),
            ("UNSIGNED_ATTRIBUTE", DataType::Boolean),
            ("FIXED_PREC_SCALE", DataType::Boolean),
            ("AUTO_INCREMENT", DataType::Boolean),
            ("LOCAL_TYPE_NAME", DataType::Utf8),
            ("MINIMUM_SCALE", DataType::Int16),
            ("MAXIMUM_SCALE", DataType::Int16),
            ("SQL_DATA_TYPE", DataType::Int32),
            ("SQL_DATETIME_SUB", DataType::Int32),
            ("NUM_PREC_RADIX", DataType::Int32),
        ],
        rows,
    )
}

/// Built-in functions whose names match; `table_functions` are those that return rows
/// (`DatabaseMetaData.functionReturnsTable`, 2), the others return a value (1).
pub fn functions(
    names: Vec<String>,
    table_functions: &[&str],
    pattern: Option<&str>,
) -> Result<Results> {
    let pattern = NamePattern::new(pattern)?;
    let rows = names
        .into_iter()
        .filter(|name| pattern.matches(name))
        .map(|name| {
            let kind = if table_functions.contains(&name.as_str()) {
                2
            } else {
                1
            };
            vec![
                NO_TEXT,
                NO_TEXT,
                text(&name),
                text(""),
                Cell::Int(Some(kind)),
                text(name),
            ]
        })
        .collect();
    table(
        &[
            ("FUNCTION_CAT", DataType::Utf8),
            ("FUNCTION_SCHEM", DataType::Utf8),
            ("FUNCTION_NAME", DataType::Utf8),
            ("REMARKS", DataType::Utf8),
            ("FUNCTION_TYPE", DataType::Int32),
            ("SPECIFIC_NAME", DataType::Utf8),
        ],
        rows,
    )
}

/// Apiary keeps no key constraints, so every table has no primary key.
pub fn primary_keys() -> Result<Results> {
    table(
        &[
            ("TABLE_CAT", DataType::Utf8),
            ("TABLE_SCHEM", DataType::Utf8),
            ("TABLE_NAME", DataType::Utf8),
            ("COLUMN_NAME", DataType::Utf8),
            ("KEY_SEQ", DataType::Int32),
            ("PK_NAME", DataType::Utf8),
        ],
        Vec::new(),
    )
}

/// Apiary keeps no key constraints, so no table references another.
pub fn cross_reference() -> Result<Results> {
    table(
        &[
            ("PKTABLE_CAT", DataType::Utf8),
            ("PKTABLE_SCHEM", DataType::Utf8),
            ("PKTABLE_NAME", DataType::Utf8),
            ("PKCOLUMN_NAME", DataType::Utf8),
            ("FKTABLE_CAT", DataType::Utf8),
            ("FKTABLE_SCHEM", DataType::Utf8),
            ("FKTABLE_NAME", DataType::Utf8),
            ("FKCOLUMN_NAME", DataType::Utf8),
            ("KEY_SEQ", DataType::Int32),
            ("UPDATE_RULE", DataType::Int16),
            ("DELETE_RULE", DataType::Int16),
            ("FK_NAME", DataType::Utf8),
            ("PK_NAME", DataType::Utf8),
            ("DEFERRABILITY", DataType::Int16),
        ],
        Vec::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_read_jdbc_and_metastore_wildcards() {
        let pattern = |p| NamePattern::new(Some(p)).unwrap();
        assert!(pattern("%").matches("anything"));
        assert!(pattern("sales_%").matches("Sales_2024"));
        assert!(pattern("sales_%").matches("salesX"));
        assert!(!pattern("sales\\_%").matches("salesX"));
        assert!(pattern("sales\\_%").matches("sales_x"));
        assert!(pattern(".*").matches("t"));
        assert!(pattern("a*|b*").matches("bee"));
        assert!(!pattern("a+b").matches("aab"));
        assert!(NamePattern::new(Some("")).unwrap().matches("x"));
        assert!(NamePattern::new(None).unwrap().matches("x"));
    }

    #[test]
    fn result_sets_have_the_jdbc_columns() {
        let results = type_info().unwrap();
        assert_eq!(results.schema.fields().len(), 18);
        assert_eq!(results.schema.field(1).name(), "DATA_TYPE");
        let results = functions(
            vec!["explode".into(), "upper".into()],
            &["explode"],
            Some("%"),
        )
        .unwrap();
        assert_eq!(results.schema.field(4).data_type(), &DataType::Int32);
    }
}
