//! Apiary's SQL dialect: sqlparser's Hive dialect with the switches HiveQL needs turned on.

use datafusion::sql::sqlparser::ast::Expr;
use datafusion::sql::sqlparser::dialect::{Dialect, HiveDialect, Precedence};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};

/// HiveDialect plus backslash escapes in literals, `LIMIT o, n`, struct literals and
/// `FROM ... SELECT`. Backticks quote identifiers; double quotes delimit strings, as in Hive.
#[derive(Debug, Default)]
pub struct ApiaryDialect {
    hive: HiveDialect,
}

impl Dialect for ApiaryDialect {
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`'
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_ascii_alphabetic() || ch == '_' || ch == '$'
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_ascii_alphanumeric() || ch == '_' || ch == '$'
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        self.hive.supports_filter_during_aggregation()
    }
    fn supports_numeric_prefix(&self) -> bool {
        true
    }
    fn require_interval_qualifier(&self) -> bool {
        true
    }
    fn supports_bang_not_operator(&self) -> bool {
        true
    }
    fn supports_load_data(&self) -> bool {
        true
    }
    fn supports_table_sample_before_alias(&self) -> bool {
        true
    }
    fn supports_group_by_with_modifier(&self) -> bool {
        true
    }
    fn supports_from_first_insert(&self) -> bool {
        true
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }
    /// `WINDOW w2 AS w1`: a window named after another.
    fn supports_window_clause_named_window_reference(&self) -> bool {
        true
    }

    /// `SELECT explode(m) AS (k, v)`: a table-generating function's column names.
    fn supports_select_item_multi_column_alias(&self) -> bool {
        true
    }

    fn supports_limit_comma(&self) -> bool {
        true
    }
    fn supports_struct_literal(&self) -> bool {
        true
    }
    fn supports_from_first_select(&self) -> bool {
        true
    }
    /// INSERT is reserved in HiveQL: in `FROM src INSERT ...` it starts a branch, it is not
    /// an alias of `src` (nor of a select item before the next branch).
    fn is_table_alias(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        *kw != Keyword::INSERT && self.hive.is_table_alias(kw, parser)
    }
    fn is_column_alias(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        *kw != Keyword::INSERT && self.hive.is_column_alias(kw, parser)
    }
    /// `a DIV b`, Hive's integer division, binding as tightly as `*` and `/`: the quotient of
    /// the operands as BIGINTs, truncated: the `div` function (`functions::div`).
    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        _precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        if !parser.parse_keyword(Keyword::DIV) {
            return None;
        }
        let precedence = self.prec_value(Precedence::MulDivModOp);
        Some(
            parser
                .parse_subexpr(precedence)
                .map(|right| super::hive_functions::call("div", vec![expr.clone(), right])),
        )
    }
}
