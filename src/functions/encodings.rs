//! Hive's byte encodings: `base64(bin)` and `unbase64(str)`, `hex(x)` and `unhex(str)`,
//! `encode(str, charset)` and `decode(bin, charset)`. `hex` of an integer is its two's
//! complement digits (`hex(-1)` is `FFFFFFFFFFFFFFFF`), of a string or BINARY its bytes;
//! upper case, as Java prints them. Text that does not decode gives NULL. The charsets are
//! those Java guarantees: UTF-8, US-ASCII, ISO-8859-1, UTF-16BE, UTF-16LE, UTF-16 (big
//! endian, with a byte-order mark when encoding); another name is an error.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;

pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        ArrayFunction::udf("base64", DataType::Utf8, bytes_argument, |a, r| {
            strings(r, |row| bytes_at(&a[0], row).map(|b| BASE64.encode(b)))
        }),
        ArrayFunction::udf("unbase64", DataType::Binary, text_argument, |a, r| {
            let texts = a[0].as_string::<i32>();
            binaries(r, |row| {
                texts
                    .is_valid(row)
                    .then(|| BASE64.decode(texts.value(row)).ok())
                    .flatten()
            })
        }),
        ArrayFunction::udf("hex", DataType::Utf8, hex_argument, hex),
        ArrayFunction::udf("unhex", DataType::Binary, text_argument, |a, r| {
            let texts = a[0].as_string::<i32>();
            binaries(r, |row| {
                texts
                    .is_valid(row)
                    .then(|| unhex(texts.value(row)))
                    .flatten()
            })
        }),
        ArrayFunction::udf("encode", DataType::Binary, text_and_charset, encode),
        ArrayFunction::udf("decode", DataType::Utf8, binary_and_charset, decode),
    ]
}

fn is_binary(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
    )
}

/// A BINARY argument stays one; anything else is read as a string.
pub(super) fn bytes_argument(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [t] => Ok(vec![bytes_type(t)]),
        _ => exec_err!("takes one argument"),
    }
}

/// What an argument read as bytes is given as: a BINARY stays one, anything else is read as
/// a string (its UTF-8 bytes).
pub(super) fn bytes_type(data_type: &DataType) -> DataType {
    if is_binary(data_type) {
        DataType::Binary
    } else {
        DataType::Utf8
    }
}

fn text_argument(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [_] => Ok(vec![DataType::Utf8]),
        _ => exec_err!("takes one string argument"),
    }
}

fn hex_argument(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [t] if t.is_integer() => Ok(vec![DataType::Int64]),
        other => bytes_argument(other),
    }
}

fn text_and_charset(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [_, _] => Ok(vec![DataType::Utf8, DataType::Utf8]),
        _ => exec_err!("encode takes 2 arguments: a string and a charset"),
    }
}

fn binary_and_charset(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [_, _] => Ok(vec![DataType::Binary, DataType::Utf8]),
        _ => exec_err!("decode takes 2 arguments: a binary and a charset"),
    }
}

/// The bytes of row `row` of a string or BINARY array, or `None` for NULL.
pub(super) fn bytes_at(array: &ArrayRef, row: usize) -> Option<&[u8]> {
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Binary => Some(array.as_binary::<i32>().value(row)),
        _ => Some(array.as_string::<i32>().value(row).as_bytes()),
    }
}

fn strings(rows: usize, value: impl Fn(usize) -> Option<String>) -> Result<ArrayRef> {
    let mut out = StringBuilder::with_capacity(rows, rows * 8);
    for row in 0..rows {
        out.append_option(value(row));
    }
    Ok(Arc::new(out.finish()))
}

fn binaries(rows: usize, value: impl Fn(usize) -> Option<Vec<u8>>) -> Result<ArrayRef> {
    let mut out = BinaryBuilder::with_capacity(rows, rows * 8);
    for row in 0..rows {
        out.append_option(value(row));
    }
    Ok(Arc::new(out.finish()))
}

fn hex(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let values = &arrays[0];
    strings(rows, |row| {
        if values.data_type() == &DataType::Int64 {
            let numbers = values.as_primitive::<Int64Type>();
            numbers
                .is_valid(row)
                .then(|| format!("{:X}", numbers.value(row)))
        } else {
            bytes_at(values, row).map(|b| b.iter().map(|x| format!("{x:02X}")).collect())
        }
    })
}

/// Pairs of hex digits as bytes; an odd count starts with a lone digit, as in Hive.
fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text
        .chars()
        .map(|c| c.to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    let (head, rest) = digits.split_at(digits.len() % 2);
    Some(
        head.iter()
            .copied()
            .chain(rest.chunks(2).map(|pair| pair[0] << 4 | pair[1]))
            .collect(),
    )
}

#[derive(Clone, Copy)]
enum Charset {
    Utf8,
    Ascii,
    Latin1,
    Utf16Be,
    Utf16Le,
    Utf16,
}

impl Charset {
    fn named(name: &str) -> Result<Charset> {
        Ok(match name.to_ascii_uppercase().replace('_', "-").as_str() {
            "UTF-8" | "UTF8" => Charset::Utf8,
            "US-ASCII" | "ASCII" => Charset::Ascii,
            "ISO-8859-1" | "LATIN1" => Charset::Latin1,
            "UTF-16BE" => Charset::Utf16Be,
            "UTF-16LE" => Charset::Utf16Le,
            "UTF-16" => Charset::Utf16,
            _ => return exec_err!("Unsupported charset: {name}"),
        })
    }

    /// Characters the charset cannot hold become `?`, as Java's encoder writes them.
    fn encode(self, text: &str) -> Vec<u8> {
        let units = |big_endian: bool| -> Vec<u8> {
            text.encode_utf16()
                .flat_map(|u| {
                    if big_endian {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    }
                })
                .collect()
        };
        match self {
            Charset::Utf8 => text.as_bytes().to_vec(),
            Charset::Ascii => text
                .chars()
                .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
                .collect(),
            Charset::Latin1 => text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect(),
            Charset::Utf16Be => units(true),
            Charset::Utf16Le => units(false),
            Charset::Utf16 => [0xFE, 0xFF].into_iter().chain(units(true)).collect(),
        }
    }

    /// Bytes that are not text in the charset become U+FFFD, as Java's decoder reads them.
    fn decode(self, bytes: &[u8]) -> String {
        let utf16 = |bytes: &[u8], big_endian: bool| {
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|p| match p {
                    [a, b] if big_endian => u16::from_be_bytes([*a, *b]),
                    [a, b] => u16::from_le_bytes([*a, *b]),
                    _ => 0xFFFD,
                })
                .collect();
            String::from_utf16_lossy(&units)
        };
        match self {
            Charset::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Charset::Ascii => bytes
                .iter()
                .map(|b| if b.is_ascii() { *b as char } else { '\u{FFFD}' })
                .collect(),
            Charset::Latin1 => bytes.iter().map(|b| *b as char).collect(),
            Charset::Utf16Be => utf16(bytes, true),
            Charset::Utf16Le => utf16(bytes, false),
            Charset::Utf16 => match bytes {
                [0xFF, 0xFE, rest @ ..] => utf16(rest, false),
                [0xFE, 0xFF, rest @ ..] => utf16(rest, true),
                _ => utf16(bytes, true),
            },
        }
    }
}

fn charset_at(arrays: &[ArrayRef], row: usize) -> Result<Option<Charset>> {
    let names = arrays[1].as_string::<i32>();
    if names.is_null(row) {
        return Ok(None);
    }
    Charset::named(names.value(row)).map(Some)
}

fn encode(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let texts = arrays[0].as_string::<i32>();
    let mut out = BinaryBuilder::with_capacity(rows, rows * 8);
    for row in 0..rows {
        let charset = charset_at(arrays, row)?;
        out.append_option(
            charset
                .filter(|_| texts.is_valid(row))
                .map(|c| c.encode(texts.value(row))),
        );
    }
    Ok(Arc::new(out.finish()))
}

fn decode(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let bytes = arrays[0].as_binary::<i32>();
    let mut out = StringBuilder::with_capacity(rows, rows * 8);
    for row in 0..rows {
        let charset = charset_at(arrays, row)?;
        out.append_option(
            charset
                .filter(|_| bytes.is_valid(row))
                .map(|c| c.decode(bytes.value(row))),
        );
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_charsets_read_as_java_writes_them() {
        assert_eq!(unhex("41a"), Some(vec![0x04, 0x1A]));
        assert_eq!(unhex("zz"), None);
        let numbers: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from(vec![255, -1]));
        let out = hex(&[numbers], 2).unwrap();
        assert_eq!(out.as_string::<i32>().value(0), "FF");
        assert_eq!(out.as_string::<i32>().value(1), "FFFFFFFFFFFFFFFF");
        assert_eq!(Charset::Utf16.encode("a"), vec![0xFE, 0xFF, 0, b'a']);
        assert_eq!(Charset::Latin1.decode(&[0xE9]), "é");
        assert!(Charset::named("EBCDIC").is_err());
    }
}
