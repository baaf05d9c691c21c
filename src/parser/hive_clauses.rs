//! HiveQL's distribution clauses, mapped onto what sqlparser and DataFusion know:
//!
//! - In a window specification (`OVER (...)`, `WINDOW w AS (...)`), `DISTRIBUTE BY` means
//!   `PARTITION BY` and `SORT BY` means `ORDER BY`. sqlparser does not parse Hive's words
//!   there, so the tokens are renamed before parsing.
//! - On a query, `SORT BY` sorts each reducer's rows. Apiary's result is one stream, so it is
//!   sorted whole, as Hive's is with one reducer: `SORT BY` becomes `ORDER BY`.
//!   `DISTRIBUTE BY` only chooses reducers and does not change the rows, so it is dropped.
//!   `CLUSTER BY x` is `DISTRIBUTE BY x SORT BY x`.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    OrderBy, OrderByExpr, OrderByKind, OrderByOptions, Query, SetExpr, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Word};

/// Renames `DISTRIBUTE BY` / `SORT BY` inside window specifications.
pub fn rename_window_clauses(tokens: &mut [TokenWithSpan]) {
    // Parenthesis depths at which a window specification is open.
    let mut windows: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut after_window_keyword = false;
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    for (n, &i) in significant.iter().enumerate() {
        let previous = |back: usize| n.checked_sub(back).map(|p| &tokens[significant[p]].token);
        match &tokens[i].token {
            Token::LParen => {
                depth += 1;
                let opens_window = match previous(1) {
                    Some(Token::Word(w)) if w.keyword == Keyword::OVER => true,
                    Some(Token::Word(w)) if w.keyword == Keyword::AS => {
                        after_window_keyword && matches!(previous(2), Some(Token::Word(_)))
                    }
                    _ => false,
                };
                if opens_window {
                    windows.push(depth);
                }
            }
            Token::RParen => {
                if windows.last() == Some(&depth) {
                    windows.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Token::Word(w) if w.keyword == Keyword::WINDOW => after_window_keyword = true,
            Token::Word(w) if windows.last() == Some(&depth) => {
                let next_is_by = significant.get(n + 1).is_some_and(
                    |&j| matches!(&tokens[j].token, Token::Word(b) if b.keyword == Keyword::BY),
                );
                let renamed = match w.value.to_ascii_uppercase().as_str() {
                    "DISTRIBUTE" if next_is_by => Some(("PARTITION", Keyword::PARTITION)),
                    "SORT" if next_is_by => Some(("ORDER", Keyword::ORDER)),
                    _ => None,
                };
                if let Some((value, keyword)) = renamed {
                    tokens[i].token = Token::Word(Word {
                        value: value.to_string(),
                        quote_style: None,
                        keyword,
                    });
                }
            }
            _ => {}
        }
    }
}

/// `CLUSTER BY x` opening a window specification (`OVER (CLUSTER BY x)`) is
/// `PARTITION BY x ORDER BY x`.
pub fn expand_window_cluster_by(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let word_at = |n: usize, value: &str| {
        significant.get(n).is_some_and(
            |&i| matches!(&tokens[i].token, Token::Word(w) if w.value.eq_ignore_ascii_case(value)),
        )
    };
    // (index of CLUSTER, index after the keys' last token, the keys' tokens)
    let mut expansions: Vec<(usize, usize, Vec<TokenWithSpan>)> = Vec::new();
    for n in 2..significant.len() {
        let opens_window = tokens[significant[n - 1]].token == Token::LParen
            && (word_at(n - 2, "OVER") || word_at(n - 2, "AS"));
        if !(opens_window && word_at(n, "CLUSTER") && word_at(n + 1, "BY")) {
            continue;
        }
        let mut depth = 0usize;
        let mut end = n + 2;
        while let Some(&i) = significant.get(end) {
            match &tokens[i].token {
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => break,
                Token::RParen => depth -= 1,
                Token::Word(w)
                    if depth == 0
                        && (w.value.eq_ignore_ascii_case("ROWS")
                            || w.value.eq_ignore_ascii_case("RANGE")) =>
                {
                    break;
                }
                _ => {}
            }
            end += 1;
        }
        let (Some(&first), Some(&stop)) = (significant.get(n + 2), significant.get(end)) else {
            continue;
        };
        expansions.push((significant[n], stop, tokens[first..stop].to_vec()));
    }
    if expansions.is_empty() {
        return tokens;
    }
    let mut out = Vec::with_capacity(tokens.len() + 8);
    let mut skip_until = 0;
    for (i, token) in tokens.into_iter().enumerate() {
        if i < skip_until {
            continue;
        }
        let Some((_, stop, keys)) = expansions.iter().find(|(start, _, _)| *start == i) else {
            out.push(token);
            continue;
        };
        let span = token.span;
        let word = |value: &str, keyword: Keyword| TokenWithSpan {
            token: Token::Word(Word {
                value: value.to_string(),
                quote_style: None,
                keyword,
            }),
            span,
        };
        let space = TokenWithSpan {
            token: Token::Whitespace(datafusion::sql::sqlparser::tokenizer::Whitespace::Space),
            span,
        };
        for (keyword, value) in [(Keyword::PARTITION, "PARTITION"), (Keyword::ORDER, "ORDER")] {
            out.push(word(value, keyword));
            out.push(space.clone());
            out.push(word("BY", Keyword::BY));
            out.push(space.clone());
            out.extend(keys.iter().cloned());
            out.push(space.clone());
        }
        skip_until = *stop;
    }
    out
}

/// Maps every SELECT's `SORT BY`, `DISTRIBUTE BY` and `CLUSTER BY` in `query` (subqueries
/// included) onto `ORDER BY` of its query, or away.
pub fn resolve_sort_clauses<V: VisitMut>(node: &mut V) {
    let _ = node.visit(&mut SortClauses);
}

struct SortClauses;

impl VisitorMut for SortClauses {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let mut sort: Vec<OrderByExpr> = std::mem::take(&mut select.sort_by);
        if sort.is_empty() {
            sort = std::mem::take(&mut select.cluster_by)
                .into_iter()
                .map(|expr| OrderByExpr {
                    expr,
                    options: OrderByOptions {
                        asc: None,
                        nulls_first: None,
                    },
                    with_fill: None,
                })
                .collect();
        }
        select.cluster_by.clear();
        select.distribute_by.clear();
        if !sort.is_empty() && query.order_by.is_none() {
            query.order_by = Some(OrderBy {
                kind: OrderByKind::Expressions(sort),
                interpolate: None,
            });
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::query_text;

    #[test]
    fn cluster_by_in_a_window_partitions_and_orders() {
        assert_eq!(
            query_text(
                "select count(x) over (cluster by f(a), b rows between 1 preceding and current row) from t"
            ),
            "SELECT count(x) OVER (PARTITION BY f(a), b ORDER BY f(a), b ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t"
        );
        assert_eq!(
            query_text("select count(x) over (cluster by a) from t cluster by a"),
            "SELECT count(x) OVER (PARTITION BY a ORDER BY a) FROM t ORDER BY a"
        );
    }

    #[test]
    fn window_specifications_take_hive_words() {
        let text = query_text(
            "select rank() over (distribute by a sort by b desc) r, sum(c) over w \
             from t window w as (distribute by a sort by b rows between 1 preceding and current row)",
        );
        assert!(
            text.contains("OVER (PARTITION BY a ORDER BY b DESC)"),
            "{text}"
        );
        assert!(
            text.contains("w AS (PARTITION BY a ORDER BY b ROWS"),
            "{text}"
        );
    }

    #[test]
    fn sort_cluster_and_distribute_by_become_order_by() {
        assert_eq!(
            query_text("select a from t distribute by a sort by a desc"),
            "SELECT a FROM t ORDER BY a DESC"
        );
        assert_eq!(
            query_text("select * from (select a from t cluster by a) s"),
            "SELECT * FROM (SELECT a FROM t ORDER BY a) s"
        );
    }
}
