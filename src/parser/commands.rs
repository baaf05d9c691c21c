//! SET/RESET, SHOW, DESCRIBE, MSCK, ANALYZE, LOAD DATA and INSERT.

use datafusion::sql::sqlparser::tokenizer::Token;

use super::{
    AnalyzeScope, DescribeDetail, HiveParser, HiveStatement, Insert, ParseResult, RepairMode,
    SetCommand,
};

/// `SET ...` and `RESET ...` read raw text, as Hive does: everything after `=` is the value.
pub(super) fn parse_set_or_reset(sql: &str) -> Option<HiveStatement> {
    let text = strip_leading_comments(sql)
        .trim()
        .trim_end_matches(';')
        .trim();
    let (head, rest) = text.split_at(text.find(char::is_whitespace).unwrap_or(text.len()));
    let rest = rest.trim();
    if head.eq_ignore_ascii_case("reset") {
        return Some(HiveStatement::Reset(
            (!rest.is_empty()).then(|| rest.to_string()),
        ));
    }
    if !head.eq_ignore_ascii_case("set") {
        return None;
    }
    // SET ROLE and friends are not configuration.
    if rest
        .split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("role"))
    {
        return None;
    }
    Some(HiveStatement::Set(match rest {
        "" => SetCommand::ShowChanged,
        "-v" => SetCommand::ShowAll,
        _ => match rest.split_once('=') {
            Some((key, value)) => {
                SetCommand::Assign(key.trim().to_string(), value.trim().to_string())
            }
            None => SetCommand::Show(rest.to_string()),
        },
    }))
}

fn strip_leading_comments(sql: &str) -> &str {
    let mut text = sql.trim_start();
    loop {
        if text.starts_with("--") {
            text = text.find('\n').map_or("", |i| &text[i + 1..]).trim_start();
        } else if text.starts_with("/*") {
            text = text.find("*/").map_or("", |i| &text[i + 2..]).trim_start();
        } else {
            return text;
        }
    }
}

impl HiveParser<'_> {
    pub(super) fn parse_show(&mut self) -> ParseResult<HiveStatement> {
        self.expect_word("SHOW")?;
        let token = self.peek();
        if self.word("DATABASES") || self.word("SCHEMAS") {
            let pattern = self.like_pattern()?;
            return Ok(HiveStatement::ShowDatabases { pattern });
        }
        if self.word("TABLES") {
            let database = if self.word("IN") || self.word("FROM") {
                Some(self.identifier()?)
            } else {
                None
            };
            let pattern = self.like_pattern()?;
            return Ok(HiveStatement::ShowTables { database, pattern });
        }
        if self.word("FUNCTIONS") {
            let pattern = self.like_pattern()?;
            return Ok(HiveStatement::ShowFunctions { pattern });
        }
        if self.words(&["CREATE", "TABLE"]) {
            return Ok(HiveStatement::ShowCreateTable(self.table_name()?));
        }
        if self.word("TBLPROPERTIES") {
            let table = self.table_name()?;
            let key = if self.consume(&Token::LParen) {
                let key = self.string()?;
                self.expect_token(&Token::RParen)?;
                Some(key)
            } else {
                None
            };
            return Ok(HiveStatement::ShowTblProperties { table, key });
        }
        if self.word("COLUMNS") {
            if !(self.word("FROM") || self.word("IN")) {
                let token = self.peek();
                return Err(self.error_at(&token, "expected FROM or IN after SHOW COLUMNS".into()));
            }
            let mut table = self.table_name()?;
            if self.word("FROM") || self.word("IN") {
                table.database = Some(self.identifier()?);
            }
            return Ok(HiveStatement::ShowColumns { table });
        }
        if self.word("PARTITIONS") {
            let table = self.table_name()?;
            let partial = self.optional_partition_spec()?;
            return Ok(HiveStatement::ShowPartitions { table, partial });
        }
        Err(self.error_at(&token, format!("Not supported yet: SHOW {}", token.token)))
    }

    /// `[LIKE] 'pattern'`
    fn like_pattern(&mut self) -> ParseResult<Option<String>> {
        let like = self.word("LIKE");
        match self.peek().token {
            Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) => Ok(Some(self.string()?)),
            _ if like => {
                let token = self.peek();
                Err(self.error_at(
                    &token,
                    format!("expected a pattern string, found '{}'", token.token),
                ))
            }
            _ => Ok(None),
        }
    }

    pub(super) fn parse_describe(&mut self) -> ParseResult<HiveStatement> {
        self.next();
        if self.word("DATABASE") || self.word("SCHEMA") {
            let extended = self.word("EXTENDED");
            return Ok(HiveStatement::DescribeDatabase {
                name: self.identifier()?,
                extended,
            });
        }
        if self.word("FUNCTION") {
            let extended = self.word("EXTENDED");
            let token = self.next();
            let name = match token.token {
                Token::Word(word) => word.value,
                Token::SingleQuotedString(text) | Token::DoubleQuotedString(text) => text,
                Token::EOF => {
                    return Err(self.error_at(&token, "expected a function name".into()));
                }
                other => other.to_string(),
            };
            return Ok(HiveStatement::DescribeFunction { name, extended });
        }
        let detail = if self.word("EXTENDED") {
            DescribeDetail::Extended
        } else if self.word("FORMATTED") {
            DescribeDetail::Formatted
        } else {
            DescribeDetail::Plain
        };
        let table = self.table_name()?;
        let partition = self.optional_partition_spec()?;
        let column = match self.peek().token {
            Token::Word(_) => Some(self.identifier()?),
            _ => None,
        };
        Ok(HiveStatement::Describe {
            table,
            detail,
            partition,
            column,
        })
    }

    /// `MSCK [REPAIR] TABLE t [ADD|DROP|SYNC PARTITIONS]`
    pub(super) fn parse_msck(&mut self) -> ParseResult<HiveStatement> {
        self.expect_word("MSCK")?;
        let repair = self.word("REPAIR");
        self.expect_word("TABLE")?;
        let table = self.table_name()?;
        let mode = if self.word("ADD") {
            RepairMode::Add
        } else if self.word("DROP") {
            RepairMode::Drop
        } else if self.word("SYNC") {
            RepairMode::Sync
        } else {
            return Ok(HiveStatement::Msck {
                table,
                repair,
                mode: RepairMode::Add,
            });
        };
        self.expect_word("PARTITIONS")?;
        Ok(HiveStatement::Msck {
            table,
            repair,
            mode,
        })
    }

    /// `ANALYZE TABLE t [PARTITION (...)] COMPUTE STATISTICS [NOSCAN | FOR COLUMNS [c, ...]]`
    pub(super) fn parse_analyze(&mut self) -> ParseResult<HiveStatement> {
        self.expect_word("ANALYZE")?;
        self.expect_word("TABLE")?;
        let table = self.table_name()?;
        let partition = self.optional_partition_spec()?;
        self.expect_word("COMPUTE")?;
        self.expect_word("STATISTICS")?;
        let scope = if self.word("NOSCAN") {
            AnalyzeScope::NoScan
        } else if self.word("FOR") {
            self.expect_word("COLUMNS")?;
            let mut columns = Vec::new();
            if matches!(self.peek().token, Token::Word(_)) {
                loop {
                    columns.push(self.identifier()?);
                    if !self.consume(&Token::Comma) {
                        break;
                    }
                }
            }
            AnalyzeScope::Columns(columns)
        } else {
            let token = self.peek();
            if self.word("PARTIALSCAN") || self.word("CACHE") {
                return Err(self.not_supported(&token, "ANALYZE ... PARTIALSCAN / CACHE METADATA"));
            }
            AnalyzeScope::Rows
        };
        Ok(HiveStatement::Analyze {
            table,
            partition,
            scope,
        })
    }

    pub(super) fn parse_load(&mut self) -> ParseResult<HiveStatement> {
        self.expect_word("LOAD")?;
        self.expect_word("DATA")?;
        let local = self.word("LOCAL");
        self.expect_word("INPATH")?;
        let path = self.string()?;
        let overwrite = self.word("OVERWRITE");
        self.expect_word("INTO")?;
        self.expect_word("TABLE")?;
        let table = self.table_name()?;
        let partition = self.optional_partition_spec()?;
        if self.word("INPUTFORMAT") {
            let token = self.peek();
            return Err(self.not_supported(&token, "LOAD DATA ... INPUTFORMAT"));
        }
        Ok(HiveStatement::LoadData {
            local,
            path,
            overwrite,
            table,
            partition,
        })
    }

    pub(super) fn parse_insert(&mut self) -> ParseResult<HiveStatement> {
        Ok(HiveStatement::Insert(Box::new(self.insert_clause()?)))
    }

    /// `INSERT OVERWRITE|INTO [TABLE] t [PARTITION (...)] [IF NOT EXISTS] [(cols)] query`.
    pub(super) fn insert_clause(&mut self) -> ParseResult<Insert> {
        self.expect_word("INSERT")?;
        let overwrite = if self.word("OVERWRITE") {
            if self.word("LOCAL") || self.word("DIRECTORY") {
                let token = self.peek();
                return Err(self.not_supported(&token, "INSERT OVERWRITE [LOCAL] DIRECTORY"));
            }
            self.expect_word("TABLE")?;
            true
        } else {
            self.expect_word("INTO")?;
            self.word("TABLE");
            false
        };
        let table = self.table_name()?;
        let partition = self.optional_partition_spec()?;
        let if_not_exists = self.words(&["IF", "NOT", "EXISTS"]);
        let mut columns = Vec::new();
        if self.peek().token == Token::LParen {
            // A column list, unless the parenthesis opens the query itself.
            let is_query = matches!(&self.parser.peek_nth_token(1).token,
                Token::Word(w) if w.value.eq_ignore_ascii_case("select") || w.value.eq_ignore_ascii_case("with"));
            if !is_query {
                self.next();
                loop {
                    columns.push(self.identifier()?);
                    if !self.consume(&Token::Comma) {
                        break;
                    }
                }
                self.expect_token(&Token::RParen)?;
            }
        }
        let query = self.query()?;
        Ok(Insert {
            overwrite,
            table,
            partition,
            if_not_exists,
            columns,
            query,
        })
    }
}
