//! How column types travel: the HiveServer2 type of an Arrow column (what result-set
//! metadata says), and the JDBC facts about each Hive type that GetColumns and GetTypeInfo
//! report (`java.sql.Types` codes, sizes, digits).

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::{DataType, Schema};

use super::protocol::{
    TColumnDesc, TPrimitiveTypeEntry, TTableSchema, TTypeDesc, TTypeEntry, TTypeId,
    TTypeQualifierValue, TTypeQualifiers,
};
use crate::types::HiveType;

/// The HiveServer2 type of a column, as it is declared and as its values travel.
#[derive(Debug, Clone, PartialEq)]
pub enum WireType {
    Hive(HiveType),
    /// An untyped NULL (`SELECT NULL`), which Hive calls `void`.
    Null,
}

impl WireType {
    /// The type of values of an Arrow type. Types Hive has no name for travel as strings.
    pub fn of(data_type: &DataType) -> WireType {
        match data_type {
            DataType::Null => WireType::Null,
            other => WireType::Hive(HiveType::from_arrow(other).unwrap_or(HiveType::String)),
        }
    }

    pub fn type_id(&self) -> TTypeId {
        match self {
            WireType::Null => TTypeId::NULL_TYPE,
            WireType::Hive(hive) => hive_type_id(hive),
        }
    }

    fn qualifiers(&self) -> Option<TTypeQualifiers> {
        let qualifiers: BTreeMap<String, TTypeQualifierValue> = match self {
            WireType::Hive(HiveType::Decimal(precision, scale)) => BTreeMap::from([
                (
                    "precision".to_string(),
                    i32_qualifier(i32::from(*precision)),
                ),
                ("scale".to_string(), i32_qualifier(i32::from(*scale))),
            ]),
            WireType::Hive(HiveType::Varchar(length) | HiveType::Char(length)) => {
                BTreeMap::from([(
                    "characterMaximumLength".to_string(),
                    i32_qualifier(i32::try_from(*length).unwrap_or(i32::MAX)),
                )])
            }
            _ => return None,
        };
        Some(TTypeQualifiers::new(qualifiers))
    }

    /// The type as a one-entry description. Like HiveServer2, complex types are described by
    /// their kind alone (their values travel as JSON text), which every client expects.
    pub fn type_desc(&self) -> TTypeDesc {
        let entry = TPrimitiveTypeEntry::new(self.type_id(), self.qualifiers());
        TTypeDesc::new(vec![TTypeEntry::PrimitiveEntry(entry)])
    }
}

fn i32_qualifier(value: i32) -> TTypeQualifierValue {
    TTypeQualifierValue::I32Value(value)
}

pub fn hive_type_id(hive: &HiveType) -> TTypeId {
    match hive {
        HiveType::Boolean => TTypeId::BOOLEAN_TYPE,
        HiveType::TinyInt => TTypeId::TINYINT_TYPE,
        HiveType::SmallInt => TTypeId::SMALLINT_TYPE,
        HiveType::Int => TTypeId::INT_TYPE,
        HiveType::BigInt => TTypeId::BIGINT_TYPE,
        HiveType::Float => TTypeId::FLOAT_TYPE,
        HiveType::Double => TTypeId::DOUBLE_TYPE,
        HiveType::Decimal(..) => TTypeId::DECIMAL_TYPE,
        HiveType::String => TTypeId::STRING_TYPE,
        HiveType::Varchar(_) => TTypeId::VARCHAR_TYPE,
        HiveType::Char(_) => TTypeId::CHAR_TYPE,
        HiveType::Binary => TTypeId::BINARY_TYPE,
        HiveType::Date => TTypeId::DATE_TYPE,
        HiveType::Timestamp => TTypeId::TIMESTAMP_TYPE,
        HiveType::Array(_) => TTypeId::ARRAY_TYPE,
        HiveType::Map(..) => TTypeId::MAP_TYPE,
        HiveType::Struct(_) => TTypeId::STRUCT_TYPE,
    }
}

/// A result set's schema as GetResultSetMetadata answers it.
pub fn table_schema(schema: &Schema) -> TTableSchema {
    let columns = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            TColumnDesc::new(
                field.name().clone(),
                WireType::of(field.data_type()).type_desc(),
                i32::try_from(i + 1).unwrap_or(i32::MAX),
                None,
            )
        })
        .collect();
    TTableSchema::new(columns)
}

/// `java.sql.Types` codes.
pub mod jdbc {
    pub const NULL: i32 = 0;
    pub const BOOLEAN: i32 = 16;
    pub const TINYINT: i32 = -6;
    pub const SMALLINT: i32 = 5;
    pub const INTEGER: i32 = 4;
    pub const BIGINT: i32 = -5;
    pub const FLOAT: i32 = 6;
    pub const DOUBLE: i32 = 8;
    pub const DECIMAL: i32 = 3;
    pub const CHAR: i32 = 1;
    pub const VARCHAR: i32 = 12;
    pub const BINARY: i32 = -2;
    pub const DATE: i32 = 91;
    pub const TIMESTAMP: i32 = 93;
    pub const ARRAY: i32 = 2003;
    pub const JAVA_OBJECT: i32 = 2000;
    pub const STRUCT: i32 = 2002;
}

/// What JDBC metadata says about a Hive type.
pub struct JdbcFacts {
    /// `java.sql.Types` code.
    pub data_type: i32,
    /// The name GetColumns reports: a primitive type's upper-case name, a complex type's
    /// full lower-case signature, as HiveServer2 reports them.
    pub type_name: String,
    /// Precision of numbers, length of characters, digits of dates and timestamps.
    pub column_size: Option<i32>,
    pub decimal_digits: Option<i32>,
    /// 10 for numbers.
    pub num_prec_radix: Option<i32>,
}

pub fn jdbc_facts(hive: &HiveType) -> JdbcFacts {
    use HiveType as H;
    let (data_type, column_size, decimal_digits) = match hive {
        H::Boolean => (jdbc::BOOLEAN, None, None),
        H::TinyInt => (jdbc::TINYINT, Some(3), Some(0)),
        H::SmallInt => (jdbc::SMALLINT, Some(5), Some(0)),
        H::Int => (jdbc::INTEGER, Some(10), Some(0)),
        H::BigInt => (jdbc::BIGINT, Some(19), Some(0)),
        H::Float => (jdbc::FLOAT, Some(7), Some(7)),
        H::Double => (jdbc::DOUBLE, Some(15), Some(15)),
        H::Decimal(precision, scale) => (
            jdbc::DECIMAL,
            Some(i32::from(*precision)),
            Some(i32::from(*scale)),
        ),
        H::String => (jdbc::VARCHAR, Some(i32::MAX), None),
        H::Varchar(length) => (
            jdbc::VARCHAR,
            Some(i32::try_from(*length).unwrap_or(i32::MAX)),
            None,
        ),
        H::Char(length) => (
            jdbc::CHAR,
            Some(i32::try_from(*length).unwrap_or(i32::MAX)),
            None,
        ),
        H::Binary => (jdbc::BINARY, Some(i32::MAX), None),
        H::Date => (jdbc::DATE, Some(10), None),
        H::Timestamp => (jdbc::TIMESTAMP, Some(29), Some(9)),
        H::Array(_) => (jdbc::ARRAY, None, None),
        H::Map(..) => (jdbc::JAVA_OBJECT, None, None),
        H::Struct(_) => (jdbc::STRUCT, None, None),
    };
    let numeric = matches!(
        hive,
        H::TinyInt | H::SmallInt | H::Int | H::BigInt | H::Float | H::Double | H::Decimal(..)
    );
    let type_name = if hive.is_primitive() {
        base_type_name(hive).to_string()
    } else {
        hive.to_string()
    };
    JdbcFacts {
        data_type,
        type_name,
        column_size,
        decimal_digits,
        num_prec_radix: numeric.then_some(10),
    }
}

/// A primitive type's name without its parameters (`DECIMAL`, `VARCHAR`).
fn base_type_name(hive: &HiveType) -> &'static str {
    use HiveType as H;
    match hive {
        H::Boolean => "BOOLEAN",
        H::TinyInt => "TINYINT",
        H::SmallInt => "SMALLINT",
        H::Int => "INT",
        H::BigInt => "BIGINT",
        H::Float => "FLOAT",
        H::Double => "DOUBLE",
        H::Decimal(..) => "DECIMAL",
        H::String => "STRING",
        H::Varchar(_) => "VARCHAR",
        H::Char(_) => "CHAR",
        H::Binary => "BINARY",
        H::Date => "DATE",
        H::Timestamp => "TIMESTAMP",
        H::Array(_) => "ARRAY",
        H::Map(..) => "MAP",
        H::Struct(_) => "STRUCT",
    }
}

/// One row of GetTypeInfo: a type Apiary has, by its JDBC facts.
pub struct TypeInfo {
    pub name: &'static str,
    pub data_type: i32,
    /// Maximum precision.
    pub precision: Option<i32>,
    pub literal_quote: Option<&'static str>,
    pub case_sensitive: bool,
    /// `DatabaseMetaData.typePredBasic` (2) for types WHERE compares; 3 (`typeSearchable`)
    /// for strings, which LIKE also takes.
    pub searchable: i16,
    pub unsigned: bool,
    pub maximum_scale: Option<i16>,
    pub num_prec_radix: Option<i32>,
}

/// Every type Apiary has, as GetTypeInfo lists them.
pub fn type_infos() -> Vec<TypeInfo> {
    let number = |name, data_type, precision, maximum_scale| TypeInfo {
        name,
        data_type,
        precision: Some(precision),
        literal_quote: None,
        case_sensitive: false,
        searchable: 2,
        unsigned: false,
        maximum_scale: Some(maximum_scale),
        num_prec_radix: Some(10),
    };
    let other = |name, data_type, precision: Option<i32>, quoted: bool, searchable| TypeInfo {
        name,
        data_type,
        precision,
        literal_quote: quoted.then_some("'"),
        case_sensitive: quoted,
        searchable,
        unsigned: true,
        maximum_scale: None,
        num_prec_radix: None,
    };
    vec![
        other("VOID", jdbc::NULL, None, false, 3),
        other("BOOLEAN", jdbc::BOOLEAN, None, false, 2),
        number("TINYINT", jdbc::TINYINT, 3, 0),
        number("SMALLINT", jdbc::SMALLINT, 5, 0),
        number("INT", jdbc::INTEGER, 10, 0),
        number("BIGINT", jdbc::BIGINT, 19, 0),
        number("FLOAT", jdbc::FLOAT, 7, 7),
        number("DOUBLE", jdbc::DOUBLE, 15, 15),
        other("STRING", jdbc::VARCHAR, None, true, 3),
        other("CHAR", jdbc::CHAR, Some(255), true, 3),
        other("VARCHAR", jdbc::VARCHAR, Some(65535), true, 3),
        other("DATE", jdbc::DATE, None, true, 3),
        other("TIMESTAMP", jdbc::TIMESTAMP, None, true, 3),
        other("BINARY", jdbc::BINARY, None, false, 3),
        number("DECIMAL", jdbc::DECIMAL, 38, 38),
        other("ARRAY", jdbc::ARRAY, None, false, 0),
        other("MAP", jdbc::JAVA_OBJECT, None, false, 0),
        other("STRUCT", jdbc::STRUCT, None, false, 0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Field, TimeUnit};

    #[test]
    fn result_columns_are_described_as_hive_describes_them() {
        let schema = Schema::new(vec![
            Field::new("d", DataType::Decimal128(10, 2), true),
            Field::new("a", DataType::new_list(DataType::Int32, true), true),
            Field::new("n", DataType::Null, true),
            Field::new("t", DataType::Timestamp(TimeUnit::Nanosecond, None), true),
        ]);
        let described = table_schema(&schema);
        let entry = |i: usize| match &described.columns[i].type_desc.types[0] {
            TTypeEntry::PrimitiveEntry(entry) => entry.clone(),
            other => panic!("not a primitive entry: {other:?}"),
        };
        let decimal = entry(0);
        assert_eq!(decimal.type_, TTypeId::DECIMAL_TYPE);
        let qualifiers = decimal.type_qualifiers.expect("qualifiers").qualifiers;
        assert_eq!(qualifiers["precision"], TTypeQualifierValue::I32Value(10));
        assert_eq!(qualifiers["scale"], TTypeQualifierValue::I32Value(2));
        assert_eq!(entry(1).type_, TTypeId::ARRAY_TYPE);
        assert_eq!(entry(2).type_, TTypeId::NULL_TYPE);
        assert_eq!(entry(3).type_, TTypeId::TIMESTAMP_TYPE);
        assert_eq!(described.columns[3].position, 4);
    }

    #[test]
    fn jdbc_facts_follow_the_type() {
        let decimal = jdbc_facts(&HiveType::Decimal(12, 3));
        assert_eq!(
            (decimal.data_type, decimal.type_name.as_str()),
            (jdbc::DECIMAL, "DECIMAL")
        );
        assert_eq!(
            (decimal.column_size, decimal.decimal_digits),
            (Some(12), Some(3))
        );
        let map = jdbc_facts(&HiveType::parse("map<string,array<int>>").unwrap());
        assert_eq!(map.type_name, "map<string,array<int>>");
        assert_eq!(map.num_prec_radix, None);
        assert_eq!(jdbc_facts(&HiveType::Varchar(20)).column_size, Some(20));
    }
}
