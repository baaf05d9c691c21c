//! Hive's digests of a string's UTF-8 bytes or of a BINARY: `md5(x)`, `sha1(x)` (also `sha`)
//! and `sha2(x, bits)` as lower-case hex strings, `crc32(x)` as a BIGINT. `sha2` takes 224,
//! 256 (or 0), 384 or 512 bits; other lengths give NULL, as in Hive.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use super::array_function::ArrayFunction;
use super::encodings::{bytes_argument, bytes_at, bytes_type};

pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        ArrayFunction::udf("md5", DataType::Utf8, bytes_argument, |a, r| {
            hex_digests(a, r, |bytes, _| Some(hex(&Md5::digest(bytes))))
        }),
        ArrayFunction::udf("sha1", DataType::Utf8, bytes_argument, sha1_digests),
        ArrayFunction::udf("sha", DataType::Utf8, bytes_argument, sha1_digests),
        ArrayFunction::udf("sha2", DataType::Utf8, value_and_bits, |a, r| {
            hex_digests(a, r, |bytes, bits| match bits? {
                224 => Some(hex(&Sha224::digest(bytes))),
                0 | 256 => Some(hex(&Sha256::digest(bytes))),
                384 => Some(hex(&Sha384::digest(bytes))),
                512 => Some(hex(&Sha512::digest(bytes))),
                _ => None,
            })
        }),
        ArrayFunction::udf("crc32", DataType::Int64, bytes_argument, crc32s),
    ]
}

fn value_and_bits(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [value, _] => Ok(vec![bytes_type(value), DataType::Int64]),
        _ => exec_err!("sha2 takes 2 arguments: a string or binary, and a bit length"),
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_digests(
    arrays: &[ArrayRef],
    rows: usize,
    digest: impl Fn(&[u8], Option<i64>) -> Option<String>,
) -> Result<ArrayRef> {
    let bits = arrays.get(1).map(|b| b.as_primitive::<Int64Type>());
    let mut out = StringBuilder::with_capacity(rows, rows * 64);
    for row in 0..rows {
        let bits = bits.map(|b| b.is_valid(row).then(|| b.value(row)));
        let value = match (bytes_at(&arrays[0], row), bits) {
            (Some(bytes), Some(bits)) => digest(bytes, bits),
            (Some(bytes), None) => digest(bytes, None),
            (None, _) => None,
        };
        out.append_option(value);
    }
    Ok(Arc::new(out.finish()))
}

fn sha1_digests(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    hex_digests(arrays, rows, |bytes, _| Some(hex(&Sha1::digest(bytes))))
}

fn crc32s(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let mut out = Int64Builder::with_capacity(rows);
    for row in 0..rows {
        out.append_option(bytes_at(&arrays[0], row).map(|b| i64::from(crc32fast::hash(b))));
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_hives() {
        let text: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(vec![
            Some("ABC"),
            None,
        ]));
        let md5 = hex_digests(&[Arc::clone(&text)], 2, |b, _| Some(hex(&Md5::digest(b)))).unwrap();
        assert_eq!(
            md5.as_string::<i32>().value(0),
            "902fbdd2b1df0c4f70b4a5d23525e932"
        );
        assert!(md5.is_null(1));
        let crc = crc32s(&[text], 2).unwrap();
        assert_eq!(crc.as_primitive::<Int64Type>().value(0), 2743272264);
    }
}
