//! Hive's `parse_url(url, part [, key])`: one part of a URL, split as `java.net.URL` splits
//! it (no normalization, no decoding). Parts: HOST, PATH, QUERY, REF, PROTOCOL, FILE,
//! AUTHORITY, USERINFO; `QUERY` with a key gives that key's value. A missing part, an unknown
//! part name or a string that is not a URL gives NULL.
//!
//! Written by hand: URL crates normalize (lowercase hosts, resolve `..`, add `/`), which
//! Hive does not.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::as_string_array;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::array_function::ArrayFunction;

pub fn udf() -> ScalarUDF {
    ArrayFunction::udf("parse_url", DataType::Utf8, coerce, evaluate)
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    if !(2..=3).contains(&arg_types.len()) {
        return exec_err!("parse_url takes 2 or 3 arguments: url, part [, key]");
    }
    Ok(vec![DataType::Utf8; arg_types.len()])
}

fn evaluate(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let urls = as_string_array(&arrays[0])?;
    let parts = as_string_array(&arrays[1])?;
    let keys = arrays
        .get(2)
        .map(|keys| as_string_array(keys))
        .transpose()?;
    let mut out = StringBuilder::with_capacity(rows, rows * 16);
    for row in 0..rows {
        if urls.is_null(row) || parts.is_null(row) {
            out.append_null();
            continue;
        }
        let url = Url::split(urls.value(row));
        let value = match keys {
            Some(keys) if keys.is_null(row) => None,
            Some(keys) => (parts.value(row) == "QUERY")
                .then(|| url.as_ref().and_then(|u| u.query_value(keys.value(row))))
                .flatten(),
            None => url.as_ref().and_then(|u| u.part(parts.value(row))),
        };
        out.append_option(value);
    }
    Ok(Arc::new(out.finish()))
}

/// A URL's parts, as slices of its text.
#[derive(Debug, PartialEq)]
struct Url<'a> {
    protocol: &'a str,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    reference: Option<&'a str>,
}

impl<'a> Url<'a> {
    fn split(text: &'a str) -> Option<Url<'a>> {
        let (protocol, rest) = text.split_once(':')?;
        let valid_protocol = protocol.starts_with(|c: char| c.is_ascii_alphabetic())
            && protocol
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !valid_protocol {
            return None;
        }
        let (rest, reference) = match rest.split_once('#') {
            Some((before, reference)) => (before, Some(reference)),
            None => (rest, None),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (rest, None),
        };
        let (authority, path) = match rest.strip_prefix("//") {
            Some(after) => match after.find('/') {
                Some(slash) => (Some(&after[..slash]), &after[slash..]),
                None => (Some(after), ""),
            },
            None => (None, rest),
        };
        Some(Url {
            protocol,
            authority,
            path,
            query,
            reference,
        })
    }

    fn part(&self, name: &str) -> Option<String> {
        match name {
            "HOST" => Some(self.host().to_string()),
            "PATH" => Some(self.path.to_string()),
            "QUERY" => self.query.map(str::to_string),
            "REF" => self.reference.map(str::to_string),
            "PROTOCOL" => Some(self.protocol.to_string()),
            "FILE" => Some(match self.query {
                Some(query) => format!("{}?{query}", self.path),
                None => self.path.to_string(),
            }),
            "AUTHORITY" => self.authority.map(str::to_string),
            "USERINFO" => self
                .authority
                .and_then(|a| a.rsplit_once('@'))
                .map(|(user, _)| user.to_string()),
            _ => None,
        }
    }

    fn host(&self) -> &'a str {
        let Some(authority) = self.authority else {
            return "";
        };
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if host_port.starts_with('[') {
            // An IPv6 literal keeps its brackets.
            return host_port
                .find(']')
                .map_or(host_port, |end| &host_port[..=end]);
        }
        host_port
            .split_once(':')
            .map_or(host_port, |(host, _)| host)
    }

    /// The value of `key` in the query: the text after the first `key=` that starts the
    /// query or follows a `&`, up to the next `&`.
    fn query_value(&self, key: &str) -> Option<String> {
        self.query?
            .split('&')
            .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1";

    fn part(url: &str, name: &str) -> Option<String> {
        Url::split(url)?.part(name)
    }

    #[test]
    fn parts_are_split_as_java_net_url_does() {
        assert_eq!(part(URL, "HOST").as_deref(), Some("facebook.com"));
        assert_eq!(part(URL, "PATH").as_deref(), Some("/path1/p.php"));
        assert_eq!(part(URL, "QUERY").as_deref(), Some("k1=v1&k2=v2"));
        assert_eq!(part(URL, "REF").as_deref(), Some("Ref1"));
        assert_eq!(
            part(URL, "FILE").as_deref(),
            Some("/path1/p.php?k1=v1&k2=v2")
        );
        assert_eq!(part(URL, "PROTOCOL").as_deref(), Some("http"));
        assert_eq!(part(URL, "USERINFO"), None);
        assert_eq!(part(URL, "AUTHORITY").as_deref(), Some("facebook.com"));
        assert_eq!(part(URL, "host"), None);
    }

    #[test]
    fn user_port_and_missing_parts() {
        let url = "https://me:pw@Example.com:8080";
        assert_eq!(part(url, "HOST").as_deref(), Some("Example.com"));
        assert_eq!(part(url, "USERINFO").as_deref(), Some("me:pw"));
        assert_eq!(
            part(url, "AUTHORITY").as_deref(),
            Some("me:pw@Example.com:8080")
        );
        assert_eq!(part(url, "PATH").as_deref(), Some(""));
        assert_eq!(part(url, "QUERY"), None);
        assert_eq!(part("not a url", "HOST"), None);
        assert_eq!(part("http://[::1]:80/x", "HOST").as_deref(), Some("[::1]"));
    }

    #[test]
    fn query_keys() {
        let url = Url::split(URL).expect("a URL");
        assert_eq!(url.query_value("k2").as_deref(), Some("v2"));
        assert_eq!(url.query_value("k3"), None);
        assert_eq!(url.query_value("k"), None);
    }
}
