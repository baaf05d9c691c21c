//! The binary transport: one thread per TCP connection (TLS over it when configured),
//! carrying Thrift's binary protocol. SASL and NOSASL clients share the port: a SASL client
//! opens with a negotiation START byte, a NOSASL one with a Thrift message (0x80). After a
//! SASL negotiation every message travels in a length-prefixed frame.

use std::cell::RefCell;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::rc::Rc;

use thrift::protocol::TBinaryOutputProtocol;
use thrift::{TransportError, TransportErrorKind};

use super::dispatch::serve_call;
use super::sasl;
use super::service::{Caller, HiveService};
use super::wire::{BoundedBinaryInput, MAX_VALUE_BYTES};

/// A connection's byte stream: TCP, or TLS over TCP.
pub trait ByteStream: Read + Write + Send {}
impl<T: Read + Write + Send> ByteStream for T {}

/// The connection, shared by the protocol's reading and writing halves on its one thread.
type SharedStream = Rc<RefCell<BufReader<Box<dyn ByteStream>>>>;

/// The largest SASL frame accepted: a request's largest value and some room around it.
const MAX_FRAME_BYTES: usize = MAX_VALUE_BYTES + (1 << 20);

struct FrameReader {
    stream: SharedStream,
    framed: bool,
    /// Bytes left in the current frame.
    remaining: usize,
}

impl Read for FrameReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut stream = self.stream.borrow_mut();
        if !self.framed {
            return stream.read(buf);
        }
        while self.remaining == 0 {
            let mut header = [0u8; 4];
            stream.read_exact(&mut header)?;
            let length = u32::from_be_bytes(header) as usize;
            if length > MAX_FRAME_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a frame of {length} bytes exceeds the limit of {MAX_FRAME_BYTES}"),
                ));
            }
            self.remaining = length;
        }
        let wanted = buf.len().min(self.remaining);
        let read = stream.read(&mut buf[..wanted])?;
        self.remaining -= read;
        Ok(read)
    }
}

/// The buffered connection read and written directly, for the SASL negotiation.
struct Duplex<'a>(&'a mut BufReader<Box<dyn ByteStream>>);

impl Read for Duplex<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Duplex<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.get_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.get_mut().flush()
    }
}

/// Collects a reply and sends it whole on flush, framed when the connection is.
struct FrameWriter {
    stream: SharedStream,
    framed: bool,
    pending: Vec<u8>,
}

impl Write for FrameWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            // Nothing to send: an empty frame would read as a message of its own.
            return Ok(());
        }
        let mut stream = self.stream.borrow_mut();
        let stream = stream.get_mut();
        if self.framed {
            let length = u32::try_from(self.pending.len()).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, "a reply too large for a frame")
            })?;
            stream.write_all(&length.to_be_bytes())?;
        }
        stream.write_all(&self.pending)?;
        self.pending.clear();
        stream.flush()
    }
}

/// Serves a connection until the client closes it or sends something unreadable; then the
/// sessions it opened are closed.
pub fn serve_connection(
    service: &HiveService,
    stream: Box<dyn ByteStream>,
    connection: u64,
    peer: &str,
) {
    if let Err(error) = serve_calls(service, stream, connection)
        && !is_disconnect(&error)
    {
        eprintln!(
            "apiary server: connection {connection} from {peer}: {}",
            error_text(&error)
        );
    }
    service.connection_closed(connection);
}

fn serve_calls(
    service: &HiveService,
    stream: Box<dyn ByteStream>,
    connection: u64,
) -> thrift::Result<()> {
    let stream: SharedStream = Rc::new(RefCell::new(BufReader::new(stream)));
    let first = stream.borrow_mut().fill_buf()?.first().copied();
    let (framed, authenticated_user) = match first {
        None => return Ok(()),
        Some(sasl::START) => {
            let mut stream = stream.borrow_mut();
            let user = sasl::negotiate(&mut Duplex(&mut stream), service.authenticator())?;
            (true, Some(user))
        }
        Some(0x80) => (false, None),
        Some(other) => {
            return Err(thrift::Error::Transport(TransportError::new(
                TransportErrorKind::Unknown,
                format!(
                    "the client spoke neither SASL nor Thrift's binary protocol (first byte {other:#04x})"
                ),
            )));
        }
    };
    let caller = Caller {
        connection: Some(connection),
        authenticated_user,
    };
    let mut input = BoundedBinaryInput::new(FrameReader {
        stream: Rc::clone(&stream),
        framed,
        remaining: 0,
    });
    let mut output = TBinaryOutputProtocol::new(
        FrameWriter {
            stream,
            framed,
            pending: Vec::new(),
        },
        true,
    );
    loop {
        match serve_call(service, &caller, &mut input, &mut output) {
            Ok(()) => {}
            Err(error) if is_disconnect(&error) => return Ok(()),
            Err(error) => return Err(error),
        }
    }
}

/// An error's own message (thrift's errors print only their kind).
fn error_text(error: &thrift::Error) -> String {
    match error {
        thrift::Error::Transport(e) => e.message.clone(),
        thrift::Error::Protocol(e) => e.message.clone(),
        thrift::Error::Application(e) => e.message.clone(),
        thrift::Error::User(e) => e.to_string(),
    }
}

/// Whether an error only means the client went away.
fn is_disconnect(error: &thrift::Error) -> bool {
    match error {
        thrift::Error::Transport(e) => matches!(
            e.kind,
            TransportErrorKind::EndOfFile | TransportErrorKind::NotOpen
        ),
        _ => false,
    }
}
