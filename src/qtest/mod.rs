//! `apiary qtest DIR`: runs Hive q-tests as Hive's test driver does and compares what Apiary
//! prints with Hive's golden output.
//!
//! Each test starts from a fresh warehouse and metastore holding the suite's `INIT.sql` tables,
//! in a session running on one partition, as Hive's driver runs on one reducer.
//! Its commands run in order in one session; `set`/`reset` are configuration. The statements
//! the suite marks as compared pass when they run and print, in the Hive CLI's form, the lines
//! Hive printed (as sorted lists when the test sorts its results).

mod report;
mod suite;

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::Duration;

use futures::FutureExt;

pub use report::{Report, StatementReport, TestReport};
pub use suite::Suite;

use crate::cli::output::rendered_rows;
use crate::config::ApiaryConfig;
use crate::driver::script::split_statements;
use crate::driver::{Engine, Session, StatementOutput};
use crate::error::{ApiaryError, Result};

/// The time zone Hive's test driver runs in; dates and timestamps print in it.
pub const TEST_TIME_ZONE: &str = "America/Los_Angeles";

/// The longest one statement may run.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `names` (every test when empty) of the suite in `dir`.
pub async fn run(dir: &Path, names: &[String]) -> Result<Report> {
    let suite = Suite::open(dir)?;
    let names = if names.is_empty() {
        suite.test_names()?
    } else {
        names.to_vec()
    };
    let mut tests = Vec::with_capacity(names.len());
    for name in names {
        tests.push(run_test(&suite, &name).await?);
    }
    Ok(Report { tests })
}

async fn run_test(suite: &Suite, name: &str) -> Result<TestReport> {
    let test = suite.test(name)?;
    let home = tempfile::tempdir()
        .map_err(|e| ApiaryError::io("cannot create a test warehouse".to_string(), e))?;
    let engine = Engine::open(ApiaryConfig {
        warehouse: home.path().join("warehouse"),
        metastore: home.path().join("metastore.db"),
    })?;
    let mut session = engine.new_session();
    let init_errors = initialize(suite, &mut session).await?;
    let mut statements = Vec::new();
    for command in &test.statements {
        let sql = suite.localize(&command.sql);
        let outcome = run_statement(&mut session, &sql, command.header).await;
        if command.kind == "config" {
            // `reset` restores the defaults, not the harness's single reducer.
            run_like_one_reducer(&mut session)?;
            continue;
        }
        let (actual, error) = match outcome {
            Ok(lines) => (lines, None),
            Err(message) => (Vec::new(), Some(message)),
        };
        let passed = command.compare
            && error.is_none()
            && matches(&actual, command.expected.as_deref(), command.sort_rows);
        statements.push(StatementReport {
            sql: command.sql.clone(),
            compare: command.compare,
            ok: error.is_none(),
            error,
            actual,
            expected: command.expected.clone(),
            passed,
        });
    }
    Ok(TestReport {
        name: test.name,
        init_errors,
        statements,
    })
}

/// Creates the suite's standard tables. A statement that fails is reported and the others
/// still run, so that tests not reading its table are measured.
async fn initialize(suite: &Suite, session: &mut Session) -> Result<Vec<String>> {
    session.set("test.data.dir", &suite.data_dir().display().to_string())?;
    let mut errors = Vec::new();
    for statement in split_statements(&suite.init_sql) {
        if let Err(e) = session.execute(&statement.text).await {
            errors.push(format!("INIT.sql line {}: {e}", statement.line));
        }
    }
    // After INIT.sql, whose `reset` would undo it.
    run_like_one_reducer(session)?;
    Ok(errors)
}

/// Hive's driver runs the tests with one reducer: rows reach LIMIT and the output in file
/// order, and results do not vary with the machine's cores.
fn run_like_one_reducer(session: &mut Session) -> Result<()> {
    session.set("datafusion.execution.target_partitions", "1")
}

/// Runs one statement and renders its rows as the Hive CLI prints them; an error, a panic or
/// a timeout becomes the message.
async fn run_statement(
    session: &mut Session,
    sql: &str,
    header: bool,
) -> std::result::Result<Vec<String>, String> {
    let run = AssertUnwindSafe(session.execute(sql)).catch_unwind();
    let output = match tokio::time::timeout(STATEMENT_TIMEOUT, run).await {
        Err(_) => return Err(format!("timed out after {}s", STATEMENT_TIMEOUT.as_secs())),
        Ok(Err(panic)) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return Err(format!("internal error (panic): {message}"));
        }
        Ok(Ok(result)) => result.map_err(|e| e.to_string())?,
    };
    Ok(match output {
        StatementOutput::Done => Vec::new(),
        StatementOutput::Rows { schema, batches } => {
            let mut lines = Vec::new();
            if header {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                lines.push(names.join("\t"));
            }
            // A value holding a newline prints as two lines, as in the CLI.
            for row in rendered_rows(&batches) {
                lines.extend(row.join("\t").split('\n').map(str::to_string));
            }
            lines
        }
    })
}

fn matches(actual: &[String], expected: Option<&[String]>, sort_rows: bool) -> bool {
    let expected = expected.unwrap_or_default();
    if !sort_rows {
        return actual == expected;
    }
    let mut actual = actual.to_vec();
    let mut expected = expected.to_vec();
    actual.sort();
    expected.sort();
    actual == expected
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn sorted_tests_compare_as_sorted_lists() {
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let expected = lines(&["a\t1", "b\t2"]);
        assert!(matches(&lines(&["b\t2", "a\t1"]), Some(&expected), true));
        assert!(!matches(&lines(&["b\t2", "a\t1"]), Some(&expected), false));
        assert!(!matches(&lines(&["a\t1"]), Some(&expected), true));
        assert!(matches(&[], None, false));
    }
}
