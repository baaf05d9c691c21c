//! CREATE, DROP, ALTER and TRUNCATE for databases, tables and views.

use std::collections::BTreeMap;

use apiary_metastore::KeyComparison;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::{
    AlterTable, ColumnDef, CreateTable, CreateView, HiveParser, HiveStatement, ParseError,
    ParseResult, PartitionPredicate, RowFormat,
};
use crate::types::HiveType;

impl HiveParser<'_> {
    /// Consumes the next token if it is the (unquoted) word `word`, case-insensitively.
    pub(super) fn word(&mut self, word: &str) -> bool {
        match &self.peek().token {
            Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    /// Consumes the words `words` in sequence if they all come next; otherwise consumes nothing.
    pub(super) fn words(&mut self, words: &[&str]) -> bool {
        let all_match = words.iter().enumerate().all(|(n, word)| {
            matches!(&self.parser.peek_nth_token(n).token,
                Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
        });
        if all_match {
            for _ in words {
                self.next();
            }
        }
        all_match
    }

    pub(super) fn expect_word(&mut self, word: &str) -> ParseResult<()> {
        if self.word(word) {
            Ok(())
        } else {
            let token = self.peek();
            Err(self.error_at(&token, format!("expected {word}, found '{}'", token.token)))
        }
    }

    fn if_not_exists(&mut self) -> bool {
        self.words(&["IF", "NOT", "EXISTS"])
    }

    fn if_exists(&mut self) -> bool {
        self.words(&["IF", "EXISTS"])
    }

    pub(super) fn parse_create(&mut self) -> ParseResult<HiveStatement> {
        self.expect_word("CREATE")?;
        let or_replace = self.words(&["OR", "REPLACE"]);
        if self.word("DATABASE") || self.word("SCHEMA") {
            return self.parse_create_database();
        }
        if self.word("VIEW") {
            return self.parse_create_view(or_replace);
        }
        let temporary = self.word("TEMPORARY");
        let external = self.word("EXTERNAL");
        if self.word("TABLE") && !or_replace {
            return self.parse_create_table(temporary, external);
        }
        let token = self.peek();
        Err(self.error_at(
            &token,
            format!("cannot recognize input near 'CREATE {}'", token.token),
        ))
    }

    fn parse_create_database(&mut self) -> ParseResult<HiveStatement> {
        let if_not_exists = self.if_not_exists();
        let name = self.identifier()?;
        let (mut comment, mut location, mut properties) = (None, None, BTreeMap::new());
        loop {
            if self.word("COMMENT") {
                comment = Some(self.string()?);
            } else if self.word("LOCATION") {
                location = Some(self.string()?);
            } else if self.words(&["WITH", "DBPROPERTIES"]) {
                properties = self.properties()?;
            } else {
                break;
            }
        }
        Ok(HiveStatement::CreateDatabase {
            name,
            if_not_exists,
            comment,
            location,
            properties,
        })
    }

    fn parse_create_view(&mut self, or_replace: bool) -> ParseResult<HiveStatement> {
        let if_not_exists = self.if_not_exists();
        let name = self.table_name()?;
        let mut columns = Vec::new();
        if self.consume(&Token::LParen) {
            loop {
                let column = self.identifier()?;
                let comment = if self.word("COMMENT") {
                    Some(self.string()?)
                } else {
                    None
                };
                columns.push((column, comment));
                if !self.consume(&Token::Comma) {
                    break;
                }
            }
            self.expect_token(&Token::RParen)?;
        }
        let (mut comment, mut properties) = (None, BTreeMap::new());
        loop {
            if self.word("COMMENT") {
                comment = Some(self.string()?);
            } else if self.word("TBLPROPERTIES") {
                properties = self.properties()?;
            } else {
                break;
            }
        }
        self.expect_word("AS")?;
        let start = self.peek().span.start;
        let query = self.query()?;
        let query_text = self.text_from(start);
        Ok(HiveStatement::CreateView(Box::new(CreateView {
            name,
            or_replace,
            if_not_exists,
            columns,
            comment,
            properties,
            query,
            query_text,
        })))
    }

    fn parse_create_table(
        &mut self,
        temporary: bool,
        external: bool,
    ) -> ParseResult<HiveStatement> {
        let if_not_exists = self.if_not_exists();
        let name = self.table_name()?;
        let mut create = CreateTable {
            name,
            if_not_exists,
            temporary,
            external,
            columns: Vec::new(),
            comment: None,
            partitioned_by: Vec::new(),
            num_buckets: None,
            row_format: RowFormat::default(),
            stored_as: None,
            location: None,
            properties: BTreeMap::new(),
            as_query: None,
            like: None,
        };
        if self.word("LIKE") {
            create.like = Some(self.table_name()?);
        } else if self.peek().token == Token::LParen {
            create.columns = self.column_defs()?;
        }
        loop {
            let token = self.peek();
            if self.word("COMMENT") {
                create.comment = Some(self.string()?);
            } else if self.words(&["PARTITIONED", "BY"]) {
                create.partitioned_by = self.column_defs()?;
            } else if self.words(&["CLUSTERED", "BY"]) {
                self.skip_parenthesized()?;
                if self.words(&["SORTED", "BY"]) {
                    self.skip_parenthesized()?;
                }
                self.expect_word("INTO")?;
                let buckets = self
                    .parser
                    .parse_literal_uint()
                    .map_err(ParseError::from_sqlparser)?;
                self.expect_word("BUCKETS")?;
                create.num_buckets = Some(i32::try_from(buckets).unwrap_or(i32::MAX));
            } else if self.words(&["SKEWED", "BY"]) {
                return Err(self.not_supported(&token, "SKEWED BY"));
            } else if self.words(&["ROW", "FORMAT"]) {
                create.row_format = self.row_format()?;
            } else if self.words(&["STORED", "AS"]) {
                if self.word("INPUTFORMAT") {
                    let format_token = self.peek();
                    let input = self.string()?;
                    self.expect_word("OUTPUTFORMAT")?;
                    self.string()?;
                    let format = storage_format_of_input_class(&input).ok_or_else(|| {
                        self.not_supported(&format_token, &format!("INPUTFORMAT '{input}'"))
                    })?;
                    create.stored_as = Some(format.to_string());
                } else {
                    create.stored_as = Some(self.identifier()?.to_uppercase());
                }
            } else if self.words(&["STORED", "BY"]) {
                return Err(self.not_supported(&token, "STORED BY (storage handlers)"));
            } else if self.word("LOCATION") {
                create.location = Some(self.string()?);
            } else if self.word("TBLPROPERTIES") {
                create.properties = self.properties()?;
            } else if self.word("AS") {
                create.as_query = Some(self.query()?);
                break;
            } else {
                break;
            }
        }
        Ok(HiveStatement::CreateTable(Box::new(create)))
    }

    fn skip_parenthesized(&mut self) -> ParseResult<()> {
        self.expect_token(&Token::LParen)?;
        let mut depth = 1;
        while depth > 0 {
            let token = self.next();
            match token.token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::EOF => return Err(self.error_at(&token, "unbalanced parentheses".into())),
                _ => {}
            }
        }
        Ok(())
    }

    fn row_format(&mut self) -> ParseResult<RowFormat> {
        let mut format = RowFormat::default();
        if self.word("SERDE") {
            format.serde = Some(self.string()?);
            if self.words(&["WITH", "SERDEPROPERTIES"]) {
                format.parameters = self.properties()?;
            }
            return Ok(format);
        }
        self.expect_word("DELIMITED")?;
        loop {
            if self.words(&["FIELDS", "TERMINATED", "BY"]) {
                let delimiter = self.string()?;
                format
                    .parameters
                    .insert("field.delim".into(), delimiter.clone());
                format
                    .parameters
                    .insert("serialization.format".into(), delimiter);
                if self.words(&["ESCAPED", "BY"]) {
                    format
                        .parameters
                        .insert("escape.delim".into(), self.string()?);
                }
            } else if self.words(&["COLLECTION", "ITEMS", "TERMINATED", "BY"]) {
                format
                    .parameters
                    .insert("collection.delim".into(), self.string()?);
            } else if self.words(&["MAP", "KEYS", "TERMINATED", "BY"]) {
                format
                    .parameters
                    .insert("mapkey.delim".into(), self.string()?);
            } else if self.words(&["LINES", "TERMINATED", "BY"]) {
                let token = self.peek();
                let delimiter = self.string()?;
                if delimiter != "\n" {
                    return Err(self.error_at(
                        &token,
                        "LINES TERMINATED BY only supports newline '\\n' right now".into(),
                    ));
                }
                format.parameters.insert("line.delim".into(), delimiter);
            } else if self.words(&["NULL", "DEFINED", "AS"]) {
                format
                    .parameters
                    .insert("serialization.null.format".into(), self.string()?);
            } else {
                break;
            }
        }
        Ok(format)
    }

    /// `(name type [COMMENT 'c'], ...)`
    pub(super) fn column_defs(&mut self) -> ParseResult<Vec<ColumnDef>> {
        self.expect_token(&Token::LParen)?;
        let mut columns = Vec::new();
        loop {
            let name = self.identifier()?;
            let data_type = self.hive_type()?;
            let comment = if self.word("COMMENT") {
                Some(self.string()?)
            } else {
                None
            };
            columns.push(ColumnDef {
                name,
                data_type,
                comment,
            });
            if !self.consume(&Token::Comma) {
                break;
            }
        }
        self.expect_token(&Token::RParen)?;
        Ok(columns)
    }

    /// A column type: the tokens up to a `,` or `)` or COMMENT outside brackets, handed to
    /// [`HiveType::parse`].
    fn hive_type(&mut self) -> ParseResult<HiveType> {
        let start = self.peek();
        let mut text = String::new();
        let mut depth = 0i32;
        loop {
            let token = self.peek();
            match &token.token {
                Token::Comma | Token::RParen if depth == 0 => break,
                Token::EOF => break,
                Token::Word(w)
                    if depth == 0
                        && w.quote_style.is_none()
                        && w.value.eq_ignore_ascii_case("COMMENT") =>
                {
                    break;
                }
                Token::Lt | Token::LParen => depth += 1,
                Token::Gt | Token::RParen => depth -= 1,
                Token::ShiftRight => depth -= 2,
                _ => {}
            }
            self.next();
            text.push_str(&token.token.to_string());
            text.push(' ');
        }
        HiveType::parse(&text).map_err(|message| self.error_at(&start, message))
    }

    pub(super) fn parse_drop(&mut self) -> ParseResult<HiveStatement> {
        self.expect_word("DROP")?;
        if self.word("DATABASE") || self.word("SCHEMA") {
            let if_exists = self.if_exists();
            let name = self.identifier()?;
            let cascade = self.word("CASCADE");
            if !cascade {
                self.word("RESTRICT");
            }
            return Ok(HiveStatement::DropDatabase {
                name,
                if_exists,
                cascade,
            });
        }
        if self.word("VIEW") {
            let if_exists = self.if_exists();
            return Ok(HiveStatement::DropView {
                name: self.table_name()?,
                if_exists,
            });
        }
        self.expect_word("TABLE")?;
        let if_exists = self.if_exists();
        let name = self.table_name()?;
        let purge = self.word("PURGE");
        Ok(HiveStatement::DropTable {
            name,
            if_exists,
            purge,
        })
    }

    /// `(k op 'v', ...)` after PARTITION: comparisons on partition keys.
    fn partition_predicates(&mut self) -> ParseResult<Vec<PartitionPredicate>> {
        self.expect_token(&Token::LParen)?;
        let mut predicates = Vec::new();
        loop {
            let key = self.identifier()?;
            let token = self.next();
            let op = match &token.token {
                Token::Eq | Token::DoubleEq => KeyComparison::Eq,
                Token::Neq => KeyComparison::NotEq,
                Token::Lt => KeyComparison::Lt,
                Token::LtEq => KeyComparison::LtEq,
                Token::Gt => KeyComparison::Gt,
                Token::GtEq => KeyComparison::GtEq,
                other => {
                    return Err(self.error_at(
                        &token,
                        format!("expected a comparison after '{key}', found '{other}'"),
                    ));
                }
            };
            predicates.push(PartitionPredicate {
                key,
                op,
                value: self.partition_value()?,
            });
            if !self.consume(&Token::Comma) {
                break;
            }
        }
        self.expect_token(&Token::RParen)?;
        Ok(predicates)
    }

    pub(super) fn parse_truncate(&mut self) -> ParseResult<HiveStatement> {
        self.expect_word("TRUNCATE")?;
        self.word("TABLE");
        let name = self.table_name()?;
        let partition = self.optional_partition_spec()?;
        Ok(HiveStatement::TruncateTable { name, partition })
    }

    pub(super) fn parse_alter(&mut self) -> ParseResult<HiveStatement> {
        self.expect_word("ALTER")?;
        if self.word("DATABASE") || self.word("SCHEMA") {
            let name = self.identifier()?;
            self.expect_word("SET")?;
            self.expect_word("DBPROPERTIES")?;
            return Ok(HiveStatement::AlterDatabase {
                name,
                properties: self.properties()?,
            });
        }
        self.expect_word("TABLE")?;
        let name = self.table_name()?;
        let token = self.peek();
        let action = if self.words(&["RENAME", "TO"]) {
            AlterTable::RenameTo(self.table_name()?)
        } else if self.words(&["SET", "TBLPROPERTIES"]) {
            AlterTable::SetProperties(self.properties()?)
        } else if self.words(&["UNSET", "TBLPROPERTIES"]) {
            let if_exists = self.if_exists();
            self.expect_token(&Token::LParen)?;
            let mut keys = vec![self.string()?];
            while self.consume(&Token::Comma) {
                keys.push(self.string()?);
            }
            self.expect_token(&Token::RParen)?;
            AlterTable::UnsetProperties { keys, if_exists }
        } else if self.words(&["ADD", "COLUMNS"]) {
            let columns = self.column_defs()?;
            if self.word("CASCADE") || self.word("RESTRICT") {
                // Partition metadata carries no columns of its own here; both mean the same.
            }
            AlterTable::AddColumns(columns)
        } else if self.words(&["SET", "LOCATION"]) {
            AlterTable::SetLocation(self.string()?)
        } else if self.word("ADD") {
            let if_not_exists = self.if_not_exists();
            let mut partitions = Vec::new();
            while self.word("PARTITION") {
                let spec = self.partition_spec()?;
                let location = if self.word("LOCATION") {
                    Some(self.string()?)
                } else {
                    None
                };
                partitions.push((spec, location));
            }
            if partitions.is_empty() {
                let found = self.peek();
                return Err(self.error_at(
                    &found,
                    format!(
                        "expected PARTITION or COLUMNS after ADD, found '{}'",
                        found.token
                    ),
                ));
            }
            AlterTable::AddPartitions {
                if_not_exists,
                partitions,
            }
        } else if self.word("DROP") {
            let if_exists = self.words(&["IF", "EXISTS"]);
            let mut filters = Vec::new();
            loop {
                self.expect_word("PARTITION")?;
                filters.push(self.partition_predicates()?);
                if !self.consume(&Token::Comma) {
                    break;
                }
            }
            let purge = self.word("PURGE");
            AlterTable::DropPartitions {
                if_exists,
                filters,
                purge,
            }
        } else if self.word("PARTITION") {
            let spec = self.partition_spec()?;
            if self.words(&["RENAME", "TO", "PARTITION"]) {
                AlterTable::RenamePartition {
                    from: spec,
                    to: self.partition_spec()?,
                }
            } else if self.words(&["SET", "LOCATION"]) {
                AlterTable::SetPartitionLocation {
                    spec,
                    location: self.string()?,
                }
            } else {
                let found = self.peek();
                return Err(self.error_at(
                    &found,
                    format!(
                        "Not supported yet: ALTER TABLE ... PARTITION (...) {}",
                        found.token
                    ),
                ));
            }
        } else {
            return Err(self.error_at(
                &token,
                format!("Not supported yet: ALTER TABLE ... {}", token.token),
            ));
        };
        Ok(HiveStatement::AlterTable { name, action })
    }
}

/// The `STORED AS` name of a Hive input format class Apiary reads.
fn storage_format_of_input_class(class: &str) -> Option<&'static str> {
    match class {
        "org.apache.hadoop.mapred.TextInputFormat" => Some("TEXTFILE"),
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat" => Some("PARQUET"),
        _ => None,
    }
}
