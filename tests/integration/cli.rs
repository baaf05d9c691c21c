//! The batch command line: -e, -f, -i, variables, output forms, errors and exit codes.

use crate::Sandbox;

#[test]
fn execute_prints_hive_cli_rows() {
    let sandbox = Sandbox::new();
    let out = sandbox.sql(
        "select 1, 'a', cast(null as int), true, 1.5, array(1,2), named_struct('a', 1, 'b', 'x')",
    );
    assert_eq!(out, "1\ta\tNULL\ttrue\t1.5\t[1,2]\t{\"a\":1,\"b\":\"x\"}\n");
}

#[test]
fn header_and_output_formats() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["-S", "--header", "-e", "select 1 as x, 'b' as y"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "x\ty\n1\tb\n");
    let out = sandbox.run(&[
        "-S",
        "--hiveconf",
        "hive.cli.print.header=true",
        "--output-format",
        "csv",
        "-e",
        "select 'a,b' as x",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "x\n\"a,b\"\n");
    let out = sandbox.run(&[
        "-S",
        "--output-format",
        "json",
        "-e",
        "select 1 as x, cast(null as string) as y",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"x\":1,\"y\":null}\n"
    );
    let out = sandbox.run(&["-S", "--output-format", "table", "-e", "select 1 as x"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "+---+\n| x |\n+---+\n| 1 |\n+---+\n"
    );
}

#[test]
fn script_with_variables_and_init_file() {
    let sandbox = Sandbox::new();
    let init = sandbox.write("init.hql", "set hivevar:greeting=hello;\n");
    let script = sandbox.write(
        "script.hql",
        "-- a comment\ncreate table t (id int, name string);\ninsert into t values (1, '${greeting}'), (2, '${hivevar:who}');\nselect * from t order by id;\n",
    );
    let out = sandbox.run(&[
        "-S",
        "-i",
        init.to_str().unwrap(),
        "--hivevar",
        "who=world",
        "-f",
        script.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\thello\n2\tworld\n");
}

#[test]
fn first_error_stops_the_script_with_its_position() {
    let sandbox = Sandbox::new();
    let script = sandbox.write("bad.hql", "select 1;\n\nselect * frm t;\nselect 2;\n");
    let out = sandbox.run(&["-S", "-f", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(":3:"), "error names line 3: {stderr}");

    let out = sandbox.run(&["-S", "--force", "-f", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n2\n");

    let out = sandbox.run(&["-S", "-e", "select * from missing_table"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Table not found: default.missing_table")
    );
}

#[test]
fn verbose_echoes_and_non_silent_reports_time() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["-v", "-e", "select 7"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "select 7\n7\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Fetched: 1 row(s)"));
}

#[test]
fn catalog_persists_across_processes() {
    let sandbox = Sandbox::new();
    sandbox.sql("create database sales comment 'money'; create table sales.orders (id bigint) stored as parquet; insert into sales.orders values (10), (20)");
    assert_eq!(sandbox.sql("show databases"), "default\nsales\n");
    assert_eq!(sandbox.sql("use sales; show tables"), "orders\n");
    assert_eq!(sandbox.sql("select sum(id) from sales.orders"), "30\n");
}

#[test]
fn repl_reads_multiline_statements_from_stdin() {
    use std::io::Write;
    let sandbox = Sandbox::new();
    let mut child = sandbox
        .command()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start repl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"select\n  41 + 1 as answer;\n")
        .expect("write");
    let out = child.wait_with_output().expect("repl output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("| answer |") && stdout.contains("| 42     |"),
        "{stdout}"
    );
    assert!(stdout.contains("1 row(s) in"), "{stdout}");
}

#[test]
fn set_lists_settings_and_describe_database_shows_location() {
    let sandbox = Sandbox::new();
    let all = sandbox.sql("set -v");
    for expected in [
        "hive.exec.dynamic.partition.mode=strict",
        "hive.cli.print.header=false",
        "datafusion.execution.batch_size=8192",
    ] {
        assert!(
            all.lines().any(|l| l == expected),
            "set -v lacks {expected}"
        );
    }
    // With the header on, `set` lists what the session changed under a `set` header.
    assert_eq!(
        sandbox.sql("set hive.cli.print.header=true; set a.b=c; set hivevar:x=1; set"),
        "set\na.b=c\nhive.cli.print.header=true\nhivevar:x=1\n"
    );
    sandbox.sql("create database sales comment 'money' with dbproperties ('team'='bi')");
    let location = sandbox.warehouse().join("sales.db");
    let described = sandbox.sql("describe database sales");
    assert!(
        described.starts_with(&format!("sales\tmoney\t{}\t", location.display())),
        "{described}"
    );
    let extended = sandbox.sql("describe database extended sales");
    assert!(extended.trim_end().ends_with("{team=bi}"), "{extended}");
}
