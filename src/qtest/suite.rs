//! A q-test suite on disk, in the layout of Hive's test harness: `INIT.sql` (the standard
//! tables), `data/` (the files they and the tests load), and `expected/<test>.json` (each
//! test's commands in order, which ones are compared and the lines Hive printed for them).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{ApiaryError, Result};

/// One command of a test, as Hive's driver ran it.
#[derive(Debug, Clone, Deserialize)]
pub struct Command {
    /// `config` for `set`/`reset` (they print nothing), `statement` otherwise.
    pub kind: String,
    pub sql: String,
    #[serde(default)]
    pub compare: bool,
    #[serde(default)]
    pub sort_rows: bool,
    #[serde(default)]
    pub header: bool,
    #[serde(default)]
    pub expected: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Test {
    pub name: String,
    pub statements: Vec<Command>,
}

#[derive(Debug)]
pub struct Suite {
    pub dir: PathBuf,
    pub init_sql: String,
}

impl Suite {
    pub fn open(dir: &Path) -> Result<Suite> {
        let dir = dir
            .canonicalize()
            .map_err(|e| ApiaryError::io(format!("cannot open suite {}", dir.display()), e))?;
        let init = dir.join("INIT.sql");
        let init_sql = std::fs::read_to_string(&init)
            .map_err(|e| ApiaryError::io(format!("cannot read {}", init.display()), e))?;
        Ok(Suite { dir, init_sql })
    }

    /// The directory the suite's data files are in.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The names of every test with expected output, sorted.
    pub fn test_names(&self) -> Result<Vec<String>> {
        let expected = self.dir.join("expected");
        let entries = std::fs::read_dir(&expected)
            .map_err(|e| ApiaryError::io(format!("cannot list {}", expected.display()), e))?;
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".json").map(str::to_string)
            })
            .collect();
        names.sort();
        Ok(names)
    }

    pub fn test(&self, name: &str) -> Result<Test> {
        let path = self.dir.join("expected").join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ApiaryError::io(format!("cannot read test {}", path.display()), e))?;
        serde_json::from_str(&text)
            .map_err(|e| ApiaryError::Execution(format!("{}: {e}", path.display())))
    }

    /// A test's command with the harness's relative data paths pointing into `data/`.
    pub fn localize(&self, sql: &str) -> String {
        let data = format!("{}/", self.data_dir().display());
        sql.replace("'../../data/files/", &format!("'{data}"))
            .replace("\"../../data/files/", &format!("\"{data}"))
    }
}
