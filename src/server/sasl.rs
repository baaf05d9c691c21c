//! The server side of SASL PLAIN as Thrift's SASL transport speaks it: the client names the
//! mechanism (START) and sends `authzid NUL user NUL password`; the server answers COMPLETE,
//! or BAD with a reason. Each negotiation message is a status byte, a big-endian length and
//! a payload; after it, every Thrift message travels in a length-prefixed frame.

use std::io::{self, Read, Write};

use super::auth::{Authenticator, LOGIN_REFUSED};

pub const START: u8 = 0x01;
const OK: u8 = 0x02;
const BAD: u8 = 0x03;
const COMPLETE: u8 = 0x05;

/// The largest negotiation message accepted.
const MAX_NEGOTIATION_BYTES: usize = 64 << 10;

fn read_message(stream: &mut impl Read) -> io::Result<(u8, Vec<u8>)> {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header)?;
    let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if length > MAX_NEGOTIATION_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a SASL message of {length} bytes"),
        ));
    }
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload)?;
    Ok((header[0], payload))
}

fn write_message(stream: &mut impl Write, status: u8, payload: &[u8]) -> io::Result<()> {
    let length = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut message = Vec::with_capacity(5 + payload.len());
    message.push(status);
    message.extend_from_slice(&length.to_be_bytes());
    message.extend_from_slice(payload);
    stream.write_all(&message)?;
    stream.flush()
}

fn refuse(stream: &mut (impl Read + Write), reason: String) -> io::Error {
    // The client may already be gone; the refusal is what matters.
    let _ = write_message(stream, BAD, reason.as_bytes());
    io::Error::new(io::ErrorKind::PermissionDenied, reason)
}

/// Runs the negotiation; the authenticated user, or why the client was refused (and told).
pub fn negotiate(
    stream: &mut (impl Read + Write),
    authenticator: &Authenticator,
) -> io::Result<String> {
    let (status, mechanism) = read_message(stream)?;
    if status != START {
        return Err(refuse(
            stream,
            format!("Expected START, got status {status}"),
        ));
    }
    let mechanism = String::from_utf8_lossy(&mechanism).into_owned();
    if mechanism != "PLAIN" {
        return Err(refuse(
            stream,
            format!("Unsupported mechanism type {mechanism}"),
        ));
    }
    let (status, response) = read_message(stream)?;
    if status != OK && status != COMPLETE {
        return Err(refuse(
            stream,
            format!("Expected OK or COMPLETE, got status {status}"),
        ));
    }
    let parts: Vec<&[u8]> = response.split(|b| *b == 0).collect();
    let [_authorization, user, password] = parts.as_slice() else {
        return Err(refuse(stream, "Invalid PLAIN message format".to_string()));
    };
    let (Ok(user), Ok(password)) = (std::str::from_utf8(user), std::str::from_utf8(password))
    else {
        return Err(refuse(stream, "Invalid PLAIN message encoding".to_string()));
    };
    match authenticator.check(user, password) {
        Ok(user) => {
            write_message(stream, COMPLETE, &[])?;
            Ok(user)
        }
        Err(_) => Err(refuse(stream, LOGIN_REFUSED.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// A client's bytes in, the server's bytes out.
    struct Exchange {
        input: Cursor<Vec<u8>>,
        output: Vec<u8>,
    }

    impl Read for Exchange {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Exchange {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn client(mechanism: &str, response: &[u8]) -> Exchange {
        let mut input = Vec::new();
        write_message(&mut input, START, mechanism.as_bytes()).unwrap();
        write_message(&mut input, OK, response).unwrap();
        Exchange {
            input: Cursor::new(input),
            output: Vec::new(),
        }
    }

    #[test]
    fn plain_logs_in_the_user() {
        let mut exchange = client("PLAIN", b"\0ana\0pw");
        let user = negotiate(&mut exchange, &Authenticator::None).unwrap();
        assert_eq!(user, "ana");
        assert_eq!(exchange.output, vec![COMPLETE, 0, 0, 0, 0]);
    }

    #[test]
    fn other_mechanisms_and_bad_messages_are_refused() {
        let mut exchange = client("GSSAPI", b"");
        let error = negotiate(&mut exchange, &Authenticator::None).unwrap_err();
        assert!(error.to_string().contains("GSSAPI"));
        assert_eq!(exchange.output[0], BAD);
        let mut exchange = client("PLAIN", b"no separators");
        assert!(negotiate(&mut exchange, &Authenticator::None).is_err());
        let mut huge = vec![START];
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        let mut exchange = Exchange {
            input: Cursor::new(huge),
            output: Vec::new(),
        };
        assert!(negotiate(&mut exchange, &Authenticator::None).is_err());
    }
}
