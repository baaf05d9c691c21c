//! `apiary server`: the HiveServer2-compatible server. Clients built for HiveServer2 (beeline,
//! the Hive JDBC driver, PyHive, impyla, BI tools through them) connect unchanged.
//!
//! - [`protocol`]: the wire types, generated from the TCLIService IDL; [`wire`] reads them
//!   from untrusted bytes.
//! - [`binary_transport`] (with [`sasl`]): TCP connections, SASL PLAIN or NOSASL.
//! - [`dispatch`]: one call in, one reply out; [`service`]: what each call does, over the
//!   [`sessions`] and [`operations`] it keeps.
//! - [`row_set`], [`type_desc`], [`metadata`]: results, types and catalog calls as
//!   HiveServer2 sends them; [`auth`]: who may connect.

pub mod auth;
pub mod binary_transport;
pub mod dispatch;
pub mod handles;
pub mod metadata;
pub mod operations;
pub mod protocol;
pub mod row_set;
pub mod sasl;
pub mod service;
pub mod sessions;
#[cfg(test)]
mod tests;
pub mod type_desc;
pub mod wire;

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::driver::Engine;
use crate::error::{ApiaryError, Result};
use auth::Authenticator;
use service::HiveService;

/// How the server listens and whom it lets in.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The address to listen on (`0.0.0.0` for every interface).
    pub host: String,
    /// The binary transport's port; 0 picks a free one.
    pub port: u16,
    pub authenticator: Authenticator,
    /// Settings every session starts with (`--hiveconf`).
    pub session_settings: Vec<(String, String)>,
    /// Sessions idle this long with nothing running are closed; `None` keeps them.
    pub idle_session_timeout: Option<Duration>,
    /// Connections beyond this many are refused.
    pub max_connections: usize,
}

/// Runs the server until the process ends.
pub fn serve(
    runtime: &tokio::runtime::Runtime,
    engine: Arc<Engine>,
    options: ServerOptions,
) -> Result<()> {
    let address = format!("{}:{}", options.host, options.port);
    let listener = TcpListener::bind(&address)
        .map_err(|e| ApiaryError::io(format!("cannot listen on {address}"), e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| ApiaryError::io("cannot read the listening address", e))?;
    let service = Arc::new(HiveService::new(
        engine,
        runtime.handle().clone(),
        options.authenticator.clone(),
        options.session_settings.clone(),
    ));
    if let Some(timeout) = options.idle_session_timeout {
        start_idle_sweeper(Arc::clone(&service), timeout);
    }
    println!("Apiary HiveServer2 listening on {bound} (binary transport)");
    accept_connections(&listener, &service, options.max_connections);
    Ok(())
}

fn accept_connections(listener: &TcpListener, service: &Arc<HiveService>, max_connections: usize) {
    let next_connection = AtomicU64::new(1);
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(error) => {
                eprintln!("apiary server: accept failed: {error}");
                continue;
            }
        };
        if open.load(Ordering::SeqCst) >= max_connections {
            eprintln!("apiary server: refusing a connection: {max_connections} are open");
            continue;
        }
        let connection = next_connection.fetch_add(1, Ordering::Relaxed);
        open.fetch_add(1, Ordering::SeqCst);
        let service = Arc::clone(service);
        let open_count = Arc::clone(&open);
        let spawned = std::thread::Builder::new()
            .name(format!("hs2-connection-{connection}"))
            .spawn(move || {
                serve_tcp(&service, stream, connection);
                open_count.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(error) = spawned {
            open.fetch_sub(1, Ordering::SeqCst);
            eprintln!("apiary server: cannot start a connection thread: {error}");
        }
    }
}

fn serve_tcp(service: &HiveService, stream: TcpStream, connection: u64) {
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "an unknown peer".to_string());
    // Replies are written whole; sending them at once keeps round trips short.
    let _ = stream.set_nodelay(true);
    binary_transport::serve_connection(service, Box::new(stream), connection, &peer);
}

fn start_idle_sweeper(service: Arc<HiveService>, timeout: Duration) {
    let interval = (timeout / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let spawned = std::thread::Builder::new()
        .name("hs2-idle-sessions".to_string())
        .spawn(move || {
            loop {
                std::thread::sleep(interval);
                service.close_idle_sessions(timeout);
            }
        });
    if let Err(error) = spawned {
        eprintln!("apiary server: idle sessions will not time out: {error}");
    }
}
