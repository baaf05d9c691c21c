//! Reading Thrift's binary protocol from untrusted bytes.
//!
//! The thrift crate's own binary reader allocates whatever length a message claims before
//! reading it, and a negative length becomes a huge one, so a few hostile bytes can exhaust
//! memory or panic the reader. This reader checks every length and container size against
//! limits first, and skips strings as raw bytes (the crate's skip decodes them as UTF-8 and
//! fails on binary handle ids). Writing uses the crate's `TBinaryOutputProtocol`.

use std::io::Read;

use thrift::protocol::{
    TFieldIdentifier, TInputProtocol, TListIdentifier, TMapIdentifier, TMessageIdentifier,
    TMessageType, TSetIdentifier, TStructIdentifier, TType,
};
use thrift::{ProtocolError, ProtocolErrorKind};

/// The longest string or binary value a request may hold (a statement's text, say).
pub const MAX_VALUE_BYTES: usize = 64 << 20;
/// The most elements a list, set or map in a request may hold.
pub const MAX_CONTAINER_ELEMENTS: usize = 1 << 16;
/// How deeply values may nest when skipped.
const MAX_SKIP_DEPTH: u8 = 32;

const VERSION_1: u32 = 0x8001_0000;
const VERSION_MASK: u32 = 0xffff_0000;

/// Thrift's binary protocol (strict or not) read from `R`, with bounds on what it allocates.
pub struct BoundedBinaryInput<R: Read> {
    transport: R,
}

impl<R: Read> BoundedBinaryInput<R> {
    pub fn new(transport: R) -> Self {
        BoundedBinaryInput { transport }
    }

    fn read_array<const N: usize>(&mut self) -> thrift::Result<[u8; N]> {
        let mut bytes = [0u8; N];
        self.transport.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    fn read_length(&mut self, limit: usize, what: &str) -> thrift::Result<usize> {
        let length = i32::from_be_bytes(self.read_array()?);
        match usize::try_from(length) {
            Ok(length) if length <= limit => Ok(length),
            Ok(_) => Err(size_limit(format!(
                "{what} of {length} exceeds the limit of {limit}"
            ))),
            Err(_) => Err(negative_size(format!("{what} of {length}"))),
        }
    }

    fn read_type(&mut self) -> thrift::Result<TType> {
        type_from_byte(self.read_byte()?)
    }

    fn read_container_size(&mut self) -> thrift::Result<i32> {
        let size = self.read_length(MAX_CONTAINER_ELEMENTS, "a container size")?;
        // The limit fits an i32.
        Ok(size as i32)
    }

    fn skip_value(&mut self, field_type: TType, depth: u8) -> thrift::Result<()> {
        if depth == 0 {
            return Err(thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::DepthLimit,
                "values nest too deeply",
            )));
        }
        match field_type {
            TType::Bool | TType::I08 => self.read_array::<1>().map(drop),
            TType::I16 => self.read_array::<2>().map(drop),
            TType::I32 => self.read_array::<4>().map(drop),
            TType::I64 | TType::Double => self.read_array::<8>().map(drop),
            TType::String | TType::Utf7 | TType::Utf8 | TType::Utf16 => self.read_bytes().map(drop),
            TType::Struct => loop {
                let field = self.read_field_begin()?;
                if field.field_type == TType::Stop {
                    return Ok(());
                }
                self.skip_value(field.field_type, depth - 1)?;
            },
            TType::List | TType::Set => {
                let element_type = self.read_type()?;
                let size = self.read_container_size()?;
                for _ in 0..size {
                    self.skip_value(element_type, depth - 1)?;
                }
                Ok(())
            }
            TType::Map => {
                let key_type = self.read_type()?;
                let value_type = self.read_type()?;
                let size = self.read_container_size()?;
                for _ in 0..size {
                    self.skip_value(key_type, depth - 1)?;
                    self.skip_value(value_type, depth - 1)?;
                }
                Ok(())
            }
            TType::Stop | TType::Void => Err(thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::InvalidData,
                format!("cannot skip a value of type {field_type:?}"),
            ))),
        }
    }
}

impl<R: Read> TInputProtocol for BoundedBinaryInput<R> {
    fn read_message_begin(&mut self) -> thrift::Result<TMessageIdentifier> {
        let first = u32::from_be_bytes(self.read_array()?);
        if first & 0x8000_0000 != 0 {
            if first & VERSION_MASK != VERSION_1 {
                return Err(thrift::Error::Protocol(ProtocolError::new(
                    ProtocolErrorKind::BadVersion,
                    format!("bad protocol version {first:#010x}"),
                )));
            }
            let message_type = TMessageType::try_from((first & 0xff) as u8)?;
            let name = self.read_string()?;
            let sequence_number = self.read_i32()?;
            Ok(TMessageIdentifier::new(name, message_type, sequence_number))
        } else {
            // The old unversioned form: the name's length comes first.
            let length = usize::try_from(first).unwrap_or(usize::MAX);
            if length > MAX_VALUE_BYTES {
                return Err(size_limit(format!("a method name of {length} bytes")));
            }
            let mut name = vec![0u8; length];
            self.transport.read_exact(&mut name)?;
            let name = String::from_utf8(name).map_err(|e| {
                thrift::Error::Protocol(ProtocolError::new(
                    ProtocolErrorKind::InvalidData,
                    e.to_string(),
                ))
            })?;
            let message_type = TMessageType::try_from(self.read_byte()?)?;
            let sequence_number = self.read_i32()?;
            Ok(TMessageIdentifier::new(name, message_type, sequence_number))
        }
    }

    fn read_message_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_struct_begin(&mut self) -> thrift::Result<Option<TStructIdentifier>> {
        Ok(None)
    }

    fn read_struct_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_field_begin(&mut self) -> thrift::Result<TFieldIdentifier> {
        let field_type = self.read_type()?;
        if field_type == TType::Stop {
            return Ok(TFieldIdentifier {
                name: None,
                field_type,
                id: None,
            });
        }
        let id = self.read_i16()?;
        Ok(TFieldIdentifier {
            name: None,
            field_type,
            id: Some(id),
        })
    }

    fn read_field_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_bool(&mut self) -> thrift::Result<bool> {
        Ok(self.read_byte()? != 0)
    }

    fn read_bytes(&mut self) -> thrift::Result<Vec<u8>> {
        let length = self.read_length(MAX_VALUE_BYTES, "a value")?;
        let mut bytes = vec![0u8; length];
        self.transport.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    fn read_i8(&mut self) -> thrift::Result<i8> {
        Ok(i8::from_be_bytes(self.read_array()?))
    }

    fn read_i16(&mut self) -> thrift::Result<i16> {
        Ok(i16::from_be_bytes(self.read_array()?))
    }

    fn read_i32(&mut self) -> thrift::Result<i32> {
        Ok(i32::from_be_bytes(self.read_array()?))
    }

    fn read_i64(&mut self) -> thrift::Result<i64> {
        Ok(i64::from_be_bytes(self.read_array()?))
    }

    fn read_double(&mut self) -> thrift::Result<f64> {
        Ok(f64::from_be_bytes(self.read_array()?))
    }

    fn read_string(&mut self) -> thrift::Result<String> {
        String::from_utf8(self.read_bytes()?).map_err(|e| {
            thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::InvalidData,
                format!("a string is not UTF-8: {e}"),
            ))
        })
    }

    fn read_list_begin(&mut self) -> thrift::Result<TListIdentifier> {
        let element_type = self.read_type()?;
        let size = self.read_container_size()?;
        Ok(TListIdentifier::new(element_type, size))
    }

    fn read_list_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_set_begin(&mut self) -> thrift::Result<TSetIdentifier> {
        let element_type = self.read_type()?;
        let size = self.read_container_size()?;
        Ok(TSetIdentifier::new(element_type, size))
    }

    fn read_set_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn read_map_begin(&mut self) -> thrift::Result<TMapIdentifier> {
        let key_type = self.read_type()?;
        let value_type = self.read_type()?;
        let size = self.read_container_size()?;
        Ok(TMapIdentifier::new(key_type, value_type, size))
    }

    fn read_map_end(&mut self) -> thrift::Result<()> {
        Ok(())
    }

    fn skip_till_depth(&mut self, field_type: TType, _depth: i8) -> thrift::Result<()> {
        self.skip_value(field_type, MAX_SKIP_DEPTH)
    }

    fn read_byte(&mut self) -> thrift::Result<u8> {
        Ok(self.read_array::<1>()?[0])
    }
}

fn type_from_byte(byte: u8) -> thrift::Result<TType> {
    Ok(match byte {
        0x00 => TType::Stop,
        0x01 => TType::Void,
        0x02 => TType::Bool,
        0x03 => TType::I08,
        0x04 => TType::Double,
        0x06 => TType::I16,
        0x08 => TType::I32,
        0x0a => TType::I64,
        0x0b => TType::String,
        0x0c => TType::Struct,
        0x0d => TType::Map,
        0x0e => TType::Set,
        0x0f => TType::List,
        0x10 => TType::Utf8,
        0x11 => TType::Utf16,
        other => {
            return Err(thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::InvalidData,
                format!("unknown value type {other:#04x}"),
            )));
        }
    })
}

fn size_limit(message: String) -> thrift::Error {
    thrift::Error::Protocol(ProtocolError::new(ProtocolErrorKind::SizeLimit, message))
}

fn negative_size(what: String) -> thrift::Error {
    thrift::Error::Protocol(ProtocolError::new(
        ProtocolErrorKind::NegativeSize,
        format!("negative size: {what}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use thrift::protocol::{TBinaryOutputProtocol, TOutputProtocol};

    fn encoded(write: impl FnOnce(&mut dyn TOutputProtocol)) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut output = TBinaryOutputProtocol::new(&mut bytes, true);
        write(&mut output);
        bytes
    }

    fn kind(error: thrift::Error) -> ProtocolErrorKind {
        match error {
            thrift::Error::Protocol(e) => e.kind,
            other => panic!("not a protocol error: {other}"),
        }
    }

    #[test]
    fn reads_what_the_crate_writes() {
        let bytes = encoded(|out| {
            out.write_message_begin(&TMessageIdentifier::new(
                "OpenSession",
                TMessageType::Call,
                7,
            ))
            .unwrap();
            out.write_bytes(&[0xff, 0x00, 0xfe]).unwrap();
            out.write_list_begin(&TListIdentifier::new(TType::I64, 2))
                .unwrap();
            out.write_i64(-3).unwrap();
            out.write_i64(1 << 40).unwrap();
            out.write_double(2.5).unwrap();
            out.write_string("é").unwrap();
        });
        let mut input = BoundedBinaryInput::new(&bytes[..]);
        let message = input.read_message_begin().unwrap();
        assert_eq!(
            (
                message.name.as_str(),
                message.message_type,
                message.sequence_number
            ),
            ("OpenSession", TMessageType::Call, 7)
        );
        assert_eq!(input.read_bytes().unwrap(), vec![0xff, 0x00, 0xfe]);
        let list = input.read_list_begin().unwrap();
        assert_eq!((list.element_type, list.size), (TType::I64, 2));
        assert_eq!(input.read_i64().unwrap(), -3);
        assert_eq!(input.read_i64().unwrap(), 1 << 40);
        assert_eq!(input.read_double().unwrap(), 2.5);
        assert_eq!(input.read_string().unwrap(), "é");
    }

    #[test]
    fn refuses_negative_and_oversized_lengths() {
        let negative = (-5i32).to_be_bytes();
        let error = BoundedBinaryInput::new(&negative[..])
            .read_bytes()
            .unwrap_err();
        assert_eq!(kind(error), ProtocolErrorKind::NegativeSize);
        let huge = i32::MAX.to_be_bytes();
        let error = BoundedBinaryInput::new(&huge[..]).read_bytes().unwrap_err();
        assert_eq!(kind(error), ProtocolErrorKind::SizeLimit);
        let list = [&[0x0b][..], &(-1i32).to_be_bytes()[..]].concat();
        assert!(
            BoundedBinaryInput::new(&list[..])
                .read_list_begin()
                .is_err()
        );
    }

    #[test]
    fn skips_binary_strings_and_stops_at_deep_nesting() {
        let bytes = encoded(|out| {
            out.write_field_begin(&TFieldIdentifier::new("guid", TType::String, 1))
                .unwrap();
            out.write_bytes(&[0xc3, 0x28]).unwrap();
            out.write_field_stop().unwrap();
            out.write_i32(42).unwrap();
        });
        let mut input = BoundedBinaryInput::new(&bytes[..]);
        input.skip(TType::Struct).unwrap();
        assert_eq!(input.read_i32().unwrap(), 42);

        // A struct whose only field is a struct, nested past the limit.
        let deep: Vec<u8> = std::iter::repeat_n([0x0c, 0x00, 0x01], 100)
            .flatten()
            .collect();
        let error = BoundedBinaryInput::new(&deep[..])
            .skip(TType::Struct)
            .unwrap_err();
        assert_eq!(kind(error), ProtocolErrorKind::DepthLimit);
    }
}
