//! `like_segments(s, pattern)`: `s LIKE pattern` for a pattern whose only wildcard is `%`,
//! matched segment by segment with memchr's substring search. Arrow's LIKE kernel matches a
//! pattern with one `%` at either end (prefix, suffix, contains) directly, and anything else
//! with a regular expression: TPC-H Q13's `o_comment not like '%special%requests%'` spent
//! more time in that regular expression than in the rest of the query. The optimizer rule
//! `like_segments` plans such LIKEs with this function.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use memchr::memmem::Finder;
use std::sync::Arc;

pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(LikeSegments {
        signature: Signature::any(2, Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct LikeSegments {
    signature: Signature,
}

/// A LIKE pattern without `_` or escapes, split at its `%`s: the text must start with
/// `prefix`, end with `suffix`, and hold the `middle` segments in order between them.
pub struct Segments<'a> {
    prefix: &'a [u8],
    middle: Vec<Finder<'a>>,
    suffix: &'a [u8],
}

impl<'a> Segments<'a> {
    /// The segments of `pattern`, or `None` when it has a `_` or a backslash (escape), or
    /// no `%` at all.
    pub fn of(pattern: &'a str) -> Option<Self> {
        if pattern.contains(['_', '\\']) {
            return None;
        }
        let parts: Vec<&str> = pattern.split('%').collect();
        let (&prefix, rest) = parts.split_first()?;
        let (&suffix, middle) = rest.split_last()?;
        Some(Segments {
            prefix: prefix.as_bytes(),
            middle: middle
                .iter()
                .filter(|segment| !segment.is_empty())
                .map(|segment| Finder::new(segment.as_bytes()))
                .collect(),
            suffix: suffix.as_bytes(),
        })
    }

    /// Whether arrow's kernel would match `pattern` with a regular expression: a `%`
    /// remains once one is taken off each end.
    pub fn needs_regex(pattern: &str) -> bool {
        let inner = pattern.strip_prefix('%').unwrap_or(pattern);
        let inner = inner.strip_suffix('%').unwrap_or(inner);
        inner.contains('%')
    }

    /// Whether `text` matches. UTF-8 is self-synchronizing, so a byte match of a segment is
    /// a match of its characters.
    pub fn matches(&self, text: &str) -> bool {
        let text = text.as_bytes();
        if text.len() < self.prefix.len() + self.suffix.len()
            || !text.starts_with(self.prefix)
            || !text.ends_with(self.suffix)
        {
            return false;
        }
        let mut rest = &text[self.prefix.len()..text.len() - self.suffix.len()];
        for segment in &self.middle {
            match segment.find(rest) {
                Some(at) => rest = &rest[at + segment.needle().len()..],
                None => return false,
            }
        }
        true
    }
}

fn match_strings(strings: &ArrayRef, segments: &Segments) -> Result<BooleanArray> {
    let matched = |text: &str| segments.matches(text);
    Ok(match strings.data_type() {
        DataType::Utf8View => BooleanArray::from_unary(strings.as_string_view(), matched),
        DataType::Utf8 => BooleanArray::from_unary(strings.as_string::<i32>(), matched),
        DataType::LargeUtf8 => BooleanArray::from_unary(strings.as_string::<i64>(), matched),
        other => return exec_err!("like_segments takes a string, not {other}"),
    })
}

impl ScalarUDFImpl for LikeSegments {
    fn name(&self) -> &str {
        "like_segments"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [text, pattern] = args.args.as_slice() else {
            return exec_err!("like_segments takes a string and a pattern");
        };
        let ColumnarValue::Scalar(pattern) = pattern else {
            return exec_err!("like_segments takes a constant pattern");
        };
        let Some(Some(pattern)) = pattern.try_as_str() else {
            return exec_err!("like_segments takes a constant pattern");
        };
        let Some(segments) = Segments::of(pattern) else {
            return exec_err!("like_segments cannot match the pattern {pattern}");
        };
        match text {
            ColumnarValue::Array(strings) => Ok(ColumnarValue::Array(Arc::new(match_strings(
                strings, &segments,
            )?))),
            ColumnarValue::Scalar(scalar) => {
                let strings = scalar.to_array()?;
                let matched = match_strings(&strings, &segments)?;
                let value = (!matched.is_null(0)).then(|| matched.value(0));
                Ok(ColumnarValue::Scalar(ScalarValue::Boolean(value)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Segments;

    fn like(text: &str, pattern: &str) -> bool {
        Segments::of(pattern).expect("a % pattern").matches(text)
    }

    #[test]
    fn segments_match_in_order_between_the_anchors() {
        assert!(like("no special requests here", "%special%requests%"));
        assert!(like("specialrequests", "%special%requests%"));
        assert!(!like("requests are special", "%special%requests%"));
        assert!(like("abc", "a%c"));
        assert!(!like("ac b", "a%b%c"));
        // The prefix and the suffix do not share characters.
        assert!(!like("a", "a%a"));
        assert!(like("aa", "a%a"));
        assert!(like("Customer x Complaints", "Customer%Complaints"));
        assert!(like("héllo wörld", "%é%ö%"));
        assert!(like("", "%%"));
    }

    #[test]
    fn only_patterns_arrow_sends_to_a_regex_are_taken() {
        assert!(Segments::needs_regex("%special%requests%"));
        assert!(Segments::needs_regex("a%b"));
        assert!(!Segments::needs_regex("%green%"));
        assert!(!Segments::needs_regex("PROMO%"));
        assert!(!Segments::needs_regex("%BRASS"));
        assert!(Segments::of("a_b%c").is_none());
        assert!(Segments::of("a\\%b%c").is_none());
        assert!(Segments::of("abc").is_none());
    }
}
