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
