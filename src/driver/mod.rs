//! The driver: the [`Engine`] (metastore, warehouse) shared by all sessions, and the
//! [`Session`] that takes a statement's text through substitution, parsing, analysis and
//! execution, holding the session's state (current database, settings, variables, temporary
//! tables) in between.

mod catalog;
pub mod script;
pub mod settings;
pub mod variables;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use apiary_metastore::{Metastore, SqliteMetastore, Table};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::context::SessionContext;
use datafusion::prelude::SessionConfig;

pub use catalog::TableEntry;

use crate::config::ApiaryConfig;
use crate::error::{ApiaryError, Result};
use crate::execution;
use crate::execution::memory;
use crate::execution::scan_log::ScanLog;
use crate::execution::table_lock::ReadLocks;
use crate::optimizer;
use crate::parser::{self, HiveStatement, SetCommand};
use settings::Settings;
use variables::Variables;

/// What a statement gives back.
#[derive(Debug)]
pub enum StatementOutput {
    /// A statement that returns no rows (DDL, SET, LOAD, INSERT).
    Done,
    /// Rows, with their schema (which holds even when there are no batches).
    Rows {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
}

impl StatementOutput {
    pub fn row_count(&self) -> usize {
        match self {
            StatementOutput::Done => 0,
            StatementOutput::Rows { batches, .. } => batches.iter().map(|b| b.num_rows()).sum(),
        }
    }
}

/// A setting's state saved by [`Session::snapshot_setting`].
#[derive(Debug, Clone)]
pub struct SettingSnapshot {
    name: String,
    /// The value the session had given it, if any.
    changed: Option<String>,
    /// For a DataFusion option, the value the engine held.
    engine_value: Option<String>,
}

/// What every session shares: the metastore and the warehouse.
#[derive(Debug)]
pub struct Engine {
    pub metastore: Arc<dyn Metastore>,
    pub config: ApiaryConfig,
}

impl Engine {
    /// Opens the metastore named by `config`, creating it (and the warehouse) on first use.
    pub fn open(config: ApiaryConfig) -> Result<Arc<Engine>> {
        std::fs::create_dir_all(&config.warehouse).map_err(|e| {
            ApiaryError::io(
                format!("cannot create warehouse {}", config.warehouse.display()),
                e,
            )
        })?;
        let warehouse = config.warehouse.display().to_string();
        let metastore = SqliteMetastore::open(&config.metastore, &warehouse)?;
        Ok(Arc::new(Engine {
            metastore: Arc::new(metastore),
            config,
        }))
    }

    pub fn new_session(self: &Arc<Self>) -> Session {
        Session::new(Arc::clone(self))
    }
}

static SESSION_COUNTER: AtomicU64 = AtomicU64::new(0);

/// One user's session: current database, settings, variables and temporary tables.
pub struct Session {
    pub(crate) engine: Arc<Engine>,
    pub(crate) ctx: SessionContext,
    pub(crate) current_database: String,
    pub(crate) settings: Settings,
    pub(crate) hivevars: BTreeMap<String, String>,
    pub(crate) temp_tables: BTreeMap<(String, String), Table>,
    pub(crate) scratch_dir: PathBuf,
    pub(crate) user: String,
    /// What EXPLAIN reports about the partitions a plan's scans read.
    pub(crate) scan_log: Arc<ScanLog>,
    /// The shared table locks the running statement holds.
    pub(crate) read_locks: Arc<ReadLocks>,
}

impl Session {
    fn new(engine: Arc<Engine>) -> Session {
        let id = SESSION_COUNTER.fetch_add(1, Ordering::Relaxed);
        let scratch_dir = std::env::temp_dir().join(format!("apiary-{}-{id}", std::process::id()));
        let user = std::env::var("USER").unwrap_or_else(|_| "apiary".to_string());
        Session {
            engine,
            ctx: new_context(datafusion_config(), &Settings::default()),
            current_database: "default".to_string(),
            settings: Settings::default(),
            hivevars: BTreeMap::new(),
            temp_tables: BTreeMap::new(),
            scratch_dir,
            user,
            scan_log: Arc::default(),
            read_locks: Arc::default(),
        }
    }

    pub fn current_database(&self) -> &str {
        &self.current_database
    }

    pub fn setting(&self, name: &str) -> Option<String> {
        self.settings.get(name)
    }

    pub fn setting_bool(&self, name: &str) -> bool {
        self.settings.get_bool(name)
    }

    pub fn set_hivevar(&mut self, name: &str, value: &str) {
        self.hivevars.insert(name.to_string(), value.to_string());
    }

    /// Sets a configuration value as `SET name=value` does.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        if let Some(var) = name.strip_prefix("hivevar:") {
            self.set_hivevar(var, value);
            return Ok(());
        }
        let name = name.strip_prefix("hiveconf:").unwrap_or(name);
        if name == memory::MEMORY_LIMIT {
            memory::parse_limit(value, memory::machine_memory()).map_err(ApiaryError::Analysis)?;
        }
        if name.starts_with("datafusion.") {
            self.ctx
                .state_ref()
                .write()
                .config_mut()
                .options_mut()
                .set(name, value)?;
        }
        self.settings.set(name, value);
        if optimizer::OPTIMIZER_SETTINGS.contains(&name) {
            self.ctx = new_context(self.ctx.copied_config(), &self.settings);
        }
        Ok(())
    }

    /// Substitutes variables (unless `hive.variable.substitute` is off).
    pub fn substitute(&self, text: &str) -> String {
        if !self.settings.get_bool("hive.variable.substitute") {
            return text.to_string();
        }
        let hiveconf = |key: &str| self.settings.get(key);
        Variables {
            hivevar: &self.hivevars,
            hiveconf: &hiveconf,
        }
        .substitute(text)
    }

    /// Runs one statement (without its `;`).
    pub async fn execute(&mut self, text: &str) -> Result<StatementOutput> {
        let statement = self.parse(text)?;
        self.run(statement).await
    }

    /// Substitutes variables in one statement's text and parses it.
    pub fn parse(&self, text: &str) -> Result<HiveStatement> {
        Ok(parser::parse_statement(&self.substitute(text))?)
    }

    pub fn set_user(&mut self, user: &str) {
        self.user = user.to_string();
    }

    /// Makes `database` the current database, as `USE` does.
    pub fn use_database(&mut self, database: &str) -> Result<()> {
        if self.engine.metastore.get_database(database)?.is_none() {
            return Err(crate::analysis_err!("Database does not exist: {database}"));
        }
        self.current_database = database.to_string();
        Ok(())
    }

    /// What a setting is now, so that [`Session::restore_setting`] can put it back after a
    /// statement-scoped change (HiveServer2's per-statement configuration overlay).
    pub fn snapshot_setting(&self, name: &str) -> SettingSnapshot {
        let name = name.strip_prefix("hiveconf:").unwrap_or(name).to_string();
        let changed = self
            .settings
            .changed()
            .find(|(k, _)| **k == name)
            .map(|(_, v)| v.clone());
        let engine_value = name.starts_with("datafusion.").then(|| {
            self.datafusion_options()
                .into_iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v)
                .unwrap_or_default()
        });
        SettingSnapshot {
            name,
            changed,
            engine_value,
        }
    }

    /// Puts a setting back as [`Session::snapshot_setting`] found it.
    pub fn restore_setting(&mut self, snapshot: SettingSnapshot) -> Result<()> {
        if let Some(value) = &snapshot.engine_value {
            self.set(&snapshot.name, value)?;
        }
        match &snapshot.changed {
            Some(value) => self.set(&snapshot.name, value)?,
            None => {
                self.settings.reset(Some(&snapshot.name));
                if optimizer::OPTIMIZER_SETTINGS.contains(&snapshot.name.as_str()) {
                    self.ctx = new_context(self.ctx.copied_config(), &self.settings);
                }
            }
        }
        Ok(())
    }

    /// Runs a parsed statement; the table locks its reads took are released when it ends
    /// (or, if it was cancelled, when the next one starts).
    pub async fn run(&mut self, statement: HiveStatement) -> Result<StatementOutput> {
        self.read_locks.release_all();
        let output = self.dispatch(statement).await;
        self.read_locks.release_all();
        output
    }

    async fn dispatch(&mut self, statement: HiveStatement) -> Result<StatementOutput> {
        use HiveStatement as S;
        match statement {
            S::Query(query) => execution::query::run_query(self, &query).await,
            S::Explain {
                cbo: true,
                statement,
                ..
            } => execution::query::explain_cbo(self, *statement).await,
            S::Explain {
                analyze,
                verbose,
                statement,
                ..
            } => execution::query::explain(self, *statement, analyze, verbose).await,
            S::Set(command) => self.run_set(command),
            S::Reset(name) => {
                self.settings.reset(name.as_deref());
                let optimizer_setting = name
                    .as_deref()
                    .is_some_and(|n| optimizer::OPTIMIZER_SETTINGS.contains(&n));
                if optimizer_setting {
                    self.ctx = new_context(self.ctx.copied_config(), &self.settings);
                }
                if name.is_none() {
                    self.ctx = new_context(datafusion_config(), &self.settings);
                }
                Ok(StatementOutput::Done)
            }
            S::Use(name) => {
                self.use_database(&name)?;
                Ok(StatementOutput::Done)
            }
            S::CreateDatabase {
                name,
                if_not_exists,
                comment,
                location,
                properties,
            } => execution::database::create(
                self,
                name,
                if_not_exists,
                comment,
                location,
                properties,
            ),
            S::DropDatabase {
                name,
                if_exists,
                cascade,
            } => execution::database::drop(self, &name, if_exists, cascade),
            S::AlterDatabase { name, properties } => {
                execution::database::alter(self, &name, properties)
            }
            S::ShowDatabases { pattern } => execution::database::show(self, pattern.as_deref()),
            S::DescribeDatabase { name, extended } => {
                execution::database::describe(self, &name, extended)
            }
            S::ShowTables { database, pattern } => {
                execution::show::tables(self, database.as_deref(), pattern.as_deref())
            }
            S::ShowCreateTable(name) => execution::show::create_table(self, &name),
            S::ShowFunctions { pattern } => {
                Ok(execution::show::functions(self, pattern.as_deref()))
            }
            S::DescribeFunction { name, extended } => {
                Ok(execution::show::describe_function(self, &name, extended))
            }
            S::ShowTblProperties { table, key } => {
                execution::show::tblproperties(self, &table, key.as_deref())
            }
            S::ShowColumns { table } => execution::show::columns(self, &table),
            S::ShowPartitions { table, partial } => {
                execution::partition_ddl::show(self, &table, partial.as_ref())
            }
            S::Msck {
                table,
                repair,
                mode,
            } => execution::partition_ddl::msck(self, &table, repair, mode),
            S::Analyze {
                table,
                partition,
                scope,
            } => execution::analyze::analyze(self, &table, partition.as_ref(), scope).await,
            S::Describe {
                table,
                detail,
                partition,
                column,
            } => execution::describe::describe(
                self,
                &table,
                detail,
                partition.as_ref(),
                column.as_deref(),
            ),
            S::CreateTable(create) => execution::table_ddl::create(self, *create).await,
            S::DropTable {
                name,
                if_exists,
                purge,
            } => execution::table_ddl::drop(self, &name, if_exists, purge),
            S::TruncateTable { name, partition } => {
                execution::table_ddl::truncate(self, &name, partition)
            }
            S::AlterTable { name, action } => execution::table_ddl::alter(self, &name, action),
            S::CreateView(view) => execution::view::create(self, *view).await,
            S::DropView { name, if_exists } => execution::view::drop(self, &name, if_exists),
            S::LoadData {
                local,
                path,
                overwrite,
                table,
                partition,
            } => execution::load::load_data(self, local, &path, overwrite, &table, partition),
            S::Insert(insert) => execution::insert::insert(self, *insert).await,
            S::MultiInsert { source, inserts } => {
                execution::multi_insert::multi_insert(self, source, inserts).await
            }
        }
    }

    fn run_set(&mut self, command: SetCommand) -> Result<StatementOutput> {
        let rows: Vec<String> = match command {
            SetCommand::Assign(name, value) => {
                self.set(&name, &value)?;
                return Ok(StatementOutput::Done);
            }
            SetCommand::Show(name) => {
                let value = if let Some(var) = name.strip_prefix("hivevar:") {
                    self.hivevars.get(var).cloned()
                } else if name.starts_with("datafusion.") {
                    self.datafusion_options()
                        .into_iter()
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| v)
                } else {
                    self.settings
                        .get(name.strip_prefix("hiveconf:").unwrap_or(&name))
                };
                vec![match value {
                    Some(value) => format!("{name}={value}"),
                    None => format!("{name} is undefined"),
                }]
            }
            SetCommand::ShowChanged => {
                let mut rows: Vec<String> = self
                    .settings
                    .changed()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                rows.extend(
                    self.hivevars
                        .iter()
                        .map(|(k, v)| format!("hivevar:{k}={v}")),
                );
                rows
            }
            SetCommand::ShowAll => {
                let mut rows: Vec<String> = settings::KNOWN_SETTINGS
                    .iter()
                    .map(|s| {
                        format!(
                            "{}={}",
                            s.name,
                            self.settings.get(s.name).unwrap_or_default()
                        )
                    })
                    .collect();
                rows.extend(
                    self.settings
                        .changed()
                        .filter(|(k, _)| {
                            settings::known(k).is_none() && !k.starts_with("datafusion.")
                        })
                        .map(|(k, v)| format!("{k}={v}")),
                );
                rows.extend(
                    self.datafusion_options()
                        .into_iter()
                        .map(|(k, v)| format!("{k}={v}")),
                );
                rows.extend(
                    self.hivevars
                        .iter()
                        .map(|(k, v)| format!("hivevar:{k}={v}")),
                );
                rows
            }
        };
        Ok(execution::results::single_column("set", rows))
    }

    fn datafusion_options(&self) -> Vec<(String, String)> {
        let state = self.ctx.state();
        state
            .config_options()
            .entries()
            .into_iter()
            .map(|entry| (entry.key, entry.value.unwrap_or_default()))
            .collect()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Temporary tables live only as long as their session.
        if self.scratch_dir.exists() {
            let _ = std::fs::remove_dir_all(&self.scratch_dir);
        }
    }
}

/// A DataFusion context with Hive's functions and the optimizer `settings` ask for.
fn new_context(config: SessionConfig, settings: &Settings) -> SessionContext {
    let ctx = SessionContext::new_with_state(optimizer::session_state(config, settings));
    crate::functions::register_hive_functions(&ctx);
    ctx
}

/// DataFusion configured for Hive semantics.
fn datafusion_config() -> SessionConfig {
    let mut config = SessionConfig::new().with_information_schema(false);
    let options = config.options_mut();
    // Hive sorts NULLs first ascending and last descending: NULL is the smallest value.
    options.sql_parser.default_null_ordering = "nulls_min".to_string();
    options.sql_parser.map_string_types_to_utf8view = true;
    options.sql_parser.enable_ident_normalization = true;
    options.execution.parquet.schema_force_view_types = true;
    // EXPLAIN ANALYZE shows each operator's rows, bytes and time; the developer metrics
    // (`dev`) on request.
    options.explain.analyze_level = datafusion::common::format::MetricType::Summary;
    config
}
