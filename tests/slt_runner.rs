//! Runs every `tests/slt/*.slt` file against a fresh Apiary (its own warehouse and
//! metastore), reporting each file as a test. `${hivevar:test_data}` names `tests/data`,
//! `${hivevar:scratch}` a scratch directory of the file's own. An argument filters files
//! by name.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use apiary::cli::output::rendered_rows;
use apiary::config::ApiaryConfig;
use apiary::{Engine, Session, StatementOutput};
use async_trait::async_trait;
use sqllogictest::{DBOutput, DefaultColumnType};

struct ApiaryDb {
    session: Session,
}

#[derive(Debug)]
struct SltError(String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

#[async_trait]
impl sqllogictest::AsyncDB for ApiaryDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let output = self
            .session
            .execute(sql.trim().trim_end_matches(';'))
            .await
            .map_err(|e| SltError(e.to_string()))?;
        Ok(match output {
            StatementOutput::Done => DBOutput::StatementComplete(0),
            StatementOutput::Rows { schema, batches } => {
                // sqllogictest writes an empty string as `(empty)`. Values are compared without
                // the trailing padding of Hive's DESCRIBE layout (the q-tests check that).
                let rows = rendered_rows(&batches)
                    .into_iter()
                    .map(|row| {
                        row.into_iter()
                            .map(|v| {
                                let v = v.trim_end();
                                if v.is_empty() {
                                    "(empty)".to_string()
                                } else {
                                    v.to_string()
                                }
                            })
                            .collect()
                    })
                    .collect();
                DBOutput::Rows {
                    types: vec![DefaultColumnType::Any; schema.fields().len()],
                    rows,
                }
            }
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "apiary"
    }

    async fn sleep(duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}

async fn run_file(path: &Path) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = ApiaryConfig {
        warehouse: dir.path().join("warehouse"),
        metastore: dir.path().join("metastore.db"),
    };
    let engine: Arc<Engine> = Engine::open(config).map_err(|e| e.to_string())?;
    let scratch = dir.path().join("scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let test_data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data");
    let mut runner = sqllogictest::Runner::new(move || {
        let mut session = engine.new_session();
        session.set_hivevar("test_data", &test_data.display().to_string());
        session.set_hivevar("scratch", &scratch.display().to_string());
        async move { Ok::<_, SltError>(ApiaryDb { session }) }
    });
    runner
        .run_file_async(path)
        .await
        .map_err(|e| e.display(true).to_string())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "slt"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let (mut passed, mut failed) = (0, 0);
    for file in files {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        match run_file(&file).await {
            Ok(()) => {
                println!("test slt::{name} ... ok");
                passed += 1;
            }
            Err(e) => {
                println!("test slt::{name} ... FAILED\n{e}");
                failed += 1;
            }
        }
    }
    println!("\nslt: {passed} passed, {failed} failed");
    if failed == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
