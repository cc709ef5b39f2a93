//! Reading a merged TOML table into typed values, with every problem located (file and line,
//! or the environment variable that set the key) and never echoing secret values.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::{Table, Value};

use super::env::EnvSource;

/// Where a configuration problem sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// In the config file; `line`/`column` (1-based) when known.
    File {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
    },
    /// Set by this environment variable.
    Env { var: String },
    /// No file was loaded: a built-in default.
    Defaults,
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub location: Location,
    /// The key, e.g. `sync.interval` or `controller[1] (name "branch").url`; `None` for problems
    /// that concern the whole file (syntax errors).
    pub key: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File { path, line, column } => {
                write!(f, "{}", path.display())?;
                if let Some(line) = line {
                    write!(f, ":{line}")?;
                    if let Some(column) = column {
                        write!(f, ":{column}")?;
                    }
                }
                f.write_str(": ")?;
                if let Some(key) = &self.key {
                    write!(f, "{key}: ")?;
                }
            }
            Location::Env { var } => {
                write!(f, "environment variable {var}")?;
                if let Some(key) = &self.key {
                    write!(f, " (sets {key})")?;
                }
                f.write_str(": ")?;
            }
            Location::Defaults => {
                if let Some(key) = &self.key {
                    write!(f, "{key} (no config file loaded): ")?;
                }
            }
        }
        f.write_str(&self.message)
    }
}

/// The environment variable that set a key, and its raw text.
#[derive(Debug, Clone)]
pub(crate) struct EnvOrigin {
    pub var: String,
    pub raw: String,
}

/// Key path (`controller[1].tls.ca_file`) → (line, column) in the config file.
pub(crate) type Index = HashMap<String, (usize, usize)>;

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Builds the location index of a TOML document. Returns the parse error (message, byte
/// offset) if the document is not valid TOML.
pub(crate) fn index_document(text: &str) -> Result<Index, (String, Option<usize>)> {
    use toml::de::{DeTable, DeValue};

    fn walk(table: &DeTable<'_>, prefix: &str, text: &str, out: &mut Index) {
        for (key, value) in table.iter() {
            let path = if prefix.is_empty() {
                key.get_ref().to_string()
            } else {
                format!("{prefix}.{}", key.get_ref())
            };
            out.insert(path.clone(), line_col(text, key.span().start));
            match value.get_ref() {
                DeValue::Table(t) => walk(t, &path, text, out),
                DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let item_path = format!("{path}[{i}]");
                        out.insert(item_path.clone(), line_col(text, item.span().start));
                        if let DeValue::Table(t) = item.get_ref() {
                            walk(t, &item_path, text, out);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    match DeTable::parse(text) {
        Ok(doc) => {
            let mut out = Index::new();
            walk(doc.get_ref(), "", text, &mut out);
            Ok(out)
        }
        Err(e) => Err((e.message().to_string(), e.span().map(|s| s.start))),
    }
}

/// The path itself, then each ancestor: `a[1].b.c`, `a[1].b`, `a[1]`, `a`.
fn self_and_ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let current = next?;
        next = current
            .rfind(['.', '['])
            .map(|i| &current[..i])
            .filter(|p| !p.is_empty());
        Some(current)
    })
}

/// A table being read, with the keys consumed so far (to report unknown ones).
pub(crate) struct Tbl<'t> {
    /// Machine path, e.g. `controller[1]`.
    pub path: String,
    /// Human label, e.g. `controller[1] (name "branch")`.
    pub label: String,
    pub table: &'t Table,
    seen: Vec<&'static str>,
}

impl<'t> Tbl<'t> {
    pub fn new(path: impl Into<String>, label: impl Into<String>, table: &'t Table) -> Self {
        Tbl {
            path: path.into(),
            label: label.into(),
            table,
            seen: Vec::new(),
        }
    }

    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn key_label(&self, key: &str) -> String {
        if self.label.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.label)
        }
    }

    /// Whether the key is present (marks it as known).
    pub fn has(&mut self, key: &'static str) -> bool {
        self.seen.push(key);
        self.table.contains_key(key)
    }
}

/// Reading context: where values came from, problems and warnings found so far.
pub(crate) struct Ctx<'e> {
    pub file: Option<PathBuf>,
    pub index: Index,
    pub env_paths: BTreeMap<String, EnvOrigin>,
    pub env: &'e dyn EnvSource,
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "a whole number",
        Value::Float(_) => "a decimal number",
        Value::Boolean(_) => "true/false",
        Value::Datetime(_) => "a date/time",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

impl<'e> Ctx<'e> {
    pub fn new(file: Option<PathBuf>, env: &'e dyn EnvSource) -> Self {
        Ctx {
            file,
            index: Index::new(),
            env_paths: BTreeMap::new(),
            env,
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Where the key at `path` was set.
    pub fn locate(&self, path: &str) -> Location {
        for p in self_and_ancestors(path) {
            if let Some(origin) = self.env_paths.get(p) {
                return Location::Env {
                    var: origin.var.clone(),
                };
            }
        }
        // A key that only exists because a variable set something below it (an unknown
        // section named by an override).
        if !self.index.contains_key(path) {
            let below = self.env_paths.iter().find(|(p, _)| {
                p.strip_prefix(path)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
            });
            if let Some((_, origin)) = below {
                return Location::Env {
                    var: origin.var.clone(),
                };
            }
        }
        if let Some(file) = &self.file {
            let pos = self_and_ancestors(path).find_map(|p| self.index.get(p));
            return Location::File {
                path: file.clone(),
                line: pos.map(|p| p.0),
                column: pos.map(|p| p.1),
            };
        }
        Location::Defaults
    }

    /// The environment variable that set exactly this key, if any.
    pub fn env_origin(&self, path: &str) -> Option<&EnvOrigin> {
        self.env_paths.get(path)
    }

    /// Whether the value at `path` came from the config file (not from the environment).
    pub fn set_in_file(&self, path: &str) -> bool {
        self.file.is_some() && matches!(self.locate(path), Location::File { .. })
    }

    pub fn problem(&mut self, path: &str, label: &str, message: impl Into<String>) {
        let location = self.locate(path);
        self.problems.push(Problem {
            location,
            key: Some(label.to_string()),
            message: message.into(),
        });
    }

    pub fn key_problem(&mut self, t: &Tbl<'_>, key: &str, message: impl Into<String>) {
        self.problem(&t.key_path(key), &t.key_label(key), message);
    }

    pub fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(message.into());
    }

    /// The raw value of a key (marks the key as known).
    pub fn value<'t>(&mut self, t: &mut Tbl<'t>, key: &'static str) -> Option<&'t Value> {
        t.seen.push(key);
        t.table.get(key)
    }

    fn wrong_type(&mut self, t: &Tbl<'_>, key: &str, v: &Value, expected: &str) {
        self.key_problem(
            t,
            key,
            format!("must be {expected}, found {}", type_name(v)),
        );
    }

    /// A string. A value set from the environment that TOML read as another type (`123`,
    /// `true`) is taken as the variable's raw text. The value is never echoed in errors.
    pub fn string(&mut self, t: &mut Tbl<'_>, key: &'static str) -> Option<String> {
        let v = self.value(t, key)?;
        match v {
            Value::String(s) => Some(s.clone()),
            other => {
                if let Some(origin) = self.env_origin(&t.key_path(key)) {
                    return Some(origin.raw.clone());
                }
                self.wrong_type(t, key, other, "a string in double quotes");
                None
            }
        }
    }

    pub fn boolean(&mut self, t: &mut Tbl<'_>, key: &'static str) -> Option<bool> {
        match self.value(t, key)? {
            Value::Boolean(b) => Some(*b),
            other => {
                self.wrong_type(t, key, other, "true or false (without quotes)");
                None
            }
        }
    }

    /// A whole number within `min..=max`.
    pub fn integer(
        &mut self,
        t: &mut Tbl<'_>,
        key: &'static str,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        match self.value(t, key)? {
            Value::Integer(i) if (min..=max).contains(i) => Some(*i),
            Value::Integer(i) => {
                let i = *i;
                let what = if i < min {
                    format!("at least {min}")
                } else {
                    format!("at most {max}")
                };
                self.key_problem(t, key, format!("must be {what}, got {i}"));
                None
            }
            other => {
                self.wrong_type(t, key, other, "a whole number");
                None
            }
        }
    }

    /// A number (whole or decimal).
    pub fn number(&mut self, t: &mut Tbl<'_>, key: &'static str) -> Option<f64> {
        match self.value(t, key)? {
            Value::Float(f) => Some(*f),
            Value::Integer(i) => Some(*i as f64),
            other => {
                self.wrong_type(t, key, other, "a number");
                None
            }
        }
    }

    /// A duration: a string such as `"5m"` or a whole number of seconds.
    pub fn duration(&mut self, t: &mut Tbl<'_>, key: &'static str) -> Option<Duration> {
        match self.value(t, key)? {
            Value::String(s) => match crate::duration::parse_duration(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.key_problem(t, key, e);
                    None
                }
            },
            Value::Integer(i) if *i >= 0 => Some(Duration::from_secs(i.unsigned_abs())),
            Value::Integer(i) => {
                let i = *i;
                self.key_problem(t, key, format!("must not be negative, got {i}"));
                None
            }
            other => {
                self.wrong_type(
                    t,
                    key,
                    other,
                    "a duration such as \"5m\", \"10s\" or \"90d\"",
                );
                None
            }
        }
    }

    /// A list of strings. From the environment, a plain string is split at commas
    /// (`A,AAAA`).
    pub fn string_list(&mut self, t: &mut Tbl<'_>, key: &'static str) -> Option<Vec<String>> {
        let v = self.value(t, key)?;
        match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        other => {
                            let label = format!("{}[{i}]", t.key_label(key));
                            let msg = format!(
                                "must be a string in double quotes, found {}",
                                type_name(other)
                            );
                            self.problem(&t.key_path(key), &label, msg);
                            return None;
                        }
                    }
                }
                Some(out)
            }
            Value::String(s) if self.env_origin(&t.key_path(key)).is_some() => Some(
                s.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(String::from)
                    .collect(),
            ),
            other => {
                self.wrong_type(t, key, other, "a list of strings, e.g. [\"a\", \"b\"]");
                None
            }
        }
    }

    /// A sub-table; reports a problem if the key holds something else.
    pub fn table<'t>(&mut self, t: &mut Tbl<'t>, key: &'static str) -> Option<Tbl<'t>> {
        match self.value(t, key)? {
            Value::Table(sub) => Some(Tbl::new(t.key_path(key), t.key_label(key), sub)),
            other => {
                let hint = format!("a table: write [{}] on a line of its own", t.key_path(key));
                self.wrong_type(t, key, other, &hint);
                None
            }
        }
    }

    /// An array of tables (`[[controller]]`), with each entry's index.
    pub fn tables<'t>(&mut self, t: &mut Tbl<'t>, key: &'static str) -> Vec<(usize, &'t Table)> {
        let path = t.key_path(key);
        match self.value(t, key) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::Table(tbl) => out.push((i, tbl)),
                        other => {
                            let msg = format!(
                                "must be a table, found {}; write each entry as [[{key}]] followed by its keys",
                                type_name(other)
                            );
                            let at = format!("{path}[{i}]");
                            self.problem(&at, &at, msg);
                        }
                    }
                }
                out
            }
            Some(other) => {
                let msg = format!(
                    "must be a list of tables, found {}; write [[{key}]] (double brackets) for each entry",
                    type_name(other)
                );
                self.key_problem(t, key, msg);
                Vec::new()
            }
        }
    }

    /// Reports every key of `t` that was not read as unknown.
    pub fn finish(&mut self, t: Tbl<'_>) {
        let mut known: Vec<&str> = t.seen.clone();
        known.sort_unstable();
        known.dedup();
        for key in t.table.keys() {
            if known.contains(&key.as_str()) {
                continue;
            }
            let section = if t.label.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in {}", t.label)
            };
            let mut msg = format!("unknown key {key:?} {section}");
            match suggest(key, &known) {
                Some(s) => msg.push_str(&format!("; did you mean {s:?}?")),
                None => msg.push('.'),
            }
            msg.push_str(&format!(
                " Remove it or fix its spelling; the keys allowed here are: {}",
                known.join(", ")
            ));
            self.key_problem(&t, key, msg);
        }
    }

    /// A path from the config: relative paths from the file are taken relative to the file's
    /// directory; paths from the environment as given.
    pub fn resolve_path(&self, key_path: &str, raw: &str) -> PathBuf {
        let p = Path::new(raw);
        if p.is_absolute() || !self.set_in_file(key_path) {
            return p.to_path_buf();
        }
        match self.file.as_deref().and_then(Path::parent) {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(p),
            _ => p.to_path_buf(),
        }
    }
}

/// The known key closest to `key`, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (levenshtein(&key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) || k.starts_with(&key) || key.starts_with(k))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors() {
        let all: Vec<_> = self_and_ancestors("controller[1].tls.ca_file").collect();
        assert_eq!(
            all,
            vec![
                "controller[1].tls.ca_file",
                "controller[1].tls",
                "controller[1]",
                "controller"
            ]
        );
        assert_eq!(self_and_ancestors("sync").collect::<Vec<_>>(), vec!["sync"]);
    }

    #[test]
    fn index_has_lines_of_nested_keys() {
        let text = "[sync]\ninterval = \"5m\"\n\n[[controller]]\nname = \"a\"\n\n[[controller]]\nname = \"b\"\nurl = \"x\"\n";
        let idx = index_document(text).unwrap();
        assert_eq!(idx["sync.interval"].0, 2);
        assert_eq!(idx["controller[0].name"].0, 5);
        assert_eq!(idx["controller[1].url"], (9, 1));
    }

    #[test]
    fn syntax_errors_have_an_offset() {
        let (msg, at) = index_document("[sync]\ninterval = \n").unwrap_err();
        assert!(!msg.is_empty());
        assert!(at.is_some());
    }

    #[test]
    fn suggestions() {
        let known = ["interval", "mode", "record_types"];
        assert_eq!(suggest("intervall", &known), Some("interval"));
        assert_eq!(suggest("record_type", &known), Some("record_types"));
        assert_eq!(suggest("colour", &known), None);
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 99), (1, 3));
    }
}
