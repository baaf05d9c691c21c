//! Hive joins need no `ON`: `a JOIN b` is every pair of rows (a cross join), and an outer
//! join without a condition pairs every row with every row of the other side, keeping the
//! unmatched ones as an outer join does. DataFusion wants a condition on outer joins, so
//! they get `ON true`; inner joins without one become `CROSS JOIN`.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, JoinConstraint, JoinOperator, TableFactor, TableWithJoins, Value, VisitMut, VisitorMut,
};

pub fn complete_join_conditions<V: VisitMut>(node: &mut V) {
    let _ = node.visit(&mut JoinConditions);
}

struct JoinConditions;

impl VisitorMut for JoinConditions {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::NestedJoin {
            table_with_joins, ..
        } = factor
        {
            complete(table_with_joins);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(
        &mut self,
        query: &mut datafusion::sql::sqlparser::ast::Query,
    ) -> ControlFlow<()> {
        if let datafusion::sql::sqlparser::ast::SetExpr::Select(select) = query.body.as_mut() {
            for table in &mut select.from {
                complete(table);
            }
        }
        ControlFlow::Continue(())
    }
}

fn complete(table: &mut TableWithJoins) {
    let always = || JoinConstraint::On(Expr::value(Value::Boolean(true)));
    for join in &mut table.joins {
        join.join_operator = match std::mem::replace(
            &mut join.join_operator,
            JoinOperator::CrossJoin(JoinConstraint::None),
        ) {
            JoinOperator::Join(JoinConstraint::None)
            | JoinOperator::Inner(JoinConstraint::None) => {
                JoinOperator::CrossJoin(JoinConstraint::None)
            }
            JoinOperator::Left(JoinConstraint::None) => JoinOperator::Left(always()),
            JoinOperator::LeftOuter(JoinConstraint::None) => JoinOperator::LeftOuter(always()),
            JoinOperator::Right(JoinConstraint::None) => JoinOperator::Right(always()),
            JoinOperator::RightOuter(JoinConstraint::None) => JoinOperator::RightOuter(always()),
            JoinOperator::FullOuter(JoinConstraint::None) => JoinOperator::FullOuter(always()),
            other => other,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::super::query_text;

    #[test]
    fn joins_without_on() {
        assert_eq!(
            query_text("select * from a join b left join c"),
            "SELECT * FROM a CROSS JOIN b LEFT JOIN c ON true"
        );
    }
}
