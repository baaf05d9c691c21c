//! Hive's identity table functions (PTFs) `noop`, `noopwithmap`, `noopstreaming` and
//! `noopwithmapstreaming`: `noop(ON t PARTITION BY a ORDER BY b) x` is `t`'s rows, shuffled by
//! `a` and sorted by `a`, `b` as the shuffle leaves them. Before parsing, the tokens become
//! the derived table `(SELECT * FROM t DISTRIBUTE BY a SORT BY a, b) x`, which says the same.
//! Hive's other table functions (`matchpath`, ...) stay unknown to the parser.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

const NOOP_FUNCTIONS: &[&str] = &[
    "noop",
    "noopwithmap",
    "noopstreaming",
    "noopwithmapstreaming",
];

/// Rewrites every `noop...(ON ...)` into a derived table.
pub fn expand_noop_functions(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        match noop_call(&tokens, i) {
            Some((end, derived)) => {
                out.extend(derived);
                i = end;
            }
            None => {
                out.push(tokens[i].clone());
                i += 1;
            }
        }
    }
    out
}

/// When a `noop...(ON ...)` call starts at `start`: the index after its closing parenthesis
/// and the derived table's tokens.
fn noop_call(tokens: &[TokenWithSpan], start: usize) -> Option<(usize, Vec<TokenWithSpan>)> {
    let Token::Word(name) = &tokens[start].token else {
        return None;
    };
    let lower = name.value.to_ascii_lowercase();
    if name.quote_style.is_some() || !NOOP_FUNCTIONS.contains(&lower.as_str()) {
        return None;
    }
    let next = |from: usize| (from..tokens.len()).find(|&j| !is_space(&tokens[j].token));
    let open = next(start + 1).filter(|&j| tokens[j].token == Token::LParen)?;
    let on = next(open + 1).filter(|&j| keyword(&tokens[j].token) == Some(Keyword::ON))?;
    // The call's own tokens at depth 1, split at PARTITION BY and ORDER BY.
    let mut input = Vec::new();
    let mut partition = Vec::new();
    let mut order = Vec::new();
    let mut section = &mut input;
    let mut depth = 1usize;
    let mut j = on + 1;
    loop {
        let token = &tokens.get(j)?.token;
        match token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        let by_follows =
            next(j + 1).is_some_and(|b| keyword(&tokens[b].token) == Some(Keyword::BY));
        match keyword(token) {
            Some(Keyword::PARTITION | Keyword::DISTRIBUTE) if depth == 1 && by_follows => {
                section = &mut partition;
                j = next(j + 1)? + 1;
                continue;
            }
            Some(Keyword::ORDER | Keyword::SORT) if depth == 1 && by_follows => {
                section = &mut order;
                j = next(j + 1)? + 1;
                continue;
            }
            _ => section.push(token.clone()),
        }
        j += 1;
    }
    let space = || Token::Whitespace(Whitespace::Space);
    let mut derived = vec![
        Token::LParen,
        Token::make_keyword("SELECT"),
        space(),
        Token::Mul,
        space(),
        Token::make_keyword("FROM"),
    ];
    derived.extend(input);
    if !partition.is_empty() {
        derived.extend([space(), Token::make_keyword("DISTRIBUTE"), space()]);
        derived.extend([Token::make_keyword("BY"), space()]);
        derived.extend(partition.iter().cloned());
    }
    // Each partition's rows come sorted by the partition key, then the order key.
    if !partition.is_empty() || !order.is_empty() {
        derived.extend([space(), Token::make_keyword("SORT"), space()]);
        derived.extend([Token::make_keyword("BY"), space()]);
        derived.extend(partition.iter().cloned());
        if !partition.is_empty() && !order.is_empty() {
            derived.push(Token::Comma);
        }
        derived.extend(order);
    }
    derived.push(Token::RParen);
    let span = tokens[start].span;
    let derived = derived
        .into_iter()
        .map(|token| TokenWithSpan { token, span })
        .collect();
    Some((j + 1, derived))
}

fn is_space(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_))
}

fn keyword(token: &Token) -> Option<Keyword> {
    match token {
        Token::Word(w) => Some(w.keyword),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::query_text;

    #[test]
    fn noop_is_its_input_distributed_and_sorted() {
        // DISTRIBUTE BY changes no rows and SORT BY is an ORDER BY on one node.
        assert_eq!(
            query_text("select a.x from noop(on t partition by x order by y) a"),
            "SELECT a.x FROM (SELECT * FROM t ORDER BY x, y) a"
        );
        assert_eq!(
            query_text("select * from noopwithmap(on (select x, y from t) s partition by x, y) a"),
            "SELECT * FROM (SELECT * FROM (SELECT x, y FROM t) s ORDER BY x, y) a"
        );
    }
}
