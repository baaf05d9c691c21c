//! What a query costs, as users see it: EXPLAIN ANALYZE's rows and time per operator, and
//! the memory limit (spilling past it, or a clear error where an operator cannot spill).

use crate::Sandbox;

/// The `name=value` metric of the plan line that starts (after its indentation) with `operator`.
fn metric<'a>(plan: &'a str, operator: &str, name: &str) -> Option<&'a str> {
    let line = plan
        .lines()
        .map(|l| l.split('\t').next_back().unwrap_or(l).trim_start())
        .find(|l| l.starts_with(operator))?;
    let metrics = &line[line.find("metrics=[")? + "metrics=[".len()..];
    let metrics = &metrics[..metrics.find(']').unwrap_or(metrics.len())];
    metrics
        .split(", ")
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

#[test]
fn explain_analyze_shows_rows_and_time_per_operator() {
    let sandbox = Sandbox::new();
    let data = sandbox.write(
        "events.txt",
        &(1..=500)
            .map(|i| format!("{i}\t{}\n", i % 7))
            .collect::<String>(),
    );
    let plan = sandbox.sql(&format!(
        "create table events (id int, kind int) row format delimited fields terminated by '\\t';
         load data local inpath '{}' into table events;
         explain analyze select kind, count(*) from events where id > 100 group by kind",
        data.display()
    ));
    assert_eq!(
        metric(&plan, "TextScanExec", "output_rows"),
        Some("500"),
        "{plan}"
    );
    assert_eq!(
        metric(&plan, "TextScanExec", "files_opened"),
        Some("1"),
        "{plan}"
    );
    assert!(
        metric(&plan, "TextScanExec", "bytes_scanned").is_some(),
        "{plan}"
    );
    assert!(
        metric(&plan, "TextScanExec", "elapsed_compute").is_some(),
        "{plan}"
    );
    assert_eq!(
        metric(&plan, "FilterExec", "output_rows"),
        Some("400"),
        "{plan}"
    );
    assert_eq!(
        metric(&plan, "AggregateExec: mode=FinalPartitioned", "output_rows"),
        Some("7"),
        "{plan}"
    );
    // The estimates plain EXPLAIN shows give way to what happened.
    assert!(!plan.contains("statistics=["), "{plan}");
}

#[test]
fn past_the_memory_limit_sorts_spill_and_hash_joins_fail_clearly() {
    let sandbox = Sandbox::new();
    // 400,000 rows of about 50 bytes: some 20 MB, sorted under a 16 MB limit.
    sandbox.sql(
        "create table big stored as parquet as
         select pos as id, concat(lpad(cast(cast(pos as bigint) * 7919 % 400009 as string), 7, '0'), repeat('x', 40)) as s
         from (select posexplode(split(space(399999), ' '))) g",
    );
    let limited = "set apiary.memory.limit=16MB; set datafusion.explain.analyze_level=dev;";

    let plan = sandbox.sql(&format!(
        "{limited} explain analyze select s from big order by s"
    ));
    let spills: usize = metric(&plan, "SortExec", "spill_count")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(spills > 0, "the sort spilled: {plan}");

    let sorted = sandbox.sql(&format!("{limited} select s from big order by s"));
    let rows: Vec<&str> = sorted.lines().collect();
    assert_eq!(rows.len(), 400_000);
    assert!(
        rows.windows(2).all(|pair| pair[0] <= pair[1]),
        "rows come out sorted"
    );

    let out = sandbox.run(&[
        "-S",
        "-e",
        &format!("{limited} select count(*) from big a join big b on a.s = b.s"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Query ran out of memory"), "{stderr}");
    assert!(stderr.contains("SET apiary.memory.limit"), "{stderr}");

    // Without the limit the same join runs.
    assert_eq!(
        sandbox.sql("select count(*) from big a join big b on a.s = b.s"),
        "400000\n"
    );

    let out = sandbox.run(&["-S", "-e", "set apiary.memory.limit=lots"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("Invalid value for apiary.memory.limit: 'lots'")
    );
}

/// Under a small limit, a repartition's buffers used to spill, and DataFusion 55's spilled
/// repartition could stop the query for good (apache/datafusion#24883): this distinct count
/// never returned. It finishes, with the answer it has without the limit.
#[test]
fn grouped_distinct_counts_under_a_small_limit_finish() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let sandbox = Sandbox::new();
    sandbox.sql(
        "create table traces as select value % 13 as g, md5(cast(value % 337 as string)) as id
         from generate_series(1, 40000)",
    );
    let query = "select g, count(distinct id) from traces group by g order by g;";
    let expected = sandbox.sql(query);
    let limited = format!(
        "set datafusion.execution.target_partitions=2; set datafusion.execution.batch_size=64;
         set apiary.memory.limit=2MB; {}",
        query.repeat(3)
    );
    let mut child = sandbox
        .command()
        .args(["-S", "-e", &limited])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start apiary");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("poll apiary").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the query under a 2 MB limit did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("apiary's output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected.repeat(3));
}
