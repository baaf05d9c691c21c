//! `apiary qtest DIR`: the q-test runner's command line. Hive's golden output was made with
//! TZ=America/Los_Angeles, so the runner re-runs itself in that time zone when the caller's
//! differs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::qtest::{self, TEST_TIME_ZONE};

pub fn run(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    tests: &[String],
    report: Option<&PathBuf>,
    min_pass_rate: Option<f64>,
) -> ExitCode {
    if std::env::var("TZ").ok().as_deref() != Some(TEST_TIME_ZONE) {
        return rerun_in_test_time_zone();
    }
    let result = match runtime.block_on(qtest::run(dir, tests)) {
        Ok(result) => result,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", result.summary());
    if let Some(path) = report {
        let written = serde_json::to_vec_pretty(&result)
            .map_err(|e| e.to_string())
            .and_then(|json| std::fs::write(path, json).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("Error: cannot write report {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    let rate = result.pass_rate();
    match min_pass_rate {
        Some(minimum) if rate < minimum => {
            eprintln!(
                "Error: statement pass rate {:.4} is below the recorded {minimum:.4}",
                rate
            );
            ExitCode::FAILURE
        }
        _ => {
            println!("pass rate {rate:.4}");
            ExitCode::SUCCESS
        }
    }
}

fn rerun_in_test_time_zone() -> ExitCode {
    let status = std::env::current_exe().and_then(|exe| {
        std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("TZ", TEST_TIME_ZONE)
            .status()
    });
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("Error: cannot re-run in time zone {TEST_TIME_ZONE}: {e}");
            ExitCode::FAILURE
        }
    }
}
