//! Statements whose effects are on disk or in text that changes run to run: data files,
//! LOAD's file moves, SHOW CREATE TABLE, DESCRIBE FORMATTED, EXPLAIN, concurrent processes.

use crate::{Sandbox, files_in};

#[test]
fn text_files_are_written_in_hive_format() {
    let sandbox = Sandbox::new();
    sandbox.sql(
        "create table t (id int, tags array<string>, m map<string,int>, s struct<a:int,b:string>, d double, n string, b binary);
         insert into t values (1, array('x', 'y'), map('k', 2), named_struct('a', 3, 'b', 'z'), 1e10, null, 'hi')",
    );
    let dir = sandbox.warehouse().join("t");
    assert_eq!(files_in(&dir), vec!["000000_0"]);
    let content = std::fs::read(dir.join("000000_0")).expect("data file");
    assert_eq!(
        content,
        b"1\x01x\x02y\x01k\x032\x013\x02z\x011.0E10\x01\\N\x01aGk=\n".to_vec()
    );
}

#[test]
fn show_create_table_round_trips() {
    let sandbox = Sandbox::new();
    sandbox.sql(
        "create table src (id int comment 'the key', tags array<string>) comment 'source'
         partitioned by (dt string)
         row format delimited fields terminated by ',' collection items terminated by '|' null defined as ''
         stored as textfile tblproperties ('team'='data')",
    );
    let ddl = sandbox.sql("show create table src");
    assert!(ddl.starts_with("CREATE TABLE `default`.`src`("), "{ddl}");
    assert!(
        ddl.contains("COMMENT 'source'") && ddl.contains("'field.delim'=','"),
        "{ddl}"
    );
    sandbox.sql("create database copy");
    let copy_ddl = ddl.replace("`default`.`src`", "`copy`.`src`").replace(
        &format!("'{}'", sandbox.warehouse().join("src").display()),
        &format!(
            "'{}'",
            sandbox.warehouse().join("copy.db").join("src").display()
        ),
    );
    sandbox.sql(&copy_ddl);
    assert_eq!(
        sandbox.sql("describe copy.src"),
        sandbox.sql("describe default.src")
    );
    sandbox.sql("insert into copy.src partition (dt='d') values (1, array('a', 'b'))");
    let file = sandbox
        .warehouse()
        .join("copy.db")
        .join("src")
        .join("dt=d")
        .join("000000_0");
    assert_eq!(std::fs::read_to_string(file).expect("data file"), "1,a|b\n");
}

#[test]
fn describe_formatted_shows_storage_and_statistics() {
    let sandbox = Sandbox::new();
    sandbox.sql("create table t (id int) stored as parquet; insert into t values (1), (2), (3)");
    let out = sandbox.sql("describe formatted t");
    for expected in [
        "# col_name\tdata_type\tcomment",
        "Table Type:\tMANAGED_TABLE",
        "\tnumRows\t3",
        "\tnumFiles\t1",
        "SerDe Library:\torg.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let location = format!("Location:\t{}", sandbox.warehouse().join("t").display());
    assert!(out.contains(&location), "{out}");
    let out = sandbox.sql("describe extended t");
    assert!(out.contains("Detailed Table Information"), "{out}");
}

#[test]
fn load_data_moves_or_copies_files() {
    let sandbox = Sandbox::new();
    sandbox.sql("create table t (a int, b string) row format delimited fields terminated by ','");
    let local = sandbox.write("local.csv", "1,x\n2,y\n");
    sandbox.sql(&format!(
        "load data local inpath '{}' into table t",
        local.display()
    ));
    assert!(local.exists(), "LOCAL copies");
    let moved = sandbox.write("moved.csv", "3,z\n");
    sandbox.sql(&format!(
        "load data inpath '{}' into table t",
        moved.display()
    ));
    assert!(!moved.exists(), "without LOCAL the file moves");
    assert_eq!(sandbox.sql("select sum(a), count(*) from t"), "6\t3\n");
    assert_eq!(
        files_in(&sandbox.warehouse().join("t")),
        vec!["local.csv", "moved.csv"]
    );

    // Loading the same name again keeps both, as Hive does.
    sandbox.sql(&format!(
        "load data local inpath '{}' into table t",
        local.display()
    ));
    assert_eq!(
        files_in(&sandbox.warehouse().join("t")),
        vec!["local.csv", "local.csv_copy_1", "moved.csv"]
    );

    let dir = sandbox.dir.path().join("batch");
    std::fs::create_dir(&dir).expect("dir");
    std::fs::write(dir.join("part1"), "10,a\n").expect("write");
    std::fs::write(dir.join("part2"), "20,b\n").expect("write");
    std::fs::write(dir.join(".hidden"), "99,h\n").expect("write");
    sandbox.sql(&format!(
        "load data local inpath '{}' overwrite into table t",
        dir.display()
    ));
    assert_eq!(sandbox.sql("select sum(a) from t"), "30\n");

    sandbox.sql("create table p (a int, b string) partitioned by (dt string) row format delimited fields terminated by ','");
    sandbox.sql(&format!(
        "load data local inpath '{}' into table p partition (dt='2024-01-01')",
        local.display()
    ));
    assert_eq!(sandbox.sql("show partitions p"), "dt=2024-01-01\n");
    assert_eq!(
        sandbox.sql("select dt, sum(a) from p group by dt"),
        "2024-01-01\t3\n"
    );
    assert!(
        sandbox
            .warehouse()
            .join("p")
            .join("dt=2024-01-01")
            .join("local.csv")
            .exists()
    );
}

#[test]
fn drop_removes_managed_data_and_keeps_external() {
    let sandbox = Sandbox::new();
    let external = sandbox.dir.path().join("ext");
    sandbox.sql(&format!(
        "create table m (a int); insert into m values (1);
         create external table e (a int) location '{}'; insert into e values (2)",
        external.display()
    ));
    assert!(sandbox.warehouse().join("m").exists());
    sandbox.sql("drop table m; drop table e");
    assert!(!sandbox.warehouse().join("m").exists());
    assert_eq!(files_in(&external), vec!["000000_0"]);

    sandbox.sql("create database d; create table d.t (a int); insert into d.t values (1)");
    assert!(sandbox.warehouse().join("d.db").join("t").exists());
    sandbox.sql("drop database d cascade");
    assert!(!sandbox.warehouse().join("d.db").exists());
}

#[test]
fn explain_shows_the_plan() {
    let sandbox = Sandbox::new();
    sandbox.sql("create table t (a int, b string)");
    let out = sandbox.sql("explain select b, count(*) from t where a > 1 group by b");
    assert!(
        out.contains("logical_plan") && out.contains("Aggregate") && out.contains("TableScan: t"),
        "{out}"
    );
    assert!(out.contains("physical_plan"), "{out}");
    let out = sandbox.sql("explain insert into t select a + 1, b from t");
    assert!(out.contains("Projection"), "{out}");
}

#[test]
fn explain_shows_estimated_rows_from_statistics() {
    let sandbox = Sandbox::new();
    sandbox.sql(
        "create table big (id int, v string) stored as parquet;
         insert into big values (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd');
         create table small (id int, part string) partitioned by (ds string);
         insert into small partition (ds='x') values (1, 'p');
         insert into small partition (ds='y') values (2, 'q'), (3, 'r');
         analyze table big compute statistics for columns",
    );
    let scan_line = |out: &str, scan: &str| {
        out.lines()
            .find(|line| line.contains(scan))
            .map(str::trim)
            .unwrap_or_default()
            .to_string()
    };
    let out = sandbox.sql("explain select * from big");
    let scan = scan_line(&out, "DataSourceExec");
    assert!(
        scan.contains("Rows=Inexact(4)")
            && scan.contains("Max=Inexact(Int32(4)) Null=Inexact(0) Distinct=Inexact(4)"),
        "{out}"
    );
    // Partitions' row counts add up over the partitions the scan reads.
    let out = sandbox.sql("explain select * from small where ds = 'y'");
    assert!(
        scan_line(&out, "TextScanExec").contains("Rows=Inexact(2)"),
        "{out}"
    );
    let out = sandbox.sql("explain select * from small");
    assert!(
        scan_line(&out, "TextScanExec").contains("Rows=Inexact(3)"),
        "{out}"
    );
    // Without statistics in the metastore, a Parquet table's come from its files' footers.
    sandbox.sql(&format!(
        "create external table outside (id int, v string) stored as parquet location '{}'",
        sandbox.warehouse().join("big").display()
    ));
    let out = sandbox.sql("explain select * from outside");
    let scan = scan_line(&out, "DataSourceExec");
    assert!(
        scan.contains("Rows=Inexact(4)") && scan.contains("Max=Inexact(Int32(4))"),
        "{out}"
    );
    // The cost-based join order reads the footers too.
    let out = sandbox.sql(
        "explain cbo select * from outside o join big b on o.id = b.id join small s on s.id = b.id",
    );
    assert!(
        out.contains("TableScan: outside") && !out.contains("rows=unknown"),
        "{out}"
    );
    assert!(
        out.contains("join cost (rows of all join results):"),
        "{out}"
    );
}

#[test]
fn explain_shows_the_rule_based_optimizations() {
    let sandbox = Sandbox::new();
    sandbox.sql(
        "create table facts (a int, b string, v double) stored as parquet;
         insert into facts values (1, 'x', 1.5), (5, 'y', 2.5), (9, 'z', 3.5)",
    );
    let out = sandbox.sql("explain select v from facts where a = 5 and 1 = 1 limit 2");
    let logical: Vec<&str> = out
        .lines()
        .take_while(|l| !l.starts_with("physical_plan"))
        .collect();
    // Constant folding: `1 = 1` is gone; column pruning: the scan reads a and v only.
    assert!(
        logical
            .iter()
            .any(|l| l.trim_start() == "Filter: facts.a = Int32(5)"),
        "{out}"
    );
    assert!(
        logical
            .iter()
            .any(|l| l.contains("TableScan: facts projection=[a, v]")),
        "{out}"
    );
    let scan = out
        .lines()
        .find(|l| l.contains("DataSourceExec"))
        .unwrap_or_default();
    // Predicate pushdown into the Parquet scan, where row groups and pages are pruned by
    // their statistics.
    assert!(
        scan.contains("predicate=a@0 = 5") && scan.contains("pruning_predicate="),
        "{out}"
    );
    // Limit pushdown: the limit reaches the filter above the scan.
    assert!(out.contains("fetch=2"), "{out}");
}

#[test]
fn joins_broadcast_their_small_side_as_hive_auto_convert_join_says() {
    let sandbox = Sandbox::new();
    sandbox.sql(
        "create table facts (id int, v int) stored as parquet;
         insert into facts select value, value * 2 from range(5000);
         create table dims (id int, name string) stored as parquet;
         insert into dims values (1, 'one'), (2, 'two')",
    );
    // The join's line and the first scan under it (its left, build, side).
    let join_and_build = |settings: &str| {
        let out = sandbox.sql(&format!(
            "{settings} explain select f.v, d.name from facts f join dims d on f.id = d.id"
        ));
        let mut below = out.lines().skip_while(|l| !l.contains("HashJoinExec"));
        let join = below.next().unwrap_or_default().trim().to_string();
        let build = below
            .find(|l| l.contains("DataSourceExec"))
            .unwrap_or_default()
            .to_string();
        (join, build)
    };
    let join_line = |settings: &str| join_and_build(settings).0;
    // The small side is the build (left) side, collected once and broadcast: a map join.
    let (broadcast, build) = join_and_build("");
    assert!(broadcast.contains("mode=CollectLeft"), "{broadcast}");
    assert!(build.contains("/dims/"), "{build}");
    // Off, or with a smaller size limit than the small side, both sides are partitioned.
    for settings in [
        "set hive.auto.convert.join=false;",
        "set hive.auto.convert.join.noconditionaltask.size=1;",
    ] {
        let line = join_line(settings);
        assert!(line.contains("mode=Partitioned"), "{settings}: {line}");
    }
}

#[test]
fn explain_counts_the_partitions_scanned() {
    let sandbox = Sandbox::new();
    sandbox.sql(
        "create table e (id int) partitioned by (dt string, hr int) stored as parquet;
         alter table e add partition (dt='a', hr=1) partition (dt='a', hr=2)
             partition (dt='b', hr=1) partition (dt='c', hr=9)",
    );
    let partitions_line = |sql: &str| {
        let out = sandbox.sql(sql);
        out.lines()
            .filter(|line| line.starts_with("partitions_scanned"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        partitions_line("explain select count(*) from e where dt = 'a' and hr = 2"),
        "partitions_scanned\tdefault.e: 1 of 4 partitions"
    );
    assert_eq!(
        partitions_line("explain select * from e where hr between 2 and 9 or dt like 'b%'"),
        "partitions_scanned\tdefault.e: 3 of 4 partitions"
    );
    assert_eq!(
        partitions_line("explain select x.id from e x join e y on x.id = y.id where x.dt = 'c'"),
        "partitions_scanned\tdefault.e: 1 of 4 partitions\npartitions_scanned\tdefault.e: 4 of 4 partitions"
    );
}

#[test]
fn multi_insert_reads_its_source_once() {
    let sandbox = Sandbox::new();
    sandbox.sql("create table src (a int, b string, c double); create table t1 (a int); create table t2 (b string, n bigint); insert into src values (1, 'x', 0.5)");
    let out = sandbox.sql(
        "explain from src insert into t1 select a where a > 1 insert into t2 select b, count(*) group by b",
    );
    let count = |needle: &str| out.lines().filter(|line| line.contains(needle)).count();
    // One physical scan of the table, feeding both branches; column c is read by neither.
    assert_eq!(count("TextScanExec"), 1, "{out}");
    assert_eq!(count("SharedSourceScanExec"), 2, "{out}");
    assert!(out.contains("TableScan: src projection=[a, b]"), "{out}");
    assert!(out.contains("insert into t2: physical_plan"), "{out}");
}

#[test]
fn two_processes_share_one_metastore() {
    let sandbox = Sandbox::new();
    sandbox.sql("create database shared");
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let script: String = (0..15)
                .map(|i| format!("create table shared.t_{w}_{i} (a int); insert into shared.t_{w}_{i} values ({i});\n"))
                .collect();
            sandbox.command().args(["-S", "-e", &script]).spawn().expect("start writer")
        })
        .collect();
    for mut writer in writers {
        assert!(writer.wait().expect("writer").success());
    }
    assert_eq!(sandbox.sql("show tables in shared").lines().count(), 30);
    assert_eq!(sandbox.sql("select sum(a) from shared.t_1_14"), "14\n");
}

#[test]
fn msck_repairs_partitions_from_directories() {
    let sandbox = Sandbox::new();
    sandbox.sql("create table t (a int) partitioned by (dt string, k string)");
    let table_dir = sandbox.warehouse().join("t");
    let partition = table_dir.join("dt=2024-01-01").join("k=a%2Fb");
    std::fs::create_dir_all(&partition).expect("partition dir");
    std::fs::write(partition.join("data"), "7\n").expect("data");
    std::fs::create_dir_all(table_dir.join("junk")).expect("junk dir");

    let report = sandbox.sql("msck table t");
    assert!(
        report.contains("Partitions not in metastore:\tt:dt=2024-01-01/k=a%2Fb"),
        "{report}"
    );
    assert!(
        report.contains("Invalid partition directory (skipped):"),
        "{report}"
    );
    assert_eq!(
        sandbox.sql("select count(*) from t"),
        "0\n",
        "MSCK without REPAIR changes nothing"
    );

    let report = sandbox.sql("msck repair table t");
    assert!(
        report.contains("Repair: Added partition to metastore t:dt=2024-01-01/k=a%2Fb"),
        "{report}"
    );
    assert_eq!(
        sandbox.sql("select a, dt, k from t"),
        "7\t2024-01-01\ta/b\n"
    );

    std::fs::remove_dir_all(table_dir.join("dt=2024-01-01")).expect("remove");
    let report = sandbox.sql("msck repair table t add partitions");
    assert!(
        report.contains("Partitions missing from filesystem:"),
        "{report}"
    );
    assert_eq!(
        sandbox.sql("show partitions t"),
        "dt=2024-01-01/k=a%2Fb\n",
        "ADD drops nothing"
    );
    let report = sandbox.sql("msck repair table t sync partitions");
    assert!(
        report.contains("Repair: Dropped partition from metastore"),
        "{report}"
    );
    assert_eq!(sandbox.sql("show partitions t"), "");
}

#[test]
fn describe_formatted_partition_shows_its_location_and_statistics() {
    let sandbox = Sandbox::new();
    sandbox.sql("create table t (a int) partitioned by (dt string); insert into t partition (dt='x') values (1), (2)");
    let out = sandbox.sql("describe formatted t partition (dt='x')");
    let location = format!(
        "Location:\t{}",
        sandbox.warehouse().join("t").join("dt=x").display()
    );
    for expected in [
        "Partition Value:\t[x]",
        location.as_str(),
        "\tnumRows\t2",
        "\tnumFiles\t1",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // The table's own statistics are its partitions' summed, as Hive 3 shows them.
    sandbox.sql("insert into t partition (dt='y') values (3)");
    let out = sandbox.sql("describe formatted t");
    for expected in ["\tnumPartitions\t2", "\tnumRows\t3", "\tnumFiles\t2"] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
}

#[test]
fn database_location_holds_its_tables() {
    let sandbox = Sandbox::new();
    let place = sandbox.dir.path().join("elsewhere");
    sandbox.sql(&format!(
        "create database d location '{}'; create table d.t (a int); insert into d.t values (1)",
        place.display()
    ));
    assert_eq!(files_in(&place.join("t")), vec!["000000_0"]);
    assert!(!sandbox.warehouse().join("d.db").exists());
}

#[test]
fn text_files_split_into_byte_ranges_read_every_line_once() {
    let sandbox = Sandbox::new();
    // Lines of many lengths, some ending in CRLF, so that range boundaries fall everywhere:
    // at a line's start, inside it, and on its line break.
    let lines: Vec<String> = (1..=300)
        .map(|i| {
            let end = if i % 5 == 0 { "\r\n" } else { "\n" };
            format!("{i}\t{}{end}", "x".repeat(i % 17))
        })
        .collect();
    let data = sandbox.write("lines.txt", &lines.concat());
    let header = sandbox.write("header.txt", &format!("id\ts\n{}", lines.concat()));
    let lengths: usize = (1..=300).map(|i| i % 17).sum();
    let expected = format!("300\t45150\t{lengths}\t1\t300");
    let query = "select count(*), sum(id), sum(length(s)), min(id), max(id)";
    let mut script = format!(
        "create table lines (id int, s string) row format delimited fields terminated by '\\t';
         load data local inpath '{}' into table lines;
         create table headed (id int, s string) row format delimited fields terminated by '\\t'
           tblproperties ('skip.header.line.count'='1');
         load data local inpath '{}' into table headed;
         set datafusion.optimizer.repartition_file_min_size=1;\n",
        data.display(),
        header.display()
    );
    let partitions = [1, 2, 3, 5, 8, 13, 64];
    for n in partitions {
        script.push_str(&format!(
            "set datafusion.execution.target_partitions={n};
             {query} from lines;
             {query} from headed;\n"
        ));
    }
    script.push_str("explain select * from lines;");
    let out = sandbox.sql(&script);
    let answers: Vec<&str> = out.lines().filter(|l| l.starts_with("300\t")).collect();
    assert_eq!(
        answers,
        vec![expected.as_str(); partitions.len() * 2],
        "{out}"
    );
    // The last EXPLAIN, with 64 partitions: one file cut into 64 ranges.
    assert!(
        out.contains("TextScanExec: files=1, splits=64, groups=64"),
        "{out}"
    );
}
