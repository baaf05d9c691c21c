//! Session settings: Hive-named settings with defaults and docs (shown by `SET -v`),
//! DataFusion's own options under `datafusion.*`, and any other key a script sets.

use std::collections::BTreeMap;

/// A setting Apiary knows, with its default and what it does.
pub struct SettingDef {
    pub name: &'static str,
    pub default: &'static str,
    pub doc: &'static str,
}

pub const KNOWN_SETTINGS: &[SettingDef] = &[
    SettingDef {
        name: "hive.cli.print.header",
        default: "false",
        doc: "Print column names before query results in batch output.",
    },
    SettingDef {
        name: "hive.cli.print.current.db",
        default: "false",
        doc: "Show the current database in the REPL prompt.",
    },
    SettingDef {
        name: "hive.default.fileformat",
        default: "TextFile",
        doc: "Storage format of CREATE TABLE without STORED AS: TextFile or Parquet.",
    },
    SettingDef {
        name: "hive.exec.dynamic.partition",
        default: "true",
        doc: "Allow dynamic partition keys in INSERT ... PARTITION.",
    },
    SettingDef {
        name: "hive.exec.dynamic.partition.mode",
        default: "strict",
        doc: "strict requires at least one static partition key; nonstrict allows all dynamic.",
    },
    SettingDef {
        name: "hive.exec.max.dynamic.partitions",
        default: "1000",
        doc: "Most partitions one INSERT may create or write dynamically.",
    },
    SettingDef {
        name: "hive.exec.max.dynamic.partitions.pernode",
        default: "100",
        doc: "Most dynamic partitions one task may write (Apiary writes from one node).",
    },
    SettingDef {
        name: "hive.variable.substitute",
        default: "true",
        doc: "Replace ${var} references before a statement is parsed.",
    },
    SettingDef {
        name: "hive.stats.autogather",
        default: "true",
        doc: "Keep numRows, numFiles and totalSize current on writes (column statistics are marked stale either way).",
    },
    SettingDef {
        name: "hive.optimize.ppd",
        default: "true",
        doc: "Push predicates down towards the scans (DataFusion's push_down_filter rule).",
    },
    SettingDef {
        name: "hive.cbo.enable",
        default: "true",
        doc: "Hive's cost-based planning. On, inner joins are reordered by cost estimated from table statistics, grouped variance and stddev are computed from sums of squares, and avg of a DECIMAL is a DECIMAL division, as Hive's CBO plans them.",
    },
    SettingDef {
        name: "hive.optimize.cte.materialize.threshold",
        default: "-1",
        doc: "A WITH query (or view) referenced this many times or more in one statement is computed once and its rows held in memory; -1 turns this off. Queries calling rand() or other volatile functions are computed at each reference.",
    },
    SettingDef {
        name: "apiary.optimize.cte.materialize.aggregates",
        default: "true",
        doc: "A WITH query (or view) that aggregates and is referenced twice or more in one statement is computed once and its rows held in memory.",
    },
    SettingDef {
        name: "apiary.cbo.join.exhaustive.limit",
        default: "10",
        doc: "Join trees of up to this many relations (14 at most) are ordered by searching every order (dynamic programming); larger ones by a greedy search.",
    },
    SettingDef {
        name: "hive.auto.convert.join",
        default: "true",
        doc: "Run joins with a small side as map joins (broadcast hash joins).",
    },
    SettingDef {
        name: "hive.auto.convert.join.noconditionaltask.size",
        default: "10000000",
        doc: "Largest small side, in bytes, of a join run as a map join.",
    },
    SettingDef {
        name: crate::execution::memory::MEMORY_LIMIT,
        default: crate::execution::memory::DEFAULT_MEMORY_LIMIT,
        doc: "Memory the session's queries may use: a size (4GB, 512MB), a share of the machine's memory (80%) or unlimited. Sorts and aggregations spill to disk past it; a query that cannot spill fails with an out-of-memory error.",
    },
    SettingDef {
        name: "apiary.output.format",
        default: "",
        doc: "Overrides the CLI's result format: table, tsv, csv or json.",
    },
];

pub fn known(name: &str) -> Option<&'static SettingDef> {
    KNOWN_SETTINGS.iter().find(|s| s.name == name)
}

/// The values a session has set, over the defaults.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    values: BTreeMap<String, String>,
}

impl Settings {
    pub fn get(&self, name: &str) -> Option<String> {
        self.values
            .get(name)
            .cloned()
            .or_else(|| known(name).map(|s| s.default.to_string()))
    }

    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.values.insert(name.to_string(), value.to_string());
    }

    pub fn reset(&mut self, name: Option<&str>) {
        match name {
            Some(name) => {
                self.values.remove(name);
            }
            None => self.values.clear(),
        }
    }

    /// The settings this session changed, sorted.
    pub fn changed(&self) -> impl Iterator<Item = (&String, &String)> {
        self.values.iter()
    }
}
