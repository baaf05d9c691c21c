//! Partition pruning: a scan's predicates on partition keys become a [`PartitionFilter`] the
//! metastore answers from its indexes, and the partitions it returns are then checked against
//! the predicates exactly, evaluated over one row per partition.
//!
//! Translation keeps only what the metastore evaluates with the engine's semantics
//! (comparisons, IN, BETWEEN, IS NULL, AND, OR, NOT on string, integer and date keys); a
//! conjunct it cannot translate (say, a function of a key) is left to the exact check, so the
//! metastore returns a superset of the partitions needed, never fewer.

use std::sync::Arc;

use apiary_metastore::{KeyComparison, KeyLiteral, PartitionFilter};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session as CatalogSession;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::expr::{Between, InList};
use datafusion::logical_expr::expr_rewriter::unnormalize_col;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};

use super::partition_values::partition_scalar;

/// The metastore filter for `filters` (a conjunction) over keys of `key_schema`.
pub fn metastore_filter(filters: &[Expr], key_schema: &SchemaRef) -> PartitionFilter {
    let translator = Translator { key_schema };
    let parts: Vec<PartitionFilter> = filters
        .iter()
        .flat_map(split_conjunction)
        .filter_map(|conjunct| translator.exact(conjunct))
        .collect();
    if parts.is_empty() {
        PartitionFilter::All
    } else {
        PartitionFilter::And(parts)
    }
}

struct Translator<'a> {
    key_schema: &'a SchemaRef,
}

impl Translator<'_> {
    /// A filter that holds exactly when `expr` does (true, false and NULL alike), if any.
    fn exact(&self, expr: &Expr) -> Option<PartitionFilter> {
        match expr {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
                Operator::And => Some(PartitionFilter::And(vec![
                    self.exact(left)?,
                    self.exact(right)?,
                ])),
                Operator::Or => Some(PartitionFilter::Or(vec![
                    self.exact(left)?,
                    self.exact(right)?,
                ])),
                _ => self.comparison(left, *op, right),
            },
            Expr::Not(inner) => Some(PartitionFilter::Not(Box::new(self.exact(inner)?))),
            Expr::IsNull(inner) => Some(PartitionFilter::IsNull {
                key: self.key(inner)?,
                negated: false,
            }),
            Expr::IsNotNull(inner) => Some(PartitionFilter::IsNull {
                key: self.key(inner)?,
                negated: true,
            }),
            Expr::InList(InList {
                expr,
                list,
                negated,
            }) => {
                let key = self.key(expr)?;
                let literals = list
                    .iter()
                    .map(|item| self.literal(key, item))
                    .collect::<Option<Vec<_>>>()?;
                Some(PartitionFilter::InList {
                    key,
                    literals,
                    negated: *negated,
                })
            }
            Expr::Between(Between {
                expr,
                negated,
                low,
                high,
            }) => {
                let key = self.key(expr)?;
                let range = PartitionFilter::And(vec![
                    PartitionFilter::Compare {
                        key,
                        op: KeyComparison::GtEq,
                        literal: self.literal(key, low)?,
                    },
                    PartitionFilter::Compare {
                        key,
                        op: KeyComparison::LtEq,
                        literal: self.literal(key, high)?,
                    },
                ]);
                Some(if *negated {
                    PartitionFilter::Not(Box::new(range))
                } else {
                    range
                })
            }
            _ => None,
        }
    }

    /// `key op literal` or `literal op key`.
    fn comparison(&self, left: &Expr, op: Operator, right: &Expr) -> Option<PartitionFilter> {
        let (key, literal, op) = match (self.key(left), self.key(right)) {
            (Some(key), None) => (key, right, op),
            (None, Some(key)) => (key, left, op.swap()?),
            _ => return None,
        };
        let op = match op {
            Operator::Eq => KeyComparison::Eq,
            Operator::NotEq => KeyComparison::NotEq,
            Operator::Lt => KeyComparison::Lt,
            Operator::LtEq => KeyComparison::LtEq,
            Operator::Gt => KeyComparison::Gt,
            Operator::GtEq => KeyComparison::GtEq,
            _ => return None,
        };
        Some(PartitionFilter::Compare {
            key,
            op,
            literal: self.literal(key, literal)?,
        })
    }

    /// The position of the key `expr` names.
    fn key(&self, expr: &Expr) -> Option<usize> {
        match expr {
            Expr::Column(column) => self.key_schema.index_of(&column.name).ok(),
            _ => None,
        }
    }

    /// `expr` as a literal the metastore compares key `key` with the engine's semantics.
    fn literal(&self, key: usize, expr: &Expr) -> Option<KeyLiteral> {
        let Expr::Literal(value, _) = expr else {
            return None;
        };
        let key_type = self.key_schema.field(key).data_type();
        match (key_type, value) {
            (
                DataType::Utf8,
                ScalarValue::Utf8(Some(text))
                | ScalarValue::LargeUtf8(Some(text))
                | ScalarValue::Utf8View(Some(text)),
            ) => Some(KeyLiteral::Text(text.clone())),
            (key_type, value) if key_type.is_integer() && value.data_type().is_integer() => {
                let ScalarValue::Int64(Some(number)) = value.cast_to(&DataType::Int64).ok()? else {
                    return None;
                };
                Some(KeyLiteral::Integer(number))
            }
            // Canonical dates with four-digit years order as text.
            (DataType::Date32, ScalarValue::Date32(Some(_))) => {
                let text = value.to_string();
                (text.len() == 10 && !text.starts_with('-')).then_some(KeyLiteral::Text(text))
            }
            _ => None,
        }
    }
}

/// The partitions among `candidates` (values as stored) that satisfy every filter, evaluated
/// over a batch holding one row per partition, so any predicate on the keys prunes.
pub fn prune<T>(
    state: &dyn CatalogSession,
    filters: &[Expr],
    key_schema: &SchemaRef,
    candidates: Vec<T>,
    values_of: impl Fn(&T) -> &[String],
) -> Result<Vec<T>> {
    if filters.is_empty() || candidates.is_empty() {
        return Ok(candidates);
    }
    let columns = key_schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let scalars = candidates
                .iter()
                .map(|c| partition_scalar(&values_of(c)[i], field.data_type()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            ScalarValue::iter_to_array(scalars)
        })
        .collect::<Result<Vec<_>>>()?;
    let batch = RecordBatch::try_new(Arc::clone(key_schema), columns)?;
    let df_schema = DFSchema::try_from(key_schema.as_ref().clone())?;
    let mut keep = vec![true; candidates.len()];
    for filter in filters {
        let physical = state.create_physical_expr(unnormalize_col(filter.clone()), &df_schema)?;
        let result = physical.evaluate(&batch)?.into_array(batch.num_rows())?;
        let mask = result.as_boolean_opt().ok_or_else(|| {
            DataFusionError::Internal(format!("partition filter {filter} is not a predicate"))
        })?;
        for (row, kept) in keep.iter_mut().enumerate() {
            *kept &= mask.is_valid(row) && mask.value(row);
        }
    }
    Ok(candidates
        .into_iter()
        .zip(keep)
        .filter_map(|(c, k)| k.then_some(c))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::logical_expr::{col, lit, not};

    fn keys() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("dt", DataType::Date32, true),
            Field::new("country", DataType::Utf8, true),
            Field::new("hr", DataType::Int32, true),
        ]))
    }

    #[test]
    fn translates_what_the_metastore_evaluates_alike() {
        let date = ScalarValue::Date32(Some(19723));
        let filters = vec![
            col("dt").gt_eq(lit(date)),
            lit(3i32)
                .lt(col("hr"))
                .or(col("country").in_list(vec![lit("US")], true)),
            not(col("country").is_null()),
        ];
        assert_eq!(
            metastore_filter(&filters, &keys()),
            PartitionFilter::And(vec![
                PartitionFilter::Compare {
                    key: 0,
                    op: KeyComparison::GtEq,
                    literal: KeyLiteral::Text("2024-01-01".into()),
                },
                PartitionFilter::Or(vec![
                    PartitionFilter::Compare {
                        key: 2,
                        op: KeyComparison::Gt,
                        literal: KeyLiteral::Integer(3),
                    },
                    PartitionFilter::InList {
                        key: 1,
                        literals: vec![KeyLiteral::Text("US".into())],
                        negated: true,
                    },
                ]),
                PartitionFilter::Not(Box::new(PartitionFilter::IsNull {
                    key: 1,
                    negated: false
                })),
            ])
        );
    }

    #[test]
    fn leaves_untranslatable_conjuncts_to_the_exact_check() {
        let function_of_key =
            Expr::ScalarFunction(datafusion::logical_expr::expr::ScalarFunction {
                func: datafusion::functions::string::lower(),
                args: vec![col("country")],
            });
        let filters = vec![
            function_of_key
                .clone()
                .eq(lit("us"))
                .and(col("hr").eq(lit(1i32))),
            // A mismatched literal type is not compared by the metastore.
            col("hr").eq(lit("1")),
            // NOT of something untranslatable cannot be narrowed.
            not(function_of_key.eq(lit("us")).or(col("hr").eq(lit(2i32)))),
        ];
        assert_eq!(
            metastore_filter(&filters, &keys()),
            PartitionFilter::And(vec![PartitionFilter::Compare {
                key: 2,
                op: KeyComparison::Eq,
                literal: KeyLiteral::Integer(1),
            }])
        );
    }
}
