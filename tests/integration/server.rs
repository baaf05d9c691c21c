//! `apiary server` over real sockets: the binary transport with SASL PLAIN and NOSASL on one
//! port, the HTTP transport, unknown calls, and hostile bytes. (Real clients — beeline, JDBC,
//! PyHive, impyla — are in tests/server/clients.py.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

use apiary::server::protocol::*;
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TFieldIdentifier, TInputProtocol,
    TMessageIdentifier, TMessageType, TOutputProtocol, TSerializable, TStructIdentifier, TType,
};

use crate::Sandbox;

struct Server {
    child: Child,
    binary_port: u16,
    http_port: u16,
    _sandbox: Sandbox,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let sandbox = Sandbox::new();
    let mut child = sandbox
        .command()
        .args([
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--http-port",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start apiary server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut binary_port, mut http_port) = (0, 0);
    for _ in 0..2 {
        let line = lines.next().expect("a line").expect("text");
        let port: u16 = line
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        if line.contains("(binary") {
            binary_port = port;
        } else {
            http_port = port;
        }
    }
    Server {
        child,
        binary_port,
        http_port,
        _sandbox: sandbox,
    }
}

/// Bytes of one call: `name(req)` as Thrift's binary protocol writes it.
fn call_bytes(name: &str, request: &impl TSerializable) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut output = TBinaryOutputProtocol::new(&mut bytes, true);
    output
        .write_message_begin(&TMessageIdentifier::new(name, TMessageType::Call, 1))
        .unwrap();
    output
        .write_struct_begin(&TStructIdentifier::new("args"))
        .unwrap();
    output
        .write_field_begin(&TFieldIdentifier::new("req", TType::Struct, 1))
        .unwrap();
    request.write_to_out_protocol(&mut output).unwrap();
    output.write_field_end().unwrap();
    output.write_field_stop().unwrap();
    output.write_struct_end().unwrap();
    output.write_message_end().unwrap();
    bytes
}

/// A reply's response, or the exception's message.
fn read_reply<Response: TSerializable>(input: &mut dyn TInputProtocol) -> Result<Response, String> {
    let message = input.read_message_begin().unwrap();
    if message.message_type == TMessageType::Exception {
        let error = thrift::Error::read_application_error_from_in_protocol(input).unwrap();
        return Err(error.message);
    }
    input.read_struct_begin().unwrap();
    let field = input.read_field_begin().unwrap();
    assert_eq!(field.id, Some(0));
    let response = Response::read_from_in_protocol(input).unwrap();
    input.read_field_end().unwrap();
    assert_eq!(input.read_field_begin().unwrap().field_type, TType::Stop);
    input.read_struct_end().unwrap();
    Ok(response)
}

/// A binary-transport client, SASL-framed or not.
struct Client {
    stream: TcpStream,
    framed: bool,
}

impl Client {
    fn connect(port: u16, sasl_user: Option<&str>) -> Client {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        if let Some(user) = sasl_user {
            let negotiation = |status: u8, payload: &[u8]| {
                let mut message = vec![status];
                message.extend_from_slice(&(payload.len() as u32).to_be_bytes());
                message.extend_from_slice(payload);
                message
            };
            stream.write_all(&negotiation(1, b"PLAIN")).unwrap();
            stream
                .write_all(&negotiation(2, format!("\0{user}\0secret").as_bytes()))
                .unwrap();
            let mut answer = [0u8; 5];
            stream.read_exact(&mut answer).unwrap();
            assert_eq!(answer, [5, 0, 0, 0, 0], "SASL COMPLETE");
        }
        Client {
            stream,
            framed: sasl_user.is_some(),
        }
    }

    fn call<Response: TSerializable>(
        &mut self,
        name: &str,
        request: &impl TSerializable,
    ) -> Result<Response, String> {
        let bytes = call_bytes(name, request);
        if self.framed {
            self.stream
                .write_all(&(bytes.len() as u32).to_be_bytes())
                .unwrap();
        }
        self.stream.write_all(&bytes).unwrap();
        if self.framed {
            let mut length = [0u8; 4];
            self.stream.read_exact(&mut length).unwrap();
            let mut frame = vec![0u8; u32::from_be_bytes(length) as usize];
            self.stream.read_exact(&mut frame).unwrap();
            read_reply(&mut TBinaryInputProtocol::new(&frame[..], true))
        } else {
            read_reply(&mut TBinaryInputProtocol::new(&mut self.stream, true))
        }
    }

    fn open_session(&mut self) -> TSessionHandle {
        let response: TOpenSessionResp = self
            .call(
                "OpenSession",
                &TOpenSessionReq::new(
                    TProtocolVersion::HIVE_CLI_SERVICE_PROTOCOL_V8,
                    "nosasl_user".to_string(),
                    None,
                    None,
                ),
            )
            .unwrap();
        assert_eq!(response.status.status_code, TStatusCode::SUCCESS_STATUS);
        assert_eq!(
            response.server_protocol_version,
            TProtocolVersion::HIVE_CLI_SERVICE_PROTOCOL_V8
        );
        response.session_handle.unwrap()
    }

    /// The first value of a one-row, one-string-column query.
    fn query_one(&mut self, session: &TSessionHandle, sql: &str) -> String {
        let executed: TExecuteStatementResp = self
            .call(
                "ExecuteStatement",
                &TExecuteStatementReq::new(session.clone(), sql.to_string(), None, false, None),
            )
            .unwrap();
        assert_eq!(
            executed.status.status_code,
            TStatusCode::SUCCESS_STATUS,
            "{:?}",
            executed.status
        );
        let fetched: TFetchResultsResp = self
            .call(
                "FetchResults",
                &TFetchResultsReq::new(
                    executed.operation_handle.unwrap(),
                    TFetchOrientation::FETCH_NEXT,
                    10,
                    None,
                ),
            )
            .unwrap();
        match &fetched.results.unwrap().columns.unwrap()[0] {
            TColumn::StringVal(column) => column.values[0].clone(),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn sasl_and_nosasl_clients_share_the_binary_port() {
    let server = start_server();
    let mut plain = Client::connect(server.binary_port, Some("sasl_user"));
    let session = plain.open_session();
    assert_eq!(
        plain.query_one(&session, "select current_user()"),
        "sasl_user"
    );
    let mut raw = Client::connect(server.binary_port, None);
    let session = raw.open_session();
    assert_eq!(
        raw.query_one(&session, "select current_user()"),
        "nosasl_user"
    );

    // An unknown call is answered with an exception; the connection goes on.
    let unknown: Result<TCloseSessionResp, String> = raw.call(
        "GetLog",
        &TCloseSessionReq::new(TSessionHandle::new(THandleIdentifier::new(
            vec![0xff; 16],
            vec![0xfe; 16],
        ))),
    );
    assert!(unknown.unwrap_err().contains("GetLog"));
    assert_eq!(raw.query_one(&session, "select 'still here'"), "still here");
}

#[test]
fn hostile_bytes_close_only_their_connection() {
    let server = start_server();
    // A NOSASL message claiming a negative-length method name, then a huge string.
    for garbage in [
        vec![0x80, 0x01, 0x00, 0x01, 0xff, 0xff, 0xff, 0xf0],
        vec![0x80, 0x01, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff, b'x'],
        vec![0x01, 0xff, 0xff, 0xff, 0xff],
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
    ] {
        let mut stream = TcpStream::connect(("127.0.0.1", server.binary_port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.write_all(&garbage).unwrap();
        let mut rest = Vec::new();
        // The server closes the connection (it may first refuse a SASL start).
        let _ = stream.read_to_end(&mut rest);
    }
    let mut client = Client::connect(server.binary_port, None);
    let session = client.open_session();
    assert_eq!(client.query_one(&session, "select 'alive'"), "alive");
}

#[test]
fn the_http_transport_carries_one_call_per_post() {
    let server = start_server();
    let post = |body: &[u8], path: &str| -> (String, Vec<u8>) {
        let mut stream = TcpStream::connect(("127.0.0.1", server.http_port)).unwrap();
        let head = format!(
            "POST /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-thrift\r\n\
             Authorization: Basic aHR0cF91c2VyOng=\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete response");
        (
            String::from_utf8_lossy(&response[..split]).into_owned(),
            response[split + 4..].to_vec(),
        )
    };
    let open = call_bytes(
        "OpenSession",
        &TOpenSessionReq::new(
            TProtocolVersion::HIVE_CLI_SERVICE_PROTOCOL_V10,
            None,
            None,
            None,
        ),
    );
    let (head, body) = post(&open, "cliservice");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let opened: TOpenSessionResp =
        read_reply(&mut TBinaryInputProtocol::new(&body[..], true)).unwrap();
    let session = opened.session_handle.unwrap();
    // Another connection, the same session.
    let execute = call_bytes(
        "ExecuteStatement",
        &TExecuteStatementReq::new(
            session,
            "select current_user()".to_string(),
            None,
            false,
            None,
        ),
    );
    let (_, body) = post(&execute, "cliservice");
    let executed: TExecuteStatementResp =
        read_reply(&mut TBinaryInputProtocol::new(&body[..], true)).unwrap();
    assert_eq!(executed.status.status_code, TStatusCode::SUCCESS_STATUS);
    let fetch = call_bytes(
        "FetchResults",
        &TFetchResultsReq::new(
            executed.operation_handle.unwrap(),
            TFetchOrientation::FETCH_NEXT,
            5,
            None,
        ),
    );
    let (_, body) = post(&fetch, "cliservice");
    let fetched: TFetchResultsResp =
        read_reply(&mut TBinaryInputProtocol::new(&body[..], true)).unwrap();
    match &fetched.results.unwrap().columns.unwrap()[0] {
        TColumn::StringVal(column) => assert_eq!(column.values, vec!["http_user"]),
        other => panic!("{other:?}"),
    }
    let (head, _) = post(&open, "elsewhere");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let (head, _) = post(b"\x80\x01", "cliservice");
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
}
