//! Running scripts: `-i` files, then `-e` text or a `-f` file, statement by statement. The
//! first failure stops the script (unless `--force`) with a non-zero exit code.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use tokio::runtime::Runtime;

use super::args::{Args, OutputFormat};
use super::output::print_rows;
use crate::driver::script::split_statements;
use crate::driver::{Session, StatementOutput};
use crate::error::ApiaryError;

pub fn run(runtime: &Runtime, session: &mut Session, args: &Args) -> ExitCode {
    for init in &args.init {
        if !run_file(runtime, session, args, init) {
            return ExitCode::FAILURE;
        }
    }
    let ok = match (&args.execute, &args.file) {
        (Some(sql), _) => run_script(runtime, session, args, sql, "-e"),
        (None, Some(file)) => run_file(runtime, session, args, file),
        (None, None) => true,
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_file(runtime: &Runtime, session: &mut Session, args: &Args, path: &std::path::Path) -> bool {
    match std::fs::read_to_string(path) {
        Ok(script) => run_script(runtime, session, args, &script, &path.display().to_string()),
        Err(e) => {
            eprintln!(
                "Could not open input file for reading. ({}: {e})",
                path.display()
            );
            false
        }
    }
}

/// Runs every statement of `script`; false if one failed (and `--force` was not given).
pub fn run_script(
    runtime: &Runtime,
    session: &mut Session,
    args: &Args,
    script: &str,
    source: &str,
) -> bool {
    let mut all_ok = true;
    for statement in split_statements(script) {
        if args.verbose {
            println!("{}", statement.text);
        }
        let started = Instant::now();
        match runtime.block_on(session.execute(&statement.text)) {
            Ok(output) => {
                if let Err(e) = print_output(session, args, &output) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return all_ok;
                    }
                    eprintln!("Error: cannot write results: {e}");
                    return false;
                }
                if !args.silent {
                    report_time(&output, started);
                }
            }
            Err(error) => {
                report_error(&error, source, statement.line, statement.column);
                all_ok = false;
                if !args.force {
                    return false;
                }
            }
        }
    }
    all_ok
}

fn print_output(session: &Session, args: &Args, output: &StatementOutput) -> std::io::Result<()> {
    let StatementOutput::Rows { schema, batches } = output else {
        return Ok(());
    };
    let format = output_format(session, args.output_format, OutputFormat::Tsv);
    let header = session.setting_bool("hive.cli.print.header");
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    print_rows(&mut out, format, schema, batches, header)?;
    out.flush()
}

/// The format from `SET apiary.output.format`, else the flag, else `default`.
pub fn output_format(
    session: &Session,
    flag: Option<OutputFormat>,
    default: OutputFormat,
) -> OutputFormat {
    use clap::ValueEnum;
    session
        .setting("apiary.output.format")
        .and_then(|v| OutputFormat::from_str(&v, true).ok())
        .or(flag)
        .unwrap_or(default)
}

pub fn report_time(output: &StatementOutput, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    match output {
        StatementOutput::Rows { .. } => {
            let rows = output.row_count();
            eprintln!("Time taken: {seconds:.3} seconds, Fetched: {rows} row(s)");
        }
        StatementOutput::Done => eprintln!("OK\nTime taken: {seconds:.3} seconds"),
    }
}

/// Prints an error with its position in the script: the parse error's own position, or
/// where the failing statement starts.
pub fn report_error(error: &ApiaryError, source: &str, line: u64, column: u64) {
    match error {
        ApiaryError::Cancelled => eprintln!("Query cancelled."),
        ApiaryError::Parse(parse) => {
            let located = parse.clone().offset_by(line, column);
            eprintln!(
                "Error: {source}:{}:{}: {located}",
                located.line, located.column
            );
        }
        other => eprintln!("Error: {source}:{line}:{column}: {other}"),
    }
}
