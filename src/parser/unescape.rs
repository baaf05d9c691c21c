//! Hive's string literal escapes (`\n`, `\t`, `\'`, `\001` octal, `\u0001`), applied to every
//! literal after tokenizing, because sqlparser's own unescaping differs from Hive's.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Value, VisitMut, visit_expressions_mut};

/// Unescapes a literal's raw text as Hive's `unescapeSQLString` does.
pub fn unescape_hive_string(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' || i + 1 >= chars.len() {
            out.push(c);
            i += 1;
            continue;
        }
        // \uXXXX
        if chars[i + 1] == 'u' && i + 6 <= chars.len() {
            let hex: String = chars[i + 2..i + 6].iter().collect();
            if let Some(decoded) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                out.push(decoded);
                i += 6;
                continue;
            }
        }
        // \ooo octal, first digit 0-3
        if i + 4 <= chars.len() && ('0'..='3').contains(&chars[i + 1]) {
            let octal: String = chars[i + 1..i + 4].iter().collect();
            if octal.chars().all(|d| ('0'..='7').contains(&d))
                && let Some(decoded) = u32::from_str_radix(&octal, 8).ok().and_then(char::from_u32)
            {
                out.push(decoded);
                i += 4;
                continue;
            }
        }
        let next = chars[i + 1];
        match next {
            '0' => out.push('\0'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'b' => out.push('\u{8}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'Z' => out.push('\u{1a}'),
            '\\' => out.push('\\'),
            // LIKE wildcards keep their backslash.
            '%' => out.push_str("\\%"),
            '_' => out.push_str("\\_"),
            other => out.push(other),
        }
        i += 2;
    }
    out
}

/// Unescapes every string literal of a query (or of any part of one) in place.
pub fn unescape_query_literals<V: VisitMut>(query: &mut V) {
    let _ = visit_expressions_mut(query, |expr| {
        if let Expr::Value(value) = expr {
            match &mut value.value {
                Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => {
                    *s = unescape_hive_string(s);
                }
                _ => {}
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

#[cfg(test)]
mod tests {
    use super::unescape_hive_string;

    #[test]
    fn hive_escapes() {
        assert_eq!(unescape_hive_string(r"it\'s"), "it's");
        assert_eq!(unescape_hive_string(r"a\tb\nc"), "a\tb\nc");
        assert_eq!(unescape_hive_string(r"\001"), "\u{1}");
        assert_eq!(unescape_hive_string(r"\u0041"), "A");
        assert_eq!(unescape_hive_string(r"50\%"), r"50\%");
        assert_eq!(unescape_hive_string(r"back\\slash"), r"back\slash");
        assert_eq!(unescape_hive_string("trailing\\"), "trailing\\");
    }
}
