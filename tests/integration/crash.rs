//! A writer killed in the middle of an INSERT leaves the table as it was.

use std::time::{Duration, Instant};

use crate::{Sandbox, files_in};

#[test]
fn killed_insert_leaves_table_intact() {
    let sandbox = Sandbox::new();
    sandbox.sql("create table t (id bigint, name string); insert into t values (1, 'a'), (2, 'b'), (3, 'c')");
    let table_dir = sandbox.warehouse().join("t");
    let before = files_in(&table_dir);
    assert_eq!(before, vec!["000000_0"]);

    let mut writer = sandbox
        .command()
        .args(["-S", "-e", "insert overwrite table t select value, 'padding-padding-padding' from range(1000000000)"])
        .spawn()
        .expect("start writer");
    // Wait until the writer has staged data, then kill it without warning.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let staged = files_in(&table_dir)
            .into_iter()
            .find(|n| n.starts_with(".apiary-staging-"));
        let size = staged
            .map(|dir| {
                files_in(&table_dir.join(&dir))
                    .iter()
                    .map(|f| {
                        std::fs::metadata(table_dir.join(&dir).join(f))
                            .map(|m| m.len())
                            .unwrap_or(0)
                    })
                    .sum::<u64>()
            })
            .unwrap_or(0);
        if size > 1_000_000 {
            break;
        }
        assert!(Instant::now() < deadline, "the writer never staged data");
        assert!(
            writer.try_wait().expect("poll writer").is_none(),
            "the writer finished before it was killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    writer.kill().expect("kill writer");
    writer.wait().expect("reap writer");

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

    let mut writer = sandbox
        .command()
        .args([
            "-S",
            "-e",
            "insert overwrite table p partition (dt='a') select value, 'padding-padding-padding' from range(1000000000)",
        ])
        .spawn()
        .expect("start writer");
    let deadline = Instant::now() + Duration::from_secs(60);
    while staged_bytes(&partition_dir) < 1_000_000 {
        assert!(Instant::now() < deadline, "the writer never staged data");
        assert!(
            writer.try_wait().expect("poll writer").is_none(),
            "the writer finished before it was killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    writer.kill().expect("kill writer");
    writer.wait().expect("reap writer");

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

/// Bytes in the staging directories inside `dir`.
fn staged_bytes(dir: &std::path::Path) -> u64 {
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
