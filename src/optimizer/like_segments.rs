//! `s LIKE p` (and `NOT LIKE`) with a constant pattern of several `%` segments and no other
//! wildcard is planned as `functions::like_segments`, which finds the segments with a
//! substring search where arrow's LIKE kernel would run a regular expression. Patterns the
//! kernel matches directly (one `%` at either end), `_`, escapes and ILIKE stay as they are.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;

use super::{literal, rewrite_plan_expressions};
use crate::functions::like_segments::{self, Segments};

#[derive(Debug, Default)]
pub struct LikeSegments;

/// The pattern of a LIKE this rule plans, if `like` is one.
fn segmented_pattern(like: &Like) -> Option<&str> {
    if like.case_insensitive || like.escape_char.is_some() {
        return None;
    }
    let pattern = literal(&like.pattern)?.try_as_str()??;
    (Segments::needs_regex(pattern) && Segments::of(pattern).is_some()).then_some(pattern)
}

impl AnalyzerRule for LikeSegments {
    fn name(&self) -> &str {
        "like_segments"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        let function = Arc::new(like_segments::udf());
        rewrite_plan_expressions(plan, |expr, schema| {
            let Expr::Like(like) = &expr else {
                return Ok(Transformed::no(expr));
            };
            let Some(pattern) = segmented_pattern(like) else {
                return Ok(Transformed::no(expr));
            };
            if !matches!(
                like.expr.get_type(schema),
                Ok(DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
            ) {
                return Ok(Transformed::no(expr));
            }
            let call = function.call(vec![
                like.expr.as_ref().clone(),
                Expr::Literal(ScalarValue::Utf8(Some(pattern.to_string())), None),
            ]);
            Ok(Transformed::yes(if like.negated {
                Expr::Not(Box::new(call))
            } else {
                call
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn segmented_likes_match_as_like_does() {
        let text = super::super::run_with_rules(
            "select s, s like '%special%requests%' as m, s not like '%special%requests%' as n, \
             s like 'a%b%c' as anchored, s like '%special%' as contains \
             from (values ('special requests'), ('requests special'), ('abxc'), (null)) as t(s) \
             order by s",
        )
        .await;
        let expected = [
            "+------------------+-------+-------+----------+----------+",
            "| s                | m     | n     | anchored | contains |",
            "+------------------+-------+-------+----------+----------+",
            "| abxc             | false | true  | true     | false    |",
            "| requests special | false | true  | false    | true     |",
            "| special requests | true  | false | false    | true     |",
            "|                  |       |       |          |          |",
            "+------------------+-------+-------+----------+----------+",
        ];
        assert_eq!(text, expected.join("\n"));

        let plan = super::super::run_with_rules(
            "explain select s like '%a%b%' as m, s like '%a%' as c from (values ('ab')) as t(s)",
        )
        .await;
        assert!(
            plan.contains("like_segments(t.s, Utf8(\"%a%b%\"))"),
            "{plan}"
        );
        assert!(plan.contains("t.s LIKE Utf8(\"%a%\")"), "{plan}");
    }
}
