//! Queries and writes of one table in different processes: a query sees a write whole or
//! not at all, and a commit waits for the queries reading its table.

use std::fs::File;
use std::process::Stdio;
use std::time::Duration;

use crate::Sandbox;

#[test]
fn an_overwrite_waits_for_the_queries_reading_its_table() {
    let sandbox = Sandbox::new();
    sandbox.sql(
        "create table p (id int) partitioned by (dt string);
         insert into p partition (dt='a') values (1), (2)",
    );
    // A query in progress holds the table's shared lock.
    let lock = File::open(sandbox.warehouse().join("p").join(".apiary-lock")).expect("lock file");
    lock.lock_shared().expect("shared lock");
    let mut writer = sandbox
        .command()
        .args([
            "-S",
            "-e",
            "insert overwrite table p partition (dt='a') values (7)",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start writer");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        writer.try_wait().expect("writer status").is_none(),
        "the writer committed while the table was being read"
    );
    assert_eq!(sandbox.sql("select sum(id) from p"), "3\n");
    drop(lock);
    let status = writer.wait().expect("writer ends");
    assert!(status.success());
    assert_eq!(sandbox.sql("select sum(id) from p"), "7\n");
}

#[test]
fn concurrent_queries_see_each_overwrite_whole() {
    let sandbox = Sandbox::new();
    sandbox.sql(
        "create table g (generation int, n int) partitioned by (dt string) stored as parquet;
         insert into g partition (dt='x') select 0, value from range(3)",
    );
    let overwrites: String = (1..=25)
        .map(|generation| {
            format!(
                "insert overwrite table g partition (dt='x') select {generation}, value from range(3);\n"
            )
        })
        .collect();
    let script = sandbox.write("overwrites.hql", &overwrites);
    let mut writer = sandbox
        .command()
        .args(["-S", "-f"])
        .arg(&script)
        .stdout(Stdio::null())
        .spawn()
        .expect("start writer");
    let query = "select count(*), min(generation) = max(generation) from g where dt = 'x';\n";
    let reads = sandbox.write("reads.hql", &query.repeat(40));
    let output = sandbox
        .command()
        .args(["-S", "-f"])
        .arg(&reads)
        .output()
        .expect("run reader");
    assert!(writer.wait().expect("writer ends").success());
    assert!(output.status.success());
    let lines = String::from_utf8_lossy(&output.stdout);
    assert_eq!(lines.lines().count(), 40);
    for line in lines.lines() {
        assert_eq!(line, "3\ttrue", "a query saw part of an overwrite");
    }
}
