//! Cost-based join order (`hive.cbo.enable`). DataFusion joins tables in the order the query
//! names them; this rule takes each tree of inner joins, with the equi-join keys and filters
//! on it, as a graph of relations and predicates, estimates the relations' rows from table
//! statistics ([`cardinality`]), searches for the order with the smallest intermediate
//! results ([`search`]), and rebuilds the tree in that order, the smaller side of each join
//! on the left (the build side). A projection on top keeps the columns in the order the query
//! had them. Without statistics for every relation, the written order stays, as in Hive.
//!
//! It runs after DataFusion's rules, when filters have been pushed to the scans they filter
//! and join predicates have become equi-join keys. Whether a join is then broadcast (a map
//! join) or partitioned is DataFusion's physical `JoinSelection`, which reads the same
//! statistics and the `hive.auto.convert.join` threshold.

pub mod cardinality;
pub mod explain;
pub mod search;

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::common::{NullEquality, Result};
use datafusion::logical_expr::utils::split_conjunction_owned;
use datafusion::logical_expr::{
    BinaryExpr, Expr, Filter, Join, JoinConstraint, JoinType, LogicalPlan, Operator, Projection,
};
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use cardinality::{Estimate, KeySide, estimate, join_rows};
use search::{Edge, JoinGraph, JoinTree, choose};

/// The most relations one join tree may have to be reordered.
const MAX_RELATIONS: usize = 64;

/// Reorders trees of inner joins by estimated cost; see the module documentation.
#[derive(Debug)]
pub struct JoinOrder {
    /// Up to this many relations, every order is considered; past it, a greedy search runs.
    pub exhaustive_limit: usize,
}

impl OptimizerRule for JoinOrder {
    fn name(&self) -> &str {
        "apiary_join_order"
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        plan.transform_down_with_subqueries(|node| self.reorder(node))
    }
}

/// A tree of inner joins taken apart: the relations it joins and the predicates over them.
struct JoinGroup {
    leaves: Vec<LogicalPlan>,
    predicates: Vec<Expr>,
    /// The tree as written, over leaf indices.
    written: JoinTree,
}

impl JoinOrder {
    fn reorder(&self, node: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
        if !is_reorderable(&node) {
            return Ok(Transformed::no(node));
        }
        let mut group = JoinGroup {
            leaves: Vec::new(),
            predicates: Vec::new(),
            written: JoinTree::Leaf(0),
        };
        group.written = collect(&node, &mut group);
        // Relation sets are 64-bit masks; a larger join keeps its written order.
        if group.leaves.len() < 3 || group.leaves.len() > MAX_RELATIONS {
            return Ok(Transformed::no(node));
        }
        // Join trees inside the relations (derived tables, subqueries) are ordered first.
        let mut leaves_changed = false;
        for leaf in &mut group.leaves {
            let ordered = leaf
                .clone()
                .transform_down_with_subqueries(|n| self.reorder(n))?;
            leaves_changed |= ordered.transformed;
            *leaf = ordered.data;
        }
        let reordered = match self.choose_tree(&group) {
            Some(tree) if tree != group.written => rebuild(&group, &tree, &node)?,
            _ if leaves_changed => rebuild(&group, &group.written, &node)?,
            _ => None,
        };
        Ok(match reordered {
            Some(plan) => Transformed::new(plan, true, TreeNodeRecursion::Jump),
            None => Transformed::new(node, false, TreeNodeRecursion::Jump),
        })
    }

    /// The cheapest tree, or `None` when some relation has no row estimate.
    fn choose_tree(&self, group: &JoinGroup) -> Option<JoinTree> {
        let graph = Graph::of(group)?;
        Some(
            choose(
                &JoinGraph {
                    rows: &graph.rows,
                    edges: &graph.edges,
                },
                self.exhaustive_limit,
            )
            .tree,
        )
    }
}

/// The two sides of one join key.
type JoinKey = (KeySide, KeySide);

/// The search's view of a join group: rows of each relation, selectivity of each joined pair.
struct Graph {
    pub rows: Vec<f64>,
    pub edges: Vec<Edge>,
}

impl Graph {
    fn of(group: &JoinGroup) -> Option<Graph> {
        let estimates: Vec<Estimate> = group.leaves.iter().map(estimate).collect();
        let rows: Vec<f64> = estimates.iter().map(|e| e.rows).collect::<Option<_>>()?;
        // The key pairs between each two relations.
        let mut pairs: Vec<((usize, usize), Vec<JoinKey>)> = Vec::new();
        for predicate in &group.predicates {
            let Some((a, left, b, right)) = equi_sides(predicate, &group.leaves) else {
                continue;
            };
            let key_side = |leaf: usize, side: &Expr| {
                let Expr::Column(column) = side else {
                    return KeySide::default();
                };
                match group.leaves[leaf].schema().index_of_column(column) {
                    Ok(index) => estimates[leaf].key_side(index),
                    Err(_) => KeySide::default(),
                }
            };
            let key = (key_side(a, left), key_side(b, right));
            let (pair, key) = if a < b {
                ((a, b), key)
            } else {
                ((b, a), (key.1, key.0))
            };
            match pairs.iter_mut().find(|(p, _)| *p == pair) {
                Some((_, keys)) => keys.push(key),
                None => pairs.push((pair, vec![key])),
            }
        }
        let edges = pairs
            .into_iter()
            .map(|((a, b), keys)| {
                let joined = join_rows(Some(rows[a]), Some(rows[b]), &keys).unwrap_or(0.0);
                let product = rows[a] * rows[b];
                Edge {
                    left: a,
                    right: b,
                    selectivity: if product > 0.0 { joined / product } else { 1.0 },
                }
            })
            .collect();
        Some(Graph { rows, edges })
    }
}

fn is_reorderable(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::Join(join)
        if join.join_type == JoinType::Inner
            && join.join_constraint == JoinConstraint::On
            && join.null_equality == NullEquality::NullEqualsNothing
            && !join.null_aware)
}

/// Takes the inner joins under `plan` apart into `group`; returns the written tree. The
/// column-pruning projections DataFusion puts between joins are looked through: the rebuilt
/// tree's top projection keeps the columns the query needs.
fn collect(plan: &LogicalPlan, group: &mut JoinGroup) -> JoinTree {
    if let LogicalPlan::Projection(projection) = plan
        && projection.expr.iter().all(|e| matches!(e, Expr::Column(_)))
        && is_reorderable(&projection.input)
    {
        return collect(&projection.input, group);
    }
    if let LogicalPlan::Join(join) = plan
        && is_reorderable(plan)
    {
        let left = collect(&join.left, group);
        let right = collect(&join.right, group);
        for (l, r) in &join.on {
            group.predicates.push(l.clone().eq(r.clone()));
        }
        if let Some(filter) = &join.filter {
            group
                .predicates
                .extend(split_conjunction_owned(filter.clone()));
        }
        return JoinTree::Join(Box::new(left), Box::new(right));
    }
    group.leaves.push(plan.clone());
    JoinTree::Leaf(group.leaves.len() - 1)
}

/// The relations whose columns `expr` reads, as a bit set; `None` if a column is in none.
fn relations_of(expr: &Expr, leaves: &[LogicalPlan]) -> Option<u64> {
    let mut set = 0u64;
    for column in expr.column_refs() {
        let leaf = leaves.iter().position(|l| l.schema().has_column(column))?;
        set |= 1 << leaf;
    }
    Some(set)
}

/// `a = b` with each side reading one relation, different ones: (left relation, left side,
/// right relation, right side).
fn equi_sides<'e>(
    expr: &'e Expr,
    leaves: &[LogicalPlan],
) -> Option<(usize, &'e Expr, usize, &'e Expr)> {
    let Expr::BinaryExpr(BinaryExpr {
        left,
        op: Operator::Eq,
        right,
    }) = expr
    else {
        return None;
    };
    let (l, r) = (relations_of(left, leaves)?, relations_of(right, leaves)?);
    if l.count_ones() != 1 || r.count_ones() != 1 || l == r {
        return None;
    }
    Some((
        l.trailing_zeros() as usize,
        left,
        r.trailing_zeros() as usize,
        right,
    ))
}

/// The join tree `tree` over the group's relations, every predicate at the lowest join that
/// has its columns, under a projection restoring `original`'s columns; `None` if some
/// predicate would find no place (the rewrite is then not made).
fn rebuild(
    group: &JoinGroup,
    tree: &JoinTree,
    original: &LogicalPlan,
) -> Result<Option<LogicalPlan>> {
    let mut placed = vec![false; group.predicates.len()];
    let sets: Option<Vec<u64>> = group
        .predicates
        .iter()
        .map(|p| relations_of(p, &group.leaves))
        .collect();
    let Some(sets) = sets else {
        return Ok(None);
    };
    let built = build(group, tree, &sets, &mut placed)?;
    if placed.iter().any(|p| !p) {
        return Ok(None);
    }
    let columns = original
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    Ok(Some(LogicalPlan::Projection(Projection::try_new(
        columns,
        Arc::new(built),
    )?)))
}

fn build(
    group: &JoinGroup,
    tree: &JoinTree,
    sets: &[u64],
    placed: &mut [bool],
) -> Result<LogicalPlan> {
    let here = tree.relations();
    let take = |placed: &mut [bool], belongs: &dyn Fn(u64) -> bool| {
        let mut taken = Vec::new();
        for (i, set) in sets.iter().enumerate() {
            if !placed[i] && belongs(*set) {
                placed[i] = true;
                taken.push(i);
            }
        }
        taken
    };
    match tree {
        JoinTree::Leaf(i) => {
            let leaf = group.leaves[*i].clone();
            // Predicates over this relation alone filter it.
            let own = take(placed, &|set| set != 0 && set == here);
            Ok(
                match conjunction(own.iter().map(|p| group.predicates[*p].clone())) {
                    Some(predicate) => {
                        LogicalPlan::Filter(Filter::try_new(predicate, Arc::new(leaf))?)
                    }
                    None => leaf,
                },
            )
        }
        JoinTree::Join(l, r) => {
            let (left_set, right_set) = (l.relations(), r.relations());
            let left = build(group, l, sets, placed)?;
            let right = build(group, r, sets, placed)?;
            let is_top = here.count_ones() as usize == group.leaves.len();
            let mine = take(placed, &|set| {
                (set & !here == 0 && set & !left_set != 0 && set & !right_set != 0)
                    || (set == 0 && is_top)
            });
            let mut on = Vec::new();
            let mut filters = Vec::new();
            for p in mine {
                let predicate = &group.predicates[p];
                match equi_sides(predicate, &group.leaves) {
                    Some((a, a_side, _, b_side)) => {
                        if left_set & (1 << a) != 0 {
                            on.push((a_side.clone(), b_side.clone()));
                        } else {
                            on.push((b_side.clone(), a_side.clone()));
                        }
                    }
                    None => filters.push(predicate.clone()),
                }
            }
            Ok(LogicalPlan::Join(Join::try_new(
                Arc::new(left),
                Arc::new(right),
                on,
                conjunction(filters),
                JoinType::Inner,
                JoinConstraint::On,
                NullEquality::NullEqualsNothing,
                false,
            )?))
        }
    }
}

fn conjunction(predicates: impl IntoIterator<Item = Expr>) -> Option<Expr> {
    predicates.into_iter().reduce(Expr::and)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tpch_tests;
