//! The environment: where variables come from (injectable for tests), the
//! `UNIFI_DNS_SYNC_<SECTION>__<KEY>` overrides and the earlier tool's variables.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::net::SocketAddr;

use toml::{Table, Value};

use super::reader::{Ctx, EnvOrigin, Location, Problem};

/// Prefix of every override variable (followed by `SECTION__KEY`).
pub const ENV_PREFIX: &str = "UNIFI_DNS_SYNC_";
/// Names the config file when `--config` is not given.
pub const CONFIG_ENV: &str = "UNIFI_DNS_SYNC_CONFIG";
/// The default variable holding the web token.
pub const WEB_TOKEN_ENV: &str = "UNIFI_DNS_SYNC_WEB_TOKEN";

/// The earlier tool's variables (SPEC §3 compatibility).
pub mod legacy_vars {
    /// Config file path, consulted after every other location.
    pub const CONFIG_PATH: &str = "CONFIG_PATH";
    /// `sync.interval` in whole seconds.
    pub const SYNC_INTERVAL_SECONDS: &str = "SYNC_INTERVAL_SECONDS";
    /// `database.url` (a path).
    pub const DB_PATH: &str = "DB_PATH";
    /// Log level for the binary ([`crate::config::Config::log_level`]).
    pub const LOG_LEVEL: &str = "LOG_LEVEL";
    /// The port of `web.listen` (the address part is kept).
    pub const WEB_UI_PORT: &str = "WEB_UI_PORT";
}

/// A source of environment variables. The loader needs to look variables up by name and to
/// list them (to find override variables that name no key, which are errors).
pub trait EnvSource {
    /// The value of a variable, `None` if unset or not UTF-8.
    fn var(&self, name: &str) -> Option<String>;
    /// The names of all variables that are set.
    fn names(&self) -> Vec<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        process_env(name)
    }

    fn names(&self) -> Vec<String> {
        std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .collect()
    }
}

/// Looks a variable up in the process environment (`None` if unset or not UTF-8).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl<S: BuildHasher> EnvSource for HashMap<String, String, S> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }

    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

impl EnvSource for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }

    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

/// A non-empty variable (empty counts as unset).
pub(crate) fn non_empty(env: &dyn EnvSource, name: &str) -> Option<String> {
    env.var(name).filter(|v| !v.trim().is_empty())
}

/// How a controller name appears in a variable name: upper-case, `-` as `_`.
pub fn controller_env_name(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

/// How a `[[site]] match` appears in a variable name: upper-case, `/` as `__`, any other
/// character outside `A-Z0-9` as `_` (`hq/default` → `HQ__DEFAULT`).
pub fn site_env_name(pattern: &str) -> String {
    let (controller, site) = pattern.split_once('/').unwrap_or((pattern, ""));
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("{}__{}", clean(controller), clean(site))
}

/// Keys whose override value is always taken verbatim, never read as TOML.
const VERBATIM_KEYS: &[&str] = &["api_key", "token"];

/// An override value: TOML where it parses as one value (`true`, `10`, `["A","AAAA"]`,
/// `{ ca_file = "/x" }`), else the text itself.
fn parse_value(raw: &str) -> Value {
    let doc = format!("v = {raw}");
    match doc.parse::<Table>() {
        Ok(mut t) if t.len() == 1 => t
            .remove("v")
            .unwrap_or_else(|| Value::String(raw.to_string())),
        _ => Value::String(raw.to_string()),
    }
}

fn env_problem(ctx: &mut Ctx<'_>, var: &str, key: Option<String>, message: impl Into<String>) {
    ctx.problems.push(Problem {
        location: Location::Env {
            var: var.to_string(),
        },
        key,
        message: message.into(),
    });
}

/// Sets `value` at `keys` inside `table`, creating (or replacing non-table) intermediates.
fn insert_at(table: &mut Table, keys: &[String], value: Value) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut cur = table;
    for k in parents {
        let entry = cur
            .entry(k.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        match entry {
            Value::Table(t) => cur = t,
            _ => return,
        }
    }
    cur.insert(last.clone(), value);
}

/// Applies the earlier tool's variables (lower precedence than `UNIFI_DNS_SYNC_*`).
/// Returns the log level (`LOG_LEVEL`), normalised.
pub(crate) fn apply_legacy_vars(doc: &mut Table, ctx: &mut Ctx<'_>) -> Option<String> {
    use legacy_vars::*;

    if let Some(raw) = non_empty(ctx.env, SYNC_INTERVAL_SECONDS) {
        match raw.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => {
                let secs = i64::try_from(secs).unwrap_or(i64::MAX);
                set(
                    doc,
                    ctx,
                    "sync.interval",
                    SYNC_INTERVAL_SECONDS,
                    &raw,
                    Value::Integer(secs),
                );
            }
            _ => env_problem(
                ctx,
                SYNC_INTERVAL_SECONDS,
                Some("sync.interval".into()),
                format!(
                    "{raw:?} is not a whole number of seconds above 0; write e.g. 300, or set UNIFI_DNS_SYNC_SYNC__INTERVAL=5m"
                ),
            ),
        }
    }

    if let Some(raw) = non_empty(ctx.env, DB_PATH) {
        set(
            doc,
            ctx,
            "database.url",
            DB_PATH,
            &raw,
            Value::String(raw.trim().to_string()),
        );
    }

    if let Some(raw) = non_empty(ctx.env, WEB_UI_PORT) {
        match raw.trim().parse::<u16>() {
            Ok(port) if port > 0 => {
                let current = doc
                    .get("web")
                    .and_then(|w| w.get("listen"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let base = match &current {
                    Some(text) => text.parse::<SocketAddr>().ok(),
                    None => super::defaults::LISTEN.parse::<SocketAddr>().ok(),
                };
                // An unparsable listen from the file is left alone so that its own error shows.
                if let Some(mut addr) = base {
                    addr.set_port(port);
                    set(
                        doc,
                        ctx,
                        "web.listen",
                        WEB_UI_PORT,
                        &raw,
                        Value::String(addr.to_string()),
                    );
                }
            }
            _ => env_problem(
                ctx,
                WEB_UI_PORT,
                Some("web.listen".into()),
                format!(
                    "{raw:?} is not a TCP port (1-65535); write e.g. 8080, or set UNIFI_DNS_SYNC_WEB__LISTEN=0.0.0.0:8080"
                ),
            ),
        }
    }

    non_empty(ctx.env, LOG_LEVEL).map(|raw| normalise_log_level(&raw))
}

fn set(doc: &mut Table, ctx: &mut Ctx<'_>, path: &str, var: &str, raw: &str, value: Value) {
    let keys: Vec<String> = path.split('.').map(String::from).collect();
    insert_at(doc, &keys, value);
    ctx.env_paths.insert(
        path.to_string(),
        EnvOrigin {
            var: var.to_string(),
            raw: raw.to_string(),
        },
    );
}

/// `DEBUG` → `debug`, Python's `WARNING` → `warn`, `CRITICAL`/`FATAL` → `error`; anything
/// else (e.g. a tracing filter such as `unifi_dns_sync=debug`) unchanged.
pub fn normalise_log_level(raw: &str) -> String {
    let t = raw.trim();
    match t.to_ascii_lowercase().as_str() {
        "trace" => "trace".into(),
        "debug" => "debug".into(),
        "info" | "notice" => "info".into(),
        "warn" | "warning" => "warn".into(),
        "error" | "critical" | "fatal" => "error".into(),
        "off" | "none" => "off".into(),
        _ => t.to_string(),
    }
}

/// Applies every `UNIFI_DNS_SYNC_<SECTION>__<KEY>` variable to `doc`, in name order.
/// Variables without `__` after the prefix (`UNIFI_DNS_SYNC_CONFIG`,
/// `UNIFI_DNS_SYNC_WEB_TOKEN`) are not overrides. Keys the variables name are checked later,
/// by the reader, with the variable as the location.
pub(crate) fn apply_overrides(doc: &mut Table, ctx: &mut Ctx<'_>) {
    let mut vars: Vec<String> = ctx
        .env
        .names()
        .into_iter()
        .filter(|n| {
            n.strip_prefix(ENV_PREFIX)
                .is_some_and(|rest| rest.contains("__"))
        })
        .collect();
    vars.sort();
    vars.dedup();

    for var in vars {
        let rest = &var[ENV_PREFIX.len()..];
        let Some(raw) = ctx.env.var(&var) else {
            env_problem(ctx, &var, None, "its value is not valid UTF-8");
            continue;
        };
        let segs: Vec<&str> = rest.split("__").collect();
        if segs.iter().any(|s| s.is_empty()) {
            env_problem(
                ctx,
                &var,
                None,
                "is not of the form UNIFI_DNS_SYNC_<SECTION>__<KEY> (sections and keys are \
                 separated by exactly two underscores, e.g. UNIFI_DNS_SYNC_SYNC__INTERVAL); \
                 rename or unset it",
            );
            continue;
        }
        let lower = |s: &str| s.to_ascii_lowercase();
        let section = lower(segs[0]);

        let (keys, path): (Vec<String>, String) = match section.as_str() {
            "controller" | "site" if segs.len() < 3 => {
                let form = if section == "controller" {
                    "UNIFI_DNS_SYNC_CONTROLLER__<NAME>__<KEY>, e.g. UNIFI_DNS_SYNC_CONTROLLER__HQ__URL"
                } else {
                    "UNIFI_DNS_SYNC_SITE__<CONTROLLER>__<SITE>__<KEY>, e.g. UNIFI_DNS_SYNC_SITE__HQ__DEFAULT__PUBLISH"
                };
                env_problem(ctx, &var, None, format!("names no key; the form is {form}"));
                continue;
            }
            "controller" => {
                let wanted = segs[1];
                let names = entry_names(doc, "controller", "name");
                let found = names.iter().position(|n| {
                    n.as_deref()
                        .is_some_and(|n| controller_env_name(n).eq_ignore_ascii_case(wanted))
                });
                let Some(i) = found else {
                    let known = list_known(&names, controller_env_name);
                    env_problem(
                        ctx,
                        &var,
                        None,
                        format!(
                            "names controller {wanted:?}, which is not configured (controllers: {known}); \
                             overrides can only change a [[controller]] of the config file, named by its \
                             name upper-cased with '-' as '_'"
                        ),
                    );
                    continue;
                };
                let inner: Vec<String> = segs[2..].iter().map(|s| lower(s)).collect();
                let path = format!("controller[{i}].{}", inner.join("."));
                let mut keys = vec!["controller".to_string(), i.to_string()];
                keys.extend(inner);
                (keys, path)
            }
            "site" => {
                let key = lower(segs[segs.len() - 1]);
                let wanted = segs[1..segs.len() - 1].join("__");
                let matches = entry_names(doc, "site", "match");
                let found = matches.iter().position(|m| {
                    m.as_deref()
                        .is_some_and(|m| site_env_name(m).eq_ignore_ascii_case(&wanted))
                });
                let Some(i) = found else {
                    let known = list_known(&matches, site_env_name);
                    env_problem(
                        ctx,
                        &var,
                        None,
                        format!(
                            "names [[site]] {wanted:?}, which is not in the config file (sites: {known}); \
                             a [[site]] with match = \"hq/default\" is named HQ__DEFAULT"
                        ),
                    );
                    continue;
                };
                let path = format!("site[{i}].{key}");
                (vec!["site".to_string(), i.to_string(), key], path)
            }
            _ => {
                let keys: Vec<String> = segs.iter().map(|s| lower(s)).collect();
                let path = keys.join(".");
                (keys, path)
            }
        };

        let last = keys.last().map(String::as_str).unwrap_or_default();
        let value = if VERBATIM_KEYS.contains(&last) {
            Value::String(raw.clone())
        } else {
            parse_value(&raw)
        };
        // Setting one source of a secret from the environment replaces the file's other
        // sources, so that e.g. api_key_file from a Kubernetes secret wins over api_key_env.
        let siblings: &[&str] = match last {
            "api_key" | "api_key_env" | "api_key_file" => {
                &["api_key", "api_key_env", "api_key_file"]
            }
            "token" | "token_env" | "token_file" => &["token", "token_env", "token_file"],
            _ => &[],
        };
        insert_in_doc(doc, &keys, value, siblings);
        ctx.env_paths.insert(
            path,
            EnvOrigin {
                var: var.clone(),
                raw,
            },
        );
    }
}

/// Like [`insert_at`], but numeric segments index into arrays (`controller`, `0`, `url`), and
/// `remove` names sibling keys to drop.
fn insert_in_doc(doc: &mut Table, keys: &[String], value: Value, remove: &[&str]) {
    if let [section, index, rest @ ..] = keys
        && let Ok(i) = index.parse::<usize>()
    {
        if let Some(Value::Table(entry)) = doc
            .get_mut(section.as_str())
            .and_then(|v| v.as_array_mut())
            .and_then(|a| a.get_mut(i))
        {
            if rest.len() == 1 {
                for r in remove {
                    if *r != rest[0] {
                        entry.remove(*r);
                    }
                }
            }
            insert_at(entry, rest, value);
        }
        return;
    }
    if keys.len() >= 2 {
        let parent = &keys[..keys.len() - 1];
        let mut cur = Some(&mut *doc);
        for k in parent {
            cur = cur
                .and_then(|t| t.get_mut(k.as_str()))
                .and_then(Value::as_table_mut);
        }
        if let Some(t) = cur {
            for r in remove {
                if Some(*r) != keys.last().map(String::as_str) {
                    t.remove(*r);
                }
            }
        }
    }
    insert_at(doc, keys, value);
}

/// The `key` of each entry of the array of tables `section` (None where absent).
fn entry_names(doc: &Table, section: &str, key: &str) -> Vec<Option<String>> {
    doc.get(section)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| e.get(key).and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn list_known(names: &[Option<String>], render: fn(&str) -> String) -> String {
    let known: Vec<String> = names.iter().flatten().map(|n| render(n)).collect();
    if known.is_empty() {
        "none".into()
    } else {
        known.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_toml_where_possible() {
        assert_eq!(parse_value("true"), Value::Boolean(true));
        assert_eq!(parse_value("10"), Value::Integer(10));
        assert_eq!(parse_value("0.5"), Value::Float(0.5));
        assert_eq!(parse_value("10m"), Value::String("10m".into()));
        assert_eq!(
            parse_value("0.0.0.0:8080"),
            Value::String("0.0.0.0:8080".into())
        );
        assert_eq!(parse_value("\"quoted\""), Value::String("quoted".into()));
        assert!(parse_value(r#"["A","AAAA"]"#).is_array());
        assert!(parse_value(r#"{ ca_file = "/x" }"#).is_table());
        // No way to smuggle in a second key.
        assert_eq!(
            parse_value("1\nother = 2"),
            Value::String("1\nother = 2".into())
        );
        assert_eq!(parse_value(""), Value::String(String::new()));
    }

    #[test]
    fn env_names() {
        assert_eq!(controller_env_name("branch-1"), "BRANCH_1");
        assert_eq!(site_env_name("hq/default"), "HQ__DEFAULT");
        assert_eq!(
            site_env_name("branch-1/Main Office"),
            "BRANCH_1__MAIN_OFFICE"
        );
    }

    #[test]
    fn log_levels() {
        assert_eq!(normalise_log_level("WARNING"), "warn");
        assert_eq!(normalise_log_level("DEBUG"), "debug");
        assert_eq!(normalise_log_level("CRITICAL"), "error");
        assert_eq!(
            normalise_log_level("unifi_dns_sync=debug"),
            "unifi_dns_sync=debug"
        );
    }
}
