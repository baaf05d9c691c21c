//! Integration tests: the `apiary` binary run as a user runs it.

mod cli;
mod crash;
mod isolation;
mod qtest;
mod resources;
mod server;
mod statements;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A warehouse and metastore of its own, and a way to run `apiary` on them.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub fn warehouse(&self) -> PathBuf {
        self.dir.path().join("warehouse")
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_apiary"));
        command
            .env("APIARY_HOME", self.dir.path().join("home"))
            .env("APIARY_WAREHOUSE", self.warehouse())
            .env("APIARY_METASTORE", self.dir.path().join("metastore.db"))
            .env_remove("APIARY_CONFIG");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run apiary")
    }

    /// Runs `-S -e sql` and returns stdout, failing the test on a non-zero exit.
    pub fn sql(&self, sql: &str) -> String {
        let output = self.run(&["-S", "-e", sql]);
        assert!(
            output.status.success(),
            "apiary -e {sql:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("write file");
        path
    }
}

/// The names in `dir`, sorted, but for the table lock file that every table directory may hold.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name != ".apiary-lock")
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
