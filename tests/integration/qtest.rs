//! `apiary qtest`: a miniature suite in Hive's harness layout, run end to end.

use std::path::PathBuf;

use crate::Sandbox;

fn suite() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/qtest_suite")
}

#[test]
fn runs_each_test_from_the_init_state_and_reports_every_statement() {
    let sandbox = Sandbox::new();
    let report = sandbox.dir.path().join("report.json");
    let suite = suite();
    let output = sandbox
        .command()
        .arg("qtest")
        .arg(&suite)
        .arg("--report")
        .arg(&report)
        .args(["--min-pass-rate", "0.5"])
        .output()
        .expect("run qtest");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("FAIL basic"), "{stdout}");
    assert!(stdout.contains("ok   fresh"), "{stdout}");
    // The count is wrong and the last statement fails: both are listed with the reason.
    assert!(
        stdout.contains("basic#4: SELECT count(*) FROM small\n    got \"3\", expected \"4\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("basic#5: SELECT nonsense FROM small\n    error:"),
        "{stdout}"
    );
    assert!(stdout.contains("2 passed, 2 failed\n"), "{stdout}");

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("report JSON");
    let basic = &json["tests"][0];
    assert_eq!(basic["name"], "basic");
    let statements = basic["statements"].as_array().expect("statements");
    // The `set` is configuration, not a statement of the report.
    assert_eq!(statements.len(), 5);
    let sorted = &statements[2];
    assert_eq!(sorted["passed"], true);
    assert_eq!(sorted["ok"], true);
    assert_eq!(
        sorted["actual"],
        serde_json::json!(["1\tone", "2\ttwo", "3\tNULL"])
    );
    let failing = &statements[4];
    assert_eq!(failing["ok"], false);
    assert!(
        failing["error"]
            .as_str()
            .is_some_and(|e| e.contains("nonsense"))
    );

    let strict = sandbox
        .command()
        .arg("qtest")
        .arg(&suite)
        .args(["--test", "basic", "--min-pass-rate", "0.9"])
        .output()
        .expect("run qtest");
    assert!(!strict.status.success());
    assert!(String::from_utf8_lossy(&strict.stderr).contains("below the recorded 0.9000"));
}
