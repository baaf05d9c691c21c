//! Hive variable substitution: `${hivevar:x}`, `${hiveconf:x}`, `${env:X}`, `${system:x}` and
//! `${x}` (a hivevar, else a hiveconf). Unknown variables are left as written, as Hive does.

use std::collections::BTreeMap;

/// Hive gives up after this many rounds of nested substitution.
const MAX_SUBSTITUTION_DEPTH: usize = 40;

pub struct Variables<'a> {
    pub hivevar: &'a BTreeMap<String, String>,
    pub hiveconf: &'a dyn Fn(&str) -> Option<String>,
}

impl Variables<'_> {
    fn lookup(&self, name: &str) -> Option<String> {
        if let Some(key) = name.strip_prefix("hivevar:") {
            return self.hivevar.get(key).cloned();
        }
        if let Some(key) = name.strip_prefix("hiveconf:") {
            return (self.hiveconf)(key);
        }
        if let Some(key) = name.strip_prefix("env:") {
            return std::env::var(key).ok();
        }
        if let Some(key) = name.strip_prefix("system:") {
            return match key {
                "user.name" => std::env::var("USER").ok(),
                "user.dir" => std::env::current_dir()
                    .ok()
                    .map(|d| d.display().to_string()),
                _ => None,
            };
        }
        self.hivevar
            .get(name)
            .cloned()
            .or_else(|| (self.hiveconf)(name))
    }

    /// Replaces every known `${...}` in `text`, repeating for values that hold variables.
    pub fn substitute(&self, text: &str) -> String {
        let mut current = text.to_string();
        for _ in 0..MAX_SUBSTITUTION_DEPTH {
            let next = self.substitute_once(&current);
            if next == current {
                break;
            }
            current = next;
        }
        current
    }

    fn substitute_once(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after.find('}') {
                Some(end) => {
                    let name = &after[..end];
                    match self.lookup(name) {
                        Some(value) => out.push_str(&value),
                        None => out.push_str(&rest[start..start + 2 + end + 1]),
                    }
                    rest = &after[end + 1..];
                }
                None => {
                    out.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_hive_variables() {
        let hivevar = BTreeMap::from([
            ("dt".to_string(), "2024-01-01".to_string()),
            ("t".to_string(), "${hivevar:dt}".to_string()),
        ]);
        let hiveconf = |key: &str| (key == "x").then(|| "conf".to_string());
        let vars = Variables {
            hivevar: &hivevar,
            hiveconf: &hiveconf,
        };
        assert_eq!(
            vars.substitute("select '${hivevar:dt}', '${dt}', ${hiveconf:x}, '${x}'"),
            "select '2024-01-01', '2024-01-01', conf, 'conf'"
        );
        assert_eq!(vars.substitute("${t}"), "2024-01-01");
        assert_eq!(vars.substitute("${unknown} ${"), "${unknown} ${");
        // SAFETY-free: reading an env var that every process has.
        assert!(!vars.substitute("${env:PATH}").contains("${"));
    }
}
