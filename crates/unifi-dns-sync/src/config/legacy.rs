//! The earlier Python tool's `controllers.json` (moellere/unifi-dns-sync), mapped onto our
//! schema. The result is an ordinary config table, so env overrides and validation apply to it
//! exactly as to a TOML file.
//!
//! What the old tool did (src/main.py at c5ed457) and what each field becomes here:
//!
//! | field | old tool | here |
//! |---|---|---|
//! | `host` (required) | `https://{host}/proxy/network/integration/v1` | `url = "https://{host}"` (kept as is if it has a scheme); `name` derived from the host: lower-cased, every run of characters outside `[a-z0-9-]` → `-`, made unique with `-2`, `-3`… |
//! | `api_key` (required) | sent as `X-API-KEY` | inline `api_key` (accepted, with the usual "move it to api_key_env/api_key_file" warning) |
//! | `site` (default `default`) | ignored by the sync loop, which walked every site | `sites = [site]` if given, else `["*"]` (the field's intent, not the old defect) |
//! | `sync_dhcp_clients` (default false) | connected clients → A records | `sync.clients.enabled` = true if any entry has it (our setting is global; a warning names the entries that did not) |
//! | `domain_suffix` (default none) | appended to client names | `sync.clients.domain` if all entries agree, else a `[[site]] match = "<controller>/*"` with `clients_domain` per entry; without a suffix our default `{site}.home.arpa` applies (the old bare names would collide across sites) |
//! | `allowed_record_types` (default `["A_RECORD", "CNAME_RECORD"]`) | filter per controller | union of all entries → `sync.record_types` (our setting is global; a warning if entries differ) |
//! | `verify_ssl` (default **false**) | `requests(verify=…)` | `true` → `tls = "verify"`; a string (requests' CA bundle path) → `tls = { ca_file = … }`; `false` or missing → `tls = "insecure"`, with a warning per controller |
//!
//! Other keys in an entry are ignored with a warning (the old tool ignored them silently).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value as Json;
use toml::{Table, Value};

use super::reader::{Location, Problem};
use crate::record_type::RecordType;

const KNOWN: &[&str] = &[
    "host",
    "api_key",
    "site",
    "sync_dhcp_clients",
    "domain_suffix",
    "allowed_record_types",
    "verify_ssl",
];

/// Whether a config file's text is (meant to be) the legacy JSON array: it starts with `[`
/// followed by `{` or `]` (a TOML file starts with `[section]`), or the file ends in `.json`.
pub(crate) fn looks_like_legacy(text: &str, path: Option<&Path>) -> bool {
    let is_json_ext = path
        .and_then(Path::extension)
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let t = text.trim_start_matches('\u{feff}').trim_start();
    match t.strip_prefix('[') {
        Some(rest) => {
            is_json_ext || matches!(rest.trim_start().chars().next(), Some('{') | Some(']'))
        }
        None => is_json_ext,
    }
}

/// Derives a controller name (`[a-z0-9-]+`) from a host.
pub(crate) fn name_from_host(host: &str) -> String {
    let without_scheme = host.split_once("://").map_or(host, |(_, rest)| rest);
    let authority = without_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let hostname = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    let mut out = String::new();
    for c in hostname.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "controller".to_string()
    } else {
        trimmed.to_string()
    }
}

pub(crate) struct Converted {
    pub table: Table,
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
}

/// Converts the parsed JSON document. `file` is used for problem locations.
pub(crate) fn convert(doc: &Json, file: &Path) -> Converted {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut problem = |key: String, message: String| {
        problems.push(Problem {
            location: Location::File {
                path: file.to_path_buf(),
                line: None,
                column: None,
            },
            key: Some(key),
            message,
        });
    };

    let Some(entries) = doc.as_array() else {
        problem(
            "(document)".into(),
            "a JSON config must be an array of controllers (the earlier tool's controllers.json); \
             for everything else use the TOML format shown in config.example.toml"
                .into(),
        );
        return Converted {
            table: Table::new(),
            problems,
            warnings,
        };
    };

    let mut controllers = Vec::new();
    let mut used_names: BTreeSet<String> = BTreeSet::new();
    let mut clients_on: Vec<(String, Option<String>)> = Vec::new();
    let mut clients_off: Vec<String> = Vec::new();
    let mut record_types: Vec<RecordType> = Vec::new();
    let mut type_sets: BTreeSet<Vec<RecordType>> = BTreeSet::new();

    for (i, entry) in entries.iter().enumerate() {
        let Some(obj) = entry.as_object() else {
            problem(
                format!("entry [{i}]"),
                "must be an object with at least \"host\" and \"api_key\"".into(),
            );
            continue;
        };
        let host = match obj.get("host") {
            Some(Json::String(h)) if !h.trim().is_empty() => h.trim().to_string(),
            Some(_) => {
                problem(
                    format!("entry [{i}].host"),
                    "must be a non-empty string such as \"192.168.1.1\"".into(),
                );
                continue;
            }
            None => {
                problem(
                    format!("entry [{i}].host"),
                    "is missing; add \"host\": \"192.168.1.1\" (the console's address)".into(),
                );
                continue;
            }
        };
        let label = format!("entry [{i}] (host {host:?})");

        let base = name_from_host(&host);
        let mut name = base.clone();
        let mut n = 2;
        while used_names.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        used_names.insert(name.clone());

        let mut c = Table::new();
        c.insert("name".into(), Value::String(name.clone()));
        let url = if host.contains("://") {
            host.clone()
        } else {
            format!("https://{host}")
        };
        c.insert("url".into(), Value::String(url));

        match obj.get("api_key") {
            Some(Json::String(k)) => {
                c.insert("api_key".into(), Value::String(k.clone()));
            }
            Some(_) => problem(format!("{label}.api_key"), "must be a string".into()),
            None => problem(
                format!("{label}.api_key"),
                "is missing; add the controller's API key (or move to the TOML format and use api_key_env)".into(),
            ),
        }

        match obj.get("site") {
            Some(Json::String(s)) if !s.trim().is_empty() => {
                c.insert(
                    "sites".into(),
                    Value::Array(vec![Value::String(s.trim().to_string())]),
                );
            }
            None | Some(Json::Null) => {
                c.insert(
                    "sites".into(),
                    Value::Array(vec![Value::String("*".into())]),
                );
            }
            Some(_) => problem(
                format!("{label}.site"),
                "must be a site name such as \"default\"".into(),
            ),
        }

        match obj.get("verify_ssl") {
            Some(Json::Bool(true)) => {
                c.insert("tls".into(), Value::String("verify".into()));
            }
            Some(Json::String(ca)) if !ca.trim().is_empty() => {
                let mut t = Table::new();
                t.insert("ca_file".into(), Value::String(ca.trim().to_string()));
                c.insert("tls".into(), Value::Table(t));
            }
            None | Some(Json::Null) | Some(Json::Bool(false)) => {
                c.insert("tls".into(), Value::String("insecure".into()));
            }
            Some(_) => problem(
                format!("{label}.verify_ssl"),
                "must be true, false or the path of a CA bundle".into(),
            ),
        }

        let clients = match obj.get("sync_dhcp_clients") {
            Some(Json::Bool(b)) => *b,
            None | Some(Json::Null) => false,
            Some(_) => {
                problem(
                    format!("{label}.sync_dhcp_clients"),
                    "must be true or false".into(),
                );
                false
            }
        };
        let suffix = match obj.get("domain_suffix") {
            Some(Json::String(s)) => {
                let s = s.trim().trim_matches('.').to_ascii_lowercase();
                (!s.is_empty()).then_some(s)
            }
            None | Some(Json::Null) => None,
            Some(_) => {
                problem(
                    format!("{label}.domain_suffix"),
                    "must be a string such as \"home.arpa\"".into(),
                );
                None
            }
        };
        if clients {
            clients_on.push((name.clone(), suffix));
        } else {
            clients_off.push(name.clone());
        }

        let types: Vec<RecordType> = match obj.get("allowed_record_types") {
            None | Some(Json::Null) => vec![RecordType::A, RecordType::Cname],
            Some(Json::Array(items)) => {
                let mut out = Vec::new();
                for (j, item) in items.iter().enumerate() {
                    match item.as_str().map(str::parse::<RecordType>) {
                        Some(Ok(t)) => {
                            if !out.contains(&t) {
                                out.push(t);
                            }
                        }
                        Some(Err(e)) => {
                            problem(format!("{label}.allowed_record_types[{j}]"), e.to_string())
                        }
                        None => problem(
                            format!("{label}.allowed_record_types[{j}]"),
                            "must be a string such as \"A_RECORD\"".into(),
                        ),
                    }
                }
                out
            }
            Some(_) => {
                problem(
                    format!("{label}.allowed_record_types"),
                    "must be a list such as [\"A_RECORD\", \"CNAME_RECORD\"]".into(),
                );
                Vec::new()
            }
        };
        for t in &types {
            if !record_types.contains(t) {
                record_types.push(*t);
            }
        }
        let mut sorted = types.clone();
        sorted.sort();
        type_sets.insert(sorted);

        let mut unknown: Vec<&str> = obj
            .keys()
            .map(String::as_str)
            .filter(|k| !KNOWN.contains(k))
            .collect();
        unknown.sort_unstable();
        if !unknown.is_empty() {
            warnings.push(format!(
                "{}: {label}: key(s) {} are not used by unifi-dns-sync and are ignored",
                file.display(),
                unknown.join(", ")
            ));
        }
        controllers.push(Value::Table(c));
    }

    let mut table = Table::new();
    let mut sync = Table::new();
    if !record_types.is_empty() {
        sync.insert(
            "record_types".into(),
            Value::Array(
                record_types
                    .iter()
                    .map(|t| Value::String(t.as_str().into()))
                    .collect(),
            ),
        );
    }
    if type_sets.len() > 1 {
        let list: Vec<&str> = record_types.iter().map(|t| t.as_str()).collect();
        warnings.push(format!(
            "{}: the entries allow different record types; record types are a global setting now, \
             so all of {} are synced between every site",
            file.display(),
            list.join(", ")
        ));
    }

    let mut sites = Vec::new();
    if !clients_on.is_empty() {
        let mut clients = Table::new();
        clients.insert("enabled".into(), Value::Boolean(true));
        let suffixes: BTreeSet<&str> = clients_on
            .iter()
            .filter_map(|(_, s)| s.as_deref())
            .collect();
        let all_have_one = clients_on.iter().all(|(_, s)| s.is_some());
        if suffixes.len() == 1 && all_have_one {
            if let Some(s) = suffixes.first() {
                clients.insert("domain".into(), Value::String((*s).to_string()));
            }
        } else {
            for (name, suffix) in &clients_on {
                match suffix {
                    Some(s) => {
                        let mut site = Table::new();
                        site.insert("match".into(), Value::String(format!("{name}/*")));
                        site.insert("clients_domain".into(), Value::String(s.clone()));
                        sites.push(Value::Table(site));
                    }
                    None => warnings.push(format!(
                        "{}: controller {name:?} has sync_dhcp_clients but no domain_suffix; its client \
                         names get the default suffix {:?} instead of bare names",
                        file.display(),
                        super::defaults::CLIENTS_DOMAIN
                    )),
                }
            }
        }
        sync.insert("clients".into(), Value::Table(clients));
        if !clients_off.is_empty() {
            warnings.push(format!(
                "{}: sync_dhcp_clients is on for some controllers but off for {}; client names are a \
                 global setting now and are published from every site",
                file.display(),
                clients_off.join(", ")
            ));
        }
    }
    if !sync.is_empty() {
        table.insert("sync".into(), Value::Table(sync));
    }
    table.insert("controller".into(), Value::Array(controllers));
    if !sites.is_empty() {
        table.insert("site".into(), Value::Array(sites));
    }
    Converted {
        table,
        problems,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        assert!(looks_like_legacy("[{\"host\": \"x\"}]", None));
        assert!(looks_like_legacy("  [\n  {\n", None));
        assert!(looks_like_legacy("[]", None));
        assert!(!looks_like_legacy("[database]\nurl = \"x\"", None));
        assert!(!looks_like_legacy("[[controller]]\n", None));
        assert!(looks_like_legacy(
            "[broken",
            Some(Path::new("/x/controllers.json"))
        ));
        assert!(!looks_like_legacy("", None));
    }

    #[test]
    fn names_from_hosts() {
        assert_eq!(name_from_host("192.168.1.1"), "192-168-1-1");
        assert_eq!(
            name_from_host("https://UniFi.Example.com:8443/x"),
            "unifi-example-com"
        );
        assert_eq!(name_from_host("[fd00::1]:443"), "fd00-1");
        assert_eq!(name_from_host("***"), "controller");
    }
}
