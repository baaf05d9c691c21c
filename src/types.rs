//! Hive's data types: parsing Hive type strings (`array<struct<a:int>>`), printing them the
//! way Hive does, and mapping them to Arrow types and back.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};

/// A Hive column type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HiveType {
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    Decimal(u8, i8),
    String,
    Varchar(u32),
    Char(u32),
    Binary,
    Date,
    Timestamp,
    Array(Box<HiveType>),
    Map(Box<HiveType>, Box<HiveType>),
    Struct(Vec<(String, HiveType)>),
}

/// Hive's default for a bare `DECIMAL`.
const DEFAULT_DECIMAL: (u8, i8) = (10, 0);
const MAX_DECIMAL_PRECISION: u8 = 38;

impl HiveType {
    /// Parses a Hive type string, case-insensitively.
    pub fn parse(text: &str) -> Result<HiveType, String> {
        let mut parser = TypeParser { text, pos: 0 };
        let parsed = parser.parse_type()?;
        parser.skip_spaces();
        if parser.pos != text.len() {
            return Err(format!(
                "unexpected '{}' in type '{text}'",
                &text[parser.pos..]
            ));
        }
        Ok(parsed)
    }

    /// The Arrow type Apiary uses for values of this type.
    pub fn to_arrow(&self) -> DataType {
        match self {
            HiveType::Boolean => DataType::Boolean,
            HiveType::TinyInt => DataType::Int8,
            HiveType::SmallInt => DataType::Int16,
            HiveType::Int => DataType::Int32,
            HiveType::BigInt => DataType::Int64,
            HiveType::Float => DataType::Float32,
            HiveType::Double => DataType::Float64,
            HiveType::Decimal(p, s) => DataType::Decimal128(*p, *s),
            HiveType::String | HiveType::Varchar(_) | HiveType::Char(_) => DataType::Utf8View,
            HiveType::Binary => DataType::Binary,
            HiveType::Date => DataType::Date32,
            HiveType::Timestamp => DataType::Timestamp(TimeUnit::Nanosecond, None),
            HiveType::Array(element) => {
                DataType::List(Arc::new(Field::new("item", element.to_arrow(), true)))
            }
            HiveType::Map(key, value) => {
                let entries = Fields::from(vec![
                    Field::new("key", key.to_arrow(), false),
                    Field::new("value", value.to_arrow(), true),
                ]);
                DataType::Map(
                    Arc::new(Field::new("entries", DataType::Struct(entries), false)),
                    false,
                )
            }
            HiveType::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|(name, t)| Field::new(name, t.to_arrow(), true))
                    .collect(),
            ),
        }
    }

    /// The Hive type that holds values of an Arrow type, as CREATE TABLE AS SELECT needs.
    pub fn from_arrow(data_type: &DataType) -> Result<HiveType, String> {
        Ok(match data_type {
            DataType::Boolean => HiveType::Boolean,
            DataType::Int8 => HiveType::TinyInt,
            DataType::Int16 | DataType::UInt8 => HiveType::SmallInt,
            DataType::Int32 | DataType::UInt16 => HiveType::Int,
            DataType::Int64 | DataType::UInt32 => HiveType::BigInt,
            DataType::UInt64 => HiveType::Decimal(20, 0),
            DataType::Float16 | DataType::Float32 => HiveType::Float,
            DataType::Float64 => HiveType::Double,
            DataType::Decimal32(p, s)
            | DataType::Decimal64(p, s)
            | DataType::Decimal128(p, s)
            | DataType::Decimal256(p, s) => HiveType::Decimal(
                (*p).min(MAX_DECIMAL_PRECISION),
                (*s).min(MAX_DECIMAL_PRECISION as i8),
            ),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => HiveType::String,
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => HiveType::Binary,
            DataType::Date32 | DataType::Date64 => HiveType::Date,
            DataType::Timestamp(_, _) => HiveType::Timestamp,
            DataType::List(f)
            | DataType::LargeList(f)
            | DataType::ListView(f)
            | DataType::LargeListView(f)
            | DataType::FixedSizeList(f, _) => {
                HiveType::Array(Box::new(Self::from_arrow(f.data_type())?))
            }
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => HiveType::Map(
                    Box::new(Self::from_arrow(kv[0].data_type())?),
                    Box::new(Self::from_arrow(kv[1].data_type())?),
                ),
                other => return Err(format!("unsupported map entries type {other}")),
            },
            DataType::Struct(fields) => HiveType::Struct(
                fields
                    .iter()
                    .map(|f| Ok((f.name().to_lowercase(), Self::from_arrow(f.data_type())?)))
                    .collect::<Result<_, String>>()?,
            ),
            DataType::Dictionary(_, value) => Self::from_arrow(value)?,
            DataType::Null => {
                return Err("a NULL column has no type (void); CAST it to a type".into());
            }
            other => return Err(format!("type {other} has no Hive equivalent")),
        })
    }

    pub fn is_primitive(&self) -> bool {
        !matches!(
            self,
            HiveType::Array(_) | HiveType::Map(_, _) | HiveType::Struct(_)
        )
    }
}

impl fmt::Display for HiveType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HiveType::Boolean => f.write_str("boolean"),
            HiveType::TinyInt => f.write_str("tinyint"),
            HiveType::SmallInt => f.write_str("smallint"),
            HiveType::Int => f.write_str("int"),
            HiveType::BigInt => f.write_str("bigint"),
            HiveType::Float => f.write_str("float"),
            HiveType::Double => f.write_str("double"),
            HiveType::Decimal(p, s) => write!(f, "decimal({p},{s})"),
            HiveType::String => f.write_str("string"),
            HiveType::Varchar(n) => write!(f, "varchar({n})"),
            HiveType::Char(n) => write!(f, "char({n})"),
            HiveType::Binary => f.write_str("binary"),
            HiveType::Date => f.write_str("date"),
            HiveType::Timestamp => f.write_str("timestamp"),
            HiveType::Array(e) => write!(f, "array<{e}>"),
            HiveType::Map(k, v) => write!(f, "map<{k},{v}>"),
            HiveType::Struct(fields) => {
                f.write_str("struct<")?;
                for (i, (name, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}:{t}")?;
                }
                f.write_str(">")
            }
        }
    }
}

/// A recursive-descent parser over a type string.
struct TypeParser<'a> {
    text: &'a str,
    pos: usize,
}

impl TypeParser<'_> {
    fn skip_spaces(&mut self) {
        while self.text[self.pos..].starts_with(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn word(&mut self) -> Result<String, String> {
        self.skip_spaces();
        let rest = &self.text[self.pos..];
        let quoted = rest.starts_with('`');
        if quoted {
            let end = rest[1..]
                .find('`')
                .ok_or_else(|| format!("unclosed ` in type '{}'", self.text))?;
            self.pos += end + 2;
            return Ok(rest[1..=end].to_string());
        }
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(format!(
                "expected a name at '{rest}' in type '{}'",
                self.text
            ));
        }
        self.pos += len;
        Ok(rest[..len].to_string())
    }

    fn eat(&mut self, symbol: char) -> bool {
        self.skip_spaces();
        if self.text[self.pos..].starts_with(symbol) {
            self.pos += symbol.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, symbol: char) -> Result<(), String> {
        if self.eat(symbol) {
            Ok(())
        } else {
            Err(format!(
                "expected '{symbol}' at position {} in type '{}'",
                self.pos, self.text
            ))
        }
    }

    fn number(&mut self) -> Result<u32, String> {
        let word = self.word()?;
        word.parse()
            .map_err(|_| format!("expected a number, found '{word}' in type '{}'", self.text))
    }

    fn parse_type(&mut self) -> Result<HiveType, String> {
        let name = self.word()?.to_ascii_lowercase();
        Ok(match name.as_str() {
            "boolean" => HiveType::Boolean,
            "tinyint" => HiveType::TinyInt,
            "smallint" => HiveType::SmallInt,
            "int" | "integer" => HiveType::Int,
            "bigint" => HiveType::BigInt,
            "float" | "real" => HiveType::Float,
            "double" => {
                // DOUBLE PRECISION is a synonym.
                let save = self.pos;
                if !self
                    .word()
                    .is_ok_and(|w| w.eq_ignore_ascii_case("precision"))
                {
                    self.pos = save;
                }
                HiveType::Double
            }
            "decimal" | "numeric" | "dec" => {
                let (mut precision, mut scale) =
                    (DEFAULT_DECIMAL.0 as u32, DEFAULT_DECIMAL.1 as u32);
                if self.eat('(') {
                    precision = self.number()?;
                    scale = if self.eat(',') { self.number()? } else { 0 };
                    self.expect(')')?;
                }
                if precision == 0 || precision > MAX_DECIMAL_PRECISION as u32 {
                    return Err(format!(
                        "Decimal precision out of allowed range [1,{MAX_DECIMAL_PRECISION}]"
                    ));
                }
                if scale > precision {
                    return Err("Decimal scale must be less than or equal to precision".into());
                }
                HiveType::Decimal(precision as u8, scale as i8)
            }
            "string" => HiveType::String,
            "varchar" | "char" => {
                self.expect('(')?;
                let length = self.number()?;
                self.expect(')')?;
                let (max, kind) = if name == "varchar" {
                    (65535, "Varchar")
                } else {
                    (255, "Char")
                };
                if length == 0 || length > max {
                    return Err(format!(
                        "{kind} length {length} out of allowed range [1, {max}]"
                    ));
                }
                if name == "varchar" {
                    HiveType::Varchar(length)
                } else {
                    HiveType::Char(length)
                }
            }
            "binary" => HiveType::Binary,
            "date" => HiveType::Date,
            "timestamp" => HiveType::Timestamp,
            "array" => {
                self.expect('<')?;
                let element = self.parse_type()?;
                self.expect('>')?;
                HiveType::Array(Box::new(element))
            }
            "map" => {
                self.expect('<')?;
                let key = self.parse_type()?;
                if !key.is_primitive() {
                    return Err(format!("map key must be a primitive type, not {key}"));
                }
                self.expect(',')?;
                let value = self.parse_type()?;
                self.expect('>')?;
                HiveType::Map(Box::new(key), Box::new(value))
            }
            "struct" => {
                self.expect('<')?;
                let mut fields = Vec::new();
                loop {
                    let field = self.word()?.to_lowercase();
                    self.expect(':')?;
                    fields.push((field, self.parse_type()?));
                    // A field may carry a COMMENT 'text'; it is not kept.
                    let save = self.pos;
                    if self.word().is_ok_and(|w| w.eq_ignore_ascii_case("comment")) {
                        self.skip_string()?;
                    } else {
                        self.pos = save;
                    }
                    if !self.eat(',') {
                        break;
                    }
                }
                self.expect('>')?;
                HiveType::Struct(fields)
            }
            other => return Err(format!("unknown type '{other}'")),
        })
    }

    fn skip_string(&mut self) -> Result<(), String> {
        self.skip_spaces();
        let rest = &self.text[self.pos..];
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"');
        let Some(quote) = quote else {
            return Err(format!("expected a string in type '{}'", self.text));
        };
        let end = rest[1..]
            .find(quote)
            .ok_or_else(|| format!("unclosed string in type '{}'", self.text))?;
        self.pos += end + 2;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_hive_types() {
        for (text, printed) in [
            ("INT", "int"),
            ("decimal", "decimal(10,0)"),
            ("DECIMAL(12, 3)", "decimal(12,3)"),
            ("varchar(10)", "varchar(10)"),
            ("array<array<int>>", "array<array<int>>"),
            ("map<string,array<double>>", "map<string,array<double>>"),
            (
                "STRUCT<a:INT, b:STRING COMMENT 'x', `c d`:map<int,int>>",
                "struct<a:int,b:string,c d:map<int,int>>",
            ),
            ("double precision", "double"),
        ] {
            assert_eq!(
                HiveType::parse(text).unwrap().to_string(),
                printed,
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_bad_types() {
        for text in [
            "arr<int>",
            "array<int",
            "decimal(40,2)",
            "decimal(5,6)",
            "varchar",
            "map<array<int>,int>",
            "int x",
        ] {
            assert!(HiveType::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn arrow_round_trip() {
        let t =
            HiveType::parse("struct<a:int,b:array<map<string,timestamp>>,c:decimal(5,2)>").unwrap();
        assert_eq!(HiveType::from_arrow(&t.to_arrow()).unwrap(), t);
    }
}
