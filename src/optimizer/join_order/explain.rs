//! `EXPLAIN CBO`: the optimized logical plan with each operator's estimated rows, and each
//! join's cost (the rows of every join result at or below it), so the chosen join order
//! and what it is expected to cost can be read off.

use datafusion::logical_expr::LogicalPlan;

use super::cardinality::estimate;

/// One line per operator, indented by depth, then the total cost.
pub fn explain_cbo(plan: &LogicalPlan) -> Vec<String> {
    let mut lines = Vec::new();
    let cost = describe(plan, 0, &mut lines);
    lines.push(format!(
        "join cost (rows of all join results): {}",
        rounded(cost)
    ));
    lines
}

/// Appends `plan`'s lines; returns the cost of the joins in it.
fn describe(plan: &LogicalPlan, depth: usize, lines: &mut Vec<String>) -> f64 {
    let rows = estimate(plan).rows;
    let index = lines.len();
    lines.push(String::new());
    let mut cost: f64 = plan
        .inputs()
        .iter()
        .map(|input| describe(input, depth + 1, lines))
        .sum();
    let mut annotation = match rows {
        Some(rows) => format!("rows={}", rounded(rows)),
        None => "rows=unknown".to_string(),
    };
    if matches!(plan, LogicalPlan::Join(_)) {
        cost += rows.unwrap_or(0.0);
        annotation.push_str(&format!(", cost={}", rounded(cost)));
    }
    lines[index] = format!("{}{}  [{annotation}]", "  ".repeat(depth), plan.display());
    cost
}

fn rounded(value: f64) -> String {
    format!("{}", value.round() as u64)
}
