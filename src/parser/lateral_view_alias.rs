//! In Hive, a lateral view's column names follow `AS` only: in
//! `LATERAL VIEW explode(m) t LIMIT 2`, `LIMIT` starts the next clause. sqlparser takes any
//! word after the table alias as a column name, so a lateral view without `AS` gets
//! [`DEFAULT_GENERATOR_COLUMNS`] as its column list before parsing: the generator's own
//! column names.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace, Word};

/// The column list that stands for the generator's default column names.
pub const DEFAULT_GENERATOR_COLUMNS: &str = "__apiary_default_columns";

/// Gives every lateral view without `AS` the default column list.
pub fn mark_default_columns(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let keyword_at = |n: usize, keyword: Keyword| {
        significant
            .get(n)
            .is_some_and(|&i| matches!(&tokens[i].token, Token::Word(w) if w.keyword == keyword))
    };
    // Positions after which the default column list goes.
    let mut insert_after = Vec::new();
    for n in 0..significant.len() {
        if !(keyword_at(n, Keyword::LATERAL) && keyword_at(n + 1, Keyword::VIEW)) {
            continue;
        }
        let mut m = n + 2;
        if keyword_at(m, Keyword::OUTER) {
            m += 1;
        }
        // The function name, then its parenthesized arguments.
        m += 1;
        if significant
            .get(m)
            .is_none_or(|&i| tokens[i].token != Token::LParen)
        {
            continue;
        }
        let mut depth = 0usize;
        while let Some(&i) = significant.get(m) {
            match tokens[i].token {
                Token::LParen => depth += 1,
                Token::RParen => depth = depth.saturating_sub(1),
                _ => {}
            }
            m += 1;
            if depth == 0 {
                break;
            }
        }
        // `m` is the table alias; column names follow only an `AS`.
        let alias_is_word = significant
            .get(m)
            .is_some_and(|&i| matches!(tokens[i].token, Token::Word(_)));
        if alias_is_word && !keyword_at(m + 1, Keyword::AS) {
            insert_after.push(significant[m]);
        }
    }
    let mut out = Vec::with_capacity(tokens.len() + insert_after.len() * 4);
    for (i, token) in tokens.into_iter().enumerate() {
        let span = token.span;
        out.push(token);
        if insert_after.contains(&i) {
            let at = |token: Token| TokenWithSpan { token, span };
            let word = |value: &str, keyword: Keyword| {
                at(Token::Word(Word {
                    value: value.to_string(),
                    quote_style: None,
                    keyword,
                }))
            };
            out.push(at(Token::Whitespace(Whitespace::Space)));
            out.push(word("AS", Keyword::AS));
            out.push(at(Token::Whitespace(Whitespace::Space)));
            out.push(word(DEFAULT_GENERATOR_COLUMNS, Keyword::NoKeyword));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::query_text;

    #[test]
    fn a_lateral_view_without_as_takes_default_columns() {
        assert_eq!(
            query_text("select t.* from src lateral view explode(map('a', 1)) t limit 2"),
            "SELECT t.* FROM src LATERAL VIEW explode(map('a', 1)) t AS __apiary_default_columns LIMIT 2"
        );
        assert_eq!(
            query_text("select c from src lateral view outer explode(a) t as c where c > 1"),
            "SELECT c FROM src LATERAL VIEW OUTER explode(a) t AS c WHERE c > 1"
        );
    }
}
