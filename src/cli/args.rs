//! Command-line flags, shaped like the hive and beeline CLIs.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// An aligned table with borders (the REPL's default).
    Table,
    /// Tab-separated, as the Hive CLI prints (batch default).
    Tsv,
    Csv,
    /// One JSON object per row.
    Json,
}

#[derive(Debug, Parser)]
#[command(
    name = "apiary",
    version,
    about = "Apiary: Hive-compatible SQL over files"
)]
pub struct Args {
    /// Run the given SQL and exit.
    #[arg(short = 'e', value_name = "SQL", conflicts_with = "file")]
    pub execute: Option<String>,
    /// Run the statements of a script file and exit.
    #[arg(short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Run an initialization script first (may be repeated).
    #[arg(short = 'i', value_name = "FILE")]
    pub init: Vec<PathBuf>,
    /// Define a variable for ${hivevar:name} / ${name} substitution.
    #[arg(
        long = "hivevar",
        visible_alias = "define",
        short = 'd',
        value_name = "NAME=VALUE"
    )]
    pub hivevar: Vec<String>,
    /// Set a configuration value, as SET does.
    #[arg(long = "hiveconf", value_name = "NAME=VALUE")]
    pub hiveconf: Vec<String>,
    /// Print only results: no timing or status lines.
    #[arg(short = 'S', long = "silent")]
    pub silent: bool,
    /// Echo each statement before running it.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// How results are printed.
    #[arg(long = "output-format", value_enum)]
    pub output_format: Option<OutputFormat>,
    /// Print column names before results (same as hive.cli.print.header=true).
    #[arg(long = "header")]
    pub header: bool,
    /// Keep running a script after a failing statement.
    #[arg(long = "force")]
    pub force: bool,
    /// Warehouse directory (default: $APIARY_WAREHOUSE, the config file, or ~/.apiary/warehouse).
    #[arg(long = "warehouse", value_name = "DIR")]
    pub warehouse: Option<PathBuf>,
    /// Metastore file (default: $APIARY_METASTORE, the config file, or ~/.apiary/metastore.db).
    #[arg(long = "metastore", value_name = "FILE")]
    pub metastore: Option<PathBuf>,
    /// Configuration file with `key = value` lines.
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Subcommand>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Authentication {
    /// Anyone may connect, under the user name the client gives.
    #[value(name = "NONE", alias = "none")]
    None,
    /// Users and passwords from the users file (`--users-file`, written by `apiary passwd`).
    #[value(name = "PASSWORD", alias = "password")]
    Password,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportMode {
    /// Thrift over TCP (SASL or NOSASL), on --port.
    Binary,
    /// Thrift over HTTP POST, on --http-port.
    Http,
    /// Both.
    All,
}

#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
    /// Serve the HiveServer2 protocol, for beeline, JDBC and ODBC drivers, PyHive and impyla.
    Server {
        /// The address to listen on.
        #[arg(long = "host", default_value = "0.0.0.0")]
        host: String,
        /// Which transports to serve.
        #[arg(long = "transport-mode", value_enum, default_value = "all")]
        transport_mode: TransportMode,
        /// The binary transport's port (0 picks a free one and prints it).
        #[arg(long = "port", default_value_t = 10000)]
        port: u16,
        /// The HTTP transport's port (0 picks a free one and prints it).
        #[arg(long = "http-port", default_value_t = 10001)]
        http_port: u16,
        /// The HTTP transport's path.
        #[arg(long = "http-path", default_value = "cliservice")]
        http_path: String,
        /// Serve TLS on both transports with this certificate chain (PEM).
        #[arg(long = "ssl-cert", value_name = "FILE", requires = "ssl_key")]
        ssl_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long = "ssl-key", value_name = "FILE", requires = "ssl_cert")]
        ssl_key: Option<PathBuf>,
        /// How clients authenticate.
        #[arg(long = "authentication", value_enum, default_value = "NONE")]
        authentication: Authentication,
        /// The users file of the PASSWORD mode.
        #[arg(long = "users-file", value_name = "FILE")]
        users_file: Option<PathBuf>,
        /// Close sessions idle for this many seconds with nothing running (0: never).
        #[arg(long = "idle-session-timeout", value_name = "SECONDS", default_value_t = 7 * 24 * 3600)]
        idle_session_timeout: u64,
        /// Refuse connections beyond this many.
        #[arg(long = "max-connections", default_value_t = 500)]
        max_connections: usize,
    },
    /// Set a user's password in a users file for `apiary server --authentication PASSWORD`;
    /// the password is read from the first line of standard input.
    Passwd {
        /// The users file (created when missing).
        file: PathBuf,
        user: String,
    },
    /// Run Hive q-tests (a directory in the layout of Hive's test harness) and compare
    /// Apiary's output with Hive's.
    Qtest {
        /// The suite: INIT.sql, data/, expected/<test>.json.
        dir: PathBuf,
        /// Run only this test (repeatable); all tests by default.
        #[arg(long = "test", value_name = "NAME")]
        tests: Vec<String>,
        /// Write the full report as JSON to this file.
        #[arg(long = "report", value_name = "OUT.json")]
        report: Option<PathBuf>,
        /// Exit with failure when the share of compared statements that pass is below this
        /// (a fraction between 0 and 1).
        #[arg(long = "min-pass-rate", value_name = "RATE")]
        min_pass_rate: Option<f64>,
    },
}

/// Splits `name=value`.
pub fn parse_assignment(text: &str) -> Option<(&str, &str)> {
    text.split_once('=').map(|(k, v)| (k.trim(), v.trim()))
}
