//! Where tables and partitions live: default locations and Hive's escaping of partition
//! values in directory names.

use std::path::PathBuf;

use apiary_metastore::{Column, Database, Table};

use super::files::local_path;
use apiary_metastore::DEFAULT_PARTITION_NAME;

/// A managed table's default directory: `<database location>/<table>`.
pub fn default_table_location(database: &Database, table: &str) -> String {
    local_path(&database.location)
        .join(table)
        .display()
        .to_string()
}

/// A new database's default directory: `<warehouse>/<name>.db`.
pub fn default_database_location(warehouse: &std::path::Path, name: &str) -> String {
    warehouse.join(format!("{name}.db")).display().to_string()
}

/// Escapes a partition value for a directory name as Hive's `FileUtils.escapePathName` does.
pub fn escape_partition_value(value: &str) -> String {
    if value.is_empty() {
        return DEFAULT_PARTITION_NAME.to_string();
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let needs_escape = (c as u32) < 0x20
            || matches!(
                c,
                '"' | '#'
                    | '%'
                    | '\''
                    | '*'
                    | '/'
                    | ':'
                    | '='
                    | '?'
                    | '\\'
                    | '\u{7f}'
                    | '{'
                    | '['
                    | ']'
                    | '^'
            );
        if needs_escape {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Undoes Hive's `%XX` escaping of partition values in directory names.
pub fn unescape_partition_value(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 3 <= bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `k1=v1/k2=v2` with escaped values.
pub fn partition_path(keys: &[Column], values: &[String]) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| format!("{}={}", k.name, escape_partition_value(v)))
        .collect::<Vec<_>>()
        .join("/")
}

/// The directory of a new partition: under the table's directory.
pub fn default_partition_location(table: &Table, values: &[String]) -> PathBuf {
    local_path(&table.storage.location).join(partition_path(&table.partition_keys, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_hive() {
        assert_eq!(escape_partition_value("2024-01-01"), "2024-01-01");
        assert_eq!(escape_partition_value("a/b=c:d%"), "a%2Fb%3Dc%3Ad%25");
        assert_eq!(escape_partition_value("with space"), "with space");
        for value in ["a/b=c:d%", "2024-01-01", "x%", "%4", "ünï code"] {
            assert_eq!(
                unescape_partition_value(&escape_partition_value(value)),
                value
            );
        }
        assert_eq!(unescape_partition_value("%zz"), "%zz");
        assert_eq!(escape_partition_value(""), DEFAULT_PARTITION_NAME);
    }
}
