//! Hive's `COLUMN_STATS_ACCURATE` parameter of a table or partition: whether its basic
//! statistics (row count, sizes) and which of its columns' statistics describe its current
//! data, as `{"BASIC_STATS":"true","COLUMN_STATS":{"key":"true"}}`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

pub const ACCURACY_KEY: &str = "COLUMN_STATS_ACCURATE";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsAccuracy {
    pub basic: bool,
    pub columns: BTreeSet<String>,
}

impl StatsAccuracy {
    /// The flags kept in `parameters`; none when the parameter is absent or unreadable.
    pub fn read(parameters: &BTreeMap<String, String>) -> Self {
        let Some(Ok(Value::Object(flags))) = parameters
            .get(ACCURACY_KEY)
            .map(|text| serde_json::from_str::<Value>(text))
        else {
            return StatsAccuracy::default();
        };
        let is_true = |v: &Value| v.as_str() == Some("true") || v.as_bool() == Some(true);
        let columns = match flags.get("COLUMN_STATS") {
            Some(Value::Object(columns)) => columns
                .iter()
                .filter(|(_, v)| is_true(v))
                .map(|(name, _)| name.clone())
                .collect(),
            _ => BTreeSet::new(),
        };
        StatsAccuracy {
            basic: flags.get("BASIC_STATS").is_some_and(is_true),
            columns,
        }
    }

    /// Stores the flags in `parameters`, removing the parameter when nothing is accurate.
    pub fn write(&self, parameters: &mut BTreeMap<String, String>) {
        if !self.basic && self.columns.is_empty() {
            parameters.remove(ACCURACY_KEY);
            return;
        }
        let mut flags = Map::new();
        if self.basic {
            flags.insert("BASIC_STATS".into(), Value::from("true"));
        }
        if !self.columns.is_empty() {
            let columns = self
                .columns
                .iter()
                .map(|c| (c.clone(), Value::from("true")))
                .collect();
            flags.insert("COLUMN_STATS".into(), Value::Object(columns));
        }
        parameters.insert(ACCURACY_KEY.into(), Value::Object(flags).to_string());
    }

    pub fn column_is_accurate(&self, column: &str) -> bool {
        self.columns.contains(column)
    }
}

/// After a write: the basic statistics are accurate if they were kept current, and every
/// column's statistics are stale.
pub fn mark_written(parameters: &mut BTreeMap<String, String>, basic_current: bool) {
    StatsAccuracy {
        basic: basic_current,
        columns: BTreeSet::new(),
    }
    .write(parameters);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_in_hives_form() {
        let mut parameters = BTreeMap::new();
        let flags = StatsAccuracy {
            basic: true,
            columns: ["value".to_string(), "key".to_string()].into(),
        };
        flags.write(&mut parameters);
        assert_eq!(
            parameters[ACCURACY_KEY],
            r#"{"BASIC_STATS":"true","COLUMN_STATS":{"key":"true","value":"true"}}"#
        );
        assert_eq!(StatsAccuracy::read(&parameters), flags);
    }

    #[test]
    fn a_write_marks_column_statistics_stale() {
        let mut parameters = BTreeMap::from([(
            ACCURACY_KEY.to_string(),
            r#"{"BASIC_STATS":"true","COLUMN_STATS":{"key":"true"}}"#.to_string(),
        )]);
        mark_written(&mut parameters, true);
        assert_eq!(parameters[ACCURACY_KEY], r#"{"BASIC_STATS":"true"}"#);
        mark_written(&mut parameters, false);
        assert!(!parameters.contains_key(ACCURACY_KEY));
    }

    #[test]
    fn unreadable_flags_mean_nothing_is_accurate() {
        let parameters = BTreeMap::from([(ACCURACY_KEY.to_string(), "{oops".to_string())]);
        assert_eq!(StatsAccuracy::read(&parameters), StatsAccuracy::default());
    }
}
