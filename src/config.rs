//! Where Apiary keeps its warehouse and metastore: from command-line flags, then environment
//! (`APIARY_WAREHOUSE`, `APIARY_METASTORE`, `APIARY_HOME`), then a config file
//! (`APIARY_CONFIG` or `$APIARY_HOME/apiary.conf`), then defaults under `~/.apiary`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{ApiaryError, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiaryConfig {
    /// Root directory of managed tables; the `default` database lives here.
    pub warehouse: PathBuf,
    /// The embedded metastore's SQLite file.
    pub metastore: PathBuf,
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Clone, Default)]
pub struct ConfigOverrides {
    pub warehouse: Option<PathBuf>,
    pub metastore: Option<PathBuf>,
    pub config_file: Option<PathBuf>,
}

impl ApiaryConfig {
    /// Resolves the configuration from overrides, environment, config file and defaults.
    pub fn resolve(overrides: &ConfigOverrides) -> Result<ApiaryConfig> {
        let env = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = env("APIARY_HOME")
            .or_else(|| env("HOME").map(|h| h.join(".apiary")))
            .unwrap_or_else(|| PathBuf::from(".apiary"));
        let config_file = overrides
            .config_file
            .clone()
            .or_else(|| env("APIARY_CONFIG"));
        let file_values = match &config_file {
            Some(path) => read_config_file(path)?,
            None => {
                let default = home.join("apiary.conf");
                if default.exists() {
                    read_config_file(&default)?
                } else {
                    BTreeMap::new()
                }
            }
        };
        let from_file = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| file_values.get(*k))
                .map(PathBuf::from)
        };
        let warehouse = overrides
            .warehouse
            .clone()
            .or_else(|| env("APIARY_WAREHOUSE"))
            .or_else(|| from_file(&["warehouse", "hive.metastore.warehouse.dir"]))
            .unwrap_or_else(|| home.join("warehouse"));
        let metastore = overrides
            .metastore
            .clone()
            .or_else(|| env("APIARY_METASTORE"))
            .or_else(|| from_file(&["metastore"]))
            .unwrap_or_else(|| home.join("metastore.db"));
        Ok(ApiaryConfig {
            warehouse: absolute(&warehouse)?,
            metastore: absolute(&metastore)?,
        })
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path)
        .map_err(|e| ApiaryError::io(format!("invalid path {}", path.display()), e))
}

/// Reads `key = value` lines; `#` starts a comment.
fn read_config_file(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ApiaryError::io(format!("cannot read config file {}", path.display()), e))?;
    let mut values = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(ApiaryError::Execution(format!(
                "{}:{}: expected key = value",
                path.display(),
                number + 1
            )));
        };
        values.insert(key.trim().to_string(), value.trim().to_string());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_and_config_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("apiary.conf");
        std::fs::write(
            &file,
            "# settings\nwarehouse = /data/wh\nmetastore=/data/ms.db\n",
        )
        .unwrap();
        let from_file = ApiaryConfig::resolve(&ConfigOverrides {
            config_file: Some(file.clone()),
            ..Default::default()
        });
        // Environment variables, when set by the caller, would win over the file.
        if std::env::var_os("APIARY_WAREHOUSE").is_none() {
            assert_eq!(from_file.unwrap().warehouse, PathBuf::from("/data/wh"));
        }
        let flags = ApiaryConfig::resolve(&ConfigOverrides {
            warehouse: Some("/flag/wh".into()),
            metastore: Some("/flag/ms.db".into()),
            config_file: Some(file),
        })
        .unwrap();
        assert_eq!(flags.metastore, PathBuf::from("/flag/ms.db"));
        assert_eq!(flags.warehouse, PathBuf::from("/flag/wh"));
        std::fs::write(dir.path().join("bad.conf"), "nonsense").unwrap();
        assert!(read_config_file(&dir.path().join("bad.conf")).is_err());
    }
}
