//! Hive's built-in functions that DataFusion lacks or names differently, registered in every
//! session. This is the start of the Hive function library.

use datafusion::execution::context::SessionContext;
use datafusion::functions_nested::make_array::make_array_udf;

/// Registers Hive's names for functions DataFusion has under other names.
pub fn register_hive_functions(ctx: &SessionContext) {
    // Hive's array(a, b, ...) constructor is DataFusion's make_array.
    let array = make_array_udf().as_ref().clone().with_aliases(["array"]);
    ctx.register_udf(array);
}
