//! Plans `LATERAL VIEW [OUTER] udtf(args) alias [AS c1, c2, ...]`: the marked derived tables
//! of [`super::lateral_view`] become their FROM clause, planned by DataFusion with every
//! table's qualifier kept, followed by each lateral view in turn.
//!
//! A lateral view is a projection that adds the generator's inputs to each row, an `Unnest`
//! of the list inputs (several lists unnest side by side, padded with NULLs), and a
//! projection naming the generated columns under the view's alias. `OUTER` keeps a row
//! whose lists are NULL or empty, with NULLs for the generated columns, as Hive does.
//!
//! | UDTF | inputs unnested | columns (default names) |
//! |---|---|---|
//! | `explode(array)` | the array | `col` |
//! | `explode(map)` | keys, values | `key`, `value` |
//! | `posexplode(array)` | positions from 0, the array | `pos`, `val` |
//! | `inline(array<struct>)` | the array | the struct's fields |
//! | `stack(n, v1, ..., vk)` | one list per column | `col0`, `col1`, ... |
//! | `json_tuple(json, k1, ...)` | none: one row | `c0`, `c1`, ... |
//! | `parse_url_tuple(url, p1, ...)` | none: one row | `c0`, `c1`, ... |

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{
    Column, DFSchema, NullHandling, Result, ScalarValue, TableReference, UnnestOptions, plan_err,
};
use datafusion::functions::core::expr_fn::{coalesce, get_field};
use datafusion::functions_nested::expr_fn::{cardinality, make_array, map_keys, map_values};
use datafusion::functions_nested::range::range_udf;
use datafusion::logical_expr::planner::{
    PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning,
};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, cast, lit};
use datafusion::sql::sqlparser::ast::{
    self as sql, Join, JoinConstraint, JoinOperator, LateralView, SetExpr, TableFactor,
    TableWithJoins,
};

use super::lateral_view::LATERAL_VIEW_MARKER;
use crate::functions::json::field_udf as json_field_udf;
use crate::parser::{DEFAULT_GENERATOR_COLUMNS, plain_arg_list};

/// Plans the relations [`super::lateral_view`] marked; leaves every other one to DataFusion.
#[derive(Debug)]
pub struct LateralViewPlanner;

impl RelationPlanner for LateralViewPlanner {
    fn plan_relation(
        &self,
        relation: TableFactor,
        context: &mut dyn RelationPlannerContext,
    ) -> Result<RelationPlanning> {
        let select = match relation {
            TableFactor::Derived {
                subquery,
                alias: Some(alias),
                ..
            } if alias.name.value == LATERAL_VIEW_MARKER => match *subquery.body {
                SetExpr::Select(select) => select,
                other => return plan_err!("a lateral view over {other} is not a SELECT"),
            },
            other => return Ok(RelationPlanning::Original(Box::new(other))),
        };
        let mut plan = plan_from(select.from, context)?;
        for (index, view) in select.lateral_views.into_iter().enumerate() {
            plan = join_generator(plan, view, index, context)?;
        }
        Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(
            plan, None,
        ))))
    }
}

/// The FROM clause as one relation: its tables cross-joined, each keeping its qualifier.
fn plan_from(
    from: Vec<TableWithJoins>,
    context: &mut dyn RelationPlannerContext,
) -> Result<LogicalPlan> {
    let mut tables = from.into_iter();
    let Some(first) = tables.next() else {
        // `SELECT explode(array(1, 2))`: the generator runs once.
        return LogicalPlanBuilder::empty(true).build();
    };
    let joins = tables
        .map(|table| Join {
            relation: nested(table),
            global: false,
            join_operator: JoinOperator::CrossJoin(JoinConstraint::None),
        })
        .collect();
    context.plan(nested(TableWithJoins {
        relation: nested(first),
        joins,
    }))
}

fn nested(table: TableWithJoins) -> TableFactor {
    TableFactor::NestedJoin {
        table_with_joins: Box::new(table),
        alias: None,
    }
}

/// A generator over the rows of `input`: the expressions added to each row, which of them
/// are unnested, and the generated columns over the result.
struct Generator {
    /// Unnested side by side (all lists), or evaluated once per row when `unnest` is false.
    inputs: Vec<Expr>,
    unnest: bool,
    outputs: Vec<Expr>,
    default_names: Vec<String>,
}

/// The internal column holding input `k` of lateral view `view`.
fn slot_name(view: usize, k: usize) -> String {
    format!("__apiary_lateral_view_{view}_{k}")
}

fn slot(view: usize, k: usize) -> Expr {
    Expr::Column(Column::from_name(slot_name(view, k)))
}

fn join_generator(
    input: LogicalPlan,
    view: LateralView,
    index: usize,
    context: &mut dyn RelationPlannerContext,
) -> Result<LogicalPlan> {
    let sql::Expr::Function(function) = &view.lateral_view else {
        return plan_err!(
            "LATERAL VIEW needs a table-generating function, found {}",
            view.lateral_view
        );
    };
    let name = function.name.to_string().to_ascii_lowercase();
    let Some(sql_args) = plain_arg_list(function) else {
        return plan_err!("{name} takes plain arguments");
    };
    let args = sql_args
        .into_iter()
        .map(|arg| context.sql_to_expr(arg, input.schema()))
        .collect::<Result<Vec<_>>>()?;
    let generator = generator(&name, args, input.schema(), index)?;
    let Some(alias) = view
        .lateral_view_name
        .0
        .last()
        .and_then(|part| part.as_ident())
    else {
        return plan_err!("LATERAL VIEW needs a table alias");
    };
    let alias = TableReference::bare(context.normalize_ident(alias.clone()));
    let default_names = match view.lateral_col_alias.as_slice() {
        [] => true,
        [only] => only.value == DEFAULT_GENERATOR_COLUMNS,
        _ => false,
    };
    let names = if default_names {
        generator.default_names
    } else if view.lateral_col_alias.len() == generator.outputs.len() {
        view.lateral_col_alias
            .into_iter()
            .map(|ident| context.normalize_ident(ident))
            .collect()
    } else {
        return plan_err!(
            "The number of aliases supplied in the AS clause does not match the number of \
             columns output by the UDTF: {name} gives {} columns, {} aliases were given",
            generator.outputs.len(),
            view.lateral_col_alias.len()
        );
    };

    let input_columns: Vec<Expr> = input
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let unnested = generator.inputs.len();
    let mut builder = LogicalPlanBuilder::from(input);
    if unnested > 0 {
        let with_inputs = input_columns.iter().cloned().chain(
            generator
                .inputs
                .into_iter()
                .enumerate()
                .map(|(k, expr)| expr.alias(slot_name(index, k))),
        );
        builder = builder.project(with_inputs)?;
    }
    if generator.unnest {
        let columns = (0..unnested)
            .map(|k| Column::from_name(slot_name(index, k)))
            .collect();
        let null_handling = if view.outer {
            NullHandling::PreserveAndExpandEmpty
        } else {
            NullHandling::Drop
        };
        builder = builder.unnest_columns_with_options(
            columns,
            UnnestOptions {
                null_handling,
                recursions: Vec::new(),
            },
        )?;
    }
    let generated = generator
        .outputs
        .into_iter()
        .zip(names)
        .map(|(expr, name)| expr.alias_qualified(Some(alias.clone()), name));
    builder
        .project(input_columns.into_iter().chain(generated))?
        .build()
}

fn generator(name: &str, args: Vec<Expr>, schema: &DFSchema, view: usize) -> Result<Generator> {
    match name {
        "explode" => explode(one_arg(name, args)?, schema, view),
        "posexplode" => posexplode(one_arg(name, args)?, schema, view),
        "inline" => inline(one_arg(name, args)?, schema, view),
        "stack" => stack(args, view),
        "json_tuple" => per_row(name, args, |json, key| {
            Ok(Arc::new(json_field_udf()).call(vec![json, key]))
        }),
        "parse_url_tuple" => per_row(name, args, parse_url_part),
        _ => plan_err!("{name} is not a table-generating function"),
    }
}

fn one_arg(name: &str, args: Vec<Expr>) -> Result<Expr> {
    match <[Expr; 1]>::try_from(args) {
        Ok([arg]) => Ok(arg),
        Err(args) => plan_err!("{name} takes 1 argument, got {}", args.len()),
    }
}

fn explode(arg: Expr, schema: &DFSchema, view: usize) -> Result<Generator> {
    match arg.get_type(schema)? {
        DataType::Map(..) => Ok(Generator {
            inputs: vec![map_keys(arg.clone()), map_values(arg)],
            unnest: true,
            outputs: vec![slot(view, 0), slot(view, 1)],
            default_names: vec!["key".into(), "value".into()],
        }),
        t if t.is_list() => Ok(Generator {
            inputs: vec![arg],
            unnest: true,
            outputs: vec![slot(view, 0)],
            default_names: vec!["col".into()],
        }),
        other => plan_err!("explode takes an array or a map, got {other}"),
    }
}

fn posexplode(arg: Expr, schema: &DFSchema, view: usize) -> Result<Generator> {
    let list_type = arg.get_type(schema)?;
    if !list_type.is_list() {
        return plan_err!("posexplode takes an array, got {list_type}");
    }
    let length = cast(
        coalesce(vec![cardinality(arg.clone()), lit(0u64)]),
        DataType::Int64,
    );
    let positions = Arc::new(range_udf().as_ref().clone()).call(vec![lit(0i64), length]);
    Ok(Generator {
        inputs: vec![positions, arg],
        unnest: true,
        outputs: vec![cast(slot(view, 0), DataType::Int32), slot(view, 1)],
        default_names: vec!["pos".into(), "val".into()],
    })
}

fn inline(arg: Expr, schema: &DFSchema, view: usize) -> Result<Generator> {
    let list_type = arg.get_type(schema)?;
    let fields = match &list_type {
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _) => {
            match item.data_type() {
                DataType::Struct(fields) => fields.clone(),
                other => return plan_err!("inline takes an array of structs, got array<{other}>"),
            }
        }
        other => return plan_err!("inline takes an array of structs, got {other}"),
    };
    Ok(Generator {
        inputs: vec![arg],
        unnest: true,
        outputs: fields
            .iter()
            .map(|field| get_field(slot(view, 0), field.name().as_str()))
            .collect(),
        default_names: fields.iter().map(|field| field.name().clone()).collect(),
    })
}

/// `stack(n, v1, ..., vk)`: n rows of ceil(k / n) columns, filled row by row, NULL past vk.
fn stack(args: Vec<Expr>, view: usize) -> Result<Generator> {
    let mut args = args.into_iter();
    let rows = match args.next() {
        Some(Expr::Literal(value, _)) => match value {
            ScalarValue::Int8(Some(n)) => i64::from(n),
            ScalarValue::Int16(Some(n)) => i64::from(n),
            ScalarValue::Int32(Some(n)) => i64::from(n),
            ScalarValue::Int64(Some(n)) => n,
            other => {
                return plan_err!("stack's first argument must be a constant INT, got {other}");
            }
        },
        _ => return plan_err!("stack's first argument must be a constant INT"),
    };
    let values: Vec<Expr> = args.collect();
    let rows = usize::try_from(rows).ok().filter(|n| *n > 0);
    let Some(rows) = rows else {
        return plan_err!("stack's row count must be positive");
    };
    if values.is_empty() {
        return plan_err!("stack takes at least one value after the row count");
    }
    let columns = values.len().div_ceil(rows);
    let inputs = (0..columns)
        .map(|column| {
            make_array(
                (0..rows)
                    .map(|row| {
                        values
                            .get(row * columns + column)
                            .cloned()
                            .unwrap_or(Expr::Literal(ScalarValue::Null, None))
                    })
                    .collect(),
            )
        })
        .collect();
    Ok(Generator {
        inputs,
        unnest: true,
        outputs: (0..columns).map(|k| slot(view, k)).collect(),
        default_names: (0..columns).map(|k| format!("col{k}")).collect(),
    })
}

/// A generator giving one row per input row: `f(first, arg)` for each further argument.
fn per_row(
    name: &str,
    args: Vec<Expr>,
    f: impl Fn(Expr, Expr) -> Result<Expr>,
) -> Result<Generator> {
    let mut args = args.into_iter();
    let Some(first) = args.next() else {
        return plan_err!("{name} takes at least 2 arguments");
    };
    let outputs = args
        .map(|arg| f(first.clone(), arg))
        .collect::<Result<Vec<_>>>()?;
    if outputs.is_empty() {
        return plan_err!("{name} takes at least 2 arguments");
    }
    Ok(Generator {
        default_names: (0..outputs.len()).map(|k| format!("c{k}")).collect(),
        inputs: Vec::new(),
        unnest: false,
        outputs,
    })
}

/// `parse_url(url, part)`, or for `QUERY:key` the key's value, as `parse_url_tuple` reads
/// its part names.
fn parse_url_part(url: Expr, part: Expr) -> Result<Expr> {
    let parse_url = Arc::new(crate::functions::parse_url_udf());
    if let Expr::Literal(ScalarValue::Utf8(Some(text)), _) = &part
        && let Some(key) = text.strip_prefix("QUERY:")
    {
        return Ok(parse_url.call(vec![url, lit("QUERY"), lit(key)]));
    }
    Ok(parse_url.call(vec![url, part]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_fills_rows_first_and_pads_with_null() {
        let generator = stack(vec![lit(2), lit(1), lit(2), lit(3)], 0).expect("a generator");
        assert_eq!(generator.default_names, ["col0", "col1"]);
        assert_eq!(
            generator.inputs,
            vec![
                make_array(vec![lit(1), lit(3)]),
                make_array(vec![lit(2), Expr::Literal(ScalarValue::Null, None)]),
            ]
        );
    }

    #[test]
    fn stack_needs_a_constant_row_count() {
        assert!(stack(vec![Expr::Column(Column::from_name("n")), lit(1)], 0).is_err());
        assert!(stack(vec![lit(0), lit(1)], 0).is_err());
        assert!(stack(vec![lit(1)], 0).is_err());
    }
}
