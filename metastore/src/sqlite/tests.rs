use std::collections::BTreeMap;
use std::sync::Arc;

use super::SqliteMetastore;
use crate::{
    Column, ColumnStatistics, DEFAULT_PARTITION_NAME, Database, KeyComparison, KeyLiteral,
    Metastore, MetastoreError, Partition, PartitionFilter, PartitionLocation, SerDeInfo,
    StatsValue, StorageDescriptor, Table, TableType,
};

fn open(dir: &tempfile::TempDir) -> SqliteMetastore {
    SqliteMetastore::open(&dir.path().join("metastore.db"), "/warehouse").expect("open metastore")
}

fn table(database: &str, name: &str) -> Table {
    Table {
        database: database.into(),
        name: name.into(),
        owner: Some("alice".into()),
        create_time: 1_700_000_000,
        table_type: TableType::Managed,
        storage: StorageDescriptor {
            location: format!("/warehouse/{name}"),
            input_format: "org.apache.hadoop.mapred.TextInputFormat".into(),
            output_format: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat".into(),
            serde: SerDeInfo {
                serialization_lib: "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe".into(),
                parameters: BTreeMap::from([("field.delim".into(), ",".into())]),
            },
            columns: vec![
                Column {
                    name: "id".into(),
                    type_name: "int".into(),
                    comment: Some("key".into()),
                },
                Column::new("tags", "array<string>"),
            ],
            compressed: false,
            num_buckets: -1,
        },
        partition_keys: vec![Column::new("dt", "string")],
        parameters: BTreeMap::from([("comment".into(), "a table".into())]),
        view_original_text: None,
        view_expanded_text: None,
    }
}

fn partition(name: &str, dt: &str) -> Partition {
    Partition {
        database: "default".into(),
        table: name.into(),
        values: vec![dt.into()],
        create_time: 1_700_000_001,
        storage: StorageDescriptor {
            location: format!("/warehouse/{name}/dt={dt}"),
            ..Default::default()
        },
        parameters: BTreeMap::from([("numRows".into(), "3".into())]),
    }
}

#[test]
fn fresh_metastore_has_default_database_and_current_schema() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    assert_eq!(store.list_databases().unwrap(), vec!["default"]);
    assert_eq!(
        store.get_database("default").unwrap().unwrap().location,
        "/warehouse"
    );
    assert_eq!(
        store.schema_version().unwrap(),
        super::MIGRATIONS.len() as i64
    );
    drop(store);
    // Reopening applies nothing and keeps the catalog.
    assert_eq!(open(&dir).list_databases().unwrap(), vec!["default"]);
}

#[test]
fn database_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let db = Database {
        name: "sales".into(),
        comment: Some("money".into()),
        location: "/warehouse/sales.db".into(),
        owner: None,
        properties: BTreeMap::from([("team".into(), "bi".into())]),
    };
    store.create_database(&db).unwrap();
    assert!(matches!(
        store.create_database(&db),
        Err(MetastoreError::AlreadyExists(_))
    ));
    assert_eq!(store.get_database("sales").unwrap().unwrap(), db);
    store.create_table(&table("sales", "orders")).unwrap();
    assert!(matches!(
        store.drop_database("sales", false),
        Err(MetastoreError::DatabaseNotEmpty(_))
    ));
    store.drop_database("sales", true).unwrap();
    assert_eq!(store.get_database("sales").unwrap(), None);
    assert!(matches!(
        store.drop_database("default", true),
        Err(MetastoreError::InvalidOperation(_))
    ));
}

#[test]
fn table_round_trip_alter_and_rename() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut t = table("default", "events");
    store.create_table(&t).unwrap();
    assert_eq!(store.get_table("default", "events").unwrap().unwrap(), t);
    assert!(matches!(
        store.create_table(&t),
        Err(MetastoreError::AlreadyExists(_))
    ));

    store
        .add_partitions(&[partition("events", "2024-01-01")], false)
        .unwrap();
    t.name = "events2".into();
    t.storage.columns.push(Column::new("extra", "double"));
    t.parameters.insert("k".into(), "v".into());
    store.alter_table("default", "events", &t).unwrap();
    assert_eq!(store.get_table("default", "events").unwrap(), None);
    assert_eq!(store.get_table("default", "events2").unwrap().unwrap(), t);
    // Partitions follow the renamed table.
    assert_eq!(
        store.list_partitions("default", "events2").unwrap().len(),
        1
    );
    assert_eq!(store.list_tables("default").unwrap(), vec!["events2"]);
    store.drop_table("default", "events2").unwrap();
    assert!(store.list_tables("default").unwrap().is_empty());
    assert!(matches!(
        store.drop_table("default", "events2"),
        Err(MetastoreError::NoSuchTable { .. })
    ));
}

#[test]
fn partition_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.create_table(&table("default", "logs")).unwrap();
    let p1 = partition("logs", "2024-01-02");
    let p2 = partition("logs", "2024-01-01");
    store
        .add_partitions(&[p1.clone(), p2.clone()], false)
        .unwrap();
    assert!(matches!(
        store.add_partitions(std::slice::from_ref(&p1), false),
        Err(MetastoreError::AlreadyExists(_))
    ));
    store
        .add_partitions(std::slice::from_ref(&p1), true)
        .unwrap();
    let all = store
        .find_partition_locations("default", "logs", &PartitionFilter::All)
        .unwrap();
    assert_eq!(
        all.into_iter().map(|p| p.values).collect::<Vec<_>>(),
        vec![p2.values.clone(), p1.values.clone()]
    );
    assert_eq!(store.count_partitions("default", "logs").unwrap(), 2);
    assert_eq!(
        store.get_partition("default", "logs", &p1.values).unwrap(),
        Some(p1.clone())
    );
    assert_eq!(
        store
            .get_partition("default", "logs", &["absent".to_string()])
            .unwrap(),
        None
    );
    let listed = store.list_partitions("default", "logs").unwrap();
    assert_eq!(listed, vec![p2.clone(), p1.clone()]);

    let mut moved = p1.clone();
    moved.storage.location = "/elsewhere".into();
    store.alter_partition(&moved).unwrap();
    assert_eq!(
        store
            .get_partition("default", "logs", &p1.values)
            .unwrap()
            .unwrap(),
        moved
    );
    let mut renamed = moved.clone();
    renamed.values = vec!["2024-02-02".into()];
    store.rename_partition(&p1.values, &renamed).unwrap();
    assert_eq!(
        store.get_partition("default", "logs", &p1.values).unwrap(),
        None
    );
    assert_eq!(
        store
            .get_partition("default", "logs", &renamed.values)
            .unwrap()
            .unwrap(),
        renamed
    );
    assert!(matches!(
        store.rename_partition(&renamed.values, &p2),
        Err(MetastoreError::AlreadyExists(_))
    ));
    store.rename_partition(&renamed.values, &p1).unwrap();
    store.drop_partition("default", "logs", &p1.values).unwrap();
    assert_eq!(
        store.get_partition("default", "logs", &p1.values).unwrap(),
        None
    );
    assert!(matches!(
        store.get_partition("default", "logs", &["a".into(), "b".into()]),
        Err(MetastoreError::InvalidOperation(_))
    ));
}

#[test]
fn two_handles_on_one_file_write_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let first = Arc::new(open(&dir));
    let second = Arc::new(open(&dir));
    let writers: Vec<_> = [first.clone(), second.clone()]
        .into_iter()
        .enumerate()
        .map(|(w, store)| {
            std::thread::spawn(move || {
                for i in 0..25 {
                    store
                        .create_table(&table("default", &format!("t_{w}_{i}")))
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(first.list_tables("default").unwrap().len(), 50);
    assert_eq!(second.list_tables("default").unwrap().len(), 50);
}

/// A table keyed by `(dt string, hr int)` with the given partitions.
fn two_key_table(store: &SqliteMetastore, values: &[(&str, &str)]) {
    let mut events = table("default", "events");
    events.partition_keys = vec![Column::new("dt", "string"), Column::new("hr", "int")];
    store.create_table(&events).unwrap();
    let partitions: Vec<Partition> = values
        .iter()
        .map(|(dt, hr)| Partition {
            values: vec![dt.to_string(), hr.to_string()],
            storage: StorageDescriptor {
                location: format!("/warehouse/events/dt={dt}/hr={hr}"),
                ..Default::default()
            },
            ..partition("events", dt)
        })
        .collect();
    store.add_partitions(&partitions, false).unwrap();
}

fn matching(store: &SqliteMetastore, filter: PartitionFilter) -> Vec<Vec<String>> {
    store
        .find_partition_locations("default", "events", &filter)
        .unwrap()
        .into_iter()
        .map(|p: PartitionLocation| p.values)
        .collect()
}

fn compare(key: usize, op: KeyComparison, literal: KeyLiteral) -> PartitionFilter {
    PartitionFilter::Compare { key, op, literal }
}

#[test]
fn partition_filters_follow_key_types_and_null_logic() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    two_key_table(
        &store,
        &[
            ("2024-01-01", "9"),
            ("2024-01-01", "10"),
            ("2024-01-02", "2"),
            (DEFAULT_PARTITION_NAME, "3"),
            ("2024-01-03", DEFAULT_PARTITION_NAME),
        ],
    );
    let values = |pairs: &[(&str, &str)]| -> Vec<Vec<String>> {
        pairs
            .iter()
            .map(|(a, b)| vec![a.to_string(), b.to_string()])
            .collect()
    };
    // Integers compare as numbers: 10 > 9 although "10" < "9".
    assert_eq!(
        matching(
            &store,
            compare(1, KeyComparison::Gt, KeyLiteral::Integer(8))
        ),
        values(&[("2024-01-01", "10"), ("2024-01-01", "9")])
    );
    assert_eq!(
        matching(
            &store,
            compare(0, KeyComparison::Eq, KeyLiteral::Text("2024-01-02".into()))
        ),
        values(&[("2024-01-02", "2")])
    );
    // The default partition is NULL: neither a comparison nor its negation holds.
    let after_first = compare(0, KeyComparison::Gt, KeyLiteral::Text("2024-01-01".into()));
    assert_eq!(
        matching(&store, after_first.clone()),
        values(&[("2024-01-02", "2"), ("2024-01-03", DEFAULT_PARTITION_NAME)])
    );
    assert_eq!(
        matching(&store, PartitionFilter::Not(Box::new(after_first))),
        values(&[("2024-01-01", "10"), ("2024-01-01", "9")])
    );
    assert_eq!(
        matching(
            &store,
            PartitionFilter::Or(vec![
                PartitionFilter::IsNull {
                    key: 0,
                    negated: false
                },
                PartitionFilter::InList {
                    key: 1,
                    literals: vec![KeyLiteral::Integer(2), KeyLiteral::Integer(10)],
                    negated: false,
                },
            ])
        ),
        values(&[
            ("2024-01-01", "10"),
            ("2024-01-02", "2"),
            (DEFAULT_PARTITION_NAME, "3")
        ])
    );
    assert!(matches!(
        store.find_partition_locations(
            "default",
            "events",
            &PartitionFilter::IsNull {
                key: 2,
                negated: true
            }
        ),
        Err(MetastoreError::InvalidOperation(_))
    ));
}

#[test]
fn key_filters_are_answered_from_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    two_key_table(&store, &[("2024-01-01", "1")]);
    let connection = store.connection.lock().unwrap();
    let plan_of = |filter: PartitionFilter| -> Vec<String> {
        let (sql, mut parameters) = super::partitions::locations_query(2, &filter);
        parameters.insert(0, rusqlite::types::Value::Integer(1));
        connection
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(rusqlite::params_from_iter(parameters), |row| {
                row.get::<_, String>(3)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    for (filter, index) in [
        (
            compare(0, KeyComparison::Eq, KeyLiteral::Text("2024-01-01".into())),
            "PARTITION_KEY_VALS_TEXT",
        ),
        (
            compare(1, KeyComparison::Gt, KeyLiteral::Integer(5)),
            "PARTITION_KEY_VALS_INTEGER",
        ),
    ] {
        let plan = plan_of(filter);
        // The filter's index comes first; no step scans a whole table.
        assert!(plan[0].contains(index), "{plan:?}");
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN")),
            "{plan:?}"
        );
    }
}

#[test]
fn looking_up_other_tables_reuses_prepared_statements() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    for name in ["t1", "t2"] {
        store.create_table(&table("default", name)).unwrap();
    }
    for _ in 0..3 {
        for name in ["t1", "t2"] {
            assert!(store.get_table("default", name).unwrap().is_some());
        }
    }
    let connection = store.connection.lock().unwrap();
    let statement = connection
        .prepare_cached(super::storage::PARTITION_KEYS_SQL)
        .unwrap();
    // Each lookup bound another table id to the cached statement; none made SQLite prepare
    // it again.
    assert_eq!(
        statement.get_status(rusqlite::StatementStatus::RePrepare),
        0
    );
}

fn long_stats(column: &str, low: i64, high: i64) -> ColumnStatistics {
    ColumnStatistics {
        low: Some(StatsValue::Long(low)),
        high: Some(StatsValue::Long(high)),
        num_nulls: 1,
        num_distincts: Some(high - low + 1),
        bit_vector: Some(vec![1, 2, 3]),
        last_analyzed: 1_700_000_100,
        ..ColumnStatistics::empty(column, "int")
    }
}

#[test]
fn column_statistics_of_tables_and_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.create_table(&table("default", "events")).unwrap();
    store
        .add_partitions(&[partition("events", "2024-01-01")], false)
        .unwrap();
    let text = ColumnStatistics {
        avg_col_len: Some(4.5),
        max_col_len: Some(9),
        num_distincts: Some(7),
        ..ColumnStatistics::empty("tags", "array<string>")
    };
    let decimal = ColumnStatistics {
        low: Some(StatsValue::Decimal("-1.50".into())),
        high: Some(StatsValue::Decimal("20.25".into())),
        ..ColumnStatistics::empty("price", "decimal(10,2)")
    };
    let params = BTreeMap::from([("numRows".to_string(), "10".to_string())]);
    store
        .set_column_statistics(
            "default",
            "events",
            None,
            &[long_stats("id", 1, 9), text.clone()],
            &params,
        )
        .unwrap();
    // Writing one column replaces its row and keeps the others.
    store
        .set_column_statistics(
            "default",
            "events",
            None,
            &[long_stats("id", 2, 5), decimal.clone()],
            &params,
        )
        .unwrap();
    assert_eq!(
        store
            .get_column_statistics("default", "events", None)
            .unwrap(),
        vec![long_stats("id", 2, 5), decimal, text]
    );
    let table_params = store.get_table("default", "events").unwrap().unwrap();
    assert_eq!(table_params.parameters, params);

    let day = vec!["2024-01-01".to_string()];
    store
        .set_column_statistics(
            "default",
            "events",
            Some(&day),
            &[long_stats("id", 3, 4)],
            &params,
        )
        .unwrap();
    assert_eq!(
        store
            .get_partitions_column_statistics("default", "events", std::slice::from_ref(&day))
            .unwrap(),
        vec![vec![long_stats("id", 3, 4)]]
    );
    assert_eq!(
        store
            .get_partitions_parameters("default", "events", std::slice::from_ref(&day))
            .unwrap(),
        vec![params.clone()]
    );
    let missing = vec!["2030-01-01".to_string()];
    assert!(matches!(
        store.get_column_statistics("default", "events", Some(&missing)),
        Err(MetastoreError::NoSuchPartition(_))
    ));
    store
        .delete_column_statistics("default", "events", None, Some(&["id".to_string()]))
        .unwrap();
    assert_eq!(
        store
            .get_column_statistics("default", "events", None)
            .unwrap()
            .len(),
        2
    );
    // Dropping the partition drops its statistics with it.
    store.drop_partition("default", "events", &day).unwrap();
    store
        .add_partitions(&[partition("events", "2024-01-01")], false)
        .unwrap();
    assert!(
        store
            .get_column_statistics("default", "events", Some(&day))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn low_and_high_of_different_kinds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.create_table(&table("default", "events")).unwrap();
    let mixed = ColumnStatistics {
        low: Some(StatsValue::Long(1)),
        high: Some(StatsValue::Double(2.0)),
        ..ColumnStatistics::empty("id", "int")
    };
    assert!(matches!(
        store.set_column_statistics("default", "events", None, &[mixed], &BTreeMap::new()),
        Err(MetastoreError::InvalidOperation(_))
    ));
}

#[test]
fn many_partitions_statistics_are_read_in_bulk_in_the_order_asked() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.create_table(&table("default", "events")).unwrap();
    let days: Vec<String> = (0..50).map(|d| format!("2024-01-{d:02}")).collect();
    let partitions: Vec<Partition> = days.iter().map(|d| partition("events", d)).collect();
    store.add_partitions(&partitions, false).unwrap();
    for (i, day) in days.iter().enumerate().step_by(7) {
        let params = BTreeMap::from([("numRows".to_string(), i.to_string())]);
        store
            .set_column_statistics(
                "default",
                "events",
                Some(std::slice::from_ref(day)),
                &[long_stats("id", 0, i as i64)],
                &params,
            )
            .unwrap();
    }
    let asked: Vec<Vec<String>> = days.iter().rev().map(|d| vec![d.clone()]).collect();
    let params = store
        .get_partitions_parameters("default", "events", &asked)
        .unwrap();
    let stats = store
        .get_partitions_column_statistics("default", "events", &asked)
        .unwrap();
    assert_eq!(params.len(), 50);
    for (k, day_index) in (0..50).rev().enumerate() {
        if day_index % 7 == 0 {
            assert_eq!(params[k]["numRows"], day_index.to_string());
            assert_eq!(stats[k], vec![long_stats("id", 0, day_index as i64)]);
        } else {
            assert_eq!(params[k]["numRows"], "3");
            assert!(stats[k].is_empty());
        }
    }
    let missing: Vec<Vec<String>> = (0..40).map(|d| vec![format!("1999-{d}")]).collect();
    assert!(matches!(
        store.get_partitions_parameters("default", "events", &missing),
        Err(MetastoreError::NoSuchPartition(_))
    ));
}
