//! Hive's array subscripts are 0-based: `a[0]` is the first element, and an index past
//! either end (negative ones included) is NULL. DataFusion's are 1-based and count negative
//! indexes from the end, so `a[i]` on an array is planned as `array_element(a, i + 1)` for
//! `i >= 0`. Map lookups (`m['k']`) and struct fields (`s.f`) are left to DataFusion.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result};
use datafusion::functions_nested::expr_fn::array_element;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawFieldAccessExpr};
use datafusion::logical_expr::{ExprSchemable, GetFieldAccess, lit, when};

#[derive(Debug, Default)]
pub struct HiveIndexing;

impl ExprPlanner for HiveIndexing {
    fn plan_field_access(
        &self,
        access: RawFieldAccessExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawFieldAccessExpr>> {
        let GetFieldAccess::ListIndex { key } = &access.field_access else {
            return Ok(PlannerResult::Original(access));
        };
        let is_array = matches!(
            access.expr.get_type(schema),
            Ok(DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..))
        );
        if !is_array {
            return Ok(PlannerResult::Original(access));
        }
        let index = key.as_ref().clone();
        let position = when(index.clone().gt_eq(lit(0)), index + lit(1)).end()?;
        Ok(PlannerResult::Planned(array_element(access.expr, position)))
    }
}
