//! Decoding LazySimpleSerDe text rows into Arrow arrays, with Hive's leniency: a field that
//! does not parse as its column's type is NULL, missing trailing fields are NULL, extra
//! fields are ignored, and the null format (`\N` by default) is NULL.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BinaryBuilder, BooleanBuilder, Decimal128Builder, ListArray, MapArray,
    RecordBatch, StringBuilder, StringViewBuilder, StructArray,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, FieldRef, Fields, SchemaRef};
use datafusion::error::{DataFusionError, Result};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT as BASE64;

use super::format::TextSerde;

/// Decodes rows of one text table into batches of `schema` (the projected data columns).
pub struct TextDecoder {
    schema: SchemaRef,
    /// For each output column, its field position in a row.
    positions: Vec<usize>,
    serde: TextSerde,
}

impl TextDecoder {
    pub fn new(schema: SchemaRef, positions: Vec<usize>, serde: TextSerde) -> Self {
        TextDecoder {
            schema,
            positions,
            serde,
        }
    }

    /// One batch from `lines` (without line terminators).
    pub fn decode(&self, lines: &[&[u8]]) -> Result<RecordBatch> {
        let mut builders: Vec<ColumnBuilder> = self
            .schema
            .fields()
            .iter()
            .map(|f| ColumnBuilder::new(f.data_type()))
            .collect();
        let needed = self.positions.iter().max().map_or(0, |m| m + 1);
        let mut fields: Vec<&[u8]> = Vec::with_capacity(needed);
        for line in lines {
            fields.clear();
            split(
                line,
                self.serde.separators[0],
                self.serde.escape,
                needed,
                &mut fields,
            );
            for (builder, position) in builders.iter_mut().zip(&self.positions) {
                builder.append(fields.get(*position).copied(), 1, &self.serde);
            }
        }
        let columns = builders
            .into_iter()
            .map(|b| b.finish())
            .collect::<Result<Vec<_>>>()?;
        let options =
            datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(lines.len()));
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &options,
        )?)
    }
}

/// Splits `text` on `separator` (honouring `escape`), keeping at most `limit` pieces; the
/// last piece runs to the next separator (extra fields are ignored).
fn split<'a>(
    text: &'a [u8],
    separator: u8,
    escape: Option<u8>,
    limit: usize,
    out: &mut Vec<&'a [u8]>,
) {
    let limit = limit.max(1);
    let mut start = 0;
    match escape {
        // Without an escape character every separator splits. (Fields are short: a byte loop
        // beats memchr's vectorized search, which pays its setup at every field.)
        None => {
            for (at, &byte) in text.iter().enumerate() {
                if byte == separator {
                    out.push(&text[start..at]);
                    start = at + 1;
                    if out.len() == limit {
                        return;
                    }
                }
            }
        }
        Some(escape) => {
            let mut i = 0;
            while i < text.len() {
                let byte = text[i];
                if byte == escape {
                    i += 2;
                    continue;
                }
                if byte == separator {
                    out.push(&text[start..i]);
                    start = i + 1;
                    if out.len() == limit {
                        return;
                    }
                }
                i += 1;
            }
        }
    }
    out.push(&text[start.min(text.len())..]);
}

fn unescape(text: &[u8], escape: Option<u8>) -> std::borrow::Cow<'_, [u8]> {
    let Some(escape) = escape else {
        return text.into();
    };
    if !text.contains(&escape) {
        return text.into();
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == escape && i + 1 < text.len() {
            out.push(match text[i + 1] {
                b'n' => b'\n',
                b'r' => b'\r',
                other => other,
            });
            i += 2;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out.into()
}

/// Accumulates one column's values, nested as its type is.
enum ColumnBuilder {
    Primitive {
        target: DataType,
        texts: StringBuilder,
    },
    /// STRING, VARCHAR and CHAR: string views built as read.
    Strings(StringViewBuilder),
    /// Parsed as read, without the text copy the others take.
    Decimal(Decimal128Builder, u8, i8),
    Boolean(BooleanBuilder),
    Binary(BinaryBuilder),
    List {
        field: FieldRef,
        child: Box<ColumnBuilder>,
        offsets: Vec<i32>,
        valid: Vec<bool>,
    },
    Map {
        entries: FieldRef,
        keys: Box<ColumnBuilder>,
        values: Box<ColumnBuilder>,
        offsets: Vec<i32>,
        valid: Vec<bool>,
    },
    Struct {
        fields: Fields,
        children: Vec<ColumnBuilder>,
        valid: Vec<bool>,
    },
}

impl ColumnBuilder {
    fn new(data_type: &DataType) -> ColumnBuilder {
        match data_type {
            DataType::Decimal128(precision, scale) => {
                ColumnBuilder::Decimal(Decimal128Builder::new(), *precision, *scale)
            }
            DataType::Utf8View => ColumnBuilder::Strings(StringViewBuilder::new()),
            DataType::Boolean => ColumnBuilder::Boolean(BooleanBuilder::new()),
            DataType::Binary => ColumnBuilder::Binary(BinaryBuilder::new()),
            DataType::List(field) => ColumnBuilder::List {
                field: field.clone(),
                child: Box::new(ColumnBuilder::new(field.data_type())),
                offsets: vec![0],
                valid: Vec::new(),
            },
            DataType::Map(entries, _) => {
                let DataType::Struct(kv) = entries.data_type() else {
                    return ColumnBuilder::Primitive {
                        target: data_type.clone(),
                        texts: StringBuilder::new(),
                    };
                };
                ColumnBuilder::Map {
                    entries: entries.clone(),
                    keys: Box::new(ColumnBuilder::new(kv[0].data_type())),
                    values: Box::new(ColumnBuilder::new(kv[1].data_type())),
                    offsets: vec![0],
                    valid: Vec::new(),
                }
            }
            DataType::Struct(fields) => ColumnBuilder::Struct {
                fields: fields.clone(),
                children: fields
                    .iter()
                    .map(|f| ColumnBuilder::new(f.data_type()))
                    .collect(),
                valid: Vec::new(),
            },
            other => ColumnBuilder::Primitive {
                target: other.clone(),
                texts: StringBuilder::new(),
            },
        }
    }

    /// Appends one value; `level` is the separator index its items are split on.
    fn append(&mut self, text: Option<&[u8]>, level: usize, serde: &TextSerde) {
        let text = text.filter(|t| *t != serde.null_format.as_bytes());
        let separator = |l: usize| serde.separators.get(l).copied().unwrap_or(b'\x01');
        match self {
            // The text is kept as written; `finish` casts it, and what does not parse as the
            // column's type becomes NULL.
            ColumnBuilder::Primitive { texts, .. } => match text {
                None => texts.append_null(),
                Some(t) => texts.append_value(String::from_utf8_lossy(&unescape(t, serde.escape))),
            },
            ColumnBuilder::Strings(builder) => match text {
                None => builder.append_null(),
                Some(t) => {
                    builder.append_value(String::from_utf8_lossy(&unescape(t, serde.escape)))
                }
            },
            ColumnBuilder::Decimal(builder, precision, scale) => builder.append_option(
                text.and_then(|t| parse_decimal(&unescape(t, serde.escape), *precision, *scale)),
            ),
            ColumnBuilder::Boolean(builder) => match text {
                Some(t) if t.eq_ignore_ascii_case(b"true") => builder.append_value(true),
                Some(t) if t.eq_ignore_ascii_case(b"false") => builder.append_value(false),
                _ => builder.append_null(),
            },
            ColumnBuilder::Binary(builder) => match text {
                None => builder.append_null(),
                // Base64 as Hive writes it; anything else is taken as the bytes themselves.
                Some(t) => match BASE64.decode(t) {
                    Ok(bytes) => builder.append_value(bytes),
                    Err(_) => builder.append_value(unescape(t, serde.escape)),
                },
            },
            ColumnBuilder::List {
                child,
                offsets,
                valid,
                ..
            } => {
                let count = match text {
                    None => {
                        valid.push(false);
                        0
                    }
                    Some(t) => {
                        valid.push(true);
                        let mut items = Vec::new();
                        if !t.is_empty() {
                            split(t, separator(level), serde.escape, usize::MAX, &mut items);
                        }
                        for item in &items {
                            child.append(Some(item), level + 1, serde);
                        }
                        items.len()
                    }
                };
                offsets.push(offsets.last().copied().unwrap_or(0) + count as i32);
            }
            ColumnBuilder::Map {
                keys,
                values,
                offsets,
                valid,
                ..
            } => {
                let mut count = 0;
                match text {
                    None => valid.push(false),
                    Some(t) => {
                        valid.push(true);
                        let mut entries = Vec::new();
                        if !t.is_empty() {
                            split(t, separator(level), serde.escape, usize::MAX, &mut entries);
                        }
                        for entry in entries {
                            let mut kv = Vec::new();
                            split(entry, separator(level + 1), serde.escape, 2, &mut kv);
                            let Some(key) = kv
                                .first()
                                .copied()
                                .filter(|k| *k != serde.null_format.as_bytes())
                            else {
                                continue;
                            };
                            keys.append(Some(key), level + 2, serde);
                            values.append(kv.get(1).copied(), level + 2, serde);
                            count += 1;
                        }
                    }
                }
                offsets.push(offsets.last().copied().unwrap_or(0) + count);
            }
            ColumnBuilder::Struct {
                children, valid, ..
            } => {
                let mut parts = Vec::new();
                match text {
                    None => valid.push(false),
                    Some(t) => {
                        valid.push(true);
                        split(
                            t,
                            separator(level),
                            serde.escape,
                            children.len(),
                            &mut parts,
                        );
                    }
                }
                for (i, child) in children.iter_mut().enumerate() {
                    child.append(parts.get(i).copied(), level + 1, serde);
                }
            }
        }
    }

    fn finish(self) -> Result<ArrayRef> {
        Ok(match self {
            ColumnBuilder::Primitive { target, mut texts } => {
                let strings: ArrayRef = Arc::new(texts.finish());
                let options = CastOptions {
                    safe: true,
                    ..Default::default()
                };
                cast_with_options(&strings, &target, &options)?
            }
            ColumnBuilder::Strings(mut builder) => Arc::new(builder.finish()),
            ColumnBuilder::Decimal(mut builder, precision, scale) => Arc::new(
                builder
                    .finish()
                    .with_precision_and_scale(precision, scale)?,
            ),
            ColumnBuilder::Boolean(mut builder) => Arc::new(builder.finish()),
            ColumnBuilder::Binary(mut builder) => Arc::new(builder.finish()),
            ColumnBuilder::List {
                field,
                child,
                offsets,
                valid,
            } => Arc::new(ListArray::try_new(
                field,
                OffsetBuffer::new(offsets.into()),
                child.finish()?,
                Some(NullBuffer::from(valid)),
            )?),
            ColumnBuilder::Map {
                entries,
                keys,
                values,
                offsets,
                valid,
            } => {
                let DataType::Struct(kv) = entries.data_type() else {
                    return Err(DataFusionError::Internal(
                        "map entries are not a struct".into(),
                    ));
                };
                let keys = keys.finish()?;
                if keys.null_count() > 0 {
                    return Err(DataFusionError::Execution(
                        "a map key in the data does not parse as the key type".into(),
                    ));
                }
                let entries_array =
                    StructArray::try_new(kv.clone(), vec![keys, values.finish()?], None)?;
                Arc::new(MapArray::try_new(
                    entries,
                    OffsetBuffer::new(offsets.into()),
                    entries_array,
                    Some(NullBuffer::from(valid)),
                    false,
                )?)
            }
            ColumnBuilder::Struct {
                fields,
                children,
                valid,
            } => {
                let arrays = children
                    .into_iter()
                    .map(|c| c.finish())
                    .collect::<Result<Vec<_>>>()?;
                Arc::new(StructArray::try_new(
                    fields,
                    arrays,
                    Some(NullBuffer::from(valid)),
                )?)
            }
        })
    }
}

/// A decimal as Hive's text SerDe reads it: digits with an optional fraction and exponent
/// (`1E-99`), rounded half up to `scale` digits; NULL when it does not fit `precision`.
pub fn parse_decimal(text: &[u8], precision: u8, scale: i8) -> Option<i128> {
    match parse_plain_decimal(text, precision, scale) {
        Plain::Value(value) => return Some(value),
        Plain::TooLarge => return None,
        Plain::Other => {}
    }
    let text = text.trim_ascii();
    let (negative, unsigned) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.iter().position(|b| matches!(b, b'e' | b'E')) {
        Some(at) => (
            &unsigned[..at],
            std::str::from_utf8(&unsigned[at + 1..])
                .ok()?
                .parse::<i32>()
                .ok()?,
        ),
        None => (unsigned, 0),
    };
    let (integer, fraction) = match mantissa.iter().position(|b| *b == b'.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, &mantissa[mantissa.len()..]),
    };
    let digit_count = integer.len() + fraction.len();
    if digit_count == 0 || !integer.iter().chain(fraction).all(u8::is_ascii_digit) {
        return None;
    }
    // All digits in order, and the power of ten of the last one.
    let digits = || integer.iter().chain(fraction).map(|b| b - b'0');
    let last_power = exponent.checked_sub(i32::try_from(fraction.len()).ok()?)?;
    let scale = i32::from(scale);
    // Digits kept: those whose power is at least -scale.
    let drop = usize::try_from((-scale).saturating_sub(last_power).max(0)).ok()?;
    let kept = digit_count.saturating_sub(drop);
    let mut value: i128 = 0;
    for d in digits().take(kept) {
        value = value.checked_mul(10)?.checked_add(i128::from(d))?;
    }
    if drop > 0 && digits().nth(kept).is_some_and(|d| d >= 5) {
        value = value.checked_add(1)?;
    }
    // Shift up to the scale when the last digit is above 10^-scale.
    let shift = u32::try_from(last_power.saturating_add(scale).max(0)).ok()?;
    value = value.checked_mul(10i128.checked_pow(shift)?)?;
    if value >= 10i128.checked_pow(u32::from(precision))? {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// Powers of ten up to 10^38, the bound of a DECIMAL(38).
const POWERS_OF_TEN: [i128; 39] = {
    let mut powers = [1i128; 39];
    let mut i = 1;
    while i < powers.len() {
        powers[i] = powers[i - 1] * 10;
        i += 1;
    }
    powers
};

enum Plain {
    Value(i128),
    TooLarge,
    /// Not written as plain digits within the scale: the general parser decides.
    Other,
}

/// The common case in one pass: `[-+]digits[.digits]` with at most `scale` fraction digits
/// and at most 38 digits in all, which needs no rounding and cannot overflow.
fn parse_plain_decimal(text: &[u8], precision: u8, scale: i8) -> Plain {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut value: i128 = 0;
    let mut count = 0usize;
    let mut fraction: Option<usize> = None;
    for &byte in digits {
        match byte {
            b'0'..=b'9' => {
                value = value * 10 + i128::from(byte - b'0');
                count += 1;
                if count > 38 {
                    return Plain::Other;
                }
                if let Some(places) = fraction.as_mut() {
                    *places += 1;
                }
            }
            b'.' if fraction.is_none() => fraction = Some(0),
            _ => return Plain::Other,
        }
    }
    let places = fraction.unwrap_or(0);
    let Ok(scale) = usize::try_from(scale) else {
        return Plain::Other;
    };
    if count == 0 || places > scale || count - places + scale > 38 {
        return Plain::Other;
    }
    let value = value * POWERS_OF_TEN[scale - places];
    if value >= POWERS_OF_TEN[usize::from(precision).min(38)] {
        return Plain::TooLarge;
    }
    Plain::Value(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;

    use super::*;
    use crate::types::HiveType;

    fn decode(types: &[&str], serde: TextSerde, lines: &[&str]) -> String {
        let fields: Vec<Field> = types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Field::new(
                    format!("c{i}"),
                    HiveType::parse(t).unwrap().to_arrow(),
                    true,
                )
            })
            .collect();
        let decoder = TextDecoder::new(
            Arc::new(Schema::new(fields)),
            (0..types.len()).collect(),
            serde,
        );
        let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        pretty_format_batches(&[decoder.decode(&lines).unwrap()])
            .unwrap()
            .to_string()
    }

    #[test]
    fn hive_leniency() {
        let out = decode(
            &["int", "string", "double", "boolean"],
            TextSerde::default(),
            &["1\x01a\x012.5\x01TRUE\x01extra", "x\x01\\N", "3"],
        );
        assert_eq!(
            out,
            "+----+----+-----+------+\n| c0 | c1 | c2  | c3   |\n+----+----+-----+------+\n| 1  | a  | 2.5 | true |\n|    |    |     |      |\n| 3  |    |     |      |\n+----+----+-----+------+"
        );
    }

    #[test]
    fn nested_types_with_default_separators() {
        let out = decode(
            &["array<int>", "map<string,int>", "struct<a:int,b:string>"],
            TextSerde::default(),
            &["1\x022\x023\x01k\x031\x02j\x032\x017\x02x"],
        );
        assert!(out.contains("[1, 2, 3]"), "{out}");
        assert!(out.contains("{k: 1, j: 2}"), "{out}");
        assert!(out.contains("{a: 7, b: x}"), "{out}");
    }

    #[test]
    fn escapes() {
        let mut serde = TextSerde::default();
        serde.separators[0] = b',';
        serde.escape = Some(b'\\');
        let out = decode(&["string", "int"], serde, &["a\\,b,5"]);
        assert!(out.contains("| a,b | 5  |"), "{out}");
    }

    #[test]
    fn decimals_round_to_their_scale_and_fail_past_their_precision() {
        use super::parse_decimal;
        assert_eq!(parse_decimal(b"1E-99", 20, 10), Some(0));
        assert_eq!(parse_decimal(b"1E+99", 20, 10), None);
        assert_eq!(parse_decimal(b"-4400", 20, 10), Some(-44_000_000_000_000));
        assert_eq!(parse_decimal(b"3.14159", 5, 3), Some(3142));
        assert_eq!(parse_decimal(b"1.5e2", 5, 0), Some(150));
        assert_eq!(parse_decimal(b" 0.045 ", 4, 2), Some(5));
        assert_eq!(parse_decimal(b".5", 3, 1), Some(5));
        assert_eq!(parse_decimal(b"1e2147483647", 38, 0), None);
        assert_eq!(parse_decimal(b"abc", 5, 0), None);
        assert_eq!(parse_decimal(b"-", 5, 0), None);
        assert_eq!(parse_decimal(b"12345", 4, 0), None);
        // The one-pass common case agrees with the general parser.
        assert_eq!(parse_decimal(b"-17.5", 15, 2), Some(-1750));
        assert_eq!(parse_decimal(b"905.04", 5, 2), Some(90504));
        assert_eq!(parse_decimal(b"1000.00", 5, 2), None);
        assert_eq!(parse_decimal(b"0.05", 15, 2), Some(5));
        assert_eq!(parse_decimal(b"1.", 3, 0), Some(1));
        assert_eq!(parse_decimal(b"1.2.3", 5, 2), None);
        let nines = "9".repeat(38);
        assert_eq!(
            parse_decimal(nines.as_bytes(), 38, 0),
            Some(10i128.pow(38) - 1)
        );
    }
}
