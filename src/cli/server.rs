//! `apiary server` and `apiary passwd`: starting the HiveServer2-compatible server from the
//! command line, and managing its users file.

use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::args::{Args, Authentication, Subcommand, TransportMode, parse_assignment};
use crate::error::{ApiaryError, Result};
use crate::server::auth::{self, Authenticator, Users};
use crate::server::{self, ServerOptions, serve, tls};

pub fn run(runtime: &tokio::runtime::Runtime, args: &Args) -> ExitCode {
    match start(runtime, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn start(runtime: &tokio::runtime::Runtime, args: &Args) -> Result<()> {
    let Some(Subcommand::Server {
        host,
        transport_mode,
        port,
        http_port,
        http_path,
        ssl_cert,
        ssl_key,
        authentication,
        users_file,
        idle_session_timeout,
        max_connections,
    }) = &args.command
    else {
        return Err(ApiaryError::Analysis("not a server command".to_string()));
    };
    let authenticator = match (authentication, users_file) {
        (Authentication::None, _) => Authenticator::None,
        (Authentication::Password, Some(file)) => {
            let users = Users::load(file)?;
            if users.is_empty() {
                return Err(ApiaryError::Analysis(format!(
                    "users file {} has no users; add one with `apiary passwd`",
                    file.display()
                )));
            }
            Authenticator::Password(users)
        }
        (Authentication::Password, None) => {
            return Err(ApiaryError::Analysis(
                "--authentication PASSWORD needs --users-file".to_string(),
            ));
        }
    };
    let session_settings = args
        .hiveconf
        .iter()
        .map(|assignment| {
            parse_assignment(assignment)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    ApiaryError::Analysis(format!(
                        "--hiveconf expects NAME=VALUE, got '{assignment}'"
                    ))
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let tls = match (ssl_cert, ssl_key) {
        (Some(certificate), Some(key)) => Some(tls::server_config(certificate, key)?),
        _ => None,
    };
    let options = ServerOptions {
        host: host.clone(),
        transport_mode: match transport_mode {
            TransportMode::Binary => server::TransportMode::Binary,
            TransportMode::Http => server::TransportMode::Http,
            TransportMode::All => server::TransportMode::All,
        },
        port: *port,
        http_port: *http_port,
        http_path: http_path.clone(),
        tls,
        authenticator,
        session_settings,
        idle_session_timeout: (*idle_session_timeout > 0)
            .then(|| Duration::from_secs(*idle_session_timeout)),
        max_connections: *max_connections,
    };
    serve(runtime, super::open_engine(args)?, options)
}

pub fn set_password(file: &Path, user: &str) -> ExitCode {
    let mut password = String::new();
    let read = std::io::stdin().lock().read_line(&mut password);
    let password = password.trim_end_matches(['\r', '\n']);
    let result = match read {
        Err(e) => Err(ApiaryError::io("cannot read the password", e)),
        Ok(_) if password.is_empty() => Err(ApiaryError::Analysis(
            "no password on standard input".to_string(),
        )),
        Ok(_) => auth::set_password(file, user, password),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}
