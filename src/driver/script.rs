//! Splitting a script into statements on `;` outside quotes and comments, remembering where
//! each statement starts so that errors can point into the script.

/// One statement of a script, without its `;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptStatement {
    pub text: String,
    /// 1-based line and column of the statement's first character in the script.
    pub line: u64,
    pub column: u64,
}

/// Splits `script` into statements. Empty statements and comment-only text are dropped.
pub fn split_statements(script: &str) -> Vec<ScriptStatement> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut start: Option<(u64, u64)> = None;
    let (mut line, mut column) = (1u64, 1u64);
    let mut chars = script.chars().peekable();
    let mut state = State::Code;

    while let Some(c) = chars.next() {
        if start.is_none() && !c.is_whitespace() {
            start = Some((line, column));
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
        if start.is_some() {
            current.push(c);
        }
        state = match state {
            State::LineComment if c == '\n' => State::Code,
            State::BlockComment if c == '*' && chars.peek() == Some(&'/') => {
                current.push('/');
                chars.next();
                column += 1;
                State::Code
            }
            State::Quoted(q) if c == '\\' && q != '`' => {
                if let Some(escaped) = chars.next() {
                    current.push(escaped);
                    if escaped == '\n' {
                        line += 1;
                        column = 1;
                    } else {
                        column += 1;
                    }
                }
                State::Quoted(q)
            }
            State::Quoted(q) if c == q => State::Code,
            State::Code => match c {
                ';' => {
                    current.pop();
                    push_statement(&mut statements, &mut current, start.take());
                    State::Code
                }
                '\'' | '"' | '`' => State::Quoted(c),
                '-' if chars.peek() == Some(&'-') => State::LineComment,
                '/' if chars.peek() == Some(&'*') => State::BlockComment,
                _ => State::Code,
            },
            other => other,
        };
    }
    push_statement(&mut statements, &mut current, start);
    statements
}

/// Whether `text` ends a statement: its last code character (outside quotes and comments)
/// is `;`. The REPL reads lines until this holds.
pub fn is_complete(text: &str) -> bool {
    let mut state = State::Code;
    let mut last_code: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        state = match state {
            State::LineComment if c == '\n' => State::Code,
            State::BlockComment if c == '*' && chars.peek() == Some(&'/') => {
                chars.next();
                State::Code
            }
            State::Quoted(q) if c == '\\' && q != '`' => {
                chars.next();
                State::Quoted(q)
            }
            State::Quoted(q) if c == q => {
                last_code = Some(c);
                State::Code
            }
            State::Code => match c {
                '\'' | '"' | '`' => State::Quoted(c),
                '-' if chars.peek() == Some(&'-') => State::LineComment,
                '/' if chars.peek() == Some(&'*') => State::BlockComment,
                c => {
                    if !c.is_whitespace() {
                        last_code = Some(c);
                    }
                    State::Code
                }
            },
            other => other,
        };
    }
    state == State::Code && last_code == Some(';')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    Quoted(char),
    LineComment,
    BlockComment,
}

fn push_statement(
    statements: &mut Vec<ScriptStatement>,
    current: &mut String,
    start: Option<(u64, u64)>,
) {
    let text = std::mem::take(current);
    let trimmed = text.trim_end();
    if let Some((line, column)) = start
        && !is_only_comments(trimmed)
    {
        statements.push(ScriptStatement {
            text: trimmed.to_string(),
            line,
            column,
        });
    }
}

fn is_only_comments(text: &str) -> bool {
    let mut rest = text.trim();
    loop {
        if rest.is_empty() {
            return true;
        }
        if rest.starts_with("--") {
            rest = rest.find('\n').map_or("", |i| &rest[i..]).trim();
        } else if rest.starts_with("/*") {
            rest = rest.find("*/").map_or("", |i| &rest[i + 2..]).trim();
        } else {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(script: &str) -> Vec<String> {
        split_statements(script)
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    #[test]
    fn splits_outside_quotes_and_comments() {
        assert_eq!(
            texts("select 'a;b'; -- c;d\nselect \"x;\" /* ; */ ;\n\n;select `a;`"),
            vec![
                "select 'a;b'",
                "-- c;d\nselect \"x;\" /* ; */",
                "select `a;`"
            ]
        );
        assert_eq!(
            texts(r"select 'it\'s;'; select 1"),
            vec![r"select 'it\'s;'", "select 1"]
        );
        assert!(texts("-- only a comment\n  ").is_empty());
        assert!(is_complete("select 1;\n"));
        assert!(!is_complete("select ';'\n"));
        assert!(!is_complete("select 1; -- x\nselect"));
        assert!(is_complete("select 1; -- done\n"));
    }

    #[test]
    fn remembers_start_positions() {
        let statements = split_statements("-- header\nselect 1;\n  select\n 2;");
        assert_eq!((statements[0].line, statements[0].column), (1, 1));
        assert_eq!((statements[1].line, statements[1].column), (3, 3));
        assert_eq!(statements[1].text, "select\n 2");
    }
}
