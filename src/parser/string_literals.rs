//! Hive's lexer reads a string literal as one or more quoted pieces written next to each
//! other: `'face' 'book'`, `'face'"book"` and `'face''book'` are all `facebook` (a doubled
//! quote is two pieces, not an escaped quote). sqlparser reads a doubled quote as an escape
//! and adjacent pieces as separate literals, so the pieces are joined here, before parsing.
//! Token values are still raw (escapes are applied later), so joining is concatenation.

use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

/// Joins each run of adjacent string pieces into the first piece's token.
pub fn join_adjacent_strings(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len());
    // Whitespace after a string piece, held back while another piece may follow; it is
    // only ever non-empty when the last token out is a string.
    let mut gap: Vec<TokenWithSpan> = Vec::new();
    for mut token in tokens {
        remove_doubled_quotes(&mut token.token);
        let last_is_string = out.last().is_some_and(|t| string_text(&t.token).is_some());
        if let Some(piece) = string_text(&token.token).map(str::to_string) {
            if let Some(Token::SingleQuotedString(text) | Token::DoubleQuotedString(text)) =
                out.last_mut().map(|t| &mut t.token)
            {
                text.push_str(&piece);
                gap.clear();
                continue;
            }
        } else if last_is_string && matches!(token.token, Token::Whitespace(_)) {
            gap.push(token);
            continue;
        }
        out.append(&mut gap);
        out.push(token);
    }
    out.append(&mut gap);
    out
}

fn string_text(token: &Token) -> Option<&str> {
    match token {
        Token::SingleQuotedString(text) | Token::DoubleQuotedString(text) => Some(text),
        _ => None,
    }
}

/// A doubled quote inside a piece is where two pieces meet (sqlparser read it as an escape).
fn remove_doubled_quotes(token: &mut Token) {
    let (text, doubled) = match token {
        Token::SingleQuotedString(text) => (text, "''"),
        Token::DoubleQuotedString(text) => (text, "\"\""),
        _ => return,
    };
    if text.contains(doubled) {
        *text = text.replace(doubled, "");
    }
}

#[cfg(test)]
mod tests {
    use super::super::query_text;

    #[test]
    fn adjacent_pieces_are_one_literal() {
        assert_eq!(
            query_text(
                "select 'face''book', 'face' 'book', 'face'\n  \"bo\" 'ok', \"a\"\"b\" from t"
            ),
            "SELECT 'facebook', 'facebook', 'facebook', \"ab\" FROM t"
        );
    }

    #[test]
    fn separate_literals_stay_separate() {
        assert_eq!(
            query_text("select 'a', 'b' as c from t"),
            "SELECT 'a', 'b' AS c FROM t"
        );
    }
}
