//! The interactive shell: multi-line statements ending at `;`, persistent history,
//! completion of keywords and catalog names, Ctrl-C cancels the running statement, Ctrl-D
//! exits. Results print as an aligned table with the row count and elapsed time.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apiary_metastore::Metastore;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use tokio::runtime::Runtime;

use super::args::{Args, OutputFormat};
use super::batch::{output_format, report_error};
use super::output::print_rows;
use crate::driver::script::{is_complete, split_statements};
use crate::driver::{Session, StatementOutput};
use crate::error::ApiaryError;

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "LIMIT",
    "HAVING",
    "JOIN",
    "LEFT",
    "RIGHT",
    "FULL",
    "OUTER",
    "INNER",
    "SEMI",
    "ON",
    "AS",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "IS",
    "IN",
    "LIKE",
    "RLIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "DISTINCT",
    "UNION",
    "ALL",
    "WITH",
    "INSERT",
    "INTO",
    "OVERWRITE",
    "TABLE",
    "VALUES",
    "CREATE",
    "DROP",
    "ALTER",
    "DATABASE",
    "SCHEMA",
    "VIEW",
    "EXTERNAL",
    "TEMPORARY",
    "PARTITION",
    "PARTITIONED BY",
    "STORED AS",
    "TEXTFILE",
    "PARQUET",
    "LOCATION",
    "TBLPROPERTIES",
    "ROW FORMAT DELIMITED",
    "FIELDS TERMINATED BY",
    "LOAD DATA",
    "LOCAL",
    "INPATH",
    "SHOW",
    "TABLES",
    "DATABASES",
    "DESCRIBE",
    "FORMATTED",
    "EXTENDED",
    "USE",
    "SET",
    "RESET",
    "EXPLAIN",
    "TRUNCATE",
    "COMMENT",
    "IF EXISTS",
    "IF NOT EXISTS",
    "CASCADE",
    "PURGE",
];

/// Completes keywords, and names read from the catalog when Tab is pressed: databases, the
/// current database's tables and their columns.
struct ReplHelper {
    metastore: Arc<dyn Metastore>,
    /// The session's current database, updated after each statement.
    database: Rc<RefCell<String>>,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map_or(0, |i| i + 1);
        let prefix = &line[start..pos];
        if prefix.is_empty() {
            return Ok((start, Vec::new()));
        }
        let lower = prefix.to_lowercase();
        let mut candidates: Vec<Pair> = KEYWORDS
            .iter()
            .filter(|k| k.to_lowercase().starts_with(&lower))
            .map(|k| {
                let text = if prefix
                    .chars()
                    .all(|c| c.is_lowercase() || !c.is_alphabetic())
                {
                    k.to_lowercase()
                } else {
                    k.to_string()
                };
                Pair {
                    display: text.clone(),
                    replacement: text,
                }
            })
            .collect();
        candidates.extend(
            catalog_names(self.metastore.as_ref(), &self.database.borrow())
                .iter()
                .filter(|n| n.starts_with(&lower))
                .map(|n| Pair {
                    display: n.clone(),
                    replacement: n.clone(),
                }),
        );
        Ok((start, candidates))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}
impl Highlighter for ReplHelper {}
impl Validator for ReplHelper {}
impl Helper for ReplHelper {}

/// Databases, tables of `database` and their columns.
fn catalog_names(metastore: &dyn Metastore, database: &str) -> Vec<String> {
    let mut names = metastore.list_databases().unwrap_or_default();
    for table in metastore.list_tables(database).unwrap_or_default() {
        if let Ok(Some(t)) = metastore.get_table(database, &table) {
            names.extend(
                t.storage
                    .columns
                    .iter()
                    .chain(&t.partition_keys)
                    .map(|c| c.name.clone()),
            );
        }
        names.push(table);
    }
    names.sort();
    names.dedup();
    names
}

fn history_path(session: &Session) -> std::path::PathBuf {
    session
        .engine
        .config
        .metastore
        .parent()
        .map(|p| p.join("history"))
        .unwrap_or_else(|| std::path::PathBuf::from(".apiary_history"))
}

pub fn run(runtime: &Runtime, session: &mut Session, args: &Args) -> ExitCode {
    for init in &args.init {
        let Ok(script) = std::fs::read_to_string(init) else {
            eprintln!(
                "Could not open input file for reading. ({})",
                init.display()
            );
            return ExitCode::FAILURE;
        };
        super::batch::run_script(runtime, session, args, &script, &init.display().to_string());
    }
    let database = Rc::new(RefCell::new(session.current_database().to_string()));
    let mut editor: Editor<ReplHelper, rustyline::history::DefaultHistory> = match Editor::new() {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("Error: cannot start the line editor: {e}");
            return ExitCode::FAILURE;
        }
    };
    editor.set_helper(Some(ReplHelper {
        metastore: session.engine.metastore.clone(),
        database: database.clone(),
    }));
    let history = history_path(session);
    let _ = editor.load_history(&history);
    let mut buffer = String::new();
    loop {
        let prompt = if !buffer.is_empty() {
            "      > ".to_string()
        } else if session.setting_bool("hive.cli.print.current.db") {
            format!("apiary ({})> ", session.current_database())
        } else {
            "apiary> ".to_string()
        };
        match editor.readline(&prompt) {
            Ok(line) => {
                if buffer.is_empty() && line.trim().is_empty() {
                    continue;
                }
                if buffer.is_empty() && matches!(line.trim().trim_end_matches(';'), "quit" | "exit")
                {
                    break;
                }
                buffer.push_str(&line);
                buffer.push('\n');
                if !is_complete(&buffer) {
                    continue;
                }
                let _ = editor.add_history_entry(buffer.trim_end());
                for statement in split_statements(&buffer) {
                    run_statement(
                        runtime,
                        session,
                        args,
                        &statement.text,
                        statement.line,
                        statement.column,
                    );
                }
                buffer.clear();
                *database.borrow_mut() = session.current_database().to_string();
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("Error: {e}");
                break;
            }
        }
    }
    let _ = editor.save_history(&history);
    ExitCode::SUCCESS
}

/// Runs one statement; Ctrl-C cancels it and keeps the session. A progress line shows while
/// it runs longer than a second.
fn run_statement(
    runtime: &Runtime,
    session: &mut Session,
    args: &Args,
    text: &str,
    line: u64,
    column: u64,
) {
    let started = Instant::now();
    let show_progress = std::io::stderr().is_terminal();
    let result = runtime.block_on(async {
        let progress = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            loop {
                if show_progress {
                    eprint!("\rRunning... {:.0}s ", started.elapsed().as_secs_f64());
                    let _ = std::io::stderr().flush();
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        let result = tokio::select! {
            result = session.execute(text) => result,
            _ = tokio::signal::ctrl_c() => Err(ApiaryError::Cancelled),
        };
        progress.abort();
        if show_progress && started.elapsed() >= Duration::from_secs(1) {
            eprint!("\r{}\r", " ".repeat(30));
        }
        result
    });
    match result {
        Ok(output) => {
            if let StatementOutput::Rows { schema, batches } = &output {
                let format = output_format(session, args.output_format, OutputFormat::Table);
                let header =
                    format == OutputFormat::Table || session.setting_bool("hive.cli.print.header");
                let stdout = std::io::stdout();
                let _ = print_rows(&mut stdout.lock(), format, schema, batches, header);
            }
            let seconds = started.elapsed().as_secs_f64();
            match &output {
                StatementOutput::Rows { .. } => {
                    println!("{} row(s) in {seconds:.3}s", output.row_count())
                }
                StatementOutput::Done => println!("OK ({seconds:.3}s)"),
            }
        }
        Err(error) => report_error(&error, "<stdin>", line, column),
    }
}
