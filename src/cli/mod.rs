//! The `apiary` command: batch scripts (`-e`, `-f`, `-i`) and the interactive REPL.

pub mod args;
mod batch;
pub mod output;
mod qtest;
mod repl;
mod server;

use std::process::ExitCode;

use clap::Parser;

use crate::config::{ApiaryConfig, ConfigOverrides};
use crate::driver::{Engine, Session};
use crate::error::Result;
use args::{Args, parse_assignment};

/// Runs the command line; the binary's `main` calls only this.
pub fn run() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(args::Subcommand::Qtest {
        dir,
        tests,
        report,
        min_pass_rate,
    }) = &args.command
    {
        return qtest::run(&runtime, dir, tests, report.as_ref(), *min_pass_rate);
    }
    match &args.command {
        Some(args::Subcommand::Server { .. }) => return server::run(&runtime, &args),
        Some(args::Subcommand::Passwd { file, user }) => return server::set_password(file, user),
        _ => {}
    }
    match start_session(&args) {
        Ok(mut session) => {
            let interactive = args.execute.is_none() && args.file.is_none();
            if interactive {
                repl::run(&runtime, &mut session, &args)
            } else {
                batch::run(&runtime, &mut session, &args)
            }
        }
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The engine the flags name (warehouse, metastore, config file).
fn open_engine(args: &Args) -> Result<std::sync::Arc<Engine>> {
    let config = ApiaryConfig::resolve(&ConfigOverrides {
        warehouse: args.warehouse.clone(),
        metastore: args.metastore.clone(),
        config_file: args.config.clone(),
    })?;
    Engine::open(config)
}

fn start_session(args: &Args) -> Result<Session> {
    let engine = open_engine(args)?;
    let mut session = engine.new_session();
    for assignment in &args.hivevar {
        let (name, value) = parse_assignment(assignment).ok_or_else(|| {
            crate::ApiaryError::Analysis(format!(
                "--hivevar expects NAME=VALUE, got '{assignment}'"
            ))
        })?;
        session.set_hivevar(name, value);
    }
    for assignment in &args.hiveconf {
        let (name, value) = parse_assignment(assignment).ok_or_else(|| {
            crate::ApiaryError::Analysis(format!(
                "--hiveconf expects NAME=VALUE, got '{assignment}'"
            ))
        })?;
        session.set(name, value)?;
    }
    if args.header {
        session.set("hive.cli.print.header", "true")?;
    }
    Ok(session)
}
