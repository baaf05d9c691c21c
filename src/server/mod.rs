//! `apiary server`: the HiveServer2-compatible server. Clients built for HiveServer2 (beeline,
//! the Hive JDBC driver, PyHive, impyla, BI tools through them) connect unchanged.
//!
//! - [`protocol`]: the wire types, generated from the TCLIService IDL; [`wire`] reads them
//!   from untrusted bytes.
//! - [`binary_transport`] (with [`sasl`]): TCP connections, SASL PLAIN or NOSASL;
//!   [`http_transport`]: Thrift over HTTP POST; [`tls`]: both over TLS.
//! - [`dispatch`]: one call in, one reply out; [`service`]: what each call does, over the
//!   [`sessions`] and [`operations`] it keeps.
//! - [`row_set`], [`type_desc`], [`metadata`]: results, types and catalog calls as
//!   HiveServer2 sends them; [`auth`]: who may connect.

pub mod auth;
pub mod binary_transport;
pub mod dispatch;
pub mod handles;
pub mod http_transport;
pub mod metadata;
pub mod operations;
pub mod protocol;
pub mod row_set;
pub mod sasl;
pub mod service;
pub mod sessions;
#[cfg(test)]
mod tests;
pub mod tls;
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

/// Which transports the server listens with (`hive.server2.transport.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportMode {
    Binary,
    Http,
    All,
}

/// How the server listens and whom it lets in.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The address to listen on (`0.0.0.0` for every interface).
    pub host: String,
    pub transport_mode: TransportMode,
    /// The binary transport's port; 0 picks a free one.
    pub port: u16,
    /// The HTTP transport's port; 0 picks a free one.
    pub http_port: u16,
    /// The HTTP transport's path (`cliservice`).
    pub http_path: String,
    /// TLS on both transports.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub authenticator: Authenticator,
    /// Settings every session starts with (`--hiveconf`).
    pub session_settings: Vec<(String, String)>,
    /// Sessions idle this long with nothing running are closed; `None` keeps them.
    pub idle_session_timeout: Option<Duration>,
    /// Binary-transport connections beyond this many are refused.
    pub max_connections: usize,
}

fn bind(host: &str, port: u16) -> Result<TcpListener> {
    let address = format!("{host}:{port}");
    TcpListener::bind(&address)
        .map_err(|e| ApiaryError::io(format!("cannot listen on {address}"), e))
}

fn local_address(listener: &TcpListener) -> Result<std::net::SocketAddr> {
    listener
        .local_addr()
        .map_err(|e| ApiaryError::io("cannot read the listening address", e))
}

/// Runs the server until the process ends. Each transport prints the address it listens on
/// once it does.
pub fn serve(
    runtime: &tokio::runtime::Runtime,
    engine: Arc<Engine>,
    options: ServerOptions,
) -> Result<()> {
    let binary = match options.transport_mode {
        TransportMode::Binary | TransportMode::All => Some(bind(&options.host, options.port)?),
        TransportMode::Http => None,
    };
    let http = match options.transport_mode {
        TransportMode::Http | TransportMode::All => Some(bind(&options.host, options.http_port)?),
        TransportMode::Binary => None,
    };
    let service = Arc::new(HiveService::new(
        engine,
        runtime.handle().clone(),
        options.authenticator.clone(),
        options.session_settings.clone(),
    ));
    if let Some(timeout) = options.idle_session_timeout {
        start_idle_sweeper(Arc::clone(&service), timeout);
    }
    let security = if options.tls.is_some() { ", TLS" } else { "" };
    if let Some(listener) = http {
        let address = local_address(&listener)?;
        listener
            .set_nonblocking(true)
            .map_err(|e| ApiaryError::io("cannot set up the HTTP listener", e))?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener)
                .map_err(|e| ApiaryError::io("cannot set up the HTTP listener", e))?
        };
        let tls = options.tls.clone().map(tokio_rustls::TlsAcceptor::from);
        println!(
            "Apiary HiveServer2 listening on {address} (http transport, path /{}{security})",
            options.http_path.trim_matches('/')
        );
        let served = http_transport::serve_http(
            listener,
            Arc::clone(&service),
            options.http_path.clone(),
            tls,
        );
        if binary.is_none() {
            runtime.block_on(served);
            return Ok(());
        }
        runtime.spawn(served);
    }
    if let Some(listener) = binary {
        let address = local_address(&listener)?;
        println!("Apiary HiveServer2 listening on {address} (binary transport{security})");
        accept_connections(&listener, &service, &options);
    }
    Ok(())
}

fn accept_connections(listener: &TcpListener, service: &Arc<HiveService>, options: &ServerOptions) {
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
        if open.load(Ordering::SeqCst) >= options.max_connections {
            eprintln!(
                "apiary server: refusing a connection: {} are open",
                options.max_connections
            );
            continue;
        }
        let connection = next_connection.fetch_add(1, Ordering::Relaxed);
        open.fetch_add(1, Ordering::SeqCst);
        let service = Arc::clone(service);
        let open_count = Arc::clone(&open);
        let tls = options.tls.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("hs2-connection-{connection}"))
            .spawn(move || {
                serve_tcp(&service, stream, connection, tls);
                open_count.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(error) = spawned {
            open.fetch_sub(1, Ordering::SeqCst);
            eprintln!("apiary server: cannot start a connection thread: {error}");
        }
    }
}

fn serve_tcp(
    service: &HiveService,
    stream: TcpStream,
    connection: u64,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "an unknown peer".to_string());
    // Replies are written whole; sending them at once keeps round trips short.
    let _ = stream.set_nodelay(true);
    let stream: Box<dyn binary_transport::ByteStream> = match tls {
        Some(config) => match rustls::ServerConnection::new(config) {
            Ok(session) => Box::new(rustls::StreamOwned::new(session, stream)),
            Err(error) => {
                eprintln!("apiary server: TLS setup for {peer} failed: {error}");
                return;
            }
        },
        None => Box::new(stream),
    };
    binary_transport::serve_connection(service, stream, connection, &peer);
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
