//! Hive's date functions that are DataFusion expressions over Hive's argument forms: a DATE,
//! a TIMESTAMP, or a string read as either (`'2024-05-01'`, `'2024-05-01 10:11:12'`).
//!
//! - `year`, `quarter`, `month`, `hour`, `minute`, `second`, `weekofyear` (ISO weeks) are
//!   INT fields of the value;
//! - `datediff(a, b)` is the INT number of days from `b` to `a` (times of day ignored);
//! - `date_add(d, n)` and `date_sub(d, n)` are DATEs `n` days after or before `d`.

use datafusion::sql::sqlparser::ast::{BinaryOperator, DataType, Expr, Function, TimezoneInfo};

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
