//! Hive's FROM-first statements: `FROM source INSERT ... SELECT ... INSERT ... SELECT ...`
//! (a multi-insert) and `FROM source SELECT ...` (a query). Each SELECT is written without a
//! FROM clause; the parser gives it the statement's source.

use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{Query, SetExpr, TableWithJoins, With};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;
use datafusion::sql::sqlparser::tokenizer::TokenWithSpan;

use super::unescape::unescape_query_literals;
use super::{HiveParser, HiveStatement, InsertSource, ParseError, ParseResult};

impl HiveParser<'_> {
    /// A statement starting with `WITH`: a query, or a FROM-first statement after its CTEs.
    pub(super) fn parse_with(&mut self) -> ParseResult<HiveStatement> {
        self.expect_word("WITH")?;
        // Rewinding stops at WITH itself: comments before it are tokens too, and stepping
        // back over them would run off the start of the token stream.
        let with_index = self.parser.index().saturating_sub(1);
        let recursive = self.keyword(Keyword::RECURSIVE);
        let mut ctes = self
            .parser
            .parse_comma_separated(Parser::parse_cte)
            .map_err(ParseError::from_sqlparser)?;
        // sqlparser reads `FROM name` after the last CTE (its FROM-first form); a FROM clause
        // followed by INSERT or SELECT is read again here, whole.
        if ctes.last_mut().and_then(|cte| cte.from.take()).is_none() {
            while self.parser.index() > with_index {
                self.parser.prev_token();
            }
            return self.parse_query_statement();
        }
        self.parser.prev_token();
        self.parser.prev_token();
        for cte in &mut ctes {
            unescape_query_literals(&mut cte.query);
            super::apply_hive_rewrites(&mut cte.query)?;
        }
        let with = With {
            with_token: AttachedToken::empty(),
            recursive,
            cte_tables: ctes,
        };
        self.parse_from_first_after(Some(with))
    }

    pub(super) fn parse_from_first(&mut self) -> ParseResult<HiveStatement> {
        self.parse_from_first_after(None)
    }

    fn parse_from_first_after(&mut self, with: Option<With>) -> ParseResult<HiveStatement> {
        self.expect_word("FROM")?;
        let source = self.source()?;
        let token = self.peek();
        match &token.token {
            Token::Word(w) if w.keyword == Keyword::SELECT => {
                let mut query = self.query()?;
                with_source(&mut query, &source, &token)?;
                query.with = with;
                return Ok(HiveStatement::Query(query));
            }
            Token::Word(w) if w.keyword == Keyword::INSERT => {}
            other => {
                return Err(self.error_at(
                    &token,
                    format!("cannot recognize input near '{other}': expected INSERT or SELECT after the FROM clause"),
                ));
            }
        }
        let mut inserts = Vec::new();
        while matches!(&self.peek().token, Token::Word(w) if w.keyword == Keyword::INSERT) {
            let token = self.peek();
            let mut insert = self.insert_clause()?;
            with_source(&mut insert.query, &source, &token)?;
            insert.query.with = with.clone();
            inserts.push(insert);
        }
        Ok(HiveStatement::MultiInsert {
            source: InsertSource {
                with,
                tables: source,
            },
            inserts,
        })
    }

    /// The FROM clause: tables and joins, with Hive's string escapes applied to its literals.
    fn source(&mut self) -> ParseResult<Vec<TableWithJoins>> {
        let mut source = self
            .parser
            .parse_comma_separated(Parser::parse_table_and_joins)
            .map_err(ParseError::from_sqlparser)?;
        unescape_query_literals(&mut source);
        super::apply_hive_rewrites(&mut source)?;
        Ok(source)
    }
}

/// Gives the SELECT of a FROM-first branch its source; a branch naming its own FROM is an
/// error, as in Hive.
fn with_source(
    query: &mut Query,
    source: &[TableWithJoins],
    at: &TokenWithSpan,
) -> ParseResult<()> {
    match query.body.as_mut() {
        SetExpr::Select(select) if select.from.is_empty() => {
            select.from = source.to_vec();
            Ok(())
        }
        SetExpr::Select(_) => Err(ParseError::at(
            at.span.start,
            "a SELECT after FROM ... must not have its own FROM clause",
        )),
        _ => Err(ParseError::at(
            at.span.start,
            "Not supported yet: set operations (UNION, ...) in a FROM ... INSERT branch",
        )),
    }
}
