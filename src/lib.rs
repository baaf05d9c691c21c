//! Apiary: a Hive-compatible SQL engine over files.
//!
//! A statement travels through the pipeline like this:
//!
//! ```text
//!  HiveQL text ──► driver ──► parser ──► analyzer ──► optimizer ──► execution ──► rows
//!                  │ split    │ HiveQL   │ resolve     │ DataFusion   │ scans, writes,
//!                  │ ${vars}  │ → AST    │ names,      │ rules        │ DDL, commits
//!                  │ session  │          │ views →     │              │
//!                  │          │          │ LogicalPlan │              │
//!                  └──────────┴────┬─────┴─────────────┴──────────────┘
//!                                  ▼
//!                   metastore (databases, tables, partitions, statistics)
//! ```
//!
//! - [`driver`]: sessions, settings, variable substitution, statement dispatch.
//! - [`parser`]: HiveQL to [`parser::HiveStatement`] (sqlparser for queries).
//! - [`analyzer`]: resolves tables and views against the catalog and plans queries.
//! - [`optimizer`]: DataFusion's rule-based optimizers, steered by Hive's optimizer settings.
//! - [`execution`]: table scans (text and Parquet), atomic writes, DDL, commands.
//! - [`statistics`]: table and column statistics, gathered by ANALYZE and read by the planner.
//! - [`cli`]: the `apiary` command: batch scripts and the REPL.
//! - `apiary_metastore`: the catalog, in its own crate.

pub mod analyzer;
pub mod cli;
pub mod config;
pub mod driver;
pub mod error;
pub mod execution;
pub mod functions;
pub mod hive_text;
pub mod optimizer;
pub mod parser;
pub mod qtest;
pub mod server;
pub mod statistics;
pub mod types;

pub use driver::{Engine, Session, StatementOutput};
pub use error::{ApiaryError, Result};
