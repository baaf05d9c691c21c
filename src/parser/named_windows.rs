//! Hive's named windows may build on each other: `WINDOW w2 AS w1`, and a specification may
//! start from a named window (`OVER (w1 ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING)`, or
//! `w3 AS (w1 ...)`), taking its partitioning and order and adding a frame. DataFusion
//! resolves one level of plain names only, so every window of a SELECT is resolved here into
//! a full specification, in the window functions that use it.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, NamedWindowExpr, Query, Select, SetExpr, VisitMut, VisitorMut, WindowSpec, WindowType,
    visit_expressions_mut,
};

/// Window definitions nest at most this deep; a deeper chain is a cycle, left to the planner.
const MAX_DEPTH: usize = 32;

pub fn resolve_named_windows<V: VisitMut>(node: &mut V) {
    let _ = node.visit(&mut NamedWindows);
}

struct NamedWindows;

impl VisitorMut for NamedWindows {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            resolve_select(select);
        }
        ControlFlow::Continue(())
    }
}

fn resolve_select(select: &mut Select) {
    let definitions: HashMap<String, NamedWindowExpr> = select
        .named_window
        .iter()
        .map(|definition| (definition.0.value.to_lowercase(), definition.1.clone()))
        .collect();
    let needs_work = select.named_window.iter().any(|d| {
        matches!(&d.1, NamedWindowExpr::NamedWindow(_))
            || matches!(&d.1, NamedWindowExpr::WindowSpec(s) if s.window_name.is_some())
    });
    let mut resolved_inline = false;
    for item in &mut select.projection {
        let _ = visit_expressions_mut(item, |expr| {
            if let Expr::Function(function) = expr
                && let Some(over) = &mut function.over
            {
                let spec = match over {
                    WindowType::NamedWindow(name) if needs_work => {
                        resolve_name(&name.value, &definitions, 0)
                    }
                    WindowType::WindowSpec(spec) if spec.window_name.is_some() => {
                        resolve_spec(spec, &definitions, 0)
                    }
                    _ => None,
                };
                if let Some(spec) = spec {
                    *over = WindowType::WindowSpec(spec);
                    resolved_inline = true;
                }
            }
            ControlFlow::<()>::Continue(())
        });
    }
    if resolved_inline || needs_work {
        // Every use now carries its full specification.
        let resolved: Vec<_> = select
            .named_window
            .iter()
            .filter_map(|definition| {
                let spec = resolve_name(&definition.0.value, &definitions, 0)?;
                let mut definition = definition.clone();
                definition.1 = NamedWindowExpr::WindowSpec(spec);
                Some(definition)
            })
            .collect();
        if resolved.len() == select.named_window.len() {
            select.named_window = resolved;
        }
    }
}

fn resolve_name(
    name: &str,
    definitions: &HashMap<String, NamedWindowExpr>,
    depth: usize,
) -> Option<WindowSpec> {
    if depth > MAX_DEPTH {
        return None;
    }
    match definitions.get(&name.to_lowercase())? {
        NamedWindowExpr::NamedWindow(other) => resolve_name(&other.value, definitions, depth + 1),
        NamedWindowExpr::WindowSpec(spec) => resolve_spec(spec, definitions, depth + 1),
    }
}

/// `spec` with the window it names (if any) filled in: the named window's partitioning,
/// order and frame, each unless `spec` gives its own.
fn resolve_spec(
    spec: &WindowSpec,
    definitions: &HashMap<String, NamedWindowExpr>,
    depth: usize,
) -> Option<WindowSpec> {
    let Some(base_name) = &spec.window_name else {
        return Some(spec.clone());
    };
    let base = resolve_name(&base_name.value, definitions, depth + 1)?;
    Some(WindowSpec {
        window_name: None,
        partition_by: if spec.partition_by.is_empty() {
            base.partition_by
        } else {
            spec.partition_by.clone()
        },
        order_by: if spec.order_by.is_empty() {
            base.order_by
        } else {
            spec.order_by.clone()
        },
        window_frame: spec.window_frame.clone().or(base.window_frame),
    })
}

#[cfg(test)]
mod tests {
    use super::super::query_text;

    #[test]
    fn windows_built_on_windows_are_resolved() {
        let text = query_text(
            "select sum(v) over w2, sum(v) over (w1 rows between 1 preceding and current row) \
             from t window w1 as (partition by k order by v), w2 as w1",
        );
        assert_eq!(
            text,
            "SELECT sum(v) OVER (PARTITION BY k ORDER BY v), \
             sum(v) OVER (PARTITION BY k ORDER BY v ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) \
             FROM t WINDOW w1 AS (PARTITION BY k ORDER BY v), w2 AS (PARTITION BY k ORDER BY v)"
        );
    }
}
