//! The HiveQL parser. Like DataFusion's `DFParser`, it wraps sqlparser's `Parser` (with
//! [`ApiaryDialect`]): Hive statements that sqlparser lacks or mis-parses are parsed here into
//! Apiary's [`HiveStatement`] nodes, queries are delegated to sqlparser. `SET`/`RESET` take
//! raw text, as in Hive, so values like `2024-01-01` stay as written.

mod ast;
mod commands;
mod correlated_not_in;
mod cte_order;
mod ddl;
mod decimal_literals;
mod dialect;
mod grouping_sets;
mod hive_clauses;
mod hive_dates;
mod hive_functions;
mod join_conditions;
mod lateral_view_alias;
mod multi_insert;
mod named_windows;
mod noop_table_functions;
mod string_literals;
mod table_sample;
mod typed_literals;
mod unescape;
mod unsupported_functions;

use datafusion::sql::sqlparser::ast::VisitMut;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError, ParserOptions};
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

pub use ast::*;
pub use dialect::ApiaryDialect;
pub(crate) use hive_functions::plain_arg_list;
pub use lateral_view_alias::DEFAULT_GENERATOR_COLUMNS;
pub use table_sample::{BLOCK_SAMPLE_MARK, BlockSample};
pub use unescape::unescape_hive_string;

/// A syntax error with its position in the statement (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ParseException line {line}:{column} {message}")]
pub struct ParseError {
    pub message: String,
    pub line: u64,
    pub column: u64,
}

impl ParseError {
    /// An error at `location`; the end of input has no location (line 0), and is pointed at
    /// by [`ParseError::located_in`].
    fn at(location: Location, message: impl Into<String>) -> Self {
        let (line, column) = if location.line == 0 {
            (0, 0)
        } else {
            (location.line, location.column.max(1))
        };
        ParseError {
            message: message.into(),
            line,
            column,
        }
    }

    /// Converts sqlparser's error, whose message ends with ` at Line: L, Column: C`.
    fn from_sqlparser(error: ParserError) -> Self {
        let text = match error {
            ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
            ParserError::RecursionLimitExceeded => "statement is nested too deeply".to_string(),
        };
        if let Some((message, position)) = text.rsplit_once(" at Line: ")
            && let Some((line, column)) = position.split_once(", Column: ")
            && let (Ok(line), Ok(column)) = (line.trim().parse(), column.trim().parse())
        {
            return ParseError {
                message: message.to_string(),
                line,
                column,
            };
        }
        // No position (the error is at the end of the input): the caller fills it in.
        ParseError {
            message: text,
            line: 0,
            column: 0,
        }
    }

    /// Errors without a position happened at the end of `sql`: point there.
    fn located_in(mut self, sql: &str) -> Self {
        if self.line == 0 {
            let text = sql.trim_end();
            self.line = text.lines().count().max(1) as u64;
            self.column = text.lines().last().map_or(0, |l| l.chars().count()) as u64 + 1;
        }
        self
    }

    /// Moves the position by where the statement starts in its script.
    pub fn offset_by(mut self, start_line: u64, start_column: u64) -> Self {
        if self.line == 1 {
            self.column += start_column.saturating_sub(1);
        }
        self.line += start_line.saturating_sub(1);
        self
    }
}

pub type ParseResult<T> = Result<T, ParseError>;

/// Parses one HiveQL statement (without its trailing `;`).
pub fn parse_statement(sql: &str) -> ParseResult<HiveStatement> {
    parse_unlocated(sql).map_err(|e| e.located_in(sql))
}

fn parse_unlocated(sql: &str) -> ParseResult<HiveStatement> {
    if let Some(statement) = commands::parse_set_or_reset(sql) {
        return Ok(statement);
    }
    let dialect = ApiaryDialect::default();
    let mut tokens = Tokenizer::new(&dialect, sql)
        .with_unescape(false)
        .tokenize_with_location()
        .map_err(|e| ParseError::from_sqlparser(e.into()))?;
    hive_clauses::rename_window_clauses(&mut tokens);
    let tokens = hive_clauses::expand_window_cluster_by(tokens);
    let tokens = typed_literals::expand_typed_literals(tokens);
    let tokens = string_literals::join_adjacent_strings(tokens);
    let tokens = lateral_view_alias::mark_default_columns(tokens);
    let tokens = noop_table_functions::expand_noop_functions(tokens);
    let parser = Parser::new(&dialect)
        .with_options(ParserOptions::new().with_unescape(false))
        .with_tokens_with_locations(tokens);
    let mut hive = HiveParser { parser, sql };
    let statement = hive.parse_statement()?;
    hive.expect_end()?;
    Ok(statement)
}

/// Rewrites of a parsed query, or of any part of one (a FROM clause), into what DataFusion
/// runs with Hive's meaning; each module says which Hive form it covers.
fn apply_hive_rewrites<V: VisitMut>(node: &mut V) -> ParseResult<()> {
    unsupported_functions::refuse_unsupported_functions(node)?;
    // First, so that numbers the later rewrites write keep DataFusion's types.
    decimal_literals::type_decimal_literals(node);
    hive_clauses::resolve_sort_clauses(node);
    named_windows::resolve_named_windows(node);
    join_conditions::complete_join_conditions(node);
    hive_functions::rewrite_hive_functions(node);
    grouping_sets::resolve_grouping(node);
    cte_order::order_ctes(node);
    correlated_not_in::rewrite_correlated_not_in(node);
    table_sample::rewrite_table_samples(node)
}

/// sqlparser's parser plus the statement text, for Apiary's own grammar rules.
pub(crate) struct HiveParser<'a> {
    parser: Parser<'a>,
    sql: &'a str,
}

impl HiveParser<'_> {
    fn parse_statement(&mut self) -> ParseResult<HiveStatement> {
        let token = self.peek();
        let Token::Word(word) = &token.token else {
            if token.token == Token::LParen {
                return self.parse_query_statement();
            }
            return Err(self.error_at(
                &token,
                format!("cannot recognize input near '{}'", token.token),
            ));
        };
        match word.keyword {
            Keyword::SELECT | Keyword::VALUES => self.parse_query_statement(),
            Keyword::WITH => self.parse_with(),
            Keyword::CREATE => self.parse_create(),
            Keyword::DROP => self.parse_drop(),
            Keyword::ALTER => self.parse_alter(),
            Keyword::TRUNCATE => self.parse_truncate(),
            Keyword::USE => {
                self.next();
                Ok(HiveStatement::Use(self.identifier()?))
            }
            Keyword::SHOW => self.parse_show(),
            Keyword::DESCRIBE | Keyword::DESC => self.parse_describe(),
            Keyword::LOAD => self.parse_load(),
            Keyword::INSERT => self.parse_insert(),
            Keyword::EXPLAIN => self.parse_explain(),
            Keyword::MSCK => self.parse_msck(),
            Keyword::ANALYZE => self.parse_analyze(),
            Keyword::FROM => self.parse_from_first(),
            _ => Err(self.error_at(
                &token,
                format!("cannot recognize input near '{}'", word.value),
            )),
        }
    }

    fn parse_query_statement(&mut self) -> ParseResult<HiveStatement> {
        Ok(HiveStatement::Query(self.query()?))
    }

    fn parse_explain(&mut self) -> ParseResult<HiveStatement> {
        self.next();
        let mut analyze = false;
        let mut verbose = false;
        let mut cbo = false;
        loop {
            if self.keyword(Keyword::ANALYZE) {
                analyze = true;
            } else if self.keyword(Keyword::EXTENDED) || self.keyword(Keyword::VERBOSE) {
                verbose = true;
            } else if self.word("CBO") {
                cbo = true;
            } else if self.keyword(Keyword::FORMATTED) {
                // Hive's JSON form: the plain plan is shown instead.
            } else {
                break;
            }
        }
        let statement = self.parse_statement()?;
        if !matches!(
            statement,
            HiveStatement::Query(_) | HiveStatement::Insert(_) | HiveStatement::MultiInsert { .. }
        ) {
            return Err(ParseError::at(
                self.peek().span.start,
                "EXPLAIN supports queries and INSERT statements (multi-inserts included)",
            ));
        }
        Ok(HiveStatement::Explain {
            analyze,
            verbose,
            cbo,
            statement: Box::new(statement),
        })
    }

    // ---- helpers over sqlparser's parser ----

    fn peek(&self) -> TokenWithSpan {
        self.parser.peek_token()
    }

    fn next(&mut self) -> TokenWithSpan {
        self.parser.next_token()
    }

    fn keyword(&mut self, keyword: Keyword) -> bool {
        self.parser.parse_keyword(keyword)
    }

    fn expect_token(&mut self, token: &Token) -> ParseResult<()> {
        self.parser
            .expect_token(token)
            .map(|_| ())
            .map_err(ParseError::from_sqlparser)
    }

    fn consume(&mut self, token: &Token) -> bool {
        self.parser.consume_token(token)
    }

    fn identifier(&mut self) -> ParseResult<String> {
        let ident = self
            .parser
            .parse_identifier()
            .map_err(ParseError::from_sqlparser)?;
        Ok(ident.value.to_lowercase())
    }

    /// `[db.]name`, lower-cased.
    fn table_name(&mut self) -> ParseResult<TableName> {
        let start = self.peek();
        let name = self
            .parser
            .parse_object_name(false)
            .map_err(ParseError::from_sqlparser)?;
        let mut parts: Vec<String> = name
            .0
            .iter()
            .filter_map(|part| part.as_ident().map(|i| i.value.to_lowercase()))
            .collect();
        match parts.len() {
            1 => Ok(TableName {
                database: None,
                table: parts.remove(0),
            }),
            2 => {
                let table = parts.remove(1);
                Ok(TableName {
                    database: Some(parts.remove(0)),
                    table,
                })
            }
            _ => Err(self.error_at(&start, format!("invalid table name {name}"))),
        }
    }

    /// A string literal, with Hive's escapes applied.
    fn string(&mut self) -> ParseResult<String> {
        let token = self.next();
        match token.token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => {
                Ok(unescape_hive_string(&s))
            }
            other => Err(ParseError::at(
                token.span.start,
                format!("expected a string literal, found '{other}'"),
            )),
        }
    }

    fn query(&mut self) -> ParseResult<Box<datafusion::sql::sqlparser::ast::Query>> {
        let mut query = self
            .parser
            .parse_query()
            .map_err(ParseError::from_sqlparser)?;
        unescape::unescape_query_literals(&mut query);
        apply_hive_rewrites(&mut query)?;
        Ok(query)
    }

    /// `('k'='v', ...)`
    fn properties(&mut self) -> ParseResult<std::collections::BTreeMap<String, String>> {
        self.expect_token(&Token::LParen)?;
        let mut properties = std::collections::BTreeMap::new();
        if self.consume(&Token::RParen) {
            return Ok(properties);
        }
        loop {
            let key = self.string()?;
            self.expect_token(&Token::Eq)?;
            let value = self.string()?;
            properties.insert(key, value);
            if !self.consume(&Token::Comma) {
                break;
            }
        }
        self.expect_token(&Token::RParen)?;
        Ok(properties)
    }

    /// `PARTITION (k='v', k2)`, after the PARTITION keyword.
    /// `[PARTITION (...)]`
    fn optional_partition_spec(&mut self) -> ParseResult<Option<PartitionSpec>> {
        if self.word("PARTITION") {
            Ok(Some(self.partition_spec()?))
        } else {
            Ok(None)
        }
    }

    fn partition_spec(&mut self) -> ParseResult<PartitionSpec> {
        self.expect_token(&Token::LParen)?;
        let mut spec = Vec::new();
        loop {
            let key = self.identifier()?;
            let value = if self.consume(&Token::Eq) {
                Some(self.partition_value()?)
            } else {
                None
            };
            spec.push((key, value));
            if !self.consume(&Token::Comma) {
                break;
            }
        }
        self.expect_token(&Token::RParen)?;
        Ok(spec)
    }

    fn partition_value(&mut self) -> ParseResult<String> {
        let token = self.next();
        match token.token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => {
                Ok(unescape_hive_string(&s))
            }
            Token::Number(n, _) => Ok(n),
            Token::Minus => match self.next().token {
                Token::Number(n, _) => Ok(format!("-{n}")),
                other => Err(ParseError::at(
                    token.span.start,
                    format!("expected a partition value, found '{other}'"),
                )),
            },
            Token::Word(w) if matches!(w.keyword, Keyword::TRUE | Keyword::FALSE) => {
                Ok(w.value.to_lowercase())
            }
            other => Err(ParseError::at(
                token.span.start,
                format!("expected a partition value, found '{other}'"),
            )),
        }
    }

    fn expect_end(&mut self) -> ParseResult<()> {
        while self.consume(&Token::SemiColon) {}
        let token = self.peek();
        if token.token == Token::EOF {
            Ok(())
        } else {
            Err(self.error_at(
                &token,
                format!("extraneous input '{}' expecting EOF", token.token),
            ))
        }
    }

    fn error_at(&self, token: &TokenWithSpan, message: String) -> ParseError {
        ParseError::at(token.span.start, message)
    }

    fn not_supported(&self, token: &TokenWithSpan, message: &str) -> ParseError {
        ParseError::at(token.span.start, format!("Not supported yet: {message}"))
    }

    /// The statement text from `location` to the end, as the user wrote it.
    fn text_from(&self, location: Location) -> String {
        let mut offset = 0;
        for (index, line) in self.sql.split_inclusive('\n').enumerate() {
            if index as u64 + 1 == location.line {
                let column_offset: usize = line
                    .chars()
                    .take(location.column.saturating_sub(1) as usize)
                    .map(char::len_utf8)
                    .sum();
                offset += column_offset;
                break;
            }
            offset += line.len();
        }
        self.sql[offset.min(self.sql.len())..]
            .trim()
            .trim_end_matches(';')
            .trim_end()
            .to_string()
    }
}

#[cfg(test)]
mod tests;

/// The text of a parsed query, for tests of the rewrites applied while parsing.
#[cfg(test)]
fn query_text(sql: &str) -> String {
    match parse_statement(sql) {
        Ok(HiveStatement::Query(query)) => query.to_string(),
        other => panic!("{sql}: {other:?}"),
    }
}
