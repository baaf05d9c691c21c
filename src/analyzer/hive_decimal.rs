//! Hive's result types for DECIMAL `+`, `-`, `*` and `/` (with integer columns read as
//! DECIMAL(3,0), DECIMAL(5,0), DECIMAL(10,0) or DECIMAL(19,0) by width, and integer constants
//! with the digits they have):
//!
//! - `a + b`, `a - b`: scale max(s1, s2), precision max(p1 - s1, p2 - s2) + scale + 1;
//! - `a * b`: precision p1 + p2 + 1, scale s1 + s2;
//! - `a / b`: scale max(6, s1 + p2 + 1), precision p1 - s1 + s2 + scale;
//!
//! and past 38 digits of precision, the scale gives way to the integer digits down to a scale
//! of min(scale, 6). DataFusion (through arrow) sizes these results differently: it keeps the
//! full multiplication scale, and divides to only s1 + 4 decimals. The operation therefore
//! runs on 256-bit decimals wide enough for Hive's scale, and the result is rounded (half up,
//! as Hive rounds) to Hive's type. A sum, difference or product whose Hive type keeps the
//! exact scale (every digit, or all but the integer digits past 38) runs on 128-bit decimals
//! instead, which cost far less per row, NULL on overflow
//! ([`crate::functions::exact_decimal`]).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, cast};

use crate::functions::exact_decimal::exact_decimal;

const MAX_PRECISION: u8 = 38;
/// Digits a 256-bit decimal holds.
const WIDE_PRECISION: u8 = 76;
/// The digits arrow adds to the dividend's scale in a decimal division.
const DIVISION_EXTRA_SCALE: i8 = 4;
/// Digits computed past Hive's scale, so that rounding to it sees what follows.
const GUARD_DIGITS: i8 = 2;

/// `left op right` with Hive's DECIMAL result type, when `op` is `+`, `-`, `*` or `/` and the
/// operands are DECIMALs or integers, at least one of them a DECIMAL.
pub(crate) fn decimal_arithmetic(
    left: &Expr,
    left_type: &DataType,
    op: Operator,
    right: &Expr,
    right_type: &DataType,
) -> Option<Expr> {
    if !matches!(
        op,
        Operator::Plus | Operator::Minus | Operator::Multiply | Operator::Divide
    ) {
        return None;
    }
    if !(left_type.is_decimal() || right_type.is_decimal()) {
        return None;
    }
    let (p1, s1) = decimal_shape(left, left_type)?;
    let (p2, s2) = decimal_shape(right, right_type)?;
    let (raw_precision, raw_scale) = unfitted_shape(op, (p1, s1), (p2, s2));
    let (precision, scale) = fit(raw_precision, raw_scale);
    if op != Operator::Divide && i32::from(scale) == raw_scale {
        // Hive's type keeps the exact scale (and every digit, unless the precision passes
        // 38): no rounding, only NULL on overflow, on 128-bit decimals.
        let narrow = |expr: &Expr, p: u8, s: i8| cast(expr.clone(), DataType::Decimal128(p, s));
        return exact_decimal(narrow(left, p1, s1), op, narrow(right, p2, s2));
    }
    // Arrow's quotient has the dividend's scale plus 4: past Hive's, then rounded.
    let left_scale = if op == Operator::Divide {
        s1.max(scale + GUARD_DIGITS - DIVISION_EXTRA_SCALE)
    } else {
        s1
    };
    let wide =
        |expr: &Expr, scale: i8| cast(expr.clone(), DataType::Decimal256(WIDE_PRECISION, scale));
    let exact = Expr::BinaryExpr(BinaryExpr::new(
        Box::new(wide(left, left_scale)),
        op,
        Box::new(wide(right, s2)),
    ));
    Some(cast(exact, DataType::Decimal128(precision, scale)))
}

/// Hive's precision and scale for `left op right` (`op` one of `+ - * /`) before they are
/// fitted to 38 digits.
pub(crate) fn unfitted_shape(op: Operator, left: (u8, i8), right: (u8, i8)) -> (i32, i32) {
    let (p1, s1) = (i32::from(left.0), i32::from(left.1));
    let (p2, s2) = (i32::from(right.0), i32::from(right.1));
    match op {
        Operator::Multiply => (p1 + p2 + 1, s1 + s2),
        Operator::Plus | Operator::Minus => {
            let scale = s1.max(s2);
            ((p1 - s1).max(p2 - s2) + scale + 1, scale)
        }
        _ => {
            let scale = 6.max(s1 + p2 + 1);
            (p1 - s1 + s2 + scale, scale)
        }
    }
}

/// Hive's `adjustPrecScale`: a precision past 38 keeps the integer digits and gives up
/// scale, down to min(scale, 6).
fn fit(precision: i32, scale: i32) -> (u8, i8) {
    let max = i32::from(MAX_PRECISION);
    if precision <= max {
        return (precision.max(1) as u8, scale as i8);
    }
    let integer_digits = precision - scale;
    let scale = (max - integer_digits).max(scale.min(6)).clamp(0, max);
    (MAX_PRECISION, scale as i8)
}

fn integer_magnitude(value: &ScalarValue) -> Option<u64> {
    match value {
        ScalarValue::Int8(Some(n)) => Some(n.unsigned_abs().into()),
        ScalarValue::Int16(Some(n)) => Some(n.unsigned_abs().into()),
        ScalarValue::Int32(Some(n)) => Some(n.unsigned_abs().into()),
        ScalarValue::Int64(Some(n)) => Some(n.unsigned_abs()),
        ScalarValue::UInt8(Some(n)) => Some((*n).into()),
        ScalarValue::UInt16(Some(n)) => Some((*n).into()),
        ScalarValue::UInt32(Some(n)) => Some((*n).into()),
        ScalarValue::UInt64(Some(n)) => Some(*n),
        _ => None,
    }
}

/// A DECIMAL's precision and scale, or an integer's as Hive reads it: a constant has the
/// digits it is written with (`2` is DECIMAL(1,0)), a column those of its type's width.
fn decimal_shape(expr: &Expr, data_type: &DataType) -> Option<(u8, i8)> {
    if let Expr::Literal(value, _) = expr
        && let Some(magnitude) = integer_magnitude(value)
    {
        let digits = magnitude.checked_ilog10().map_or(1, |d| d + 1);
        return Some((digits as u8, 0));
    }
    match data_type {
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => Some((*p, *s)),
        DataType::Int8 | DataType::UInt8 => Some((3, 0)),
        DataType::Int16 | DataType::UInt16 => Some((5, 0)),
        DataType::Int32 | DataType::UInt32 => Some((10, 0)),
        DataType::Int64 | DataType::UInt64 => Some((19, 0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::logical_expr::col;

    use super::*;

    /// The widest decimal type anywhere in `expr`.
    fn widest_decimal(expr: &Expr) -> u8 {
        let mut widest = 0;
        let _ = datafusion::common::tree_node::TreeNode::apply(expr, |e| {
            if let Expr::Cast(c) = e {
                widest = widest.max(match c.field.data_type() {
                    DataType::Decimal256(..) => 32,
                    DataType::Decimal128(..) => 16,
                    _ => 0,
                });
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        });
        widest
    }

    #[test]
    fn exact_products_stay_in_128_bits() {
        let price = DataType::Decimal128(15, 2);
        let factor = DataType::Decimal128(16, 2);
        let product = decimal_arithmetic(&col("a"), &price, Operator::Multiply, &col("b"), &factor);
        let product = product.expect("a decimal product");
        assert_eq!(widest_decimal(&product), 16, "{product}");
        let schema = datafusion::common::DFSchema::from_unqualified_fields(
            vec![
                datafusion::arrow::datatypes::Field::new("a", price.clone(), true),
                datafusion::arrow::datatypes::Field::new("b", factor.clone(), true),
            ]
            .into(),
            Default::default(),
        )
        .expect("a schema");
        let product_type = datafusion::logical_expr::ExprSchemable::get_type(&product, &schema);
        assert_eq!(product_type.ok(), Some(DataType::Decimal128(32, 4)));

        // 49 digits, cut to 38 with the exact scale 6: 128 bits, checked for overflow.
        let wide = DataType::Decimal128(32, 4);
        let product = decimal_arithmetic(&col("a"), &wide, Operator::Multiply, &col("b"), &factor);
        assert_eq!(widest_decimal(&product.expect("a decimal product")), 16);

        // decimal(20,10) * decimal(20,10): Hive rounds scale 20 to 17, on 256 bits.
        let fine = DataType::Decimal128(20, 10);
        let product = decimal_arithmetic(&col("a"), &fine, Operator::Multiply, &col("b"), &fine);
        assert_eq!(widest_decimal(&product.expect("a decimal product")), 32);
    }

    #[test]
    fn results_past_38_digits_give_up_scale() {
        // decimal(20,10) * decimal(20,10): 41 digits, 21 of them integer.
        assert_eq!(fit(41, 20), (38, 17));
        // decimal(20,10) / decimal(20,10): scale 31, precision 51.
        assert_eq!(fit(51, 31), (38, 18));
        // decimal(20,10) / int: scale 21, precision 31 fits.
        assert_eq!(fit(31, 21), (31, 21));
        // The scale never drops below min(scale, 6).
        assert_eq!(fit(60, 8), (38, 6));
    }
}
