//! DECIMAL `+`, `-` and `*` on 128-bit decimals, for every result whose Hive type keeps the
//! exact scale: all sums, differences and products but those past 38 digits whose scale Hive
//! cuts. No rounding is needed there, only Hive's overflow rule: a result that does not fit
//! 38 digits is NULL. The result type is Hive's, computed from the operands' types
//! ([`crate::analyzer::hive_decimal`]), with the precision capped at 38.
//!
//! Arrow's decimal operators check every value for overflow, which keeps the compiler from
//! vectorizing them and made `l_extendedprice * (1 - l_discount)` a fifth of TPC-H Q1's time.
//! Here the largest magnitude of each operand in a batch bounds every result of the batch:
//! when that bound fits 38 digits, as it nearly always does, the batch runs without checks;
//! only otherwise is each row checked. A constant operand stays a constant, never copied out
//! to a column.
//!
//! The planner ([`crate::analyzer`]'s Hive arithmetic) builds these calls itself; they are not
//! in the function registry and SQL cannot name them.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::datatypes::{DataType, Decimal128Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::analyzer::hive_decimal::unfitted_shape;

/// Digits of Hive's widest DECIMAL.
const MAX_PRECISION: u8 = 38;
/// The smallest magnitude with more than 38 digits.
const OVERFLOW: u128 = 10u128.pow(MAX_PRECISION as u32);
/// Bits of a magnitude that surely has at most 38 digits: 2^126 < 10^38.
const SAFE_BITS: u32 = 126;

/// `left op right` for two DECIMAL(p, s) expressions typed as 128-bit decimals, typed as
/// Hive types it with the precision capped at 38. `None` for other operators.
pub fn exact_decimal(left: Expr, op: Operator, right: Expr) -> Option<Expr> {
    let op = match op {
        Operator::Plus => ExactOp::Add,
        Operator::Minus => ExactOp::Subtract,
        Operator::Multiply => ExactOp::Multiply,
        _ => return None,
    };
    let udf = ScalarUDF::new_from_impl(ExactDecimal {
        op,
        signature: Signature::user_defined(Volatility::Immutable),
    });
    Some(Arc::new(udf).call(vec![left, right]))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ExactOp {
    Add,
    Subtract,
    Multiply,
}

impl ExactOp {
    fn operator(self) -> Operator {
        match self {
            ExactOp::Add => Operator::Plus,
            ExactOp::Subtract => Operator::Minus,
            ExactOp::Multiply => Operator::Multiply,
        }
    }

    /// The result type for operands of types `left` and `right`.
    fn result_type(self, left: (u8, i8), right: (u8, i8)) -> Result<(u8, i8)> {
        let (precision, scale) = unfitted_shape(self.operator(), left, right);
        let scale = i8::try_from(scale).ok().filter(|s| (0..=38).contains(s));
        let Some(scale) = scale else {
            return plan_err!("exact decimal arithmetic on scales {left:?} and {right:?}");
        };
        Ok((precision.clamp(1, i32::from(MAX_PRECISION)) as u8, scale))
    }

    /// The exact result of unscaled `left` and `right`, brought to the result's scale first
    /// for a sum or difference; `None` past 38 digits.
    fn checked(self, left: i128, right: i128, left_up: i128, right_up: i128) -> Option<i128> {
        let result = match self {
            ExactOp::Multiply => left.checked_mul(right)?,
            ExactOp::Add => left
                .checked_mul(left_up)?
                .checked_add(right.checked_mul(right_up)?)?,
            ExactOp::Subtract => left
                .checked_mul(left_up)?
                .checked_sub(right.checked_mul(right_up)?)?,
        };
        (result.unsigned_abs() < OVERFLOW).then_some(result)
    }

    /// Whether every result is below 10^38 when the operands' magnitudes are at most
    /// 2^`left_bits` and 2^`right_bits`.
    fn always_fits(self, left_bits: u32, right_bits: u32, left_up: i128, right_up: i128) -> bool {
        match self {
            ExactOp::Multiply => left_bits + right_bits <= SAFE_BITS,
            ExactOp::Add | ExactOp::Subtract => {
                let scaled = |bits: u32, up: i128| {
                    1u128
                        .checked_shl(bits)?
                        .checked_mul(u128::try_from(up).ok()?)
                };
                scaled(left_bits, left_up)
                    .zip(scaled(right_bits, right_up))
                    .and_then(|(l, r)| l.checked_add(r))
                    .is_some_and(|bound| bound < OVERFLOW)
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ExactDecimal {
    op: ExactOp,
    signature: Signature,
}

type Shape = (u8, i8);

fn decimal_shapes(arg_types: &[DataType]) -> Result<(Shape, Shape)> {
    match arg_types {
        [DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)] => {
            Ok(((*p1, *s1), (*p2, *s2)))
        }
        other => plan_err!("exact decimal arithmetic on {other:?}"),
    }
}

impl ScalarUDFImpl for ExactDecimal {
    fn name(&self) -> &str {
        match self.op {
            ExactOp::Add => "decimal_add",
            ExactOp::Subtract => "decimal_subtract",
            ExactOp::Multiply => "decimal_multiply",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        decimal_shapes(arg_types)?;
        Ok(arg_types.to_vec())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let (left, right) = decimal_shapes(arg_types)?;
        let (precision, scale) = self.op.result_type(left, right)?;
        Ok(DataType::Decimal128(precision, scale))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [left, right] = args.args.as_slice() else {
            return exec_err!("{} takes two arguments", self.name());
        };
        let (left_shape, right_shape) = decimal_shapes(&[left.data_type(), right.data_type()])?;
        let (precision, scale) = self.op.result_type(left_shape, right_shape)?;
        let up = |from: i8| {
            let digits = u32::try_from(i16::from(scale) - i16::from(from)).ok()?;
            10i128.checked_pow(digits)
        };
        let (Some(left_up), Some(right_up)) = (up(left_shape.1), up(right_shape.1)) else {
            return exec_err!("{}: scale {scale} is out of range", self.name());
        };
        let (Some(left), Some(right)) = (Operand::new(left), Operand::new(right)) else {
            return Ok(ColumnarValue::Scalar(ScalarValue::Decimal128(
                None, precision, scale,
            )));
        };
        let result = match (&left, &right) {
            (Operand::Constant(l), Operand::Constant(r)) => {
                let value = self.op.checked(*l, *r, left_up, right_up);
                return Ok(ColumnarValue::Scalar(ScalarValue::Decimal128(
                    value, precision, scale,
                )));
            }
            _ => apply(self.op, &left, &right, (left_up, right_up)),
        };
        let result = result.with_precision_and_scale(precision, scale)?;
        Ok(ColumnarValue::Array(Arc::new(result) as ArrayRef))
    }
}

/// One side of the operation: a column of unscaled values, or a constant one.
enum Operand<'a> {
    Column(&'a PrimitiveArray<Decimal128Type>),
    Constant(i128),
}

impl<'a> Operand<'a> {
    /// `None` for a NULL constant, which makes every result NULL.
    fn new(value: &'a ColumnarValue) -> Option<Self> {
        match value {
            ColumnarValue::Array(array) => Some(Operand::Column(array.as_primitive())),
            ColumnarValue::Scalar(ScalarValue::Decimal128(value, _, _)) => {
                value.map(Operand::Constant)
            }
            ColumnarValue::Scalar(_) => None,
        }
    }

    fn values(&self) -> &[i128] {
        match self {
            Operand::Column(array) => array.values(),
            Operand::Constant(value) => std::slice::from_ref(value),
        }
    }

    fn nulls(&self) -> Option<&NullBuffer> {
        match self {
            Operand::Column(array) => array.nulls(),
            Operand::Constant(_) => None,
        }
    }

    /// `b` such that every value's magnitude is at most 2^`b` (NULL slots included). The
    /// bitwise OR of the values' ones' complement magnitudes is one pass that vectorizes.
    fn magnitude_bits(&self) -> u32 {
        let bits = self
            .values()
            .iter()
            .fold(0u128, |bits, &v| bits | (v ^ (v >> 127)) as u128);
        128 - bits.leading_zeros()
    }
}

/// `f` of each pair of values, a constant paired with every value of the other side.
fn each<T>(left: &Operand, right: &Operand, f: impl Fn(i128, i128) -> T) -> Vec<T> {
    match (left, right) {
        (Operand::Constant(l), Operand::Constant(r)) => vec![f(*l, *r)],
        (Operand::Constant(l), Operand::Column(r)) => {
            r.values().iter().map(|&r| f(*l, r)).collect()
        }
        (Operand::Column(l), Operand::Constant(r)) => {
            l.values().iter().map(|&l| f(l, *r)).collect()
        }
        (Operand::Column(l), Operand::Column(r)) => {
            let pairs = l.values().iter().zip(r.values().iter());
            pairs.map(|(&l, &r)| f(l, r)).collect()
        }
    }
}

/// Row by row `op`, NULL where an operand is NULL or the result overflows.
fn apply(
    op: ExactOp,
    left: &Operand,
    right: &Operand,
    (left_up, right_up): (i128, i128),
) -> PrimitiveArray<Decimal128Type> {
    let inputs = NullBuffer::union(left.nulls(), right.nulls());
    let (left_bits, right_bits) = (left.magnitude_bits(), right.magnitude_bits());
    if op.always_fits(left_bits, right_bits, left_up, right_up) {
        // No result can pass 38 digits, so none can wrap around either.
        let values = match op {
            // Both sides fit 64 bits (DECIMAL(15,2) prices do): one 64 by 64 bit multiply.
            ExactOp::Multiply if left_bits < 64 && right_bits < 64 => each(left, right, |l, r| {
                i128::from(l as i64) * i128::from(r as i64)
            }),
            ExactOp::Multiply => each(left, right, |l, r| l.wrapping_mul(r)),
            ExactOp::Add if left_up == 1 && right_up == 1 => {
                each(left, right, |l, r| l.wrapping_add(r))
            }
            ExactOp::Subtract if left_up == 1 && right_up == 1 => {
                each(left, right, |l, r| l.wrapping_sub(r))
            }
            ExactOp::Add => each(left, right, |l, r| {
                l.wrapping_mul(left_up)
                    .wrapping_add(r.wrapping_mul(right_up))
            }),
            ExactOp::Subtract => each(left, right, |l, r| {
                l.wrapping_mul(left_up)
                    .wrapping_sub(r.wrapping_mul(right_up))
            }),
        };
        return PrimitiveArray::new(values.into(), inputs);
    }
    let results = each(left, right, |l, r| op.checked(l, r, left_up, right_up));
    let fits: BooleanBuffer = results.iter().map(Option::is_some).collect();
    let values: Vec<i128> = results.into_iter().map(|r| r.unwrap_or(0)).collect();
    let nulls = NullBuffer::union(inputs.as_ref(), Some(&NullBuffer::new(fits)));
    PrimitiveArray::new(values.into(), nulls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimals(values: &[Option<i128>], scale: i8) -> PrimitiveArray<Decimal128Type> {
        values
            .iter()
            .copied()
            .collect::<PrimitiveArray<Decimal128Type>>()
            .with_precision_and_scale(MAX_PRECISION, scale)
            .expect("a valid decimal type")
    }

    #[test]
    fn products_are_exact_and_null_past_38_digits() {
        let big = 10i128.pow(30);
        let left = decimals(&[Some(12_345), Some(big), None, Some(-7)], 4);
        let right = decimals(&[Some(-250), Some(10i128.pow(8)), Some(1), Some(3)], 2);
        let (left, right) = (Operand::Column(&left), Operand::Column(&right));
        let product = apply(ExactOp::Multiply, &left, &right, (1, 1));
        let values: Vec<Option<i128>> = product.iter().collect();
        assert_eq!(values, vec![Some(-3_086_250), None, None, Some(-21)]);
    }

    #[test]
    fn sums_align_scales_first() {
        // 1.5 (scale 1) + 0.25 (scale 2) = 1.75; 1.5 - 0.25 = 1.25.
        let left = decimals(&[Some(15)], 1);
        let right = decimals(&[Some(25)], 2);
        let (left, right) = (Operand::Column(&left), Operand::Column(&right));
        let sum = apply(ExactOp::Add, &left, &right, (10, 1));
        assert_eq!(sum.value(0), 175);
        let difference = apply(ExactOp::Subtract, &left, &right, (10, 1));
        assert_eq!(difference.value(0), 125);
        // A sum past 38 digits is NULL, not wrapped around.
        let nines = 10i128.pow(38) - 1;
        let nines = decimals(&[Some(nines)], 0);
        let one = Operand::Constant(1);
        let overflow = apply(ExactOp::Add, &Operand::Column(&nines), &one, (1, 1));
        assert!(overflow.is_null(0));
    }

    #[test]
    fn unchecked_batches_agree_with_checked_rows() {
        // Small magnitudes take the unchecked path; the same rows checked one by one must
        // give the same results, with a constant on either side and NULLs kept.
        let prices = decimals(
            &[Some(9_999_999), None, Some(-123_456), Some(0), Some(1)],
            2,
        );
        let column = Operand::Column(&prices);
        // Past 64 bits: the full 128-bit product.
        let wide = decimals(
            &[Some(1 << 70), None, Some(-(1 << 70)), Some(0), Some(1)],
            2,
        );
        let wide = Operand::Column(&wide);
        for op in [ExactOp::Add, ExactOp::Subtract, ExactOp::Multiply] {
            for (left, right, ups) in [
                (&Operand::Constant(100), &column, (1, 1)),
                (&column, &Operand::Constant(-7), (1, 100)),
                (&column, &column, (1, 1)),
                (&wide, &Operand::Constant(3), (1, 1)),
            ] {
                let fast = apply(op, left, right, ups);
                assert_eq!(fast.null_count(), 1);
                let expected = each(left, right, |l, r| op.checked(l, r, ups.0, ups.1));
                for (row, value) in expected.into_iter().enumerate() {
                    if !fast.is_null(row) {
                        assert_eq!(Some(fast.value(row)), value, "{op:?} row {row}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_batch_bound_decides_the_path() {
        // 2^63 * 2^63 = 2^126 < 10^38: no row can overflow.
        assert!(ExactOp::Multiply.always_fits(63, 63, 1, 1));
        assert!(!ExactOp::Multiply.always_fits(64, 63, 1, 1));
        // 2^120 * 100 passes 10^38.
        assert!(ExactOp::Add.always_fits(120, 10, 1, 1));
        assert!(!ExactOp::Add.always_fits(120, 10, 100, 1));
        assert!(!ExactOp::Subtract.always_fits(128, 0, 1, 1));
        // Magnitudes bound by the bits of their ones' complement, the most negative included.
        let extremes = decimals(&[Some(i128::MIN)], 0);
        assert_eq!(Operand::Column(&extremes).magnitude_bits(), 127);
        assert_eq!(Operand::Constant(-8).magnitude_bits(), 3);
        assert_eq!(Operand::Constant(8).magnitude_bits(), 4);
        assert_eq!(Operand::Constant(0).magnitude_bits(), 0);
    }
}
