//! Hive's date functions that are DataFusion expressions over Hive's argument forms: a DATE,
//! a TIMESTAMP, or a string read as either (`'2024-05-01'`, `'2024-05-01 10:11:12'`).
//!
//! - `year`, `quarter`, `month`, `hour`, `minute`, `second`, `weekofyear` (ISO weeks) are
//!   INT fields of the value;
//! - `datediff(a, b)` is the INT number of days from `b` to `a` (times of day ignored);
//! - `date_add(d, n)` and `date_sub(d, n)` are DATEs `n` days after or before `d`;
//! - `trunc(d, 'MM')` (a format written as a string: `MONTH`/`MON`/`MM`, `YEAR`/`YYYY`/`YY`,
//!   `QUARTER`/`Q`) is the first day of `d`'s month, year or quarter as a `yyyy-MM-dd`
//!   string; another format gives NULL. `trunc(x, n)` of a number is DataFusion's.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, DataType, Expr, Function, TimezoneInfo, Value, ValueWithSpan,
};

use super::hive_functions::{call, cast_to, plain_arg_list, string};

/// The DataFusion expression for Hive date function `name`, if it is one of this module's.
pub fn rewrite_date_function(name: &str, function: &Function) -> Option<Expr> {
    let field = match name {
        "year" | "quarter" | "month" | "hour" | "minute" | "second" => Some(name),
        "weekofyear" => Some("week"),
        _ => None,
    };
    if let Some(field) = field {
        let [value] = plain_arg_list(function)?.try_into().ok()?;
        let part = call("date_part", vec![string(field), as_timestamp(value)]);
        return Some(cast_to(part, DataType::Int(None)));
    }
    match name {
        "datediff" => {
            let [end, start] = plain_arg_list(function)?.try_into().ok()?;
            let days = binary(as_date(end), BinaryOperator::Minus, as_date(start));
            Some(cast_to(days, DataType::Int(None)))
        }
        "date_add" | "date_sub" => {
            let [date, days] = plain_arg_list(function)?.try_into().ok()?;
            let op = if name == "date_add" {
                BinaryOperator::Plus
            } else {
                BinaryOperator::Minus
            };
            Some(binary(
                as_date(date),
                op,
                cast_to(days, DataType::Int(None)),
            ))
        }
        "trunc" => {
            let [value, format] = plain_arg_list(function)?.try_into().ok()?;
            let Expr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(format),
                ..
            }) = format
            else {
                return None;
            };
            let unit = match format.to_ascii_uppercase().as_str() {
                "MONTH" | "MON" | "MM" => "month",
                "YEAR" | "YYYY" | "YY" => "year",
                "QUARTER" | "Q" => "quarter",
                _ => return Some(cast_to(Expr::value(Value::Null), DataType::String(None))),
            };
            let first_day = call("date_trunc", vec![string(unit), as_timestamp(value)]);
            Some(cast_to(
                cast_to(first_day, DataType::Date),
                DataType::String(None),
            ))
        }
        _ => None,
    }
}

fn as_timestamp(value: Expr) -> Expr {
    cast_to(value, DataType::Timestamp(None, TimezoneInfo::None))
}

/// The date of a DATE, a TIMESTAMP or a string holding either.
fn as_date(value: Expr) -> Expr {
    cast_to(as_timestamp(value), DataType::Date)
}

fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::Nested(Box::new(Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }))
}
