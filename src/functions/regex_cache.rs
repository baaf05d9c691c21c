//! The compiled regex of a function whose pattern argument is usually the same on every
//! row: compiled again only when the pattern changes.

use datafusion::common::{Result, exec_datafusion_err};
use regex::Regex;

#[derive(Default)]
pub struct RegexCache {
    last: Option<(String, Regex)>,
}

impl RegexCache {
    /// `pattern` compiled; a pattern that does not compile is an error naming `function`.
    pub fn get(&mut self, pattern: &str, function: &str) -> Result<&Regex> {
        if self.last.as_ref().is_none_or(|(p, _)| p != pattern) {
            let regex = Regex::new(pattern)
                .map_err(|e| exec_datafusion_err!("{function}: bad regex '{pattern}': {e}"))?;
            self.last = Some((pattern.to_string(), regex));
        }
        match &self.last {
            Some((_, regex)) => Ok(regex),
            None => Err(exec_datafusion_err!("{function}: no regex compiled")),
        }
    }
}
