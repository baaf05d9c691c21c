//! What `SHOW FUNCTIONS` lists and `DESCRIBE FUNCTION` says: the session's scalar, aggregate
//! and window functions, Hive's table-generating functions, and the Hive functions Apiary
//! plans by rewriting (`if`, `size`, ...). Apiary's own Hive functions are described here;
//! DataFusion's carry their own documentation.

use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::Documentation;

/// `(name, usage, description)` of the Hive functions Apiary adds or gives Hive's meaning.
const HIVE_FUNCTIONS: &[(&str, &str, &str)] = &[
    (
        "add_months",
        "add_months(start_date, num_months)",
        "Returns the date that is num_months after start_date.",
    ),
    (
        "aes_decrypt",
        "aes_decrypt(input, key)",
        "Decrypts AES (ECB, PKCS#5 padding) input with a 128, 192 or 256 bit key",
    ),
    (
        "aes_encrypt",
        "aes_encrypt(input, key)",
        "Encrypts input with AES (ECB, PKCS#5 padding) and a 128, 192 or 256 bit key",
    ),
    (
        "array",
        "array(n0, n1...)",
        "Creates an array with the given elements",
    ),
    (
        "base64",
        "base64(bin)",
        "Returns the base64 text of a binary value",
    ),
    (
        "bin",
        "bin(n)",
        "Returns the binary digits of an integer (two's complement for negatives)",
    ),
    (
        "bround",
        "bround(x[, d])",
        "Round x to d decimal places using HALF_EVEN rounding mode.",
    ),
    (
        "ceil",
        "ceil(x)",
        "Find the smallest integer not smaller than x (a BIGINT, or a DECIMAL with scale 0)",
    ),
    (
        "ceiling",
        "ceiling(x)",
        "Find the smallest integer not smaller than x (a BIGINT, or a DECIMAL with scale 0)",
    ),
    (
        "collect_list",
        "collect_list(x)",
        "Returns a list of objects with duplicates (NULLs skipped)",
    ),
    (
        "collect_set",
        "collect_set(x)",
        "Returns a set of objects with duplicate elements eliminated (NULLs skipped)",
    ),
    (
        "concat_ws",
        "concat_ws(separator, [string | array(string)]+)",
        "returns the concatenation of the strings separated by the separator; array arguments contribute their elements and NULLs are skipped",
    ),
    (
        "conv",
        "conv(num, from_base, to_base)",
        "convert num from from_base to to_base",
    ),
    (
        "corr",
        "corr(y,x)",
        "Returns the Pearson coefficient of correlation of a set of number pairs",
    ),
    (
        "covar_pop",
        "covar_pop(x,y)",
        "Returns the population covariance of a set of number pairs",
    ),
    (
        "covar_samp",
        "covar_samp(x,y)",
        "Returns the sample covariance of a set of number pairs",
    ),
    (
        "crc32",
        "crc32(str_or_bin)",
        "Returns the CRC-32 checksum of a string or binary value as a bigint",
    ),
    (
        "current_database",
        "current_database()",
        "Returns the session's current database",
    ),
    (
        "current_user",
        "current_user()",
        "Returns the session's user",
    ),
    (
        "date_format",
        "date_format(date/timestamp/string, fmt)",
        "converts a date/timestamp/string to a value of string in the format specified by the java date format fmt",
    ),
    (
        "day",
        "day(param)",
        "Returns the day of the month of date/timestamp, or day component of interval",
    ),
    (
        "dayofmonth",
        "dayofmonth(param)",
        "Returns the day of the month of date/timestamp, or day component of interval",
    ),
    (
        "dayofweek",
        "dayofweek(param)",
        "Returns the day of the week of date/timestamp (1 = Sunday, 2 = Monday, ..., 7 = Saturday)",
    ),
    (
        "decode",
        "decode(bin, charset)",
        "Decodes binary bytes into a string with the charset",
    ),
    (
        "div",
        "a div b",
        "Divide a by b rounded to the long integer",
    ),
    ("e", "e()", "Returns Euler's number"),
    (
        "elt",
        "elt(n, str1, str2, ...)",
        "Returns the n-th string, NULL when n is out of range",
    ),
    (
        "encode",
        "encode(str, charset)",
        "Encodes a string into binary bytes with the charset",
    ),
    (
        "explode",
        "explode(a)",
        "separates the elements of array a into multiple rows, or the elements of a map into multiple rows and columns",
    ),
    (
        "field",
        "field(val, val1, val2, ...)",
        "Returns the position of the first argument equal to val, 0 when none is",
    ),
    (
        "floor",
        "floor(x)",
        "Find the largest integer not greater than x (a BIGINT, or a DECIMAL with scale 0)",
    ),
    (
        "format_number",
        "format_number(X, D or F)",
        "Formats the number X to a format like '#,###,###.##', rounded to D decimal places, Or Uses the format specified F to format",
    ),
    (
        "from_unixtime",
        "from_unixtime(unix_time, format)",
        "returns unix_time in the specified format",
    ),
    (
        "from_utc_timestamp",
        "from_utc_timestamp(timestamp, zone)",
        "Reads a timestamp as UTC and returns the wall-clock time of the zone",
    ),
    (
        "get_json_object",
        "get_json_object(json_txt, path)",
        "Extract a json object from path",
    ),
    (
        "hash",
        "hash(a1, a2, ...)",
        "Returns a hash value of the arguments",
    ),
    (
        "hex",
        "hex(n_or_str)",
        "Returns the hexadecimal digits of an integer or of the bytes of a string or binary",
    ),
    (
        "histogram_numeric",
        "histogram_numeric(expr, nb)",
        "Computes a histogram on numeric 'expr' using nb bins.",
    ),
    (
        "if",
        "if(expr1,expr2,expr3)",
        "If expr1 is TRUE (expr1 <> 0 and expr1 <> NULL) then IF() returns expr2; otherwise it returns expr3",
    ),
    (
        "inline",
        "inline( ARRAY( STRUCT()[,STRUCT()] )",
        "explodes an array of structs into a table",
    ),
    (
        "json_tuple",
        "json_tuple(jsonStr, p1, p2, ..., pn)",
        "like get_json_object, but it takes multiple names and return a tuple",
    ),
    (
        "logged_in_user",
        "logged_in_user()",
        "Returns the session's user",
    ),
    (
        "md5",
        "md5(str_or_bin)",
        "Returns the MD5 digest of a string or binary value as hex",
    ),
    (
        "months_between",
        "months_between(date1, date2)",
        "returns number of months between dates date1 and date2",
    ),
    ("negative", "negative(x)", "Returns -x"),
    (
        "next_day",
        "next_day(start_date, day_of_week)",
        "Returns the first date which is later than start_date and named as indicated.",
    ),
    (
        "parse_url",
        "parse_url(url, partToExtract[, key])",
        "extracts a part from a URL",
    ),
    (
        "parse_url_tuple",
        "parse_url_tuple(url, partname1, partname2, ..., partnameN)",
        "extracts N (N>=1) parts from a URL",
    ),
    (
        "datediff",
        "datediff(date1, date2)",
        "Returns the number of days between date1 and date2",
    ),
    (
        "date_add",
        "date_add(start_date, num_days)",
        "Returns the date that is num_days after start_date.",
    ),
    (
        "date_sub",
        "date_sub(start_date, num_days)",
        "Returns the date that is num_days before start_date.",
    ),
    (
        "hour",
        "hour(param)",
        "Returns the hour componemnt of the string/timestamp/interval",
    ),
    (
        "isnotnull",
        "isnotnull a",
        "Returns true if a is not NULL and false otherwise",
    ),
    (
        "isnull",
        "isnull a",
        "Returns true if a is NULL and false otherwise",
    ),
    (
        "last_day",
        "last_day(date)",
        "Returns the last day of the month which the date belongs to.",
    ),
    (
        "lcase",
        "lcase(str)",
        "Returns str with all characters changed to lowercase",
    ),
    (
        "locate",
        "locate(substr, str)",
        "Returns the position of the first occurance of substr in str",
    ),
    (
        "minute",
        "minute(param)",
        "Returns the minute component of the string/timestamp/interval",
    ),
    (
        "month",
        "month(param)",
        "Returns the month component of the date/timestamp/interval",
    ),
    (
        "percentile",
        "percentile(expr, pc)",
        "Returns the percentile(s) of expr at pc (range: [0,1]).pc can be a double or double array",
    ),
    (
        "percentile_approx",
        "percentile_approx(expr, pc, [nb])",
        "For very large data, computes an approximate percentile value from a histogram, using the optional argument [nb] as the number of histogram bins to use. A higher value of nb results in a more accurate approximation, at the cost of higher memory usage.",
    ),
    ("pmod", "a pmod b", "Compute the positive modulo"),
    ("positive", "positive(x)", "Returns x"),
    (
        "printf",
        "printf(String format, Obj... args)",
        "function that can format strings according to printf-style format strings",
    ),
    (
        "regexp_extract",
        "regexp_extract(str, regexp[, idx])",
        "extracts a group that matches regexp",
    ),
    (
        "quarter",
        "quarter(date/timestamp/string)",
        "Returns the quarter of the year for date, in the range 1 to 4.",
    ),
    (
        "second",
        "second(date)",
        "Returns the second component of the string/timestamp/interval",
    ),
    (
        "sha",
        "sha(str_or_bin)",
        "Returns the SHA-1 digest of a string or binary value as hex",
    ),
    (
        "sha1",
        "sha1(str_or_bin)",
        "Returns the SHA-1 digest of a string or binary value as hex",
    ),
    (
        "sha2",
        "sha2(str_or_bin, bits)",
        "Returns the SHA-2 digest (224, 256, 384 or 512 bits) of a string or binary value as hex",
    ),
    (
        "shiftleft",
        "shiftleft(a, b)",
        "Shifts the bits of a to the left by b",
    ),
    (
        "shiftright",
        "shiftright(a, b)",
        "Shifts the bits of a to the right by b, keeping the sign",
    ),
    (
        "shiftrightunsigned",
        "shiftrightunsigned(a, b)",
        "Shifts the bits of a to the right by b, shifting in zeros",
    ),
    (
        "sign",
        "sign(x)",
        "Returns -1.0, 0.0 or 1.0 by the sign of x",
    ),
    ("space", "space(n)", "returns n spaces"),
    (
        "str_to_map",
        "str_to_map(text[, pair_delimiter[, key_delimiter]])",
        "Splits text into a map of key/value pairs",
    ),
    (
        "to_unix_timestamp",
        "to_unix_timestamp(date[, pattern])",
        "Converts a time to seconds since the epoch",
    ),
    (
        "to_utc_timestamp",
        "to_utc_timestamp(timestamp, zone)",
        "Reads a timestamp as the wall-clock time of the zone and returns it in UTC",
    ),
    (
        "trunc",
        "trunc(date, fmt) / trunc(x[, d])",
        "Returns the date truncated to the year, quarter or month of fmt, or a number truncated to d decimals",
    ),
    (
        "ucase",
        "ucase(str)",
        "Returns str with all characters changed to uppercase",
    ),
    (
        "unbase64",
        "unbase64(str)",
        "Returns the bytes of base64 text",
    ),
    (
        "unhex",
        "unhex(str)",
        "Returns the bytes of hexadecimal text",
    ),
    (
        "weekofyear",
        "weekofyear(date)",
        "Returns the week of the year of the given date. A week is considered to start on a Monday and week 1 is the first week with >3 days.",
    ),
    (
        "year",
        "year(param)",
        "Returns the year component of the date/timestamp/interval",
    ),
    (
        "posexplode",
        "posexplode(a)",
        "behaves like explode for arrays, but includes the position of items in the original array",
    ),
    ("size", "size(a)", "Returns the size of a, -1 for NULL"),
    (
        "sort_array",
        "sort_array(array(obj1, obj2,...))",
        "Sorts the input array in ascending order according to the natural ordering of the array elements",
    ),
    (
        "split",
        "split(str, regex)",
        "Splits str around occurances that match regex",
    ),
    (
        "stack",
        "stack(n, cols...)",
        "turns k columns into n rows of size k/n each",
    ),
    (
        "std",
        "std(x)",
        "Returns the standard deviation of a set of numbers",
    ),
    (
        "stddev",
        "stddev(x)",
        "Returns the standard deviation of a set of numbers",
    ),
    (
        "stddev_pop",
        "stddev_pop(x)",
        "Returns the standard deviation of a set of numbers",
    ),
    (
        "stddev_samp",
        "stddev_samp(x)",
        "Returns the sample standard deviation of a set of numbers",
    ),
    (
        "unix_timestamp",
        "unix_timestamp(date[, pattern])",
        "Converts the time to a number",
    ),
    (
        "variance",
        "variance(x)",
        "Returns the variance of a set of numbers",
    ),
    (
        "var_pop",
        "var_pop(x)",
        "Returns the variance of a set of numbers",
    ),
    (
        "var_samp",
        "var_samp(x)",
        "Returns the sample variance of a set of numbers",
    ),
];

/// Every function name, lower-case and sorted.
pub fn function_names(state: &SessionState) -> Vec<String> {
    let mut names: Vec<String> = state
        .scalar_functions()
        .keys()
        .chain(state.aggregate_functions().keys())
        .chain(state.window_functions().keys())
        .cloned()
        .chain(HIVE_FUNCTIONS.iter().map(|(name, _, _)| name.to_string()))
        .map(|name| name.to_lowercase())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The lines of `DESCRIBE FUNCTION [EXTENDED] name`.
pub fn describe_function(state: &SessionState, name: &str, extended: bool) -> Vec<String> {
    let name = name.to_lowercase();
    if let Some((_, usage, description)) = HIVE_FUNCTIONS.iter().find(|(n, _, _)| *n == name) {
        return vec![format!("{usage} - {description}")];
    }
    let (documentation, aliases) = if let Some(f) = state.scalar_functions().get(&name) {
        (f.documentation(), f.aliases().to_vec())
    } else if let Some(f) = state.aggregate_functions().get(&name) {
        (f.documentation(), f.aliases().to_vec())
    } else if let Some(f) = state.window_functions().get(&name) {
        (f.documentation(), f.aliases().to_vec())
    } else {
        return vec![format!("Function '{name}' does not exist.")];
    };
    let Some(documentation) = documentation else {
        return vec![format!("There is no documentation for function '{name}'")];
    };
    let mut lines = vec![format!(
        "{} - {}",
        documentation.syntax_example, documentation.description
    )];
    if extended {
        extended_lines(documentation, &aliases, &mut lines);
    }
    lines
}

fn extended_lines(documentation: &Documentation, aliases: &[String], lines: &mut Vec<String>) {
    if !aliases.is_empty() {
        lines.push(format!("Synonyms: {}", aliases.join(", ")));
    }
    for (argument, meaning) in documentation.arguments.iter().flatten() {
        lines.push(format!("  {argument}: {meaning}"));
    }
    if let Some(example) = &documentation.sql_example {
        lines.push("Example:".to_string());
        lines.extend(
            example
                .lines()
                .filter(|line| !line.trim_start().starts_with("```"))
                .map(|line| format!("  {line}")),
        );
    }
}
