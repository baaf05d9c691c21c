//! Hive's typed number literals: `1.5BD` (DECIMAL, with the precision and scale of the value
//! without trailing zeros, as Hive types it), `7Y` (TINYINT), `7S` (SMALLINT), `7L` (BIGINT),
//! `2.5D` (DOUBLE).
//! Hive identifiers may start with a digit, so the tokenizer reads them as words; they become
//! `CAST(number AS type)` tokens (a DECIMAL's digits as a string, read exactly).

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Word};

use super::decimal_literals::normalized_decimal;

/// Replaces the typed literals among `tokens`.
pub fn expand_typed_literals(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut out = Vec::with_capacity(tokens.len());
    for token in tokens {
        let Token::Word(word) = &token.token else {
            out.push(token);
            continue;
        };
        let Some((number, target)) = typed_literal(word) else {
            out.push(token);
            continue;
        };
        let span = token.span;
        let at = |token: Token| TokenWithSpan { token, span };
        let keyword = |value: &str, keyword: Keyword| {
            at(Token::Word(Word {
                value: value.to_string(),
                quote_style: None,
                keyword,
            }))
        };
        out.push(keyword("CAST", Keyword::CAST));
        out.push(at(Token::LParen));
        out.push(at(match target {
            // Read from text, so that the number is not first made a DECIMAL.
            Target::Decimal { .. } | Target::Double => Token::SingleQuotedString(number),
            Target::Numeric(..) => Token::Number(number, false),
        }));
        out.push(keyword("AS", Keyword::AS));
        match target {
            Target::Decimal { precision, scale } => {
                out.push(keyword("DECIMAL", Keyword::DECIMAL));
                out.push(at(Token::LParen));
                out.push(at(Token::Number(precision.to_string(), false)));
                out.push(at(Token::Comma));
                out.push(at(Token::Number(scale.to_string(), false)));
                out.push(at(Token::RParen));
            }
            Target::Numeric(name, keyword_of_type) => out.push(keyword(name, keyword_of_type)),
            Target::Double => out.push(keyword("DOUBLE", Keyword::DOUBLE)),
        }
        out.push(at(Token::RParen));
    }
    out
}

enum Target {
    Decimal {
        precision: u64,
        scale: u64,
    },
    /// An integer type, by name.
    Numeric(&'static str, Keyword),
    Double,
}

/// `word` as a number and the type its suffix names, if it is a typed literal.
fn typed_literal(word: &Word) -> Option<(String, Target)> {
    if word.quote_style.is_some() {
        return None;
    }
    let value = &word.value;
    let upper = value.to_ascii_uppercase();
    let (number, target) = if let Some(number) = upper.strip_suffix("BD") {
        let (digits, precision, scale) = normalized_decimal(number)?;
        return Some((digits, Target::Decimal { precision, scale }));
    } else if let Some(number) = upper.strip_suffix('D') {
        (number, Target::Double)
    } else {
        let (number, target) = match upper.as_bytes().last()? {
            b'Y' => (
                &value[..value.len() - 1],
                Target::Numeric("TINYINT", Keyword::TINYINT),
            ),
            b'S' => (
                &value[..value.len() - 1],
                Target::Numeric("SMALLINT", Keyword::SMALLINT),
            ),
            b'L' => (
                &value[..value.len() - 1],
                Target::Numeric("BIGINT", Keyword::BIGINT),
            ),
            _ => return None,
        };
        if !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        (number, target)
    };
    let (integer, fraction) = number.split_once('.').unwrap_or((number, ""));
    let is_number = !integer.is_empty()
        && integer.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit());
    is_number.then(|| (number.to_string(), target))
}

#[cfg(test)]
mod tests {
    use super::super::query_text;

    #[test]
    fn suffixed_numbers_are_typed() {
        assert_eq!(
            query_text("select 12332.123456BD, 0.50bd, 7Y, 7S, 7L, 2.25D, 3d, 7x from t"),
            "SELECT CAST('12332.123456' AS DECIMAL(11,6)), CAST('0.5' AS DECIMAL(1,1)), \
             CAST(7 AS TINYINT), CAST(7 AS SMALLINT), CAST(7 AS BIGINT), CAST('2.25' AS DOUBLE), \
             CAST('3' AS DOUBLE), 7x FROM t"
        );
    }
}
