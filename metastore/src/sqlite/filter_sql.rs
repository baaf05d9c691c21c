//! Renders a [`PartitionFilter`] as a SQL condition over `PARTITION_KEY_VALS` rows aliased
//! `k0`, `k1`, ... (one per key position), with its literals as positional parameters.
//!
//! A key's value is written exactly as the expression indexes of migration 3 are declared,
//! so that SQLite answers equality and range filters from an index.

use rusqlite::types::Value;

use crate::{DEFAULT_PARTITION_NAME, KeyLiteral, PartitionFilter};

/// A condition and the parameters it binds, numbered from the `first_parameter` given to
/// [`render`].
pub(super) struct RenderedFilter {
    pub condition: String,
    pub parameters: Vec<Value>,
}

pub(super) fn render(filter: &PartitionFilter, first_parameter: usize) -> RenderedFilter {
    let mut rendered = RenderedFilter {
        condition: String::new(),
        parameters: Vec::new(),
    };
    let mut renderer = Renderer {
        first_parameter,
        out: &mut rendered,
    };
    renderer.filter(filter);
    rendered
}

struct Renderer<'a> {
    first_parameter: usize,
    out: &'a mut RenderedFilter,
}

impl Renderer<'_> {
    fn push(&mut self, text: &str) {
        self.out.condition.push_str(text);
    }

    fn literal(&mut self, literal: &KeyLiteral) {
        let number = self.first_parameter + self.out.parameters.len();
        self.out.parameters.push(match literal {
            KeyLiteral::Text(text) => Value::Text(text.clone()),
            KeyLiteral::Integer(value) => Value::Integer(*value),
        });
        self.out.condition.push_str(&format!("?{number}"));
    }

    /// The key's value read as the literal's kind; NULL in the default partition.
    fn key(&mut self, key: usize, as_integer: bool) {
        let value = format!("NULLIF(k{key}.PART_KEY_VAL, '{DEFAULT_PARTITION_NAME}')");
        if as_integer {
            self.push(&format!("CAST({value} AS INTEGER)"));
        } else {
            self.push(&value);
        }
    }

    fn join(&mut self, parts: &[PartitionFilter], separator: &str, empty: &str) {
        if parts.is_empty() {
            self.push(empty);
            return;
        }
        self.push("(");
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                self.push(separator);
            }
            self.filter(part);
        }
        self.push(")");
    }

    fn filter(&mut self, filter: &PartitionFilter) {
        match filter {
            PartitionFilter::All => self.push("1"),
            PartitionFilter::Compare { key, op, literal } => {
                self.key(*key, matches!(literal, KeyLiteral::Integer(_)));
                self.push(&format!(" {} ", op.sql()));
                self.literal(literal);
            }
            PartitionFilter::InList {
                key,
                literals,
                negated,
            } => {
                let as_integer = literals
                    .first()
                    .is_some_and(|l| matches!(l, KeyLiteral::Integer(_)));
                self.key(*key, as_integer);
                self.push(if *negated { " NOT IN (" } else { " IN (" });
                for (i, literal) in literals.iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    self.literal(literal);
                }
                self.push(")");
            }
            PartitionFilter::IsNull { key, negated } => {
                self.key(*key, false);
                self.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            PartitionFilter::And(parts) => self.join(parts, " AND ", "1"),
            PartitionFilter::Or(parts) => self.join(parts, " OR ", "0"),
            PartitionFilter::Not(inner) => {
                self.push("NOT ");
                self.filter(inner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyComparison;

    #[test]
    fn renders_three_valued_conditions_with_parameters() {
        let filter = PartitionFilter::Or(vec![
            PartitionFilter::Compare {
                key: 0,
                op: KeyComparison::GtEq,
                literal: KeyLiteral::Text("2024-01-01".into()),
            },
            PartitionFilter::Not(Box::new(PartitionFilter::InList {
                key: 1,
                literals: vec![KeyLiteral::Integer(1), KeyLiteral::Integer(2)],
                negated: false,
            })),
        ]);
        let rendered = render(&filter, 2);
        assert_eq!(
            rendered.condition,
            "(NULLIF(k0.PART_KEY_VAL, '__HIVE_DEFAULT_PARTITION__') >= ?2 OR \
             NOT CAST(NULLIF(k1.PART_KEY_VAL, '__HIVE_DEFAULT_PARTITION__') AS INTEGER) IN (?3, ?4))"
        );
        assert_eq!(
            rendered.parameters,
            vec![
                Value::Text("2024-01-01".into()),
                Value::Integer(1),
                Value::Integer(2)
            ]
        );
    }
}
