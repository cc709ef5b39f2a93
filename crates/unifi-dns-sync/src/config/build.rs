//! From text to a validated [`Config`]: parse, map the legacy format, apply the environment,
//! read every section, resolve secrets, cross-check.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use toml::{Table, Value};

use super::env::{self, EnvSource};
use super::reader::{self, Ctx, Location, Problem, Tbl};
use super::secret::{Secret, SecretSource};
use super::{
    ClientType, ClientsConfig, Config, ConfigError, ConfigFormat, ConfigSource, ControllerConfig,
    DatabaseConfig, DomainTemplate, FoundVia, SiteOverride, SyncConfig, TlsMode, WebConfig,
    defaults, legacy,
};
use crate::record_type::RecordType;

pub(crate) fn load_text(
    text: &str,
    origin: Option<(PathBuf, FoundVia)>,
    env: &dyn EnvSource,
    searched: Vec<PathBuf>,
) -> Result<Config, ConfigError> {
    let file = origin.as_ref().map(|(p, _)| p.clone());
    let origin_label = match &file {
        Some(p) => p.display().to_string(),
        None => "no config file; built-in defaults and environment".to_string(),
    };
    let mut ctx = Ctx::new(file.clone(), env);
    let invalid = |problems: Vec<Problem>| ConfigError::Invalid {
        origin: origin_label.clone(),
        problems,
    };

    let mut format = ConfigFormat::Toml;
    let mut doc = Table::new();
    if legacy::looks_like_legacy(text, file.as_deref()) {
        format = ConfigFormat::LegacyJson;
        let shown = file.clone().unwrap_or_else(|| PathBuf::from("<config>"));
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) => {
                let converted = legacy::convert(&json, &shown);
                if !converted.problems.is_empty() {
                    return Err(invalid(converted.problems));
                }
                doc = converted.table;
                ctx.warnings.extend(converted.warnings);
            }
            Err(e) => {
                let kind = match e.classify() {
                    serde_json::error::Category::Eof => "the JSON ends too early",
                    _ => "this is not valid JSON",
                };
                return Err(invalid(vec![Problem {
                    location: Location::File {
                        path: shown,
                        line: Some(e.line()),
                        column: Some(e.column()),
                    },
                    key: None,
                    message: format!(
                        "{kind}; a file starting with '[{{' or ending in .json is read as the earlier \
                         tool's controllers.json (a JSON array of controllers) — fix the JSON, or use \
                         the TOML format of config.example.toml"
                    ),
                }]));
            }
        }
    } else if !text.trim().is_empty() {
        let syntax_problem = |message: String, offset: Option<usize>| {
            let pos = offset.map(|o| reader::line_col(text, o));
            Problem {
                location: match &file {
                    Some(path) => Location::File {
                        path: path.clone(),
                        line: pos.map(|p| p.0),
                        column: pos.map(|p| p.1),
                    },
                    None => Location::Defaults,
                },
                key: None,
                message: format!(
                    "TOML syntax error: {message}; see config.example.toml for the format"
                ),
            }
        };
        match reader::index_document(text) {
            Ok(index) => ctx.index = index,
            Err((message, offset)) => return Err(invalid(vec![syntax_problem(message, offset)])),
        }
        match text.parse::<Table>() {
            Ok(t) => doc = t,
            Err(e) => {
                return Err(invalid(vec![syntax_problem(
                    e.message().to_string(),
                    e.span().map(|s| s.start),
                )]));
            }
        }
    }

    let log_level = env::apply_legacy_vars(&mut doc, &mut ctx);
    env::apply_overrides(&mut doc, &mut ctx);
    let mut config = read_config(&doc, &mut ctx, format == ConfigFormat::LegacyJson);

    if !ctx.problems.is_empty() {
        return Err(invalid(ctx.problems));
    }
    config.log_level = log_level;
    config.source = match origin {
        Some((path, found_via)) => ConfigSource::File {
            path,
            found_via,
            format,
        },
        None => ConfigSource::Defaults { searched },
    };
    config.warnings = ctx.warnings;
    config.log_warnings();
    Ok(config)
}

fn read_config(doc: &Table, ctx: &mut Ctx<'_>, legacy: bool) -> Config {
    let mut root = Tbl::new("", "", doc);
    let database = read_database(ctx, &mut root);
    let sync = read_sync(ctx, &mut root);
    let web = read_web(ctx, &mut root);
    let (controllers, declared) = read_controllers(ctx, &mut root, legacy);
    let sites = read_sites(ctx, &mut root, &declared);
    ctx.finish(root);

    if sync.clients.enabled && !sync.record_types.contains(&RecordType::A) {
        ctx.warn(
            "sync.clients.enabled is true but sync.record_types does not include A: client names are \
             A records and will not be copied; add \"A\" to record_types",
        );
    }

    Config {
        database,
        sync,
        web,
        controllers,
        sites,
        ..Config::default()
    }
}

fn read_database(ctx: &mut Ctx<'_>, root: &mut Tbl<'_>) -> DatabaseConfig {
    let mut out = DatabaseConfig::default();
    let Some(mut t) = ctx.table(root, "database") else {
        return out;
    };
    if let Some(url) = ctx.string(&mut t, "url") {
        let url = url.trim();
        if url.is_empty() {
            ctx.key_problem(
                &t,
                "url",
                "is empty; write a path or sqlite:// URL such as \"sqlite:///data/dns_sync.db\"",
            );
        } else {
            out.url = url.to_string();
        }
    }
    ctx.finish(t);
    out
}

/// Parses each string of a list with `parse`, reporting bad items by index; drops duplicates.
fn parse_list<T: PartialEq>(
    ctx: &mut Ctx<'_>,
    t: &mut Tbl<'_>,
    key: &'static str,
    parse: impl Fn(&str) -> Result<T, String>,
    empty_hint: &str,
) -> Option<Vec<T>> {
    let items = ctx.string_list(t, key)?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match parse(item) {
            Ok(v) => {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            Err(e) => {
                ok = false;
                let label = format!("{}[{i}]", t.key_label(key));
                ctx.problem(&t.key_path(key), &label, e);
            }
        }
    }
    if !ok {
        return None;
    }
    if out.is_empty() {
        ctx.key_problem(t, key, format!("is empty; {empty_hint}"));
        return None;
    }
    Some(out)
}

fn read_sync(ctx: &mut Ctx<'_>, root: &mut Tbl<'_>) -> SyncConfig {
    let mut out = SyncConfig::default();
    let Some(mut t) = ctx.table(root, "sync") else {
        return out;
    };
    if let Some(d) = ctx.duration(&mut t, "interval") {
        if d < Duration::from_secs(1) {
            ctx.key_problem(&t, "interval", "must be at least 1s; the default is \"5m\"");
        } else {
            out.interval = d;
        }
    }
    if let Some(s) = ctx.string(&mut t, "mode") {
        match s.parse() {
            Ok(m) => out.mode = m,
            Err(e) => ctx.key_problem(&t, "mode", e),
        }
    }
    if let Some(types) = parse_list(
        ctx,
        &mut t,
        "record_types",
        |s| s.parse::<RecordType>().map_err(|e| e.to_string()),
        "list at least one record type, e.g. [\"A\", \"AAAA\", \"CNAME\"]",
    ) {
        out.record_types = types;
    }
    if let Some(b) = ctx.boolean(&mut t, "exclude_same_controller") {
        out.exclude_same_controller = b;
    }
    if let Some(f) = ctx.number(&mut t, "max_delete_fraction") {
        if f.is_finite() && (0.0..=1.0).contains(&f) {
            out.max_delete_fraction = f;
        } else {
            ctx.key_problem(
                &t,
                "max_delete_fraction",
                format!(
                    "{f} is outside 0..=1; it is the share of a site's copies one cycle may delete, \
                     e.g. 0.3 for 30% (1 disables the guard)"
                ),
            );
        }
    }
    if let Some(n) = ctx.integer(&mut t, "threshold_min_copies", 0, i64::from(u32::MAX)) {
        out.threshold_min_copies = u32::try_from(n).unwrap_or(u32::MAX);
    }
    if let Some(d) = ctx.duration(&mut t, "history_retention") {
        if d.is_zero() {
            ctx.key_problem(&t, "history_retention", "must be above zero, e.g. \"90d\"");
        } else {
            out.history_retention = d;
        }
    }
    if let Some(clients) = ctx.table(&mut t, "clients") {
        out.clients = read_clients(ctx, clients);
    }
    ctx.finish(t);
    out
}

fn read_clients(ctx: &mut Ctx<'_>, mut t: Tbl<'_>) -> ClientsConfig {
    let mut out = ClientsConfig::default();
    if let Some(b) = ctx.boolean(&mut t, "enabled") {
        out.enabled = b;
    }
    if let Some(s) = ctx.string(&mut t, "domain") {
        match DomainTemplate::parse(&s) {
            Ok(d) => out.domain = d,
            Err(e) => ctx.key_problem(&t, "domain", e),
        }
    }
    if let Some(n) = ctx.integer(&mut t, "ttl", 0, 86_400) {
        out.ttl = u32::try_from(n).unwrap_or(defaults::CLIENTS_TTL);
    }
    if let Some(d) = ctx.duration(&mut t, "retention") {
        out.retention = d;
    }
    if let Some(types) = parse_list(
        ctx,
        &mut t,
        "types",
        |s| s.parse::<ClientType>(),
        "list at least one of WIRED, WIRELESS, VPN, TELEPORT",
    ) {
        out.types = types;
    }
    ctx.finish(t);
    out
}

fn read_web(ctx: &mut Ctx<'_>, root: &mut Tbl<'_>) -> WebConfig {
    let mut out = WebConfig::default();
    let empty = Table::new();
    let mut t = ctx
        .table(root, "web")
        .unwrap_or_else(|| Tbl::new("web", "web", &empty));
    if let Some(s) = ctx.string(&mut t, "listen") {
        match s.trim().parse::<SocketAddr>() {
            Ok(a) => out.listen = a,
            Err(_) => ctx.key_problem(
                &t,
                "listen",
                format!(
                    "{s:?} is not an address to listen on; write IP:PORT such as \"127.0.0.1:8080\" \
                     (this machine only), \"0.0.0.0:8080\" (all interfaces) or \"[::]:8080\""
                ),
            ),
        }
    }
    let keys = SecretKeys {
        inline: "token",
        env: "token_env",
        file: "token_file",
        what: "web token",
    };
    if let Some(spec) = secret_spec(ctx, &mut t, &keys, Some(defaults::TOKEN_ENV)) {
        out.token = resolve_secret(ctx, &t, spec, &keys, false);
    }
    ctx.finish(t);
    out
}

struct SecretKeys {
    inline: &'static str,
    env: &'static str,
    file: &'static str,
    what: &'static str,
}

enum Spec {
    Inline(String),
    Env { name: String, explicit: bool },
    File(PathBuf),
    Nothing,
}

fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Which source a secret comes from; `None` after a problem.
fn secret_spec(
    ctx: &mut Ctx<'_>,
    t: &mut Tbl<'_>,
    keys: &SecretKeys,
    default_env: Option<&str>,
) -> Option<Spec> {
    let present: Vec<&'static str> = [keys.inline, keys.env, keys.file]
        .into_iter()
        .filter(|k| t.has(k))
        .collect();
    if present.len() > 1 {
        let second = present[1];
        ctx.key_problem(
            t,
            second,
            format!(
                "{} are {} set; the {} must come from exactly one of {} (an environment variable), \
                 {} (a file) or {} (inline, discouraged): remove the others",
                present.join(" and "),
                if present.len() == 2 { "both" } else { "all" },
                keys.what,
                keys.env,
                keys.file,
                keys.inline
            ),
        );
        return None;
    }
    match present.first().copied() {
        Some(k) if k == keys.inline => ctx.string(t, keys.inline).map(Spec::Inline),
        Some(k) if k == keys.env => {
            let name = ctx.string(t, keys.env)?;
            let name = name.trim().to_string();
            if valid_env_name(&name) {
                Some(Spec::Env {
                    name,
                    explicit: true,
                })
            } else {
                ctx.key_problem(
                    t,
                    keys.env,
                    format!(
                        "is not a valid environment variable name (letters, digits and '_', not \
                         starting with a digit); write the name of the variable that holds the {}, \
                         not the {} itself",
                        keys.what, keys.what
                    ),
                );
                None
            }
        }
        Some(_) => {
            let raw = ctx.string(t, keys.file)?;
            let raw = raw.trim();
            if raw.is_empty() {
                ctx.key_problem(
                    t,
                    keys.file,
                    "is empty; write the path of the file holding the secret",
                );
                return None;
            }
            Some(Spec::File(ctx.resolve_path(&t.key_path(keys.file), raw)))
        }
        None => Some(match default_env {
            Some(name) => Spec::Env {
                name: name.to_string(),
                explicit: false,
            },
            None => Spec::Nothing,
        }),
    }
}

/// Checks a secret's text; problems never quote it.
fn check_secret_text(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        Err("is empty")
    } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err(
            "contains whitespace or control characters (a key is one word: does the file hold more than the key?)",
        )
    } else {
        Ok(())
    }
}

fn resolve_secret(
    ctx: &mut Ctx<'_>,
    t: &Tbl<'_>,
    spec: Spec,
    keys: &SecretKeys,
    required: bool,
) -> Option<Secret> {
    let subject = if t.label == "web" {
        "web".to_string()
    } else {
        t.label.clone()
    };
    match spec {
        Spec::Nothing => {
            if required {
                ctx.problem(
                    &t.path,
                    &t.label,
                    format!(
                        "has no {}: add {} = \"NAME\" (an environment variable holding it) or {} = \
                         \"/path/to/file\"",
                        keys.what, keys.env, keys.file
                    ),
                );
            }
            None
        }
        Spec::Inline(v) => {
            let v = v.trim();
            if let Err(why) = check_secret_text(v) {
                ctx.key_problem(t, keys.inline, format!("the {} {why}", keys.what));
                return None;
            }
            ctx.warn(format!(
                "{}: the {} is written into the config ({}); anyone who can read the config can use \
                 it: move it to an environment variable ({} = \"NAME\") or a file ({} = \"/path\")",
                subject,
                keys.what,
                keys.inline,
                keys.env,
                keys.file
            ));
            Some(Secret::new(v, SecretSource::Inline))
        }
        Spec::Env { name, explicit } => match env::non_empty(ctx.env, &name) {
            Some(v) => {
                let v = v.trim();
                if let Err(why) = check_secret_text(v) {
                    let msg = format!("the {} in environment variable {name} {why}", keys.what);
                    ctx.key_problem(t, keys.env, msg);
                    return None;
                }
                Some(Secret::new(v, SecretSource::Env(name)))
            }
            None if required => {
                ctx.key_problem(
                    t,
                    keys.env,
                    format!(
                        "environment variable {name} is not set (or is empty); set it to the {}, or \
                         use {} = \"/path\" to read it from a file",
                        keys.what, keys.file
                    ),
                );
                None
            }
            None => {
                if explicit && name != defaults::TOKEN_ENV {
                    ctx.warn(format!(
                        "{subject}: environment variable {name} ({}) is not set: there is no web token, \
                         so the POST endpoints (starting a sync from the web API) are disabled",
                        keys.env
                    ));
                }
                None
            }
        },
        Spec::File(path) => match std::fs::read_to_string(&path) {
            Ok(content) => {
                let v = content.trim();
                if let Err(why) = check_secret_text(v) {
                    let msg = format!("the {} in file {} {why}", keys.what, path.display());
                    ctx.key_problem(t, keys.file, msg);
                    return None;
                }
                Some(Secret::new(v, SecretSource::File(path)))
            }
            Err(e) => {
                ctx.key_problem(
                    t,
                    keys.file,
                    format!(
                        "cannot read the {} from file {}: {e}; check the path (relative paths are \
                         relative to the config file) and that this service may read it",
                        keys.what,
                        path.display()
                    ),
                );
                None
            }
        },
    }
}

/// A lower-case `[a-z0-9-]` version of a name, for hints.
fn suggest_name(name: &str) -> String {
    legacy::name_from_host(name)
}

/// Validates and normalises a controller URL. Never quotes a URL that has user info.
pub(crate) fn validate_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    let example = "write e.g. \"https://192.168.1.1\" or \"https://unifi.example.com:8443\"";
    let quoted = if url.contains('@') {
        "the URL".to_string()
    } else {
        format!("{url:?}")
    };
    if url.is_empty() {
        return Err(format!("is empty; {example}"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{quoted} contains spaces; {example}"));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!(
            "{quoted} has no scheme; it must start with https:// (or http://); {example}"
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(format!(
            "{quoted} must start with https:// or http://; {example}"
        ));
    }
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    if authority.contains('@') {
        return Err(
            "must not contain user:password@; the controller is authenticated by its API key (api_key_env)"
                .into(),
        );
    }
    if tail.contains(['?', '#']) {
        return Err(format!(
            "{quoted} must not have a query (?…) or fragment (#…); {example}"
        ));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return Err(format!(
                "{quoted} has an unclosed '[' in its IPv6 address; {example}"
            ));
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("{quoted} has an invalid IPv6 address; {example}"));
        }
        match after {
            "" => (addr, None),
            p if p.starts_with(':') => (addr, Some(&p[1..])),
            _ => {
                return Err(format!(
                    "{quoted} has text after its IPv6 address; {example}"
                ));
            }
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(format!("{quoted} has no host; {example}"));
    }
    if !authority.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
    {
        return Err(format!("{quoted} has an invalid host name; {example}"));
    }
    if let Some(p) = port
        && !matches!(p.parse::<u16>(), Ok(n) if n > 0)
    {
        return Err(format!("{quoted} has an invalid port (1-65535); {example}"));
    }
    let tail = tail.trim_end_matches('/');
    Ok(format!("{scheme}://{authority}{tail}"))
}

fn read_tls(ctx: &mut Ctx<'_>, t: &mut Tbl<'_>) -> TlsMode {
    let choices = "use \"verify\" (system CAs), \"insecure\", { ca_file = \"/path/ca.pem\" } or \
                   { fingerprint = \"sha256:AB:CD:…\" } (`unifi-dns-sync fingerprint URL` prints it)";
    match ctx.value(t, "tls") {
        None => TlsMode::Verify,
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "verify" => TlsMode::Verify,
            "insecure" => TlsMode::Insecure,
            _ => {
                ctx.key_problem(t, "tls", format!("{s:?} is not a TLS mode; {choices}"));
                TlsMode::Verify
            }
        },
        Some(Value::Table(table)) => {
            let mut sub = Tbl::new(t.key_path("tls"), t.key_label("tls"), table);
            let has_ca = sub.has("ca_file");
            let has_fp = sub.has("fingerprint");
            let mode = match (has_ca, has_fp) {
                (true, true) => {
                    ctx.key_problem(
                        &sub,
                        "fingerprint",
                        "ca_file and fingerprint are both set; keep one: a CA file checks the chain and \
                         host name, a fingerprint pins exactly one certificate",
                    );
                    None
                }
                (true, false) => ctx.string(&mut sub, "ca_file").and_then(|raw| {
                    let path = ctx.resolve_path(&sub.key_path("ca_file"), raw.trim());
                    match std::fs::metadata(&path) {
                        Ok(m) if m.is_file() => Some(TlsMode::CaFile(path)),
                        Ok(_) => {
                            let msg = format!("{} is not a file; name a PEM file with the CA certificate", path.display());
                            ctx.key_problem(&sub, "ca_file", msg);
                            None
                        }
                        Err(e) => {
                            let msg = format!(
                                "cannot read {}: {e}; name a PEM file with the CA certificate (relative \
                                 paths are relative to the config file)",
                                path.display()
                            );
                            ctx.key_problem(&sub, "ca_file", msg);
                            None
                        }
                    }
                }),
                (false, true) => ctx.string(&mut sub, "fingerprint").and_then(|raw| {
                    match TlsMode::parse_fingerprint(&raw) {
                        Ok(fp) => Some(TlsMode::Fingerprint(fp)),
                        Err(e) => {
                            ctx.key_problem(&sub, "fingerprint", e);
                            None
                        }
                    }
                }),
                (false, false) => {
                    if sub.table.is_empty() {
                        ctx.key_problem(t, "tls", format!("is an empty table; {choices}"));
                    }
                    None
                }
            };
            ctx.finish(sub);
            mode.unwrap_or(TlsMode::Verify)
        }
        Some(_) => {
            ctx.key_problem(t, "tls", format!("has the wrong type; {choices}"));
            TlsMode::Verify
        }
    }
}

fn read_controllers(
    ctx: &mut Ctx<'_>,
    root: &mut Tbl<'_>,
    legacy: bool,
) -> (Vec<ControllerConfig>, Vec<String>) {
    let entries = ctx.tables(root, "controller");
    let mut out = Vec::new();
    let mut declared = Vec::new();
    let mut first_use: BTreeMap<String, String> = BTreeMap::new();

    for (i, table) in entries {
        let path = format!("controller[{i}]");
        let raw_name = table
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        let label = match &raw_name {
            Some(n) => format!("controller[{i}] (name {n:?})"),
            None => path.clone(),
        };
        let mut t = Tbl::new(path.clone(), label.clone(), table);

        let name = match ctx.string(&mut t, "name") {
            Some(n) => {
                declared.push(n.clone());
                if n.is_empty()
                    || !n
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                {
                    ctx.key_problem(
                        &t,
                        "name",
                        format!(
                            "{n:?} is not a valid controller name: use lower-case letters, digits and '-' \
                             only, e.g. {:?}",
                            suggest_name(&n)
                        ),
                    );
                    None
                } else if let Some(first) = first_use.get(&n) {
                    let msg = format!(
                        "{n:?} is already the name of {first}; controller names must be unique"
                    );
                    ctx.key_problem(&t, "name", msg);
                    None
                } else {
                    first_use.insert(n.clone(), path.clone());
                    Some(n)
                }
            }
            None => {
                if !t.table.contains_key("name") {
                    ctx.key_problem(
                        &t,
                        "name",
                        "is missing; every [[controller]] needs a unique name such as \"hq\" \
                         (lower-case letters, digits and '-')",
                    );
                }
                None
            }
        };

        let url = match ctx.string(&mut t, "url") {
            Some(u) => match validate_url(&u) {
                Ok(u) => Some(u),
                Err(e) => {
                    ctx.key_problem(&t, "url", e);
                    None
                }
            },
            None => {
                if !t.table.contains_key("url") {
                    ctx.key_problem(
                        &t,
                        "url",
                        "is missing; write the console's address, e.g. url = \"https://192.168.1.1\"",
                    );
                }
                None
            }
        };

        let keys = SecretKeys {
            inline: "api_key",
            env: "api_key_env",
            file: "api_key_file",
            what: "API key",
        };
        let api_key = secret_spec(ctx, &mut t, &keys, None)
            .and_then(|spec| resolve_secret(ctx, &t, spec, &keys, true));

        let tls = read_tls(ctx, &mut t);
        let sites = non_empty_strings(ctx, &mut t, "sites", true)
            .unwrap_or_else(|| vec![defaults::SITES.into()]);
        let exclude_sites =
            non_empty_strings(ctx, &mut t, "exclude_sites", false).unwrap_or_default();
        let priority = ctx
            .integer(&mut t, "priority", i64::MIN, i64::MAX)
            .unwrap_or(defaults::PRIORITY);
        let max_parallel_writes = ctx
            .integer(&mut t, "max_parallel_writes", 1, i64::from(u32::MAX))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(defaults::MAX_PARALLEL_WRITES);
        let max_parallel_reads = ctx
            .integer(&mut t, "max_parallel_reads", 1, i64::from(u32::MAX))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(defaults::MAX_PARALLEL_READS);
        let requests_per_second = match ctx.number(&mut t, "requests_per_second") {
            Some(r) if r.is_finite() && r > 0.0 => r,
            Some(r) => {
                ctx.key_problem(
                    &t,
                    "requests_per_second",
                    format!("must be above 0, got {r}; e.g. 20 (or 0.5 for one request every 2 s)"),
                );
                defaults::REQUESTS_PER_SECOND
            }
            None => defaults::REQUESTS_PER_SECOND,
        };
        let timeout = match ctx.duration(&mut t, "timeout") {
            Some(d) if d.is_zero() => {
                ctx.key_problem(&t, "timeout", "must be above zero, e.g. \"10s\"");
                defaults::TIMEOUT
            }
            Some(d) => d,
            None => defaults::TIMEOUT,
        };
        ctx.finish(t);

        let (Some(name), Some(url), Some(api_key)) = (name, url, api_key) else {
            continue;
        };
        if tls == TlsMode::Insecure {
            let why = if legacy {
                " (verify_ssl was false or missing in controllers.json, the earlier tool's default)"
            } else {
                ""
            };
            ctx.warn(format!(
                "controller {name:?}: TLS certificate verification is DISABLED (tls = \"insecure\"){why}: \
                 anyone on the network path to {url} can impersonate the console and capture its API \
                 key. Pin the certificate instead: run `unifi-dns-sync fingerprint {url}` and set \
                 tls = {{ fingerprint = \"sha256:…\" }}"
            ));
        }
        if url.starts_with("http://") {
            ctx.warn(format!(
                "controller {name:?}: {url} is plain http://, so the API key is sent unencrypted; \
                 use https://"
            ));
        }
        out.push(ControllerConfig {
            name,
            url,
            api_key,
            tls,
            sites,
            exclude_sites,
            priority,
            max_parallel_writes,
            max_parallel_reads,
            requests_per_second,
            timeout,
        });
    }
    (out, declared)
}

/// A list of trimmed, non-empty strings; `must_have_one` makes an empty list a problem.
fn non_empty_strings(
    ctx: &mut Ctx<'_>,
    t: &mut Tbl<'_>,
    key: &'static str,
    must_have_one: bool,
) -> Option<Vec<String>> {
    let items = ctx.string_list(t, key)?;
    let mut out: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item = item.trim();
        if item.is_empty() {
            let label = format!("{}[{i}]", t.key_label(key));
            ctx.problem(&t.key_path(key), &label, "is an empty string; remove it");
            return None;
        }
        if !out.iter().any(|o| o == item) {
            out.push(item.to_string());
        }
    }
    if must_have_one && out.is_empty() {
        ctx.key_problem(
            t,
            key,
            "is empty, so nothing would be managed; use [\"*\"] for every site, or list names, \
             internalReferences or ids",
        );
        return None;
    }
    Some(out)
}

/// Domain globs: lower-cased, without a trailing dot.
fn domain_globs(ctx: &mut Ctx<'_>, t: &mut Tbl<'_>, key: &'static str) -> Option<Vec<String>> {
    non_empty_strings(ctx, t, key, false).map(|v| {
        v.into_iter()
            .map(|d| {
                let d = d.to_lowercase();
                match d.strip_suffix('.') {
                    Some(s) if !s.is_empty() => s.to_string(),
                    _ => d,
                }
            })
            .collect()
    })
}

fn read_sites(ctx: &mut Ctx<'_>, root: &mut Tbl<'_>, declared: &[String]) -> Vec<SiteOverride> {
    let entries = ctx.tables(root, "site");
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (i, table) in entries {
        let path = format!("site[{i}]");
        let label = match table.get("match").and_then(Value::as_str) {
            Some(m) => format!("site[{i}] (match {m:?})"),
            None => path.clone(),
        };
        let mut t = Tbl::new(path.clone(), label, table);

        let target = match ctx.string(&mut t, "match") {
            Some(m) => {
                let m = m.trim().to_string();
                match m.split_once('/') {
                    Some((c, s)) if !c.trim().is_empty() && !s.trim().is_empty() => {
                        let (c, s) = (c.trim().to_string(), s.trim().to_string());
                        let key = format!("{c}/{}", s.to_lowercase());
                        if !declared.contains(&c) {
                            let known = if declared.is_empty() {
                                "none".to_string()
                            } else {
                                declared.join(", ")
                            };
                            ctx.key_problem(
                                &t,
                                "match",
                                format!(
                                    "names controller {c:?}, which is not configured (controllers: {known}); \
                                     the part before '/' must be the name of a [[controller]]"
                                ),
                            );
                            None
                        } else if let Some(first) = seen.get(&key) {
                            let msg = format!(
                                "{m:?} is already matched by {first}; remove one of the two entries"
                            );
                            ctx.key_problem(&t, "match", msg);
                            None
                        } else {
                            seen.insert(key, path.clone());
                            Some((c, s))
                        }
                    }
                    _ => {
                        ctx.key_problem(
                            &t,
                            "match",
                            format!(
                                "{m:?} is not \"controller/site\"; write e.g. match = \"hq/default\" (the \
                                 site may be its internalReference, name or id, or a glob such as \"hq/*\")"
                            ),
                        );
                        None
                    }
                }
            }
            None => {
                if !t.table.contains_key("match") {
                    ctx.key_problem(&t, "match", "is missing; write e.g. match = \"hq/default\"");
                }
                None
            }
        };
        let publish = ctx.boolean(&mut t, "publish").unwrap_or(defaults::PUBLISH);
        let receive = ctx.boolean(&mut t, "receive").unwrap_or(defaults::RECEIVE);
        let domains =
            domain_globs(ctx, &mut t, "domains").unwrap_or_else(|| vec![defaults::DOMAINS.into()]);
        let exclude_domains = domain_globs(ctx, &mut t, "exclude_domains").unwrap_or_default();
        let clients_domain =
            ctx.string(&mut t, "clients_domain")
                .and_then(|s| match DomainTemplate::parse(&s) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        ctx.key_problem(&t, "clients_domain", e);
                        None
                    }
                });
        ctx.finish(t);
        if let Some((controller, site)) = target {
            out.push(SiteOverride {
                controller,
                site,
                publish,
                receive,
                domains,
                exclude_domains,
                clients_domain,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            validate_url("https://192.168.1.1/").unwrap(),
            "https://192.168.1.1"
        );
        assert_eq!(
            validate_url("HTTPS://unifi.lan:8443").unwrap(),
            "https://unifi.lan:8443"
        );
        assert_eq!(
            validate_url("http://[::1]:8080/base/").unwrap(),
            "http://[::1]:8080/base"
        );
        assert_eq!(
            validate_url("https://[fd00::1]").unwrap(),
            "https://[fd00::1]"
        );
        for bad in [
            "",
            "192.168.1.1",
            "ftp://x",
            "https://",
            "https://:443",
            "https://host:0",
            "https://host:99999",
            "https://host:abc",
            "https://ho st",
            "https://host?x=1",
            "https://[fd00::1",
            "https://[zz]",
            "https://a!b",
        ] {
            assert!(validate_url(bad).is_err(), "{bad:?} accepted");
        }
        let err = validate_url("https://admin:hunter2@host").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn env_names() {
        assert!(valid_env_name("UNIFI_HQ_API_KEY"));
        assert!(valid_env_name("_x1"));
        assert!(!valid_env_name("1ABC"));
        assert!(!valid_env_name("abc-def"));
        assert!(!valid_env_name(""));
    }
}
