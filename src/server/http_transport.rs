//! The HTTP transport (`transportMode=http`): each Thrift call is the body of a POST to the
//! HTTP path (`cliservice`), its reply the response's body. The user comes from HTTP basic
//! authentication; sessions are not tied to connections, since clients may send each call on
//! a new one. Served with hyper on the runtime; a call runs on a blocking thread, as the
//! service blocks on sessions.

use std::convert::Infallible;
use std::sync::Arc;

use base64::Engine as _;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use thrift::protocol::TBinaryOutputProtocol;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::auth::Authenticator;
use super::dispatch::serve_call;
use super::service::{Caller, HiveService};
use super::wire::{BoundedBinaryInput, MAX_VALUE_BYTES};

/// The largest request body accepted.
const MAX_BODY_BYTES: usize = MAX_VALUE_BYTES + (1 << 20);

/// Serves HTTP connections from `listener` until the runtime stops.
pub async fn serve_http(
    listener: TcpListener,
    service: Arc<HiveService>,
    path: String,
    tls: Option<TlsAcceptor>,
) {
    let path: Arc<str> = Arc::from(path.trim_matches('/'));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("apiary server: HTTP accept failed: {error}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = Arc::clone(&service);
        let path = Arc::clone(&path);
        let tls = tls.clone();
        tokio::spawn(async move {
            let handler =
                service_fn(move |request| handle(request, Arc::clone(&service), Arc::clone(&path)));
            let connection = hyper::server::conn::http1::Builder::new();
            let served = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => {
                        connection
                            .serve_connection(TokioIo::new(stream), handler)
                            .await
                    }
                    Err(error) => {
                        eprintln!("apiary server: TLS handshake with {peer} failed: {error}");
                        return;
                    }
                },
                None => {
                    connection
                        .serve_connection(TokioIo::new(stream), handler)
                        .await
                }
            };
            if let Err(error) = served
                && !error.is_incomplete_message()
            {
                eprintln!("apiary server: HTTP connection from {peer}: {error}");
            }
        });
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_string())));
    *response.status_mut() = status;
    response
}

fn unauthorized() -> Response<Full<Bytes>> {
    let mut response = plain(StatusCode::UNAUTHORIZED, "Authentication failed");
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        hyper::header::HeaderValue::from_static("Basic realm=\"apiary\""),
    );
    response
}

/// The user and password of an `Authorization: Basic` header.
fn basic_credentials(request: &Request<Incoming>) -> Option<(String, String)> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Who the request comes from: the basic-authentication user, checked. `None` inside `Ok`
/// when the request names no one and no password is required.
async fn authenticate(
    authenticator: &Authenticator,
    credentials: Option<(String, String)>,
) -> Result<Option<String>, ()> {
    match (credentials, authenticator) {
        (None, Authenticator::None) => Ok(None),
        (None, Authenticator::Password(_)) => Err(()),
        (Some((user, password)), authenticator) => {
            let authenticator = authenticator.clone();
            // Checking a password hash takes a while; keep it off the runtime's threads.
            tokio::task::spawn_blocking(move || authenticator.check(&user, &password))
                .await
                .map_err(|_| ())?
                .map(Some)
                .map_err(|_| ())
        }
    }
}

async fn handle(
    request: Request<Incoming>,
    service: Arc<HiveService>,
    path: Arc<str>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.uri().path().trim_matches('/') != &*path {
        return Ok(plain(StatusCode::NOT_FOUND, "Not found"));
    }
    if request.method() != Method::POST {
        return Ok(plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "HiveServer2 calls are POSTed",
        ));
    }
    let credentials = basic_credentials(&request);
    let Ok(user) = authenticate(service.authenticator(), credentials).await else {
        return Ok(unauthorized());
    };
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(error) => {
            return Ok(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("cannot read the request: {error}"),
            ));
        }
    };
    let caller = Caller {
        connection: None,
        authenticated_user: user,
    };
    let reply = tokio::task::spawn_blocking(move || {
        let mut input = BoundedBinaryInput::new(&body[..]);
        let mut reply = Vec::new();
        let mut output = TBinaryOutputProtocol::new(&mut reply, true);
        serve_call(&service, &caller, &mut input, &mut output).map(|()| reply)
    })
    .await;
    Ok(match reply {
        Ok(Ok(reply)) => {
            let mut response = Response::new(Full::new(Bytes::from(reply)));
            response.headers_mut().insert(
                CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/x-thrift"),
            );
            response
        }
        Ok(Err(error)) => plain(
            StatusCode::BAD_REQUEST,
            &format!("not a HiveServer2 call: {error}"),
        ),
        Err(error) => plain(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    })
}
