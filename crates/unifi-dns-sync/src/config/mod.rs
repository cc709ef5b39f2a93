//! Configuration (SPEC §3): the typed config, loading, environment overrides, secrets and the
//! earlier tool's `controllers.json`.
//!
//! # Loading
//!
//! [`load`] finds the file, reads it, applies environment overrides, resolves secrets and
//! validates everything, collecting **all** problems before failing ([`ConfigError::Invalid`]
//! lists each with the file and line, or the variable, that set the key).
//!
//! File lookup, first hit wins:
//! 1. `--config FILE` (the `explicit_path` argument): must exist;
//! 2. `$UNIFI_DNS_SYNC_CONFIG`: must exist;
//! 3. `./unifi-dns-sync.toml`, then `/config/unifi-dns-sync.toml`;
//! 4. `$CONFIG_PATH` (the earlier tool's variable): must exist if set;
//! 5. `/config/controllers.json` (the earlier tool's default location).
//!
//! If no file is found, the built-in defaults (plus environment overrides) are loaded and
//! [`Config::source`] is [`ConfigSource::Defaults`] with the searched paths: such a config has
//! no controllers, which is valid so that `check` can say "no controllers configured" and list
//! where it looked; `run`/`sync` should refuse it ([`Config::has_controllers`]).
//!
//! Relative paths in the file (`api_key_file`, `token_file`, `tls.ca_file`) are taken relative to
//! the file's directory; paths given through the environment relative to the working directory.
//! `database.url` is passed on verbatim.
//!
//! # Precedence
//!
//! `UNIFI_DNS_SYNC_<SECTION>__<KEY>` variables > the earlier tool's variables
//! (`SYNC_INTERVAL_SECONDS`, `DB_PATH`, `WEB_UI_PORT`) > the file > defaults. The CLI's own flags
//! (`--database`) are applied by the binary on top.
//!
//! # Environment overrides
//!
//! * `UNIFI_DNS_SYNC_SYNC__INTERVAL=10m`, `UNIFI_DNS_SYNC_SYNC__CLIENTS__ENABLED=true`,
//!   `UNIFI_DNS_SYNC_WEB__LISTEN=0.0.0.0:8080`: section and key names upper-cased, joined by `__`.
//! * `UNIFI_DNS_SYNC_CONTROLLER__<NAME>__<KEY>` changes a key of the `[[controller]]` named NAME
//!   (upper-cased, `-` as `_`); nested: `…__TLS__FINGERPRINT=sha256:…`. It cannot add controllers.
//! * `UNIFI_DNS_SYNC_SITE__<CONTROLLER>__<SITE>__<KEY>` changes a key of the `[[site]]` whose
//!   `match` is `controller/site` (upper-cased, `/` as `__`, other characters as `_`).
//! * Values are read as TOML where they are one TOML value (`true`, `10`, `["A","AAAA"]`,
//!   `{ ca_file = "/x" }`), else as text; where a string is expected the variable's text is taken
//!   as is (so `…__API_KEY_ENV=123` is the string `"123"`); where a list is expected a plain text
//!   is split at commas (`…__RECORD_TYPES=A,AAAA`). `api_key` and `token` are always verbatim.
//! * Setting one source of a secret (`…__API_KEY_FILE`) drops the file's other sources of that
//!   secret (`api_key_env`), so a deployment can swap the source without editing the file.
//! * A variable with the prefix and a `__` that names no key, no configured controller or no
//!   `[[site]]` is an error naming the variable. Variables without `__`
//!   (`UNIFI_DNS_SYNC_CONFIG`, `UNIFI_DNS_SYNC_WEB_TOKEN`) are not overrides. Because of this, a
//!   variable named by `api_key_env` must not itself look like `UNIFI_DNS_SYNC_…__…`.
//!
//! # Secrets
//!
//! Per controller exactly one of `api_key_env = "NAME"`, `api_key_file = "/path"` or `api_key`
//! (inline, accepted with a warning). For the web token one of `token_env` (default
//! `UNIFI_DNS_SYNC_WEB_TOKEN`), `token_file` or `token` (inline, warned). Values are trimmed
//! (the trailing newline of a secret file) and must not be empty or contain whitespace. A missing
//! token variable means "no token": POST endpoints are disabled (a warning if `token_env` was set
//! explicitly); a missing variable or unreadable file for an API key, or an unreadable/empty
//! `token_file`, is an error naming the controller, the key and the variable/file, never the
//! value. Secrets are [`Secret`]s: `Debug`/`Display` print `[redacted]`; no problem message
//! quotes a value of a secret key, and an environment variable name that is not a valid name
//! (maybe a pasted key) is not quoted either.
//!
//! # Decisions where the SPEC is silent
//!
//! * Durations are `"30s"`, `"5m"`, `"90d"`, `"1h30m"` or a whole number of seconds.
//!   `interval` and `timeout` must be at least 1s, `history_retention` above zero;
//!   `sync.clients.retention` may be 0.
//! * `sync.mode` accepts `sync`, `upsert-only`, `create-only` (any case, `_` for `-`).
//! * `record_types`, `clients.types`, `sites` must not be empty; duplicates are dropped.
//! * `sync.clients.ttl` is 0..=86400 (the API's limit for A records; 0 = Auto).
//! * `sync.clients.domain` / `clients_domain` templates may use `{site}` (the site's
//!   internalReference) and `{controller}`; the rest must be letters, digits, `-` and `.`;
//!   they are lower-cased and lose leading/trailing dots. Substituted values are reduced to DNS
//!   label characters.
//! * `[[site]] match = "controller/site"`: the controller part must be a configured controller;
//!   the site part is an internalReference, name or UUID and may be a glob (`hq/*`). Entries are
//!   tried in file order and the first match applies; two entries with the same match are an
//!   error. `domains`/`exclude_domains` are globs ([`crate::glob`]), lower-cased.
//! * Controller `sites`/`exclude_sites` entries are globs too, matched case-insensitively against
//!   a site's internalReference, name and UUID; exclusion wins.
//! * Controller URLs must be `http://` or `https://` with a host, no `user:password@`, no query;
//!   a trailing `/` is dropped. `http://` is accepted with a warning (the key travels in clear).
//! * Controller names are `[a-z0-9-]+`, unique. `priority` is any integer.
//!   `max_parallel_writes`/`max_parallel_reads` ≥ 1, `requests_per_second` > 0.
//! * `LOG_LEVEL` is exposed as [`Config::log_level`]: Python's names are mapped (`WARNING` →
//!   `warn`, `CRITICAL` → `error`), anything else is passed on (a tracing filter).
//! * `WEB_UI_PORT` replaces only the port of `web.listen`; the address stays (127.0.0.1 by
//!   default, unlike the old tool's 0.0.0.0: the image sets 0.0.0.0 itself).
//! * Warnings (inline secrets, `tls = "insecure"`, `http://`, legacy mapping notes) are logged
//!   with `tracing::warn!` during [`load`] and kept in [`Config::warnings`] for `check` and for a
//!   binary that installs its subscriber after loading ([`Config::log_warnings`]).
//! * The legacy format is described in the `legacy` module: a file whose text starts with `[`
//!   followed by `{` or `]`, or any `*.json` file, is read as the earlier tool's
//!   `controllers.json`.

mod build;
mod env;
mod legacy;
mod reader;
mod secret;
mod summary;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub use env::{
    CONFIG_ENV, ENV_PREFIX, EnvSource, ProcessEnv, WEB_TOKEN_ENV, controller_env_name, legacy_vars,
    normalise_log_level, process_env, site_env_name,
};
pub use reader::{Location, Problem};
pub use secret::{ApiKey, REDACTED, Secret, SecretSource, WebToken};

use crate::glob::{glob_match, glob_match_any};
use crate::record_type::RecordType;

/// Built-in defaults (the values of `config.example.toml`).
pub mod defaults {
    use std::time::Duration;

    pub const DATABASE_URL: &str = "sqlite://dns_sync.db";
    pub const INTERVAL: Duration = Duration::from_secs(5 * 60);
    pub const MODE: super::SyncMode = super::SyncMode::Sync;
    pub const RECORD_TYPES: [crate::record_type::RecordType; 3] = [
        crate::record_type::RecordType::A,
        crate::record_type::RecordType::Aaaa,
        crate::record_type::RecordType::Cname,
    ];
    pub const EXCLUDE_SAME_CONTROLLER: bool = false;
    pub const MAX_DELETE_FRACTION: f64 = 0.3;
    pub const THRESHOLD_MIN_COPIES: u32 = 10;
    pub const HISTORY_RETENTION: Duration = Duration::from_secs(90 * 86_400);
    pub const CLIENTS_ENABLED: bool = false;
    pub const CLIENTS_DOMAIN: &str = "{site}.home.arpa";
    pub const CLIENTS_TTL: u32 = 300;
    pub const CLIENTS_RETENTION: Duration = Duration::from_secs(24 * 3_600);
    pub const CLIENT_TYPES: [super::ClientType; 2] =
        [super::ClientType::Wired, super::ClientType::Wireless];
    pub const LISTEN: &str = "127.0.0.1:8080";
    pub const TOKEN_ENV: &str = super::WEB_TOKEN_ENV;
    pub const SITES: &str = "*";
    pub const PRIORITY: i64 = 100;
    pub const MAX_PARALLEL_WRITES: u32 = 1;
    pub const MAX_PARALLEL_READS: u32 = 4;
    pub const REQUESTS_PER_SECOND: f64 = 20.0;
    pub const TIMEOUT: Duration = Duration::from_secs(10);
    pub const PUBLISH: bool = true;
    pub const RECEIVE: bool = true;
    pub const DOMAINS: &str = "*";
    /// Config file locations searched after `$UNIFI_DNS_SYNC_CONFIG`.
    pub const CONFIG_PATHS: [&str; 2] = ["./unifi-dns-sync.toml", "/config/unifi-dns-sync.toml"];
    /// The earlier tool's default location, searched after `$CONFIG_PATH`.
    pub const LEGACY_CONFIG_PATH: &str = "/config/controllers.json";
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub sync: SyncConfig,
    pub web: WebConfig,
    /// `[[controller]]` entries, in file order.
    pub controllers: Vec<ControllerConfig>,
    /// `[[site]]` entries, in file order (the first that matches a site applies).
    pub sites: Vec<SiteOverride>,
    /// From the earlier tool's `LOG_LEVEL`, normalised (see the module doc); `None` if unset.
    pub log_level: Option<String>,
    /// Which file was loaded, or that none was.
    pub source: ConfigSource,
    /// Warnings found while loading (already logged once with `tracing::warn!`).
    pub warnings: Vec<String>,
}

/// `[database]`
#[derive(Clone, PartialEq)]
pub struct DatabaseConfig {
    /// A path or `sqlite://` URL (later perhaps `postgres://`).
    pub url: String,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url_password(&self.url))
            .finish()
    }
}

/// `[sync]`
#[derive(Debug, Clone, PartialEq)]
pub struct SyncConfig {
    pub interval: Duration,
    pub mode: SyncMode,
    pub record_types: Vec<RecordType>,
    pub exclude_same_controller: bool,
    pub max_delete_fraction: f64,
    pub threshold_min_copies: u32,
    pub history_retention: Duration,
    pub clients: ClientsConfig,
}

/// `[sync.clients]`
#[derive(Debug, Clone, PartialEq)]
pub struct ClientsConfig {
    pub enabled: bool,
    pub domain: DomainTemplate,
    pub ttl: u32,
    pub retention: Duration,
    pub types: Vec<ClientType>,
}

/// `[web]`
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub listen: SocketAddr,
    /// `None`: POST endpoints are disabled.
    pub token: Option<WebToken>,
}

/// One `[[controller]]`.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// Unique, `[a-z0-9-]+`.
    pub name: String,
    /// `http(s)://host[:port][/path]`, without a trailing `/`.
    pub url: String,
    pub api_key: ApiKey,
    pub tls: TlsMode,
    /// Globs over internalReference / name / UUID; `["*"]` = all.
    pub sites: Vec<String>,
    pub exclude_sites: Vec<String>,
    /// Lower wins a conflict (SPEC §5.3).
    pub priority: i64,
    pub max_parallel_writes: u32,
    pub max_parallel_reads: u32,
    pub requests_per_second: f64,
    pub timeout: Duration,
}

impl ControllerConfig {
    /// Whether this controller manages a site, given the site's identifiers (internalReference,
    /// name, UUID): some `sites` glob matches one of them and no `exclude_sites` glob does.
    pub fn manages_site(&self, site_keys: &[&str]) -> bool {
        let included = site_keys.iter().any(|k| glob_match_any(&self.sites, k));
        let excluded = site_keys
            .iter()
            .any(|k| glob_match_any(&self.exclude_sites, k));
        included && !excluded
    }

    /// The prefix of this controller's override variables, e.g. `UNIFI_DNS_SYNC_CONTROLLER__HQ__`.
    pub fn env_prefix(&self) -> String {
        format!(
            "{ENV_PREFIX}CONTROLLER__{}__",
            controller_env_name(&self.name)
        )
    }
}

/// How a controller's TLS certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// System roots, hostname checked (`tls = "verify"`, the default).
    Verify,
    /// Only this CA (PEM file), hostname checked (`tls = { ca_file = "…" }`).
    CaFile(PathBuf),
    /// The leaf certificate's SHA-256 must equal this (`tls = { fingerprint = "sha256:…" }`);
    /// chain and hostname are not checked.
    Fingerprint([u8; 32]),
    /// Anything is accepted (`tls = "insecure"`); logged loudly.
    Insecure,
}

impl TlsMode {
    /// Parses `sha256:AB:CD:…`, `AB:CD:…` or `abcd…` (any case, `sha256:` and colons optional,
    /// spaces ignored); must be 32 bytes.
    pub fn parse_fingerprint(text: &str) -> Result<[u8; 32], String> {
        let t = text.trim();
        let t = match (t.get(..7), t.get(7..)) {
            (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case("sha256:") => rest,
            _ => t,
        };
        let hex_digits: String = t
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .collect();
        let bytes = hex::decode(&hex_digits).map_err(|_| {
            "is not a SHA-256 fingerprint: write 64 hex digits, optionally as \"sha256:AB:CD:…\"; \
             `unifi-dns-sync fingerprint URL` prints it"
                .to_string()
        })?;
        <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
            format!(
                "is {} byte{} long, a SHA-256 fingerprint is 32 bytes (64 hex digits); \
                 `unifi-dns-sync fingerprint URL` prints it",
                bytes.len(),
                if bytes.len() == 1 { "" } else { "s" }
            )
        })
    }

    /// `sha256:AB:CD:…` (upper-case, colon-separated), the form `fingerprint URL` prints.
    pub fn format_fingerprint(fp: &[u8; 32]) -> String {
        unifi_client::format_fingerprint(fp)
    }
}

impl fmt::Display for TlsMode {
    /// As it would be written in the config file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsMode::Verify => f.write_str("\"verify\""),
            TlsMode::Insecure => f.write_str("\"insecure\""),
            TlsMode::CaFile(p) => write!(f, "{{ ca_file = {:?} }}", p.display().to_string()),
            TlsMode::Fingerprint(fp) => write!(
                f,
                "{{ fingerprint = \"{}\" }}",
                TlsMode::format_fingerprint(fp)
            ),
        }
    }
}

/// `sync.mode` (SPEC §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncMode {
    /// Create, update and delete copies.
    Sync,
    /// Create and update; never delete.
    UpsertOnly,
    /// Create only.
    CreateOnly,
}

impl SyncMode {
    pub const fn as_str(self) -> &'static str {
        match self {
            SyncMode::Sync => "sync",
            SyncMode::UpsertOnly => "upsert-only",
            SyncMode::CreateOnly => "create-only",
        }
    }

    pub const fn allows_updates(self) -> bool {
        matches!(self, SyncMode::Sync | SyncMode::UpsertOnly)
    }

    pub const fn allows_deletes(self) -> bool {
        matches!(self, SyncMode::Sync)
    }
}

impl fmt::Display for SyncMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SyncMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "sync" => Ok(SyncMode::Sync),
            "upsert-only" => Ok(SyncMode::UpsertOnly),
            "create-only" => Ok(SyncMode::CreateOnly),
            _ => Err(format!(
                "{s:?} is not a sync mode; use \"sync\" (create, update, delete), \
                 \"upsert-only\" (never delete) or \"create-only\""
            )),
        }
    }
}

/// A client connection type of the Integration API (`sync.clients.types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientType {
    Wired,
    Wireless,
    Vpn,
    Teleport,
}

impl ClientType {
    pub const ALL: [ClientType; 4] = [
        ClientType::Wired,
        ClientType::Wireless,
        ClientType::Vpn,
        ClientType::Teleport,
    ];

    /// The API's spelling, also used in the config: `WIRED`, `WIRELESS`, `VPN`, `TELEPORT`.
    pub const fn api_name(self) -> &'static str {
        match self {
            ClientType::Wired => "WIRED",
            ClientType::Wireless => "WIRELESS",
            ClientType::Vpn => "VPN",
            ClientType::Teleport => "TELEPORT",
        }
    }
}

impl fmt::Display for ClientType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

impl FromStr for ClientType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClientType::ALL
            .into_iter()
            .find(|t| s.trim().eq_ignore_ascii_case(t.api_name()))
            .ok_or_else(|| {
                format!("{s:?} is not a client type; use WIRED, WIRELESS, VPN or TELEPORT")
            })
    }
}

/// A domain suffix template for client names: `{site}` = the site's internalReference,
/// `{controller}` = the controller's name (`"{site}.home.arpa"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainTemplate(String);

impl DomainTemplate {
    pub const PLACEHOLDERS: [&'static str; 2] = ["site", "controller"];

    /// Validates and normalises (lower-case, no leading/trailing dots) a template.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim().trim_matches('.').to_ascii_lowercase();
        if t.is_empty() {
            return Err(
                "is empty; write a domain suffix such as \"{site}.home.arpa\" or \"corp.lan\""
                    .into(),
            );
        }
        let mut rest = t.as_str();
        let mut literal = String::new();
        while let Some(start) = rest.find(['{', '}']) {
            literal.push_str(&rest[..start]);
            if rest[start..].starts_with('}') {
                return Err(format!(
                    "{text:?} has a '}}' without '{{'; placeholders are {{site}} and {{controller}}"
                ));
            }
            let after = &rest[start + 1..];
            let Some(end) = after.find('}') else {
                return Err(format!(
                    "{text:?} has a '{{' without '}}'; placeholders are {{site}} and {{controller}}"
                ));
            };
            let name = &after[..end];
            if !Self::PLACEHOLDERS.contains(&name) {
                return Err(format!(
                    "{text:?} uses the unknown placeholder {{{name}}}; only {{site}} (the site's \
                     internalReference) and {{controller}} (the controller's name) exist"
                ));
            }
            literal.push('x');
            rest = &after[end + 1..];
        }
        literal.push_str(rest);
        if let Some(bad) = literal
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
        {
            return Err(format!(
                "{text:?} contains {bad:?}; a domain may only hold letters, digits, '-' and '.' \
                 besides the placeholders"
            ));
        }
        if literal.split('.').any(str::is_empty) {
            return Err(format!("{text:?} has an empty label (\"..\")"));
        }
        Ok(DomainTemplate(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The suffix for one site: placeholders replaced by their values reduced to DNS label
    /// characters (lower-case, runs outside `[a-z0-9-]` → `-`).
    pub fn render(&self, site_internal_reference: &str, controller: &str) -> String {
        self.0
            .replace("{site}", &dns_label(site_internal_reference, "site"))
            .replace("{controller}", &dns_label(controller, "controller"))
    }
}

impl fmt::Display for DomainTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn dns_label(value: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in value.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let t = out.trim_matches('-');
    if t.is_empty() {
        fallback.to_string()
    } else {
        t.chars().take(63).collect()
    }
}

/// One `[[site]]`: per-site settings, matched as `controller/site`.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteOverride {
    /// The controller part of `match` (a configured controller's name).
    pub controller: String,
    /// The site part of `match`: internalReference, name or UUID; may be a glob.
    pub site: String,
    pub publish: bool,
    pub receive: bool,
    pub domains: Vec<String>,
    pub exclude_domains: Vec<String>,
    pub clients_domain: Option<DomainTemplate>,
}

impl SiteOverride {
    /// `controller/site`, as written.
    pub fn match_str(&self) -> String {
        format!("{}/{}", self.controller, self.site)
    }

    /// Whether this entry applies to a site of `controller` with these identifiers
    /// (internalReference, name, UUID).
    pub fn matches(&self, controller: &str, site_keys: &[&str]) -> bool {
        self.controller == controller && site_keys.iter().any(|k| glob_match(&self.site, k))
    }
}

/// The effective settings of one site: its `[[site]]` entry or the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct SitePolicy {
    pub publish: bool,
    pub receive: bool,
    pub domains: Vec<String>,
    pub exclude_domains: Vec<String>,
    pub clients_domain: DomainTemplate,
    /// The index into [`Config::sites`] of the entry that applied, if any.
    pub entry: Option<usize>,
}

impl SitePolicy {
    /// Whether a record name passes this site's domain filters.
    pub fn allows_name(&self, name: &str) -> bool {
        glob_match_any(&self.domains, name) && !glob_match_any(&self.exclude_domains, name)
    }
}

/// Which file the config came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File {
        path: PathBuf,
        found_via: FoundVia,
        format: ConfigFormat,
    },
    /// No file was found: built-in defaults (and the environment). `searched` lists where.
    Defaults { searched: Vec<PathBuf> },
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::File {
                path,
                found_via,
                format,
            } => {
                let kind = match format {
                    ConfigFormat::Toml => "",
                    ConfigFormat::LegacyJson => ", the earlier tool's controllers.json",
                };
                write!(f, "{} (from {found_via}{kind})", path.display())
            }
            ConfigSource::Defaults { searched } => {
                let places: Vec<String> =
                    searched.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "built-in defaults (no config file found; looked in {})",
                    places.join(", ")
                )
            }
        }
    }
}

/// How the config file was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoundVia {
    /// `--config FILE`.
    CommandLine,
    /// An environment variable (`UNIFI_DNS_SYNC_CONFIG` or the legacy `CONFIG_PATH`).
    EnvVar(String),
    /// One of the default locations.
    DefaultLocation,
}

impl fmt::Display for FoundVia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FoundVia::CommandLine => f.write_str("--config"),
            FoundVia::EnvVar(v) => write!(f, "${v}"),
            FoundVia::DefaultLocation => f.write_str("default location"),
        }
    }
}

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    Toml,
    /// The earlier tool's `controllers.json`.
    LegacyJson,
}

/// Where [`load`] looks when neither `--config` nor `$UNIFI_DNS_SYNC_CONFIG` names a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPaths {
    /// Searched before `$CONFIG_PATH` (default: `./unifi-dns-sync.toml`,
    /// `/config/unifi-dns-sync.toml`).
    pub primary: Vec<PathBuf>,
    /// Searched after `$CONFIG_PATH` (default: `/config/controllers.json`).
    pub legacy: Vec<PathBuf>,
}

impl Default for SearchPaths {
    fn default() -> Self {
        SearchPaths {
            primary: defaults::CONFIG_PATHS.iter().map(PathBuf::from).collect(),
            legacy: vec![PathBuf::from(defaults::LEGACY_CONFIG_PATH)],
        }
    }
}

impl SearchPaths {
    /// No default locations at all (for tests and embedding).
    pub fn none() -> Self {
        SearchPaths {
            primary: Vec::new(),
            legacy: Vec::new(),
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file named by `--config`, `$UNIFI_DNS_SYNC_CONFIG` or `$CONFIG_PATH` does not exist.
    #[error(
        "config file {} (named by {named_by}) does not exist; create it (config.example.toml shows \
         every key) or name an existing file",
        path.display()
    )]
    NotFound { path: PathBuf, named_by: String },
    /// The file exists but cannot be read.
    #[error("cannot read config file {}: {reason}; check the path and its permissions", path.display())]
    Read { path: PathBuf, reason: String },
    /// The file was read but something in it (or in the environment) is wrong.
    #[error("{}", render_problems(origin, problems))]
    Invalid {
        origin: String,
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// The individual problems (empty for `NotFound`/`Read`).
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn render_problems(origin: &str, problems: &[Problem]) -> String {
    let mut out = format!(
        "invalid configuration ({origin}): {} problem{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        out.push_str("\n  - ");
        out.push_str(&p.to_string());
    }
    out
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: defaults::DATABASE_URL.to_string(),
        }
    }
}

impl Default for ClientsConfig {
    fn default() -> Self {
        ClientsConfig {
            enabled: defaults::CLIENTS_ENABLED,
            domain: DomainTemplate(defaults::CLIENTS_DOMAIN.to_string()),
            ttl: defaults::CLIENTS_TTL,
            retention: defaults::CLIENTS_RETENTION,
            types: defaults::CLIENT_TYPES.to_vec(),
        }
    }
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            interval: defaults::INTERVAL,
            mode: defaults::MODE,
            record_types: defaults::RECORD_TYPES.to_vec(),
            exclude_same_controller: defaults::EXCLUDE_SAME_CONTROLLER,
            max_delete_fraction: defaults::MAX_DELETE_FRACTION,
            threshold_min_copies: defaults::THRESHOLD_MIN_COPIES,
            history_retention: defaults::HISTORY_RETENTION,
            clients: ClientsConfig::default(),
        }
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: None,
        }
    }
}

impl Default for Config {
    /// The built-in defaults, no controllers, no token (does not read the environment).
    fn default() -> Self {
        Config {
            database: DatabaseConfig::default(),
            sync: SyncConfig::default(),
            web: WebConfig::default(),
            controllers: Vec::new(),
            sites: Vec::new(),
            log_level: None,
            source: ConfigSource::Defaults {
                searched: Vec::new(),
            },
            warnings: Vec::new(),
        }
    }
}

impl Config {
    /// Whether any controller is configured (`run` and `sync` need one).
    pub fn has_controllers(&self) -> bool {
        !self.controllers.is_empty()
    }

    /// The controller with this name.
    pub fn controller(&self, name: &str) -> Option<&ControllerConfig> {
        self.controllers.iter().find(|c| c.name == name)
    }

    /// The effective settings of a site of `controller`, given its identifiers
    /// (internalReference, name, UUID): the first matching `[[site]]`, else the defaults.
    pub fn site_policy(&self, controller: &str, site_keys: &[&str]) -> SitePolicy {
        match self
            .sites
            .iter()
            .position(|s| s.matches(controller, site_keys))
        {
            Some(i) => {
                let s = &self.sites[i];
                SitePolicy {
                    publish: s.publish,
                    receive: s.receive,
                    domains: s.domains.clone(),
                    exclude_domains: s.exclude_domains.clone(),
                    clients_domain: s
                        .clients_domain
                        .clone()
                        .unwrap_or_else(|| self.sync.clients.domain.clone()),
                    entry: Some(i),
                }
            }
            None => SitePolicy {
                publish: defaults::PUBLISH,
                receive: defaults::RECEIVE,
                domains: vec![defaults::DOMAINS.to_string()],
                exclude_domains: Vec::new(),
                clients_domain: self.sync.clients.domain.clone(),
                entry: None,
            },
        }
    }

    /// Logs [`Config::warnings`] with `tracing::warn!` (for a binary that installs its
    /// subscriber after loading, when the log level comes from the config).
    pub fn log_warnings(&self) {
        for w in &self.warnings {
            tracing::warn!("{w}");
        }
    }

    /// The effective configuration as TOML-like text, secrets as `[redacted]` with their source
    /// and key fingerprints, for `check`.
    pub fn redacted_summary(&self) -> String {
        summary::render(self)
    }
}

impl fmt::Display for Config {
    /// Same as [`Config::redacted_summary`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted_summary())
    }
}

/// Replaces the password of a `scheme://user:password@host/…` URL with `[redacted]`.
pub fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            if userinfo.contains(':') {
                format!("{scheme}://{user}:{REDACTED}@{host}{tail}")
            } else {
                format!("{scheme}://{REDACTED}@{host}{tail}")
            }
        }
        None => url.to_string(),
    }
}

/// Loads the configuration (see the module doc), searching the default locations.
pub fn load(explicit_path: Option<&Path>, env: &dyn EnvSource) -> Result<Config, ConfigError> {
    load_with_search(explicit_path, env, &SearchPaths::default())
}

/// [`load`] with other default locations (tests use temporary directories or none).
pub fn load_with_search(
    explicit_path: Option<&Path>,
    env: &dyn EnvSource,
    search: &SearchPaths,
) -> Result<Config, ConfigError> {
    match locate(explicit_path, env, search)? {
        Some((path, found_via)) => {
            let bytes = std::fs::read(&path).map_err(|e| ConfigError::Read {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let text = String::from_utf8(bytes).map_err(|_| ConfigError::Read {
                path: path.clone(),
                reason: "it is not UTF-8 text".into(),
            })?;
            build::load_text(&text, Some((path, found_via)), env, Vec::new())
        }
        None => {
            let mut searched = Vec::new();
            searched.extend(search.primary.iter().cloned());
            searched.extend(search.legacy.iter().cloned());
            build::load_text("", None, env, searched)
        }
    }
}

/// Loads a configuration from text (TOML, or the legacy JSON array) as if read from `path`
/// (used for locations and relative paths; `None`: no file). Environment overrides apply.
pub fn load_str(
    text: &str,
    path: Option<&Path>,
    env: &dyn EnvSource,
) -> Result<Config, ConfigError> {
    let origin = path.map(|p| (p.to_path_buf(), FoundVia::CommandLine));
    build::load_text(text, origin, env, Vec::new())
}

/// Finds the config file: `explicit_path`, `$UNIFI_DNS_SYNC_CONFIG`, `search.primary`,
/// `$CONFIG_PATH`, `search.legacy`. `Ok(None)` if nothing was named and no default exists.
pub fn locate(
    explicit_path: Option<&Path>,
    env: &dyn EnvSource,
    search: &SearchPaths,
) -> Result<Option<(PathBuf, FoundVia)>, ConfigError> {
    fn must_exist(
        path: PathBuf,
        via: FoundVia,
    ) -> Result<Option<(PathBuf, FoundVia)>, ConfigError> {
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => Err(ConfigError::Read {
                path,
                reason: "it is a directory".into(),
            }),
            Ok(_) => Ok(Some((path, via))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ConfigError::NotFound {
                path,
                named_by: via.to_string(),
            }),
            Err(e) => Err(ConfigError::Read {
                path,
                reason: e.to_string(),
            }),
        }
    }
    fn if_exists(path: &Path) -> Result<bool, ConfigError> {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => Err(ConfigError::Read {
                path: path.to_path_buf(),
                reason: "it is a directory".into(),
            }),
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }),
        }
    }

    if let Some(p) = explicit_path {
        return must_exist(p.to_path_buf(), FoundVia::CommandLine);
    }
    if let Some(p) = env::non_empty(env, CONFIG_ENV) {
        return must_exist(PathBuf::from(p.trim()), FoundVia::EnvVar(CONFIG_ENV.into()));
    }
    for p in &search.primary {
        if if_exists(p)? {
            return Ok(Some((p.clone(), FoundVia::DefaultLocation)));
        }
    }
    if let Some(p) = env::non_empty(env, legacy_vars::CONFIG_PATH) {
        return must_exist(
            PathBuf::from(p.trim()),
            FoundVia::EnvVar(legacy_vars::CONFIG_PATH.into()),
        );
    }
    for p in &search.legacy {
        if if_exists(p)? {
            return Ok(Some((p.clone(), FoundVia::DefaultLocation)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_in_every_spelling() {
        let hex64 = "ab".repeat(32);
        let colon = vec!["AB"; 32].join(":");
        for text in [
            hex64.clone(),
            hex64.to_uppercase(),
            format!("sha256:{colon}"),
            format!("SHA256:{}", colon.to_lowercase()),
            colon.clone(),
            format!("  sha256:{hex64}  "),
        ] {
            assert_eq!(TlsMode::parse_fingerprint(&text), Ok([0xab; 32]), "{text}");
        }
        assert!(
            TlsMode::parse_fingerprint("sha256:AB:CD")
                .unwrap_err()
                .contains("32")
        );
        assert!(
            TlsMode::parse_fingerprint("zz")
                .unwrap_err()
                .contains("hex")
        );
        assert!(
            TlsMode::parse_fingerprint(&"ab".repeat(33))
                .unwrap_err()
                .contains("33 bytes")
        );
        assert!(TlsMode::parse_fingerprint("sha25\u{e9}:ab").is_err());
        assert!(TlsMode::parse_fingerprint("\u{e9}\u{e9}\u{e9}\u{e9}").is_err());
        let fp = [0x0f; 32];
        assert_eq!(
            TlsMode::parse_fingerprint(&TlsMode::format_fingerprint(&fp)),
            Ok(fp)
        );
        assert!(TlsMode::format_fingerprint(&fp).starts_with("sha256:0F:0F:"));
    }

    #[test]
    fn templates() {
        let t = DomainTemplate::parse("{site}.Home.ARPA.").unwrap();
        assert_eq!(t.as_str(), "{site}.home.arpa");
        assert_eq!(t.render("default", "hq"), "default.home.arpa");
        assert_eq!(t.render("Main Office!", "hq"), "main-office.home.arpa");
        let t = DomainTemplate::parse("{site}.{controller}.lan").unwrap();
        assert_eq!(t.render("abc", "branch-1"), "abc.branch-1.lan");
        assert!(
            DomainTemplate::parse("{sitename}.lan")
                .unwrap_err()
                .contains("{sitename}")
        );
        assert!(DomainTemplate::parse("{site.lan").is_err());
        assert!(DomainTemplate::parse("site}.lan").is_err());
        assert!(DomainTemplate::parse("a..b").is_err());
        assert!(DomainTemplate::parse("a b.lan").is_err());
        assert!(DomainTemplate::parse("").is_err());
        assert_eq!(
            DomainTemplate::parse(".corp.lan").unwrap().as_str(),
            "corp.lan"
        );
    }

    #[test]
    fn sync_modes() {
        assert_eq!("sync".parse(), Ok(SyncMode::Sync));
        assert_eq!("Upsert_Only".parse(), Ok(SyncMode::UpsertOnly));
        assert_eq!("create-only".parse(), Ok(SyncMode::CreateOnly));
        assert!(
            "mirror"
                .parse::<SyncMode>()
                .unwrap_err()
                .contains("upsert-only")
        );
        assert!(SyncMode::Sync.allows_deletes() && SyncMode::Sync.allows_updates());
        assert!(!SyncMode::UpsertOnly.allows_deletes() && SyncMode::UpsertOnly.allows_updates());
        assert!(!SyncMode::CreateOnly.allows_deletes() && !SyncMode::CreateOnly.allows_updates());
    }

    #[test]
    fn url_passwords_are_redacted() {
        assert_eq!(
            redact_url_password("postgres://app:s3cret@db:5432/dns"),
            "postgres://app:[redacted]@db:5432/dns"
        );
        assert_eq!(
            redact_url_password("sqlite://dns_sync.db"),
            "sqlite://dns_sync.db"
        );
        assert_eq!(
            redact_url_password("/data/dns_sync.db"),
            "/data/dns_sync.db"
        );
        let db = DatabaseConfig {
            url: "postgres://app:s3cret@db/dns".into(),
        };
        assert!(!format!("{db:?}").contains("s3cret"));
    }

    #[test]
    fn site_policy_first_match_wins() {
        let mut c = Config::default();
        c.sites.push(SiteOverride {
            controller: "hq".into(),
            site: "default".into(),
            publish: false,
            receive: true,
            domains: vec!["*.lan".into()],
            exclude_domains: vec!["secret.lan".into()],
            clients_domain: None,
        });
        c.sites.push(SiteOverride {
            controller: "hq".into(),
            site: "*".into(),
            publish: true,
            receive: false,
            domains: vec!["*".into()],
            exclude_domains: vec![],
            clients_domain: Some(DomainTemplate::parse("hq.lan").unwrap()),
        });
        let p = c.site_policy("hq", &["default", "Default", "88f7af54"]);
        assert_eq!(p.entry, Some(0));
        assert!(!p.publish);
        assert!(p.allows_name("nas.lan"));
        assert!(!p.allows_name("secret.lan"));
        assert!(!p.allows_name("nas.example.com"));
        let p = c.site_policy("hq", &["branch"]);
        assert_eq!(p.entry, Some(1));
        assert_eq!(p.clients_domain.as_str(), "hq.lan");
        let p = c.site_policy("other", &["default"]);
        assert_eq!(p.entry, None);
        assert!(p.publish && p.receive && p.allows_name("anything"));
        assert_eq!(p.clients_domain.as_str(), "{site}.home.arpa");
    }
}
