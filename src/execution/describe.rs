//! DESCRIBE [EXTENDED | FORMATTED] table [PARTITION (...)] [column].

use apiary_metastore::{Column, Partition, Table};

use super::describe_column::column_statistics;
use super::partition_ddl::full_values;
use super::paths::partition_path;
use super::results::string_table;
use crate::analysis_err;
use crate::driver::{Session, StatementOutput};
use crate::error::Result;
use crate::parser::{DescribeDetail, PartitionSpec, TableName};

type Row = Vec<String>;

fn row(a: &str, b: &str, c: &str) -> Row {
    vec![a.to_string(), b.to_string(), c.to_string()]
}

fn column_rows(columns: &[Column]) -> Vec<Row> {
    columns
        .iter()
        .map(|c| row(&c.name, &c.type_name, c.comment.as_deref().unwrap_or("")))
        .collect()
}

pub fn describe(
    session: &Session,
    name: &TableName,
    detail: DescribeDetail,
    partition: Option<&PartitionSpec>,
    column: Option<&str>,
) -> Result<StatementOutput> {
    let entry = session.require_table(name)?;
    let table = &entry.table;
    let all_columns: Vec<Column> = table
        .storage
        .columns
        .iter()
        .chain(&table.partition_keys)
        .cloned()
        .collect();
    let names = ["col_name", "data_type", "comment"];
    let mut rows = Vec::new();
    if detail == DescribeDetail::Formatted {
        rows.push(row("# col_name", "data_type", "comment"));
        rows.extend(column_rows(&table.storage.columns));
    } else {
        rows.extend(column_rows(&all_columns));
    }
    if !table.partition_keys.is_empty() {
        rows.push(row("", "", ""));
        rows.push(row("# Partition Information", "", ""));
        rows.push(row("# col_name", "data_type", "comment"));
        rows.extend(column_rows(&table.partition_keys));
    }
    let partition = match partition {
        Some(spec) => {
            if table.partition_keys.is_empty() || entry.temporary {
                return Err(analysis_err!(
                    "Table {} is not a partitioned table",
                    table.qualified_name()
                ));
            }
            let values = full_values(table, spec)?;
            let found =
                session
                    .engine
                    .metastore
                    .get_partition(&table.database, &table.name, &values)?;
            Some(found.ok_or_else(|| {
                analysis_err!(
                    "Partition not found: {}",
                    partition_path(&table.partition_keys, &values)
                )
            })?)
        }
        None => None,
    };
    if let Some(column) = column {
        let found = all_columns
            .iter()
            .find(|c| c.name == column)
            .ok_or_else(|| {
                analysis_err!(
                    "Column {column} does not exist in {}",
                    table.qualified_name()
                )
            })?;
        if detail == DescribeDetail::Formatted {
            return column_statistics(session, &entry, found, partition.as_ref());
        }
        let rows = column_rows(std::slice::from_ref(found));
        return Ok(string_table(&names, padded_for(detail, rows)));
    }
    if let Some(partition) = &partition {
        match detail {
            DescribeDetail::Plain => {}
            DescribeDetail::Extended => {
                rows.push(row("", "", ""));
                rows.push(row(
                    "Detailed Partition Information",
                    &format!("{partition:?}"),
                    "",
                ));
            }
            DescribeDetail::Formatted => rows.extend(partition_details(table, partition)),
        }
        return Ok(string_table(&names, padded_for(detail, rows)));
    }
    match detail {
        DescribeDetail::Plain => {}
        DescribeDetail::Extended => {
            rows.push(row("", "", ""));
            rows.push(row("Detailed Table Information", &format!("{table:?}"), ""));
        }
        DescribeDetail::Formatted => {
            let mut shown = table.clone();
            if !table.partition_keys.is_empty() && !entry.temporary {
                shown.parameters.extend(partitions_totals(session, table)?);
            }
            rows.extend(formatted_details(&shown, entry.temporary))
        }
    }
    Ok(string_table(&names, padded_for(detail, rows)))
}

/// A partitioned table's basic statistics, as Hive 3 shows them: the sums over its
/// partitions, and their number. A sum is left out when some partition lacks the figure.
fn partitions_totals(session: &Session, table: &Table) -> Result<Vec<(String, String)>> {
    let metastore = &session.engine.metastore;
    let partitions = metastore.list_partitions(&table.database, &table.name)?;
    let mut totals = vec![("numPartitions".to_string(), partitions.len().to_string())];
    for key in ["numFiles", "numRows", "totalSize"] {
        let sum = partitions.iter().try_fold(0u64, |total, p| {
            Some(total + p.parameters.get(key)?.parse::<u64>().ok()?)
        });
        if let Some(sum) = sum {
            totals.push((key.to_string(), sum.to_string()));
        }
    }
    Ok(totals)
}

/// Plain DESCRIBE prints as the Hive CLI does: every field padded to 20 characters, the
/// partition section's header lines with single-space fields.
fn padded_for(detail: DescribeDetail, rows: Vec<Row>) -> Vec<Row> {
    const WIDTH: usize = 20;
    if detail != DescribeDetail::Plain {
        return rows;
    }
    rows.into_iter()
        .map(|r| match r[0].as_str() {
            "" if r[1].is_empty() => row("", " ", " "),
            "# Partition Information" => row(&r[0], " ", " "),
            "# col_name" => vec![
                format!("# {:<WIDTH$}", "col_name"),
                format!("{:<WIDTH$}", r[1]),
                format!("{:<WIDTH$}", r[2]),
            ],
            _ => r.iter().map(|field| format!("{field:<WIDTH$}")).collect(),
        })
        .collect()
}

fn formatted_details(table: &Table, temporary: bool) -> Vec<Row> {
    let created = hive_time(table.create_time);
    let mut rows = vec![
        row("", "", ""),
        row("# Detailed Table Information", "", ""),
        row("Database:", &table.database, ""),
        row("OwnerType:", "USER", ""),
        row("Owner:", table.owner.as_deref().unwrap_or(""), ""),
        row("CreateTime:", &created, ""),
        row("LastAccessTime:", "UNKNOWN", ""),
        row("Retention:", "0", ""),
    ];
    if !table.is_view() {
        rows.push(row("Location:", &table.storage.location, ""));
    }
    rows.push(row("Table Type:", table.table_type.hive_name(), ""));
    if temporary {
        rows.push(row("Temporary:", "true", ""));
    }
    rows.push(row("Table Parameters:", "", ""));
    rows.extend(table.parameters.iter().map(|(k, v)| row("", k, v)));
    rows.push(row("", "", ""));
    if table.is_view() {
        rows.push(row("# View Information", "", ""));
        rows.push(row(
            "Original Query:",
            table.view_original_text.as_deref().unwrap_or(""),
            "",
        ));
        rows.push(row(
            "Expanded Query:",
            table.view_expanded_text.as_deref().unwrap_or(""),
            "",
        ));
        return rows;
    }
    rows.push(row("# Storage Information", "", ""));
    rows.push(row(
        "SerDe Library:",
        &table.storage.serde.serialization_lib,
        "",
    ));
    rows.push(row("InputFormat:", &table.storage.input_format, ""));
    rows.push(row("OutputFormat:", &table.storage.output_format, ""));
    rows.push(row(
        "Compressed:",
        if table.storage.compressed {
            "Yes"
        } else {
            "No"
        },
        "",
    ));
    rows.push(row(
        "Num Buckets:",
        &table.storage.num_buckets.to_string(),
        "",
    ));
    rows.push(row("Bucket Columns:", "[]", ""));
    rows.push(row("Sort Columns:", "[]", ""));
    rows.push(row("Storage Desc Params:", "", ""));
    rows.extend(
        table
            .storage
            .serde
            .parameters
            .iter()
            .map(|(k, v)| row("", k, &v.escape_debug().to_string())),
    );
    rows
}

fn partition_details(table: &Table, partition: &Partition) -> Vec<Row> {
    let created = hive_time(partition.create_time);
    let mut rows = vec![
        row("", "", ""),
        row("# Detailed Partition Information", "", ""),
        row(
            "Partition Value:",
            &format!("[{}]", partition.values.join(", ")),
            "",
        ),
        row("Database:", &table.database, ""),
        row("Table:", &table.name, ""),
        row("CreateTime:", &created, ""),
        row("LastAccessTime:", "UNKNOWN", ""),
        row("Location:", &partition.storage.location, ""),
        row("Partition Parameters:", "", ""),
    ];
    rows.extend(partition.parameters.iter().map(|(k, v)| row("", k, v)));
    rows
}

/// A creation time as Hive prints it: `Sat Nov 21 17:00:00 UTC 2026`.
fn hive_time(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%a %b %d %H:%M:%S UTC %Y").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_describe_is_laid_out_as_the_hive_cli_prints_it() {
        let rows = vec![
            row("a", "int", ""),
            row("", "", ""),
            row("# Partition Information", "", ""),
            row("# col_name", "data_type", "comment"),
        ];
        let lines: Vec<String> = padded_for(DescribeDetail::Plain, rows)
            .iter()
            .map(|r| r.join("\t"))
            .collect();
        assert_eq!(
            lines,
            vec![
                format!(
                    "a{}\tint{}\t{}",
                    " ".repeat(19),
                    " ".repeat(17),
                    " ".repeat(20)
                ),
                "\t \t ".to_string(),
                "# Partition Information\t \t ".to_string(),
                format!(
                    "# col_name{}\tdata_type{}\tcomment{}",
                    " ".repeat(12),
                    " ".repeat(11),
                    " ".repeat(13)
                ),
            ]
        );
    }
}
