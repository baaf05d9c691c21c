//! A RANGE frame over a string ORDER BY key has no distance to measure: Hive reads any
//! `n PRECEDING` / `n FOLLOWING` bound there as reaching exactly the current row's peers
//! (the rows with an equal key), as `CURRENT ROW` does. This analyzer rule, after type
//! coercion, writes such bounds as `CURRENT ROW`; unbounded ends stay as they are.

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::logical_expr::{
    Expr, ExprSchemable, LogicalPlan, WindowFrameBound, WindowFrameUnits,
};
use datafusion::optimizer::AnalyzerRule;

use super::rewrite_plan_expressions;

#[derive(Debug, Default)]
pub struct StringRangeFrames;

impl AnalyzerRule for StringRangeFrames {
    fn name(&self) -> &str {
        "string_range_frames"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        rewrite_plan_expressions(plan, |expr, schema| match expr {
            Expr::WindowFunction(mut window) => {
                let params = &mut window.params;
                let string_key = matches!(params.order_by.as_slice(),
                    [key] if key.expr.get_type(schema).is_ok_and(|t| t.is_string()));
                let frame = &mut params.window_frame;
                if frame.units != WindowFrameUnits::Range || !string_key {
                    return Ok(Transformed::no(Expr::WindowFunction(window)));
                }
                let start = peers_only(&mut frame.start_bound);
                let end = peers_only(&mut frame.end_bound);
                Ok(if start || end {
                    Transformed::yes(Expr::WindowFunction(window))
                } else {
                    Transformed::no(Expr::WindowFunction(window))
                })
            }
            other => Ok(Transformed::no(other)),
        })
    }
}

/// Makes a bounded offset `CURRENT ROW`; whether it changed.
fn peers_only(bound: &mut WindowFrameBound) -> bool {
    let bounded = match bound {
        WindowFrameBound::Preceding(offset) | WindowFrameBound::Following(offset) => {
            !offset.is_null()
        }
        WindowFrameBound::CurrentRow => false,
    };
    if bounded {
        *bound = WindowFrameBound::CurrentRow;
    }
    bounded
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn offsets_over_a_string_key_reach_the_peers() {
        let text = super::super::run_with_rules(
            "select n, sum(s) over (order by n range between 2 preceding and 2 following) t, \
             sum(s) over (order by n range between unbounded preceding and 1 following) r \
             from (values ('x', 1), ('x', 2), ('y', 4)) v(n, s) order by n, s",
        )
        .await;
        assert!(text.contains("| x | 3 | 3 |"), "{text}");
        assert!(text.contains("| y | 4 | 7 |"), "{text}");
    }
}
