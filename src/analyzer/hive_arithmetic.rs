//! Hive's operand types for arithmetic (`+ - * / %`), chosen while the SQL is planned, before
//! DataFusion types the expression (it rejects `'1' + 1` outright):
//!
//! - a string operand is read as DOUBLE (`'1.5' + 1` is `2.5`; `'x' + 1` is NULL);
//! - DECIMAL with FLOAT, DOUBLE or a string is DOUBLE arithmetic, as Hive falls back to
//!   DOUBLE whenever an operand is not an exact number;
//! - DECIMAL `*` and `/` take Hive's result precision and scale ([`super::hive_decimal`]).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{Expr, ExprSchemable, Operator, cast};
use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::hive_decimal::decimal_arithmetic;

#[derive(Debug, Default)]
pub struct HiveArithmetic;

impl ExprPlanner for HiveArithmetic {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        let arithmetic = matches!(
            expr.op,
            BinaryOperator::Plus
                | BinaryOperator::Minus
                | BinaryOperator::Multiply
                | BinaryOperator::Divide
                | BinaryOperator::Modulo
        );
        if !arithmetic {
            return Ok(PlannerResult::Original(expr));
        }
        // Operands whose type is not known yet (an error DataFusion reports itself) stay.
        let (Ok(left_type), Ok(right_type)) =
            (expr.left.get_type(schema), expr.right.get_type(schema))
        else {
            return Ok(PlannerResult::Original(expr));
        };
        let RawBinaryExpr { op, left, right } = expr;
        let exact_op = match op {
            BinaryOperator::Plus => Some(Operator::Plus),
            BinaryOperator::Minus => Some(Operator::Minus),
            BinaryOperator::Multiply => Some(Operator::Multiply),
            BinaryOperator::Divide => Some(Operator::Divide),
            _ => None,
        };
        if let Some(exact_op) = exact_op
            && let Some(decimal) =
                decimal_arithmetic(&left, &left_type, exact_op, &right, &right_type)
        {
            return Ok(PlannerResult::Planned(decimal));
        }
        // `int / int` is a DOUBLE division in Hive: typed so here, so that the expression
        // around it sees a DOUBLE (`decimal * (int / 2)` is DOUBLE arithmetic).
        if op == BinaryOperator::Divide && left_type.is_integer() && right_type.is_integer() {
            return Ok(PlannerResult::Original(RawBinaryExpr {
                op,
                left: cast(left, DataType::Float64),
                right: cast(right, DataType::Float64),
            }));
        }
        let (left, right) = match operand_types(&left_type, &right_type) {
            Some(DataType::Float64) => (as_double(left, &left_type), as_double(right, &right_type)),
            _ => (left, right),
        };
        Ok(PlannerResult::Original(RawBinaryExpr { op, left, right }))
    }
}

/// The type both operands take, when Hive's differs from DataFusion's.
fn operand_types(left: &DataType, right: &DataType) -> Option<DataType> {
    let string_and_number = (left.is_string() && (right.is_numeric() || right.is_string()))
        || (right.is_string() && left.is_numeric());
    let decimal_and_approximate =
        (left.is_decimal() && right.is_floating()) || (right.is_decimal() && left.is_floating());
    (string_and_number || decimal_and_approximate).then_some(DataType::Float64)
}

fn as_double(expr: Expr, data_type: &DataType) -> Expr {
    if matches!(data_type, DataType::Float64) {
        expr
    } else {
        cast(expr, DataType::Float64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_inexact_decimals_are_double() {
        let decimal = DataType::Decimal128(10, 2);
        assert_eq!(
            operand_types(&DataType::Utf8, &DataType::Int32),
            Some(DataType::Float64)
        );
        assert_eq!(
            operand_types(&decimal, &DataType::Utf8),
            Some(DataType::Float64)
        );
        assert_eq!(
            operand_types(&decimal, &DataType::Float32),
            Some(DataType::Float64)
        );
        assert_eq!(
            operand_types(&DataType::Utf8, &DataType::Utf8),
            Some(DataType::Float64)
        );
        assert_eq!(operand_types(&decimal, &DataType::Int64), None);
        assert_eq!(operand_types(&DataType::Int32, &DataType::Float64), None);
        assert_eq!(operand_types(&DataType::Utf8, &DataType::Date32), None);
    }
}
