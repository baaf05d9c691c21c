//! Hive's built-in functions that DataFusion lacks or names differently, registered in every
//! session. This is the start of the Hive function library.

mod aes;
mod array_function;
mod bits;
mod bround;
mod calendar;
pub mod catalog;
mod ceil_floor;
mod concat_ws;
mod conv;
mod covariance;
mod date_format;
mod digests;
mod div;
mod encodings;
pub mod exact_decimal;
mod format_number;
mod histogram_numeric;
mod hive_datetime;
mod hive_hash;
mod java_date_parse;
pub mod json;
pub mod like_segments;
mod moments;
mod months_between;
mod numeric_aggregate;
mod parse_url;
mod printf;
mod regex_cache;
mod regexp_extract;
mod rounding;
mod running_sum;
mod sort_array;
mod split;
mod str_to_map;
mod time_zones;
mod unix_time;
mod variance;

use std::sync::Arc;

use datafusion::execution::context::SessionContext;
use datafusion::functions_nested::make_array::make_array_udf;

pub use catalog::{describe_function, function_names};
use numeric_aggregate::HiveNumericAggregate;
pub use parse_url::udf as parse_url_udf;
pub use rounding::round_half_up_udf;

/// DataFusion's aggregates wrapped for Hive's strings-as-DOUBLE and sequential DOUBLE sums.
const NUMERIC_AGGREGATES: &[&str] = &["sum", "avg"];

/// Registers Hive's names for functions DataFusion has under other names.
pub fn register_hive_functions(ctx: &SessionContext) {
    // Hive's array(a, b, ...) constructor is DataFusion's make_array.
    let array = make_array_udf().as_ref().clone().with_aliases(["array"]);
    ctx.register_udf(array);
    ctx.register_udf(bround::udf());
    ctx.register_udf(calendar::add_months_udf());
    ctx.register_udf(calendar::last_day_udf());
    ctx.register_udf(calendar::next_day_udf());
    ctx.register_udf(ceil_floor::ceil_udf());
    ctx.register_udf(ceil_floor::floor_udf());
    ctx.register_udf(concat_ws::udf());
    ctx.register_udf(conv::udf());
    ctx.register_udf(div::udf());
    ctx.register_udf(str_to_map::udf());
    let families = [
        digests::udfs(),
        encodings::udfs(),
        bits::udfs(),
        aes::udfs(),
    ];
    for function in families.into_iter().flatten() {
        ctx.register_udf(function);
    }
    ctx.register_udf(date_format::udf());
    ctx.register_udf(format_number::udf());
    ctx.register_udf(hive_hash::udf());
    ctx.register_udf(json::get_json_object_udf());
    ctx.register_udf(months_between::udf());
    ctx.register_udf(parse_url::udf());
    ctx.register_udf(printf::udf());
    ctx.register_udf(regexp_extract::udf());
    ctx.register_udf(sort_array::udf());
    ctx.register_udf(split::udf());
    ctx.register_udf(time_zones::from_utc_timestamp_udf());
    ctx.register_udf(time_zones::to_utc_timestamp_udf());
    ctx.register_udf(unix_time::from_unixtime_udf());
    ctx.register_udf(unix_time::unix_timestamp_udf());
    ctx.register_udf(unix_time::to_unix_timestamp_udf());
    ctx.register_udaf(histogram_numeric::udaf());
    for name in NUMERIC_AGGREGATES {
        if let Some(aggregate) = ctx.state().aggregate_functions().get(*name).cloned() {
            ctx.register_udaf(HiveNumericAggregate::wrap(Arc::clone(&aggregate)));
        }
    }
    for aggregate in moments::udafs() {
        ctx.register_udaf(aggregate);
    }
}
