//! Hive's `aes_encrypt(input, key)` and `aes_decrypt(input, key)`: AES as Java's `"AES"`
//! cipher runs it (ECB mode, PKCS#5 padding), with a 16, 24 or 32 byte key. Strings are their
//! UTF-8 bytes; the result is a BINARY. A NULL argument, a key of another length, or input
//! that does not decrypt gives NULL, as in Hive.

use std::sync::Arc;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyInit};
use datafusion::arrow::array::{ArrayRef, BinaryBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;
use super::encodings::{bytes_at, bytes_type};

pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        ArrayFunction::udf(
            "aes_encrypt",
            DataType::Binary,
            two_byte_arguments,
            |a, r| apply(a, r, encrypt),
        ),
        ArrayFunction::udf(
            "aes_decrypt",
            DataType::Binary,
            two_byte_arguments,
            |a, r| apply(a, r, decrypt),
        ),
    ]
}

fn two_byte_arguments(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [input, key] => Ok(vec![bytes_type(input), bytes_type(key)]),
        _ => exec_err!("takes 2 arguments: an input and a key"),
    }
}

fn apply(
    arrays: &[ArrayRef],
    rows: usize,
    cipher: fn(&[u8], &[u8]) -> Option<Vec<u8>>,
) -> Result<ArrayRef> {
    let mut out = BinaryBuilder::with_capacity(rows, rows * 16);
    for row in 0..rows {
        let result = bytes_at(&arrays[0], row)
            .zip(bytes_at(&arrays[1], row))
            .and_then(|(input, key)| cipher(input, key));
        out.append_option(result);
    }
    Ok(Arc::new(out.finish()))
}

fn encrypt(input: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    Some(match key.len() {
        16 => ecb::Encryptor::<aes::Aes128>::new_from_slice(key)
            .ok()?
            .encrypt_padded_vec_mut::<Pkcs7>(input),
        24 => ecb::Encryptor::<aes::Aes192>::new_from_slice(key)
            .ok()?
            .encrypt_padded_vec_mut::<Pkcs7>(input),
        32 => ecb::Encryptor::<aes::Aes256>::new_from_slice(key)
            .ok()?
            .encrypt_padded_vec_mut::<Pkcs7>(input),
        _ => return None,
    })
}

fn decrypt(input: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    match key.len() {
        16 => ecb::Decryptor::<aes::Aes128>::new_from_slice(key)
            .ok()?
            .decrypt_padded_vec_mut::<Pkcs7>(input)
            .ok(),
        24 => ecb::Decryptor::<aes::Aes192>::new_from_slice(key)
            .ok()?
            .decrypt_padded_vec_mut::<Pkcs7>(input)
            .ok(),
        32 => ecb::Decryptor::<aes::Aes256>::new_from_slice(key)
            .ok()?
            .decrypt_padded_vec_mut::<Pkcs7>(input)
            .ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{decrypt, encrypt};

    #[test]
    fn encrypts_as_java_aes_does() {
        // Hive's documented example: base64(aes_encrypt('ABC', '1234567890123456')).
        let encrypted = encrypt(b"ABC", b"1234567890123456").unwrap_or_default();
        let hex: String = encrypted.iter().map(|b| format!("{b:02x}")).collect();
        // y6Ss+zCYObpCbgfWfyNWTw== in base64, as Hive's documentation gives it.
        assert_eq!(hex, "cba4acfb309839ba426e07d67f23564f");
        assert_eq!(
            decrypt(&encrypted, b"1234567890123456").as_deref(),
            Some(&b"ABC"[..])
        );
        assert_eq!(encrypt(b"ABC", b"short"), None);
        assert_eq!(decrypt(b"not sixteen", b"1234567890123456"), None);
    }
}
