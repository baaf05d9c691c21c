//! A writer killed in the middle of an INSERT leaves the table as it was.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::{Sandbox, files_in};

#[test]
fn killed_insert_leaves_table_intact() {
    let sandbox = Sandbox::new();
    sandbox.sql("create table t (id bigint, name string); insert into t values (1, 'a'), (2, 'b'), (3, 'c')");
    let table_dir = sandbox.warehouse().join("t");
    let before = files_in(&table_dir);
    assert_eq!(before, vec!["000000_0"]);

    kill_writer_once_staged(
        &sandbox,
        "insert overwrite table t select value, 'padding-padding-padding' from range(1000000000)",
        &table_dir,
    );

    assert_eq!(sandbox.sql("select count(*), sum(id) from t"), "3\t6\n");
    // The reader removed the dead writer's staging directory.
    assert_eq!(files_in(&table_dir), before);
}

#[test]
fn killed_partition_overwrite_leaves_the_old_partition() {
    let sandbox = Sandbox::new();
    sandbox.sql(
        "create table p (id bigint, pad string) partitioned by (dt string);
         insert into p partition (dt='a') values (1, 'x'), (2, 'y');
         insert into p partition (dt='b') values (10, 'z')",
    );
    let partition_dir = sandbox.warehouse().join("p").join("dt=a");
    let before = files_in(&partition_dir);

    kill_writer_once_staged(
        &sandbox,
        "insert overwrite table p partition (dt='a') select value, 'padding-padding-padding' from range(1000000000)",
        &partition_dir,
    );

    assert_eq!(
        sandbox.sql("select dt, count(*), sum(id) from p group by dt order by dt"),
        "a\t2\t3\nb\t1\t10\n"
    );
    assert_eq!(
        files_in(&partition_dir),
        before,
        "no staging files are left visible"
    );
}

/// Starts `apiary -e sql`, waits until it has staged over a megabyte in `dir`, and kills it
/// without warning.
fn kill_writer_once_staged(sandbox: &Sandbox, sql: &str, dir: &Path) {
    let mut writer = sandbox
        .command()
        .args(["-S", "-e", sql])
        .spawn()
        .expect("start writer");
    let deadline = Instant::now() + Duration::from_secs(60);
    while staged_bytes(dir) < 1_000_000 {
        assert!(Instant::now() < deadline, "the writer never staged data");
        assert!(
            writer.try_wait().expect("poll writer").is_none(),
            "the writer finished before it was killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    writer.kill().expect("kill writer");
    writer.wait().expect("reap writer");
}

/// Bytes in the staging directories inside `dir`.
fn staged_bytes(dir: &Path) -> u64 {
    files_in(dir)
        .into_iter()
        .filter(|name| name.starts_with(".apiary-staging-"))
        .flat_map(|staging| {
            let staging = dir.join(staging);
            files_in(&staging).into_iter().map(move |f| {
                std::fs::metadata(staging.join(f))
                    .map(|m| m.len())
                    .unwrap_or(0)
            })
        })
        .sum()
}
