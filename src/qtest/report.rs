//! The runner's report: per test and per statement what Apiary printed, what Hive printed,
//! and whether they match; written as JSON and summarized as text.

use std::fmt::Write as _;

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Report {
    pub tests: Vec<TestReport>,
}

#[derive(Debug, Serialize)]
pub struct TestReport {
    pub name: String,
    /// INIT.sql statements that failed before the test ran.
    pub init_errors: Vec<String>,
    pub statements: Vec<StatementReport>,
}

#[derive(Debug, Serialize)]
pub struct StatementReport {
    pub sql: String,
    /// Whether Hive's output for the statement is compared.
    pub compare: bool,
    /// Whether the statement ran without error.
    pub ok: bool,
    pub error: Option<String>,
    /// The lines Apiary printed, in the Hive CLI's form.
    pub actual: Vec<String>,
    pub expected: Option<Vec<String>>,
    /// Compared, ran, and printed what Hive printed.
    pub passed: bool,
}

impl TestReport {
    /// (passed, compared) statements.
    pub fn counts(&self) -> (usize, usize) {
        let compared = self.statements.iter().filter(|s| s.compare);
        let total = compared.clone().count();
        (compared.filter(|s| s.passed).count(), total)
    }
}

impl Report {
    /// (passed, failed) compared statements over every test.
    pub fn totals(&self) -> (usize, usize) {
        self.tests.iter().fold((0, 0), |(p, f), test| {
            let (passed, total) = test.counts();
            (p + passed, f + total - passed)
        })
    }

    /// The share of compared statements that passed (1 when none are compared).
    pub fn pass_rate(&self) -> f64 {
        let (passed, failed) = self.totals();
        if passed + failed == 0 {
            1.0
        } else {
            passed as f64 / (passed + failed) as f64
        }
    }

    /// One line per test, then each failed statement with the first difference, then
    /// `N passed, M failed`.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        if let Some(test) = self.tests.first() {
            for error in &test.init_errors {
                let _ = writeln!(
                    out,
                    "init failed: {}",
                    error.lines().next().unwrap_or_default()
                );
            }
        }
        for test in &self.tests {
            let (passed, total) = test.counts();
            let mark = if passed == total { "ok  " } else { "FAIL" };
            let _ = writeln!(out, "{mark} {:<40} {passed}/{total}", test.name);
        }
        for test in &self.tests {
            for (index, statement) in test.statements.iter().enumerate() {
                if !statement.compare || statement.passed {
                    continue;
                }
                let first_line = statement.sql.lines().next().unwrap_or_default();
                let why = match &statement.error {
                    Some(error) => format!("error: {}", error.lines().next().unwrap_or_default()),
                    None => first_difference(&statement.actual, statement.expected.as_deref()),
                };
                let _ = writeln!(out, "{}#{}: {first_line}\n    {why}", test.name, index + 1);
            }
        }
        let (passed, failed) = self.totals();
        let _ = writeln!(out, "{passed} passed, {failed} failed");
        out
    }
}

fn first_difference(actual: &[String], expected: Option<&[String]>) -> String {
    let expected = expected.unwrap_or_default();
    if actual.len() != expected.len() {
        return format!("{} lines, expected {}", actual.len(), expected.len());
    }
    actual
        .iter()
        .zip(expected)
        .find(|(a, e)| a != e)
        .map(|(a, e)| format!("got {a:?}, expected {e:?}"))
        .unwrap_or_default()
}
