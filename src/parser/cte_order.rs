//! Hive lets a common table expression use one defined after it in the same `WITH`
//! (`WITH q1 AS (SELECT ... FROM q2), q2 AS (...)`); DataFusion resolves them in order. The
//! CTEs of every `WITH` are put in an order where each comes after those it reads (keeping
//! the written order otherwise). A cycle is left as written, for the planner to report.
//!
//! `WITH q AS (...) FROM q SELECT ...` is Hive's FROM-first query after a `WITH`; sqlparser
//! keeps that `FROM q` on the last CTE, and it goes back to the SELECT here.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    ObjectName, Query, SetExpr, TableFactor, TableWithJoins, VisitMut, VisitorMut, visit_relations,
};

pub fn order_ctes<V: VisitMut>(node: &mut V) {
    let _ = node.visit(&mut CteOrder);
}

struct CteOrder;

impl VisitorMut for CteOrder {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let Some(with) = &mut query.with else {
            return ControlFlow::Continue(());
        };
        if let Some(from) = with.cte_tables.last_mut().and_then(|cte| cte.from.take()) {
            match query.body.as_mut() {
                SetExpr::Select(select) if select.from.is_empty() => {
                    select.from = vec![TableWithJoins {
                        relation: TableFactor::Table {
                            name: ObjectName::from(vec![from]),
                            alias: None,
                            args: None,
                            with_hints: Vec::new(),
                            version: None,
                            with_ordinality: false,
                            partitions: Vec::new(),
                            json_path: None,
                            sample: None,
                            index_hints: Vec::new(),
                        },
                        joins: Vec::new(),
                    }];
                }
                _ => {
                    if let Some(cte) = with.cte_tables.last_mut() {
                        cte.from = Some(from);
                    }
                }
            }
        }
        if with.recursive {
            return ControlFlow::Continue(());
        }
        let names: Vec<String> = with
            .cte_tables
            .iter()
            .map(|cte| cte.alias.name.value.to_lowercase())
            .collect();
        let reads: Vec<Vec<usize>> = with
            .cte_tables
            .iter()
            .enumerate()
            .map(|(own, cte)| {
                let mut reads = Vec::new();
                let _ = visit_relations(cte.query.as_ref(), |name| {
                    if let [part] = name.0.as_slice()
                        && let Some(ident) = part.as_ident()
                        && let Some(index) =
                            names.iter().position(|n| *n == ident.value.to_lowercase())
                        && index != own
                    {
                        reads.push(index);
                    }
                    ControlFlow::<()>::Continue(())
                });
                reads
            })
            .collect();
        let mut placed = vec![false; names.len()];
        let mut order = Vec::with_capacity(names.len());
        while order.len() < names.len() {
            let before = order.len();
            for index in 0..names.len() {
                if !placed[index] && reads[index].iter().all(|&r| placed[r]) {
                    placed[index] = true;
                    order.push(index);
                }
            }
            if order.len() == before {
                return ControlFlow::Continue(());
            }
        }
        let mut ctes: Vec<_> = std::mem::take(&mut with.cte_tables)
            .into_iter()
            .map(Some)
            .collect();
        with.cte_tables = order
            .into_iter()
            .filter_map(|index| ctes[index].take())
            .collect();
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::query_text;

    #[test]
    fn a_cte_follows_the_ctes_it_reads() {
        assert_eq!(
            query_text("with q1 as (select a from q2), q2 as (select 1 a) select * from q1"),
            "WITH q2 AS (SELECT 1 AS a), q1 AS (SELECT a FROM q2) SELECT * FROM q1"
        );
        assert_eq!(
            query_text("with q1 as (select 1 a) from q1 select a"),
            "WITH q1 AS (SELECT 1 AS a) SELECT a FROM q1"
        );
    }
}
