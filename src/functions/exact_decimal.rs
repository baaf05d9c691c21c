//! DECIMAL `+`, `-` and `*` on 128-bit decimals for results whose Hive type keeps the exact
//! scale but not the exact precision (past 38 digits, Hive cuts the precision to 38 and keeps
//! a scale of 6 or more). No rounding is needed there, only Hive's overflow rule: a result
//! that does not fit 38 digits is NULL. Arrow's operators wrap around on overflow instead,
//! and the alternative, 256-bit arithmetic, costs several times more per row.
//!
//! The planner ([`crate::analyzer`]'s Hive arithmetic) builds these calls itself; they are not
//! in the function registry and SQL cannot name them.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, Operator, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};

/// Digits of Hive's widest DECIMAL.
const MAX_PRECISION: u8 = 38;
/// The smallest magnitude with more than 38 digits.
const OVERFLOW: u128 = 10u128.pow(MAX_PRECISION as u32);

/// `left op right` for two DECIMAL(p, s) expressions typed as 128-bit decimals, as a
/// DECIMAL(38, s1 + s2) for `*` and DECIMAL(38, max(s1, s2)) for `+` and `-`. `None` for other
/// operators.
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
    fn result_scale(self, left_scale: i8, right_scale: i8) -> i8 {
        match self {
            ExactOp::Multiply => left_scale.saturating_add(right_scale),
            ExactOp::Add | ExactOp::Subtract => left_scale.max(right_scale),
        }
    }

    /// The exact result of unscaled `left` and `right`, brought to `scale` first for a sum or
    /// difference; `None` past 38 digits.
    fn apply(self, left: i128, right: i128, left_up: i128, right_up: i128) -> Option<i128> {
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
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ExactDecimal {
    op: ExactOp,
    signature: Signature,
}

fn decimal_scales(arg_types: &[&DataType]) -> Result<(i8, i8)> {
    match arg_types {
        [
            DataType::Decimal128(_, left),
            DataType::Decimal128(_, right),
        ] => Ok((*left, *right)),
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
        decimal_scales(&arg_types.iter().collect::<Vec<_>>())?;
        Ok(arg_types.to_vec())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let (left, right) = decimal_scales(&arg_types.iter().collect::<Vec<_>>())?;
        Ok(DataType::Decimal128(
            MAX_PRECISION,
            self.op.result_scale(left, right),
        ))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<&DataType> = args.arg_fields.iter().map(|f| f.data_type()).collect();
        let (left, right) = decimal_scales(&types)?;
        let data_type = DataType::Decimal128(MAX_PRECISION, self.op.result_scale(left, right));
        Ok(Arc::new(Field::new(self.name(), data_type, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [left, right] = args.args.as_slice() else {
            return exec_err!("{} takes two arguments", self.name());
        };
        let rows = args.number_rows;
        let (left, right) = (left.to_array(rows)?, right.to_array(rows)?);
        let (left_scale, right_scale) = decimal_scales(&[left.data_type(), right.data_type()])?;
        let scale = self.op.result_scale(left_scale, right_scale);
        let up = |from: i8| {
            let digits = u32::try_from(i16::from(scale) - i16::from(from)).ok()?;
            10i128.checked_pow(digits)
        };
        let (Some(left_up), Some(right_up)) = (up(left_scale), up(right_scale)) else {
            return exec_err!("{}: scale {scale} is out of range", self.name());
        };
        let result = apply(
            self.op,
            left.as_primitive::<Decimal128Type>(),
            right.as_primitive::<Decimal128Type>(),
            (left_up, right_up),
        )
        .with_precision_and_scale(MAX_PRECISION, scale)?;
        Ok(ColumnarValue::Array(Arc::new(result) as ArrayRef))
    }
}

/// Row by row `op`, NULL where an operand is NULL or the result overflows. Results almost
/// always fit, so which rows overflowed is worked out only when one did.
fn apply(
    op: ExactOp,
    left: &PrimitiveArray<Decimal128Type>,
    right: &PrimitiveArray<Decimal128Type>,
    (left_up, right_up): (i128, i128),
) -> PrimitiveArray<Decimal128Type> {
    let pairs = || left.values().iter().zip(right.values().iter());
    let mut overflowed = false;
    let values: Vec<i128> = pairs()
        .map(|(&l, &r)| {
            op.apply(l, r, left_up, right_up).unwrap_or_else(|| {
                overflowed = true;
                0
            })
        })
        .collect();
    let inputs = NullBuffer::union(left.nulls(), right.nulls());
    let nulls = if overflowed {
        let fits: BooleanBuffer = pairs()
            .map(|(&l, &r)| op.apply(l, r, left_up, right_up).is_some())
            .collect();
        NullBuffer::union(inputs.as_ref(), Some(&NullBuffer::new(fits)))
    } else {
        inputs
    };
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
        let product = apply(ExactOp::Multiply, &left, &right, (1, 1));
        let values: Vec<Option<i128>> = product.iter().collect();
        assert_eq!(values, vec![Some(-3_086_250), None, None, Some(-21)]);
    }

    #[test]
    fn sums_align_scales_first() {
        // 1.5 (scale 1) + 0.25 (scale 2) = 1.75; 1.5 - 0.25 = 1.25.
        let left = decimals(&[Some(15)], 1);
        let right = decimals(&[Some(25)], 2);
        let sum = apply(ExactOp::Add, &left, &right, (10, 1));
        assert_eq!(sum.value(0), 175);
        let difference = apply(ExactOp::Subtract, &left, &right, (10, 1));
        assert_eq!(difference.value(0), 125);
        // A sum past 38 digits is NULL, not wrapped around.
        let nines = 10i128.pow(38) - 1;
        let overflow = apply(
            ExactOp::Add,
            &decimals(&[Some(nines)], 0),
            &decimals(&[Some(1)], 0),
            (1, 1),
        );
        assert!(overflow.is_null(0));
    }
}
