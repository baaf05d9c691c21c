//! Hive's functions that answer from the session: `current_database()`, and
//! `current_user()` / `logged_in_user()` (the session's user). They become constants as the
//! query is planned, as Hive folds them.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArguments, Query, Value, visit_expressions_mut,
};

use crate::driver::Session;

pub fn resolve_session_functions(session: &Session, query: &mut Query) {
    let _ = visit_expressions_mut(query, |expr| {
        if let Expr::Function(function) = expr {
            let no_arguments = match &function.args {
                FunctionArguments::None => true,
                FunctionArguments::List(list) => list.args.is_empty(),
                FunctionArguments::Subquery(_) => false,
            };
            let name = function.name.to_string().to_ascii_lowercase();
            let value = match name.as_str() {
                "current_database" => Some(session.current_database()),
                "current_user" | "logged_in_user" => Some(session.user.as_str()),
                _ => None,
            };
            if let Some(value) = value.filter(|_| no_arguments && function.over.is_none()) {
                *expr = Expr::value(Value::SingleQuotedString(value.to_string()));
            }
        }
        ControlFlow::<()>::Continue(())
    });
}
