//! Hive functions that are a rewrite of SQL DataFusion runs, applied to the parsed query:
//!
//! - `a RLIKE p` and `a REGEXP p` are `regexp_like(a, p)`.
//! - `extract(dayofweek from d)` and `dayofweek(d)` count from Sunday = 1.
//! - `if(c, a, b)` is `CASE WHEN c THEN a ELSE b END` (with CASE's type unification).
//! - `pmod(a, b)` is `((a % b) + b) % b`, the modulus with the divisor's sign.
//! - `collect_list(x)` is `array_agg(x)` and `collect_set(x)` is
//!   `array_distinct(array_agg(x))` (first places kept, as Hive's LinkedHashSet keeps them),
//!   both over the non-NULL values, as Hive skips NULLs, and `[]` when there are none.
//! - Hive's other names: `ucase` / `lcase` are `upper` / `lower`, `day(d)` and
//!   `dayofmonth(d)` are `date_part('day', d)`; `size(a)` is the INT `cardinality(a)`, -1 for
//!   NULL.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    AccessExpr, BinaryOperator, CaseWhen, CastKind, DataType, DateTimeField, ExactNumberInfo, Expr,
    Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident,
    ObjectName, ObjectNamePart, Subscript, UnaryOperator, Value, ValueWithSpan, VisitMut,
    WindowSpec, WindowType, visit_expressions_mut,
};
use datafusion::sql::sqlparser::tokenizer::Span;

/// Rewrites the Hive functions of `node` (a query or any part of one) in place.
pub fn rewrite_hive_functions<V: VisitMut>(node: &mut V) {
    let _ = visit_expressions_mut(node, |expr| {
        if let Expr::Function(function) = expr
            && let Some(rewritten) = rewrite(function)
        {
            *expr = rewritten;
        }
        // Hive's BINARY type name in a cast, which DataFusion knows as BYTEA.
        if let Expr::Cast { data_type, .. } = expr
            && matches!(data_type, DataType::Binary(None))
        {
            *data_type = DataType::Bytea;
        }
        // Hive's day of the week runs from Sunday = 1 to Saturday = 7.
        if let Expr::Extract {
            field: DateTimeField::DayOfWeek,
            expr: value,
            ..
        } = expr
        {
            *expr = day_of_week(value.as_ref().clone());
        }
        // `f(x).field`, `a[0].field`: a struct field after an expression, which DataFusion
        // reads as a named subscript.
        if let Expr::CompoundFieldAccess { access_chain, .. } = expr {
            for access in access_chain.iter_mut() {
                if let AccessExpr::Dot(Expr::Identifier(field)) = access {
                    *access = AccessExpr::Subscript(Subscript::Index {
                        index: string(&field.value),
                    });
                }
            }
        }
        // Hive's substr counts a negative position from the end, and position 0 as 1.
        if let Expr::Substring {
            expr: text,
            substring_from: Some(position),
            substring_for: length,
            ..
        } = expr
            && !matches!(position.as_ref(), Expr::Value(ValueWithSpan { value: Value::Number(n, _), .. }) if !n.starts_with('-') && n != "0")
        {
            *expr = hive_substr(text, position, length.as_deref());
        }
        // Hive's `struct(a, b)` names its fields col1, col2, ...
        if let Expr::Struct { values, fields } = expr
            && fields.is_empty()
        {
            let mut args = Vec::with_capacity(values.len() * 2);
            for (position, value) in values.drain(..).enumerate() {
                args.push(string(&format!("col{}", position + 1)));
                args.push(value);
            }
            *expr = call("named_struct", args);
        }
        // `a RLIKE p` / `a REGEXP p`: a Java regex found anywhere in `a`.
        if let Expr::RLike {
            negated,
            expr: value,
            pattern,
            ..
        } = expr
        {
            // An empty pattern matches nothing in Hive.
            let matched = Expr::Nested(Box::new(Expr::BinaryOp {
                left: Box::new(Expr::BinaryOp {
                    left: pattern.clone(),
                    op: BinaryOperator::NotEq,
                    right: Box::new(string("")),
                }),
                op: BinaryOperator::And,
                right: Box::new(call(
                    "regexp_like",
                    vec![value.as_ref().clone(), pattern.as_ref().clone()],
                )),
            }));
            *expr = if *negated {
                Expr::UnaryOp {
                    op: UnaryOperator::Not,
                    expr: Box::new(matched),
                }
            } else {
                matched
            };
        }
        ControlFlow::<()>::Continue(())
    });
}

fn rewrite(function: &mut Function) -> Option<Expr> {
    let name = function.name.to_string().to_ascii_lowercase();
    let renamed = match name.as_str() {
        "ucase" => Some("upper"),
        "lcase" => Some("lower"),
        _ => None,
    };
    if let Some(renamed) = renamed {
        function.name = function_name(renamed);
        return None;
    }
    if matches!(name.as_str(), "lag" | "lead") {
        return offset_with_expression_default(function, name == "lag");
    }
    let windowed_aggregate = matches!(
        name.as_str(),
        "collect_list" | "collect_set" | "percentile" | "percentile_approx"
    );
    if function.over.is_some() && !windowed_aggregate {
        return None;
    }
    if let Some(rewritten) = super::hive_dates::rewrite_date_function(&name, function) {
        return Some(rewritten);
    }
    match name.as_str() {
        "isnull" | "isnotnull" => {
            let [value] = plain_args(function)?;
            Some(if name == "isnull" {
                Expr::IsNull(Box::new(value))
            } else {
                Expr::IsNotNull(Box::new(value))
            })
        }
        // Hive replaces every match, and its replacement names groups as Java does (`$1`).
        "regexp_replace" => {
            let [subject, pattern, replacement] = plain_args(function)?;
            let replacement = match replacement {
                Expr::Value(ValueWithSpan {
                    value: Value::SingleQuotedString(text) | Value::DoubleQuotedString(text),
                    ..
                }) => string(&java_replacement(&text)),
                other => other,
            };
            Some(call(
                "regexp_replace",
                vec![subject, pattern, replacement, string("g")],
            ))
        }
        "space" => {
            let [count] = plain_args(function)?;
            Some(call("repeat", vec![string(" "), count]))
        }
        "locate" => {
            let [needle, haystack] = plain_args(function)?;
            Some(call("strpos", vec![haystack, needle]))
        }
        // percentile(x, p) is the exact, interpolated percentile; percentile(x, array(p, q))
        // an array of them. percentile_approx estimates (DataFusion's t-digest).
        "percentile" | "percentile_approx" => percentile(function, name == "percentile"),
        "dayofweek" => {
            let [date] = plain_args(function)?;
            Some(day_of_week(date))
        }
        "day" | "dayofmonth" => {
            let [date] = plain_args(function)?;
            Some(call("date_part", vec![string("day"), date]))
        }
        "size" => {
            let [collection] = plain_args(function)?;
            Some(size(collection))
        }
        "if" => {
            let [condition, then, otherwise] = plain_args(function)?;
            Some(if_then_else(condition, then, otherwise))
        }
        // elt(n, s1, s2, ...): the n-th string, NULL out of range.
        "elt" => {
            let mut args = plain_arg_list(function)?.into_iter();
            let n = args.next()?;
            Some(Expr::Case {
                case_token: AttachedToken::empty(),
                end_token: AttachedToken::empty(),
                operand: Some(Box::new(n)),
                conditions: args
                    .enumerate()
                    .map(|(i, value)| CaseWhen {
                        condition: number(i as i64 + 1),
                        result: value,
                    })
                    .collect(),
                else_result: None,
            })
        }
        // field(v, v1, v2, ...): the position of the first vi equal to v, 0 for none or NULL.
        "field" => {
            let mut args = plain_arg_list(function)?.into_iter();
            let value = args.next()?;
            let conditions: Vec<CaseWhen> = args
                .enumerate()
                .map(|(i, candidate)| CaseWhen {
                    condition: Expr::BinaryOp {
                        left: Box::new(value.clone()),
                        op: BinaryOperator::Eq,
                        right: Box::new(candidate),
                    },
                    result: number(i as i64 + 1),
                })
                .collect();
            if conditions.is_empty() {
                return Some(number(0));
            }
            Some(Expr::Case {
                case_token: AttachedToken::empty(),
                end_token: AttachedToken::empty(),
                operand: None,
                conditions,
                else_result: Some(Box::new(number(0))),
            })
        }
        // sign(x) is a DOUBLE -1.0, 0.0 or 1.0; positive(x) is x, negative(x) is -x.
        "sign" => {
            let [value] = plain_args(function)?;
            Some(cast_to(
                call(
                    "signum",
                    vec![cast_to(value, DataType::Double(ExactNumberInfo::None))],
                ),
                DataType::Double(ExactNumberInfo::None),
            ))
        }
        "positive" => {
            let [value] = plain_args(function)?;
            Some(Expr::Nested(Box::new(value)))
        }
        "negative" => {
            let [value] = plain_args(function)?;
            Some(Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr: Box::new(Expr::Nested(Box::new(value))),
            })
        }
        "e" if plain_arg_list(function)?.is_empty() => Some(cast_to(
            string(&std::f64::consts::E.to_string()),
            DataType::Double(ExactNumberInfo::None),
        )),
        "pmod" => {
            let [a, b] = plain_args(function)?;
            let modulo = |left: Expr, right: Expr| {
                Expr::Nested(Box::new(Expr::BinaryOp {
                    left: Box::new(left),
                    op: BinaryOperator::Modulo,
                    right: Box::new(right),
                }))
            };
            let shifted = Expr::Nested(Box::new(Expr::BinaryOp {
                left: Box::new(modulo(a, b.clone())),
                op: BinaryOperator::Plus,
                right: Box::new(b.clone()),
            }));
            Some(modulo(shifted, b))
        }
        "collect_list" | "collect_set" => {
            let [value] = plain_args(function)?;
            function.name = function_name("array_agg");
            let not_null = Expr::IsNotNull(Box::new(value));
            function.filter = Some(Box::new(match function.filter.take() {
                Some(filter) => Expr::BinaryOp {
                    left: filter,
                    op: BinaryOperator::And,
                    right: Box::new(not_null),
                },
                None => not_null,
            }));
            // No values collect into an empty array, not NULL.
            let collected = call(
                "coalesce",
                vec![
                    Expr::Function(function.clone()),
                    call("make_array", Vec::new()),
                ],
            );
            // A set keeps each value's first place, as Hive's LinkedHashSet does.
            Some(if name == "collect_set" {
                call("array_distinct", vec![collected])
            } else {
                collected
            })
        }
        _ => None,
    }
}

/// `lag(x, n, d)` / `lead(x, n, d)` whose default `d` is not a literal, which DataFusion
/// does not take: the offset row exists when the row's number (for lag), or the rows after
/// it (for lead), reach `n`, so
/// `CASE WHEN row_number() OVER w > n THEN lag(x, n) OVER w ELSE d END` and
/// `CASE WHEN count(*) OVER (PARTITION BY ...) - row_number() OVER w >= n THEN lead(x, n)
/// OVER w ELSE d END`.
fn offset_with_expression_default(function: &Function, lag: bool) -> Option<Expr> {
    let [value, offset, default] = plain_args(function)?;
    if matches!(default, Expr::Value(_)) {
        return None;
    }
    let Expr::Value(number) = &offset else {
        return None;
    };
    let Some(WindowType::WindowSpec(spec)) = &function.over else {
        return None;
    };
    let unframed = WindowSpec {
        window_frame: None,
        ..spec.clone()
    };
    let windowed = |name: &str, args: Vec<Expr>, over: WindowSpec| match call(name, args) {
        Expr::Function(mut function) => {
            function.over = Some(WindowType::WindowSpec(over));
            Expr::Function(function)
        }
        other => other,
    };
    let row_number = windowed("row_number", Vec::new(), unframed.clone());
    let shifted = windowed(
        if lag { "lag" } else { "lead" },
        vec![value, offset.clone()],
        spec.clone(),
    );
    let condition = if lag {
        Expr::BinaryOp {
            left: Box::new(row_number),
            op: BinaryOperator::Gt,
            right: Box::new(Expr::Value(number.clone())),
        }
    } else {
        let partition_only = WindowSpec {
            order_by: Vec::new(),
            ..unframed
        };
        let count = windowed("count", vec![self::number(1)], partition_only);
        Expr::BinaryOp {
            left: Box::new(Expr::BinaryOp {
                left: Box::new(count),
                op: BinaryOperator::Minus,
                right: Box::new(row_number),
            }),
            op: BinaryOperator::GtEq,
            right: Box::new(Expr::Value(number.clone())),
        }
    };
    Some(if_then_else(condition, shifted, default))
}

/// `date_part('dow', value) + 1`: Sunday is 1.
fn day_of_week(value: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(call("date_part", vec![string("dow"), value])),
        op: BinaryOperator::Plus,
        right: Box::new(number(1)),
    }
}

/// `substr(text, position [, length])` as Hive reads the position: counted from the end when
/// negative (empty when before the start), 0 as 1.
fn hive_substr(text: &Expr, position: &Expr, length: Option<&Expr>) -> Expr {
    let binary = |left: Expr, op: BinaryOperator, right: Expr| {
        Expr::Nested(Box::new(Expr::BinaryOp {
            left: Box::new(left),
            op,
            right: Box::new(right),
        }))
    };
    let chars = || call("character_length", vec![text.clone()]);
    let start = if_then_else(
        binary(position.clone(), BinaryOperator::Gt, number(0)),
        position.clone(),
        if_then_else(
            binary(position.clone(), BinaryOperator::Eq, number(0)),
            number(1),
            binary(
                binary(chars(), BinaryOperator::Plus, position.clone()),
                BinaryOperator::Plus,
                number(1),
            ),
        ),
    );
    let mut args = vec![text.clone(), start];
    args.extend(length.cloned());
    let before_start = binary(
        binary(position.clone(), BinaryOperator::Lt, number(0)),
        BinaryOperator::And,
        binary(
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr: Box::new(position.clone()),
            },
            BinaryOperator::Gt,
            chars(),
        ),
    );
    if_then_else(before_start, string(""), call("substr", args))
}

/// Hive's `size(array or map)`: an INT, -1 for NULL.
fn size(collection: Expr) -> Expr {
    let minus_one = Expr::UnaryOp {
        op: UnaryOperator::Minus,
        expr: Box::new(number(1)),
    };
    cast_to(
        call(
            "coalesce",
            vec![
                cast_to(call("cardinality", vec![collection]), DataType::Int(None)),
                minus_one,
            ],
        ),
        DataType::Int(None),
    )
}

/// A Java regex replacement (`$1` a group, `\$` a dollar, `\x` the character x) in the Rust
/// regex crate's syntax (`${1}`, `$$`).
fn java_replacement(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            '$' if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push_str("${");
                while let Some(digit) = chars.next_if(char::is_ascii_digit) {
                    out.push(digit);
                }
                out.push('}');
            }
            other => out.push(other),
        }
    }
    out
}

fn percentile(function: &Function, exact: bool) -> Option<Expr> {
    let mut args = plain_arg_list(function)?;
    if args.len() < 2 || (exact && args.len() != 2) {
        return None;
    }
    let value = args.remove(0);
    let fractions = args.remove(0);
    let aggregate = if exact {
        "percentile_cont"
    } else {
        "approx_percentile_cont"
    };
    let one = |fraction: Expr| {
        let mut call_args = vec![value.clone(), fraction];
        call_args.extend(args.iter().cloned());
        let mut computed = call(aggregate, call_args);
        if let Expr::Function(f) = &mut computed {
            f.over.clone_from(&function.over);
            f.filter.clone_from(&function.filter);
        }
        cast_to(computed, DataType::Double(ExactNumberInfo::None))
    };
    match &fractions {
        Expr::Function(list) if list.name.to_string().eq_ignore_ascii_case("array") => {
            let fractions = plain_arg_list(list)?;
            Some(call("array", fractions.into_iter().map(one).collect()))
        }
        _ => Some(one(fractions)),
    }
}

/// `CAST(expr AS data_type)`.
pub(super) fn cast_to(expr: Expr, data_type: DataType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type,
        array: false,
        format: None,
    }
}

pub(super) fn number(value: i64) -> Expr {
    Expr::value(Value::Number(value.to_string(), false))
}

pub(super) fn string(value: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(value.to_string()))
}

/// `name(args)`, a plain function call.
pub(super) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: function_name(name),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|arg| FunctionArg::Unnamed(FunctionArgExpr::Expr(arg)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

/// `CASE WHEN condition THEN then ELSE otherwise END`.
fn if_then_else(condition: Expr, then: Expr, otherwise: Expr) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen {
            condition,
            result: then,
        }],
        else_result: Some(Box::new(otherwise)),
    }
}

fn function_name(name: &str) -> ObjectName {
    ObjectName(vec![ObjectNamePart::Identifier(Ident::with_span(
        Span::empty(),
        name,
    ))])
}

/// The function's arguments when there are exactly `N` plain (unnamed, non-wildcard) ones.
fn plain_args<const N: usize>(function: &Function) -> Option<[Expr; N]> {
    plain_arg_list(function)?.try_into().ok()
}

/// The function's arguments when all are plain (unnamed, non-wildcard).
pub(crate) fn plain_arg_list(function: &Function) -> Option<Vec<Expr>> {
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    list.args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Some(expr.clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::query_text;

    #[test]
    fn hive_functions_become_sql_datafusion_runs() {
        assert_eq!(
            query_text("select if(a > 1, 'x', 'y'), pmod(a, 7) from t"),
            "SELECT CASE WHEN a > 1 THEN 'x' ELSE 'y' END, (((a % 7) + 7) % 7) FROM t"
        );
        assert_eq!(
            query_text("select ucase(v), lcase(v), day(d) from t"),
            "SELECT upper(v), lower(v), date_part('day', d) FROM t"
        );
        assert_eq!(
            query_text("select collect_set(v), collect_list(v) from t"),
            "SELECT array_distinct(coalesce(array_agg(v) FILTER (WHERE v IS NOT NULL), make_array())), \
             coalesce(array_agg(v) FILTER (WHERE v IS NOT NULL), make_array()) FROM t"
        );
    }
}
