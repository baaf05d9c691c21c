//! The search for a join order: over relations with estimated row counts and the join
//! predicates between them, the tree whose intermediate results are smallest in sum (the
//! C_out cost). Dynamic programming over connected subsets finds the best tree, bushy trees
//! included, up to a number of relations; past that, a greedy search joins the pair with the
//! smallest result first. Cross products come only where the predicates leave no choice.

/// A join predicate between two relations: it keeps `selectivity` of their product.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub left: usize,
    pub right: usize,
    pub selectivity: f64,
}

/// A join tree over relation indices; the left side of a join is the smaller (the build side
/// of a hash join).
#[derive(Debug, Clone, PartialEq)]
pub enum JoinTree {
    Leaf(usize),
    Join(Box<JoinTree>, Box<JoinTree>),
}

impl JoinTree {
    /// The relations under this tree, as a bit set.
    pub fn relations(&self) -> u64 {
        match self {
            JoinTree::Leaf(i) => 1 << i,
            JoinTree::Join(l, r) => l.relations() | r.relations(),
        }
    }
}

impl std::fmt::Display for JoinTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JoinTree::Leaf(i) => write!(f, "{i}"),
            JoinTree::Join(l, r) => write!(f, "({l} ⋈ {r})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    pub tree: JoinTree,
    /// The sum of the rows of every join's result.
    pub cost: f64,
}

/// The join graph being searched.
pub struct JoinGraph<'a> {
    pub rows: &'a [f64],
    pub edges: &'a [Edge],
}

impl JoinGraph<'_> {
    /// Estimated rows of joining the relations in `set`.
    pub fn rows_of(&self, set: u64) -> f64 {
        let mut rows: f64 = (0..self.rows.len())
            .filter(|i| set & (1 << i) != 0)
            .map(|i| self.rows[i])
            .product();
        for edge in self.edges {
            if set & (1 << edge.left) != 0 && set & (1 << edge.right) != 0 {
                rows *= edge.selectivity;
            }
        }
        rows
    }

    fn connected(&self, a: u64, b: u64) -> bool {
        self.edges.iter().any(|e| {
            let (l, r) = (1u64 << e.left, 1u64 << e.right);
            (a & l != 0 && b & r != 0) || (a & r != 0 && b & l != 0)
        })
    }

    /// A join of two trees, the smaller on the left.
    fn join(&self, a: JoinTree, b: JoinTree) -> JoinTree {
        if self.rows_of(b.relations()) < self.rows_of(a.relations()) {
            JoinTree::Join(Box::new(b), Box::new(a))
        } else {
            JoinTree::Join(Box::new(a), Box::new(b))
        }
    }

    /// The cost of a tree: the sum of its joins' result rows.
    pub fn cost(&self, tree: &JoinTree) -> f64 {
        match tree {
            JoinTree::Leaf(_) => 0.0,
            JoinTree::Join(l, r) => self.cost(l) + self.cost(r) + self.rows_of(tree.relations()),
        }
    }
}

/// The most relations searched exhaustively, whatever the setting: the search visits 3^n
/// splits, 4.8 million at 14.
pub const MAX_EXHAUSTIVE: usize = 14;

/// The best join tree of all the graph's relations: exhaustive up to `exhaustive_limit`
/// relations (at most [`MAX_EXHAUSTIVE`]), greedy past it or when the predicates do not
/// connect every relation.
pub fn choose(graph: &JoinGraph<'_>, exhaustive_limit: usize) -> Chosen {
    let count = graph.rows.len();
    let tree = if count <= exhaustive_limit.min(MAX_EXHAUSTIVE) {
        exhaustive(graph).unwrap_or_else(|| greedy(graph))
    } else {
        greedy(graph)
    };
    Chosen {
        cost: graph.cost(&tree),
        tree,
    }
}

/// Dynamic programming over the connected subsets; `None` if the graph is not connected.
fn exhaustive(graph: &JoinGraph<'_>) -> Option<JoinTree> {
    let count = graph.rows.len();
    let full = (1u64 << count) - 1;
    // best[set] = (cost, left part) of the cheapest tree of `set`; leaves cost nothing.
    let mut best: Vec<Option<(f64, u64)>> = vec![None; 1 << count];
    for i in 0..count {
        best[1 << i] = Some((0.0, 0));
    }
    for set in 1..=full {
        if set.count_ones() < 2 {
            continue;
        }
        let rows = graph.rows_of(set);
        let mut left = (set - 1) & set;
        while left > 0 {
            let right = set ^ left;
            // Each split once: the part holding the lowest relation on the left.
            if left & (set & set.wrapping_neg()) != 0
                && let (Some((lc, _)), Some((rc, _))) = (best[left as usize], best[right as usize])
                && graph.connected(left, right)
            {
                let cost = lc + rc + rows;
                if best[set as usize].is_none_or(|(c, _)| cost < c) {
                    best[set as usize] = Some((cost, left));
                }
            }
            left = (left - 1) & set;
        }
    }
    best[full as usize]?;
    Some(build(graph, &best, full))
}

fn build(graph: &JoinGraph<'_>, best: &[Option<(f64, u64)>], set: u64) -> JoinTree {
    if set.count_ones() == 1 {
        return JoinTree::Leaf(set.trailing_zeros() as usize);
    }
    let left = best[set as usize].map_or(0, |(_, left)| left);
    let (l, r) = (build(graph, best, left), build(graph, best, set ^ left));
    graph.join(l, r)
}

/// Joins, again and again, the two trees with the smallest result, connected ones first.
fn greedy(graph: &JoinGraph<'_>) -> JoinTree {
    let mut trees: Vec<JoinTree> = (0..graph.rows.len()).map(JoinTree::Leaf).collect();
    while trees.len() > 1 {
        let mut chosen: Option<(bool, f64, usize, usize)> = None;
        for i in 0..trees.len() {
            for j in i + 1..trees.len() {
                let (a, b) = (trees[i].relations(), trees[j].relations());
                let cross = !graph.connected(a, b);
                let rows = graph.rows_of(a | b);
                let better = match chosen {
                    None => true,
                    Some((best_cross, best_rows, _, _)) => (cross, rows) < (best_cross, best_rows),
                };
                if better {
                    chosen = Some((cross, rows, i, j));
                }
            }
        }
        let Some((_, _, i, j)) = chosen else {
            break;
        };
        let b = trees.remove(j);
        let a = trees.remove(i);
        trees.push(graph.join(a, b));
    }
    trees.pop().unwrap_or(JoinTree::Leaf(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(left: usize, right: usize, selectivity: f64) -> Edge {
        Edge {
            left,
            right,
            selectivity,
        }
    }

    /// A star: a large fact table 0 with three dimensions, one of them filtered small.
    fn star() -> (Vec<f64>, Vec<Edge>) {
        let rows = vec![1_000_000.0, 1000.0, 10.0, 100.0];
        let edges = vec![
            edge(0, 1, 1.0 / 1000.0),
            edge(0, 2, 1.0 / 1000.0),
            edge(0, 3, 1.0 / 200.0),
        ];
        (rows, edges)
    }

    #[test]
    fn the_most_selective_dimension_joins_the_fact_table_first() {
        let (rows, edges) = star();
        let graph = JoinGraph {
            rows: &rows,
            edges: &edges,
        };
        let chosen = choose(&graph, 10);
        assert_eq!(chosen.tree.to_string(), "(1 ⋈ (3 ⋈ (2 ⋈ 0)))");
        assert_eq!(chosen.cost, 10_000.0 + 5_000.0 + 5_000.0);
        // The greedy search finds the same tree here.
        assert_eq!(choose(&graph, 1), chosen);
    }

    #[test]
    fn exhaustive_search_never_loses_to_the_written_order() {
        let (rows, edges) = star();
        let graph = JoinGraph {
            rows: &rows,
            edges: &edges,
        };
        let written = JoinTree::Join(
            Box::new(JoinTree::Join(
                Box::new(JoinTree::Join(
                    Box::new(JoinTree::Leaf(0)),
                    Box::new(JoinTree::Leaf(1)),
                )),
                Box::new(JoinTree::Leaf(2)),
            )),
            Box::new(JoinTree::Leaf(3)),
        );
        assert!(choose(&graph, 10).cost <= graph.cost(&written));
    }

    #[test]
    fn chains_avoid_cross_products() {
        // 0 - 1 - 2: joining 0 and 2 first would be a cross product.
        let rows = vec![10.0, 1_000_000.0, 10.0];
        let edges = vec![edge(0, 1, 1e-6), edge(1, 2, 1e-6)];
        let graph = JoinGraph {
            rows: &rows,
            edges: &edges,
        };
        let tree = choose(&graph, 10).tree.to_string();
        assert!(!tree.contains("0 ⋈ 2") && !tree.contains("2 ⋈ 0"), "{tree}");
    }

    #[test]
    fn large_joins_are_searched_greedily_in_the_blink_of_an_eye() {
        // A chain of 40 relations: far past any exhaustive search.
        let rows: Vec<f64> = (0..40).map(|i| 1000.0 + i as f64).collect();
        let edges: Vec<Edge> = (0..39).map(|i| edge(i, i + 1, 0.001)).collect();
        let graph = JoinGraph {
            rows: &rows,
            edges: &edges,
        };
        let chosen = choose(&graph, 100);
        assert_eq!(chosen.tree.relations(), (1u64 << 40) - 1);
    }

    #[test]
    fn disconnected_relations_are_joined_by_cross_products_last() {
        let rows = vec![100.0, 100.0, 5.0];
        let edges = vec![edge(0, 1, 0.01)];
        let graph = JoinGraph {
            rows: &rows,
            edges: &edges,
        };
        assert_eq!(choose(&graph, 10).tree.to_string(), "(2 ⋈ (0 ⋈ 1))");
    }
}
