use super::*;
use crate::types::HiveType;

fn parse(sql: &str) -> HiveStatement {
    parse_statement(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn create_table_with_hive_clauses() {
    let HiveStatement::CreateTable(create) = parse(
        "CREATE EXTERNAL TABLE IF NOT EXISTS db.t (
            id INT COMMENT 'the key',
            s STRUCT<a:INT, b:ARRAY<STRING>>,
            m MAP<STRING,ARRAY<INT>>
         ) COMMENT 'events'
         PARTITIONED BY (dt STRING)
         ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\'
           COLLECTION ITEMS TERMINATED BY ',' MAP KEYS TERMINATED BY ':' NULL DEFINED AS ''
         STORED AS TEXTFILE LOCATION '/data/t' TBLPROPERTIES ('skip.header.line.count'='1')",
    ) else {
        panic!("not a create table")
    };
    assert!(create.external && create.if_not_exists);
    assert_eq!(create.name.to_string(), "db.t");
    assert_eq!(
        create.columns[1].data_type,
        HiveType::parse("struct<a:int,b:array<string>>").unwrap()
    );
    assert_eq!(
        create.columns[2].data_type.to_string(),
        "map<string,array<int>>"
    );
    assert_eq!(create.columns[0].comment.as_deref(), Some("the key"));
    assert_eq!(create.comment.as_deref(), Some("events"));
    assert_eq!(create.partitioned_by[0].name, "dt");
    assert_eq!(create.row_format.parameters["field.delim"], "\t");
    assert_eq!(create.row_format.parameters["escape.delim"], "\\");
    assert_eq!(
        create.row_format.parameters["serialization.null.format"],
        ""
    );
    assert_eq!(create.stored_as.as_deref(), Some("TEXTFILE"));
    assert_eq!(create.location.as_deref(), Some("/data/t"));
}

#[test]
fn set_keeps_raw_values() {
    assert_eq!(
        parse("set hivevar:dt=2024-01-01"),
        HiveStatement::Set(SetCommand::Assign("hivevar:dt".into(), "2024-01-01".into()))
    );
    assert_eq!(parse("SET"), HiveStatement::Set(SetCommand::ShowChanged));
    assert_eq!(parse("set -v"), HiveStatement::Set(SetCommand::ShowAll));
    assert_eq!(
        parse("set x"),
        HiveStatement::Set(SetCommand::Show("x".into()))
    );
    assert_eq!(parse("reset"), HiveStatement::Reset(None));
}

#[test]
fn insert_load_and_show_forms() {
    let HiveStatement::Insert(insert) =
        parse("INSERT OVERWRITE TABLE t PARTITION (dt='2024-01-01', h) SELECT 1, 2")
    else {
        panic!()
    };
    assert!(insert.overwrite);
    assert_eq!(
        insert.partition,
        Some(vec![
            ("dt".into(), Some("2024-01-01".into())),
            ("h".into(), None)
        ])
    );
    let HiveStatement::Insert(insert) = parse("insert into t (a, b) values (1, 'x')") else {
        panic!()
    };
    assert_eq!(insert.columns, vec!["a", "b"]);
    assert!(matches!(
        parse("LOAD DATA LOCAL INPATH '/tmp/x' OVERWRITE INTO TABLE t"),
        HiveStatement::LoadData {
            local: true,
            overwrite: true,
            ..
        }
    ));
    assert_eq!(
        parse("show tables in db like 'a*'"),
        HiveStatement::ShowTables {
            database: Some("db".into()),
            pattern: Some("a*".into())
        }
    );
    assert!(matches!(
        parse("describe formatted t"),
        HiveStatement::Describe {
            detail: DescribeDetail::Formatted,
            ..
        }
    ));
}

#[test]
fn view_keeps_its_text() {
    let HiveStatement::CreateView(view) =
        parse("CREATE VIEW v COMMENT 'c' AS SELECT a\n FROM t WHERE a > 1")
    else {
        panic!()
    };
    assert_eq!(view.query_text, "SELECT a\n FROM t WHERE a > 1");
}

#[test]
fn hive_literals_and_errors() {
    let HiveStatement::Query(query) = parse(r"select 'it\'s', 'a\tb'") else {
        panic!()
    };
    let text = query.to_string();
    assert!(
        text.contains("it''s") || text.contains("it\\'s") || text.contains("it's"),
        "{text}"
    );
    let error = parse_statement("select * from t\n  where (a = ").unwrap_err();
    assert_eq!(error.line, 2);
    let error = parse_statement("CREATE TABLE t (a INTEGR)").unwrap_err();
    assert!(error.message.contains("unknown type"), "{}", error.message);
    assert_eq!((error.line, error.column), (1, 19));
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let deep = format!("select {}1{}", "(".repeat(500), ")".repeat(500));
    for sql in [
        "",
        ";",
        "select 'unterminated",
        "select \"unterminated",
        "select `unterminated",
        "select '\\",
        "create table t (a array<int)",
        "create table t (a struct<>)",
        "create table t (a map<int>)",
        "create table t (a decimal(99,2))",
        "create table t (a varchar(0))",
        "create table t (a int) row format delimited fields terminated by",
        "insert into t partition (",
        "insert overwrite table t partition (a=-) select 1",
        "load data inpath",
        "describe",
        "show",
        "alter table t rename to",
        "create view v as",
        "select ${",
        "select 1 /* unterminated comment",
        "ÿ§ select ☃",
        deep.as_str(),
    ] {
        let _ = parse_statement(sql);
    }
    assert!(parse_statement("create table t (a array<int)").is_err());
    assert!(parse_statement("").is_err());
}

#[test]
fn a_partial_multi_word_match_consumes_nothing() {
    // `ADD` starts both `ADD COLUMNS` and `ADD PARTITION`; `IF` starts `IF NOT EXISTS` and `IF EXISTS`.
    assert!(matches!(
        parse("alter table t add partition (a='1')"),
        HiveStatement::AlterTable {
            action: AlterTable::AddPartitions { .. },
            ..
        }
    ));
    assert!(matches!(
        parse("alter table t drop if exists partition (a='1')"),
        HiveStatement::AlterTable {
            action: AlterTable::DropPartitions {
                if_exists: true,
                ..
            },
            ..
        }
    ));
    assert!(matches!(
        parse("drop database if exists d"),
        HiveStatement::DropDatabase {
            if_exists: true,
            ..
        }
    ));
}

#[test]
fn multi_insert_branches_share_the_from_clause() {
    let HiveStatement::MultiInsert { source, inserts } = parse(
        "FROM src s JOIN dim d ON s.k = d.k AND d.tag = 'it\\'s'
         INSERT OVERWRITE TABLE a PARTITION (dt='x', hr) SELECT s.v, s.hr WHERE s.v > 1
         INSERT INTO b SELECT d.tag, count(*) GROUP BY d.tag",
    ) else {
        panic!("not a multi-insert")
    };
    assert_eq!(source.tables.len(), 1);
    assert!(source.with.is_none());
    assert_eq!(inserts.len(), 2);
    assert!(inserts[0].overwrite && !inserts[1].overwrite);
    assert_eq!(inserts[1].table.to_string(), "b");
    for insert in &inserts {
        let text = insert.query.to_string();
        assert!(
            text.contains("FROM src s JOIN dim d ON s.k = d.k AND d.tag = 'it''s'"),
            "{text}"
        );
    }
    assert!(inserts[0].query.to_string().ends_with("WHERE s.v > 1"));
}

#[test]
fn a_with_query_after_a_comment_parses() {
    let statement = parse("-- a note\n/* and another */ with r as (select 1 as a) select a from r");
    assert!(
        matches!(statement, HiveStatement::Query(_)),
        "{statement:?}"
    );
}
