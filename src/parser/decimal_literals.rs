//! Hive 3 types a number written with a point and no exponent (`1.5`, `10.0`) as a DECIMAL
//! of the value's own precision and scale once trailing zeros are dropped: `1.50` is
//! DECIMAL(2,1), `10.0` is DECIMAL(2,0), `0.001` is DECIMAL(3,3). An integer too large for a
//! BIGINT is a DECIMAL too; a number with an exponent (`1e3`) is a DOUBLE. DataFusion reads
//! every number with a point as a DOUBLE, so such literals become `CAST('1.5' AS
//! DECIMAL(2,1))`. Numbers past 38 digits keep their DOUBLE, as Hive falls back to one.

use datafusion::sql::sqlparser::ast::{
    DataType, ExactNumberInfo, Expr, Value, ValueWithSpan, VisitMut, visit_expressions_mut,
};

use super::hive_functions::{cast_to, string};

/// Hive's largest DECIMAL precision.
const MAX_PRECISION: u64 = 38;

pub fn type_decimal_literals<V: VisitMut>(node: &mut V) {
    let _ = visit_expressions_mut(node, |expr| {
        if let Expr::Value(ValueWithSpan {
            value: Value::Number(text, false),
            ..
        }) = expr
            && let Some((digits, precision, scale)) = decimal_literal(text)
        {
            *expr = cast_to(
                string(&digits),
                DataType::Decimal(ExactNumberInfo::PrecisionAndScale(precision, scale as i64)),
            );
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

/// The normalized digits, precision and scale of a number Hive reads as a DECIMAL.
fn decimal_literal(text: &str) -> Option<(String, u64, u64)> {
    let whole_in_bigint = !text.contains('.') && text.parse::<i64>().is_ok();
    if whole_in_bigint {
        return None;
    }
    normalized_decimal(text)
}

/// Digits (`123`, `1.5`) as Hive's DECIMAL holds them: trailing zeros of the fraction and
/// leading zeros dropped, with the precision and scale of what is left; `None` for anything
/// else (an exponent, a sign) or past 38 digits.
pub(super) fn normalized_decimal(text: &str) -> Option<(String, u64, u64)> {
    let (integer, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (integer.is_empty() && fraction.is_empty()) || !all_digits(integer) || !all_digits(fraction)
    {
        return None;
    }
    let integer = integer.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    let scale = fraction.len() as u64;
    let precision = (integer.len() as u64 + scale).max(1);
    if precision > MAX_PRECISION {
        return None;
    }
    let integer = if integer.is_empty() { "0" } else { integer };
    let digits = if fraction.is_empty() {
        integer.to_string()
    } else {
        format!("{integer}.{fraction}")
    };
    Some((digits, precision, scale))
}

#[cfg(test)]
mod tests {
    use super::super::query_text;
    use super::decimal_literal;

    #[test]
    fn hive_types_pointed_numbers_as_their_own_decimal() {
        let typed = |text: &str| decimal_literal(text).map(|(d, p, s)| format!("{d} ({p},{s})"));
        assert_eq!(typed("1.50").as_deref(), Some("1.5 (2,1)"));
        assert_eq!(typed("10.0").as_deref(), Some("10 (2,0)"));
        assert_eq!(typed("0.001").as_deref(), Some("0.001 (3,3)"));
        assert_eq!(typed("0.0").as_deref(), Some("0 (1,0)"));
        assert_eq!(
            typed("9223372036854775808").as_deref(),
            Some("9223372036854775808 (19,0)")
        );
        assert_eq!(typed("12"), None);
        assert_eq!(typed("4.9E-324"), None);
        assert_eq!(typed(&format!("{}.5", "9".repeat(38))), None);
    }

    #[test]
    fn literals_become_decimal_casts() {
        assert_eq!(
            query_text("select 1.50 * x, -2.5, 1e3 from t"),
            "SELECT CAST('1.5' AS DECIMAL(2,1)) * x, -CAST('2.5' AS DECIMAL(2,1)), 1e3 FROM t"
        );
    }
}
