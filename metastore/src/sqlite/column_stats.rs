//! Column statistics of tables (`TAB_COL_STATS`) and partitions (`PART_COL_STATS`). A row
//! is keyed by its owner's id and the column name; writing a column's statistics replaces
//! that row and leaves the other columns' rows alone.

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{Row, Transaction, params};

use crate::{ColumnStatistics, MetastoreError, Result, StatsValue};

/// The two tables differ only in their owner column.
#[derive(Clone, Copy)]
pub(super) enum Owner {
    Table(i64),
    Partition(i64),
}

impl Owner {
    fn table_and_column(self) -> (&'static str, &'static str, i64) {
        match self {
            Owner::Table(id) => ("TAB_COL_STATS", "TBL_ID", id),
            Owner::Partition(id) => ("PART_COL_STATS", "PART_ID", id),
        }
    }
}

const COLUMNS: &str = "COLUMN_NAME, COLUMN_TYPE, LONG_LOW_VALUE, LONG_HIGH_VALUE, \
    DOUBLE_LOW_VALUE, DOUBLE_HIGH_VALUE, BIG_DECIMAL_LOW_VALUE, BIG_DECIMAL_HIGH_VALUE, \
    NUM_NULLS, NUM_DISTINCTS, BIT_VECTOR, AVG_COL_LEN, MAX_COL_LEN, NUM_TRUES, NUM_FALSES, \
    LAST_ANALYZED";

pub(super) fn write(tx: &Transaction<'_>, owner: Owner, stats: &[ColumnStatistics]) -> Result<()> {
    let (table, id_column, id) = owner.table_and_column();
    let mut statement = tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {table} ({id_column}, {COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
    ))?;
    for s in stats {
        let (low, high) = range_values(s)?;
        statement.execute(params![
            id,
            s.column,
            s.column_type,
            low[0],
            high[0],
            low[1],
            high[1],
            low[2],
            high[2],
            s.num_nulls,
            s.num_distincts,
            s.bit_vector,
            s.avg_col_len,
            s.max_col_len,
            s.num_trues,
            s.num_falses,
            s.last_analyzed
        ])?;
    }
    Ok(())
}

/// The statistics kept for `owner`, ordered by column name.
pub(super) fn read(tx: &Transaction<'_>, owner: Owner) -> Result<Vec<ColumnStatistics>> {
    let (table, id_column, id) = owner.table_and_column();
    let mut statement = tx.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM {table} WHERE {id_column} = ?1 ORDER BY COLUMN_NAME"
    ))?;
    let rows = statement.query_map([id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The statistics of every partition of table `tbl_id`, by partition id, in one query.
pub(super) fn read_all_partitions(
    tx: &Transaction<'_>,
    tbl_id: i64,
) -> Result<HashMap<i64, Vec<ColumnStatistics>>> {
    let mut statement = tx.prepare_cached(&format!(
        "SELECT {COLUMNS}, PART_ID FROM PART_COL_STATS
         WHERE PART_ID IN (SELECT PART_ID FROM PARTITIONS WHERE TBL_ID = ?1)
         ORDER BY PART_ID, COLUMN_NAME"
    ))?;
    let rows = statement.query_map([tbl_id], |row| Ok((row.get::<_, i64>(16)?, from_row(row)?)))?;
    let mut all: HashMap<i64, Vec<ColumnStatistics>> = HashMap::new();
    for row in rows {
        let (part_id, stats) = row?;
        all.entry(part_id).or_default().push(stats);
    }
    Ok(all)
}

/// Forgets the statistics of the named columns, or of every column when `columns` is `None`.
pub(super) fn delete(tx: &Transaction<'_>, owner: Owner, columns: Option<&[String]>) -> Result<()> {
    let (table, id_column, id) = owner.table_and_column();
    match columns {
        None => {
            tx.execute(&format!("DELETE FROM {table} WHERE {id_column} = ?1"), [id])?;
        }
        Some(columns) => {
            let mut statement = tx.prepare_cached(&format!(
                "DELETE FROM {table} WHERE {id_column} = ?1 AND COLUMN_NAME = ?2"
            ))?;
            for column in columns {
                statement.execute(params![id, column])?;
            }
        }
    }
    Ok(())
}

/// The low and high values spread over the long, double and decimal columns.
fn range_values(s: &ColumnStatistics) -> Result<([Value; 3], [Value; 3])> {
    let kind = |v: &Option<StatsValue>| match v {
        None => None,
        Some(StatsValue::Long(_)) => Some(0),
        Some(StatsValue::Double(_)) => Some(1),
        Some(StatsValue::Decimal(_)) => Some(2),
    };
    if let (Some(low), Some(high)) = (kind(&s.low), kind(&s.high))
        && low != high
    {
        return Err(MetastoreError::InvalidOperation(format!(
            "the low and high values of column {} are of different kinds",
            s.column
        )));
    }
    let spread = |v: &Option<StatsValue>| -> [Value; 3] {
        let mut out = [Value::Null, Value::Null, Value::Null];
        match v {
            None => {}
            Some(StatsValue::Long(n)) => out[0] = Value::Integer(*n),
            Some(StatsValue::Double(d)) => out[1] = Value::Real(*d),
            Some(StatsValue::Decimal(text)) => out[2] = Value::Text(text.clone()),
        }
        out
    };
    Ok((spread(&s.low), spread(&s.high)))
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<ColumnStatistics> {
    let value = |long: usize| -> rusqlite::Result<Option<StatsValue>> {
        if let Some(n) = row.get::<_, Option<i64>>(long)? {
            return Ok(Some(StatsValue::Long(n)));
        }
        if let Some(d) = row.get::<_, Option<f64>>(long + 2)? {
            return Ok(Some(StatsValue::Double(d)));
        }
        Ok(row
            .get::<_, Option<String>>(long + 4)?
            .map(StatsValue::Decimal))
    };
    Ok(ColumnStatistics {
        column: row.get(0)?,
        column_type: row.get(1)?,
        low: value(2)?,
        high: value(3)?,
        num_nulls: row.get(8)?,
        num_distincts: row.get(9)?,
        bit_vector: row.get(10)?,
        avg_col_len: row.get(11)?,
        max_col_len: row.get(12)?,
        num_trues: row.get(13)?,
        num_falses: row.get(14)?,
        last_analyzed: row.get(15)?,
    })
}
