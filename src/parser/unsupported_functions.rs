//! Hive functions Apiary does not provide, refused by name with what they need, instead of
//! DataFusion's "invalid function" guess at a similar name.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Spanned, VisitMut, visit_expressions_mut};

use super::{ParseError, ParseResult};

/// `(names, why)` of the Hive functions that are not there.
const UNSUPPORTED: &[(&[&str], &str)] = &[
    (
        &["reflect", "reflect2", "java_method"],
        "it calls Java methods, and Apiary runs no Java",
    ),
    (
        &[
            "xpath",
            "xpath_string",
            "xpath_boolean",
            "xpath_int",
            "xpath_long",
            "xpath_short",
            "xpath_float",
            "xpath_double",
            "xpath_number",
        ],
        "XPath over XML text is not implemented yet",
    ),
    (
        &["sentences", "ngrams", "context_ngrams"],
        "Java's locale-aware sentence and word splitting is not implemented yet",
    ),
    (
        &[
            "mask",
            "mask_first_n",
            "mask_last_n",
            "mask_show_first_n",
            "mask_show_last_n",
            "mask_hash",
        ],
        "data masking functions are not implemented yet",
    ),
    (&["in_file"], "reading a file from a query is not supported"),
];

pub fn refuse_unsupported_functions<V: VisitMut>(node: &mut V) -> ParseResult<()> {
    let outcome = visit_expressions_mut(node, |expr| {
        if let Expr::Function(function) = expr {
            let name = function.name.to_string().to_ascii_lowercase();
            if let Some((_, why)) = UNSUPPORTED
                .iter()
                .find(|(names, _)| names.contains(&name.as_str()))
            {
                return ControlFlow::Break(ParseError::at(
                    function.span().start,
                    format!("Not supported yet: Hive function '{name}': {why}"),
                ));
            }
        }
        ControlFlow::Continue(())
    });
    match outcome {
        ControlFlow::Break(error) => Err(error),
        ControlFlow::Continue(()) => Ok(()),
    }
}
