//! Configuration loading (SPEC §3): defaults, the example file, env overrides, secrets,
//! validation messages, TLS, the legacy controllers.json and its env vars.
//!
//! Never touches the real process environment: every test passes its own variables.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use unifi_dns_sync::config::{
    self, ClientType, Config, ConfigError, ConfigFormat, ConfigSource, ControllerConfig,
    DomainTemplate, FoundVia, Location, SearchPaths, SecretSource, SyncConfig, SyncMode, TlsMode,
};
use unifi_dns_sync::glob::glob_match;
use unifi_dns_sync::record_type::RecordType;

const KEY: &str = "hq-key-0123456789abcdef";
const SECRET_MARK: &str = "s3cr3t-VALUE-xyz";

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn hq_env() -> HashMap<String, String> {
    env(&[("UNIFI_HQ_API_KEY", KEY)])
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        Files {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Writes `text` to a temp `unifi-dns-sync.toml` and loads it as `--config`.
fn load_toml(
    text: &str,
    vars: &HashMap<String, String>,
) -> (Files, PathBuf, Result<Config, ConfigError>) {
    let files = Files::new();
    let path = files.write("unifi-dns-sync.toml", text);
    let result = config::load_with_search(Some(&path), vars, &SearchPaths::none());
    (files, path, result)
}

fn ok(text: &str, vars: &HashMap<String, String>) -> Config {
    let (_f, _p, r) = load_toml(text, vars);
    r.unwrap_or_else(|e| panic!("expected a valid config, got: {e}"))
}

/// Loads and expects failure; returns the message and the file path.
fn fail(text: &str, vars: &HashMap<String, String>) -> (String, String) {
    let (_f, path, r) = load_toml(text, vars);
    match r {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => (e.to_string(), path.display().to_string()),
    }
}

const HQ: &str = r#"
[[controller]]
name = "hq"
url = "https://192.168.1.1"
api_key_env = "UNIFI_HQ_API_KEY"
"#;

fn with_hq(extra: &str) -> String {
    format!("{HQ}\n{extra}")
}

fn assert_contains(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(haystack.contains(n), "expected {n:?} in:\n{haystack}");
    }
}

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config.example.toml")
}

// ---------------------------------------------------------------- defaults and the example

#[test]
fn no_file_gives_defaults_without_controllers() {
    let c = config::load_with_search(None, &env(&[]), &SearchPaths::none()).unwrap();
    assert_eq!(c.database.url, "sqlite://dns_sync.db");
    let s = &c.sync;
    assert_eq!(s.interval, Duration::from_secs(300));
    assert_eq!(s.mode, SyncMode::Sync);
    assert_eq!(
        s.record_types,
        vec![RecordType::A, RecordType::Aaaa, RecordType::Cname]
    );
    assert!(!s.exclude_same_controller);
    assert_eq!(s.max_delete_fraction, 0.3);
    assert_eq!(s.threshold_min_copies, 10);
    assert_eq!(s.history_retention, Duration::from_secs(90 * 86_400));
    assert!(!s.clients.enabled);
    assert_eq!(s.clients.domain.as_str(), "{site}.home.arpa");
    assert_eq!(s.clients.ttl, 300);
    assert_eq!(s.clients.retention, Duration::from_secs(86_400));
    assert_eq!(
        s.clients.types,
        vec![ClientType::Wired, ClientType::Wireless]
    );
    assert_eq!(
        c.web.listen,
        "127.0.0.1:8080".parse::<SocketAddr>().unwrap()
    );
    assert!(c.web.token.is_none());
    assert!(c.controllers.is_empty() && !c.has_controllers());
    assert!(c.sites.is_empty());
    assert_eq!(c.log_level, None);
    assert!(matches!(c.source, ConfigSource::Defaults { .. }));
    assert_eq!(c.sync, Config::default().sync);
    assert!(
        c.redacted_summary()
            .contains("no [[controller]] configured")
    );
}

#[test]
fn empty_file_gives_defaults() {
    let c = ok("", &env(&[]));
    assert_eq!(c.sync, SyncConfig::default());
    assert!(matches!(
        c.source,
        ConfigSource::File {
            format: ConfigFormat::Toml,
            found_via: FoundVia::CommandLine,
            ..
        }
    ));
}

#[test]
fn example_file_is_valid_and_shows_the_defaults() {
    let path = example_path();
    let c = config::load_with_search(Some(&path), &hq_env(), &SearchPaths::none())
        .unwrap_or_else(|e| panic!("config.example.toml does not load: {e}"));
    let d = Config::default();
    assert_eq!(c.database, d.database);
    assert_eq!(
        c.sync, d.sync,
        "[sync] of the example must equal the defaults"
    );
    assert_eq!(c.web.listen, d.web.listen);
    assert!(
        c.web.token.is_none(),
        "UNIFI_DNS_SYNC_WEB_TOKEN is not set in this test"
    );

    assert_eq!(c.controllers.len(), 1);
    let hq = &c.controllers[0];
    assert_eq!(hq.name, "hq");
    assert_eq!(hq.url, "https://192.168.1.1");
    assert_eq!(hq.api_key.expose(), KEY);
    assert_eq!(
        hq.api_key.source(),
        &SecretSource::Env("UNIFI_HQ_API_KEY".into())
    );
    // The controller keys of the example are the defaults of a controller with no keys.
    let minimal = &ok(HQ, &hq_env()).controllers[0];
    assert_eq!(hq.tls, minimal.tls);
    assert_eq!(hq.tls, TlsMode::Verify);
    assert_eq!(hq.sites, minimal.sites);
    assert_eq!(hq.sites, vec!["*".to_string()]);
    assert_eq!(hq.exclude_sites, minimal.exclude_sites);
    assert_eq!(hq.priority, minimal.priority);
    assert_eq!(hq.priority, 100);
    assert_eq!(hq.max_parallel_writes, 1);
    assert_eq!(hq.max_parallel_reads, 4);
    assert_eq!(hq.requests_per_second, 20.0);
    assert_eq!(hq.timeout, Duration::from_secs(10));
    assert_eq!(
        (
            hq.max_parallel_writes,
            hq.max_parallel_reads,
            hq.requests_per_second,
            hq.timeout
        ),
        (
            minimal.max_parallel_writes,
            minimal.max_parallel_reads,
            minimal.requests_per_second,
            minimal.timeout
        )
    );

    assert_eq!(c.sites.len(), 1);
    let site = &c.sites[0];
    assert_eq!(site.match_str(), "hq/default");
    assert!(site.publish && site.receive);
    assert_eq!(site.domains, vec!["*".to_string()]);
    assert!(site.exclude_domains.is_empty());
    assert_eq!(
        site.clients_domain.as_ref().map(DomainTemplate::as_str),
        Some("hq.example.lan")
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn example_file_mentions_every_key_the_loader_knows() {
    let text = std::fs::read_to_string(example_path()).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    let keys = |v: &toml::Value| -> Vec<String> { v.as_table().unwrap().keys().cloned().collect() };
    assert_eq!(keys(&doc["database"]), ["url"]);
    let mut sync = keys(&doc["sync"]);
    sync.sort();
    assert_eq!(
        sync,
        [
            "clients",
            "exclude_same_controller",
            "history_retention",
            "interval",
            "max_delete_fraction",
            "mode",
            "record_types",
            "threshold_min_copies"
        ]
    );
    let mut clients = keys(&doc["sync"]["clients"]);
    clients.sort();
    assert_eq!(clients, ["domain", "enabled", "retention", "ttl", "types"]);
    let mut ctl = keys(&doc["controller"][0]);
    ctl.sort();
    assert_eq!(
        ctl,
        [
            "api_key_env",
            "exclude_sites",
            "max_parallel_reads",
            "max_parallel_writes",
            "name",
            "priority",
            "requests_per_second",
            "sites",
            "timeout",
            "tls",
            "url"
        ]
    );
    let mut site = keys(&doc["site"][0]);
    site.sort();
    assert_eq!(
        site,
        [
            "clients_domain",
            "domains",
            "exclude_domains",
            "match",
            "publish",
            "receive"
        ]
    );
}

// ---------------------------------------------------------------- file lookup

#[test]
fn lookup_order() {
    let f = Files::new();
    let explicit = f.write("explicit.toml", "[sync]\ninterval = \"1m\"\n");
    let from_env = f.write("from-env.toml", "[sync]\ninterval = \"2m\"\n");
    let primary = f.write("unifi-dns-sync.toml", "[sync]\ninterval = \"3m\"\n");
    let cfg_path = f.write("old.toml", "[sync]\ninterval = \"4m\"\n");
    let legacy_default = f.write("controllers.json", "[]");
    let search = SearchPaths {
        primary: vec![f.path("missing.toml"), primary.clone()],
        legacy: vec![legacy_default.clone()],
    };
    let interval = |c: &Config| c.sync.interval.as_secs() / 60;

    let all = env(&[
        ("UNIFI_DNS_SYNC_CONFIG", from_env.to_str().unwrap()),
        ("CONFIG_PATH", cfg_path.to_str().unwrap()),
    ]);
    let c = config::load_with_search(Some(&explicit), &all, &search).unwrap();
    assert_eq!(interval(&c), 1);
    let c = config::load_with_search(None, &all, &search).unwrap();
    assert_eq!(interval(&c), 2);
    assert!(
        matches!(&c.source, ConfigSource::File { found_via: FoundVia::EnvVar(v), .. } if v == "UNIFI_DNS_SYNC_CONFIG")
    );

    let only_cfg_path = env(&[("CONFIG_PATH", cfg_path.to_str().unwrap())]);
    let c = config::load_with_search(None, &only_cfg_path, &search).unwrap();
    assert_eq!(
        interval(&c),
        3,
        "the default locations come before $CONFIG_PATH"
    );
    assert!(
        matches!(&c.source, ConfigSource::File { found_via: FoundVia::DefaultLocation, path, .. } if *path == primary)
    );

    let no_primary = SearchPaths {
        primary: vec![f.path("missing.toml")],
        legacy: vec![legacy_default.clone()],
    };
    let c = config::load_with_search(None, &only_cfg_path, &no_primary).unwrap();
    assert_eq!(interval(&c), 4);
    assert!(
        matches!(&c.source, ConfigSource::File { found_via: FoundVia::EnvVar(v), .. } if v == "CONFIG_PATH")
    );

    let c = config::load_with_search(None, &env(&[]), &no_primary).unwrap();
    assert!(matches!(
        &c.source,
        ConfigSource::File { format: ConfigFormat::LegacyJson, path, .. } if *path == legacy_default
    ));

    let none = SearchPaths {
        primary: vec![f.path("a.toml")],
        legacy: vec![f.path("b.json")],
    };
    let c = config::load_with_search(None, &env(&[]), &none).unwrap();
    match &c.source {
        ConfigSource::Defaults { searched } => {
            assert_eq!(searched, &vec![f.path("a.toml"), f.path("b.json")])
        }
        other => panic!("{other:?}"),
    }
    assert!(c.redacted_summary().contains("no config file found"));
}

#[test]
fn named_files_must_exist() {
    let f = Files::new();
    let missing = f.path("nope.toml");
    let e = config::load_with_search(Some(&missing), &env(&[]), &SearchPaths::none()).unwrap_err();
    assert!(matches!(e, ConfigError::NotFound { .. }));
    assert_contains(
        &e.to_string(),
        &[&missing.display().to_string(), "--config", "does not exist"],
    );

    let vars = env(&[("UNIFI_DNS_SYNC_CONFIG", missing.to_str().unwrap())]);
    let e = config::load_with_search(None, &vars, &SearchPaths::none()).unwrap_err();
    assert_contains(
        &e.to_string(),
        &["$UNIFI_DNS_SYNC_CONFIG", "does not exist"],
    );

    let vars = env(&[("CONFIG_PATH", missing.to_str().unwrap())]);
    let e = config::load_with_search(None, &vars, &SearchPaths::none()).unwrap_err();
    assert_contains(&e.to_string(), &["$CONFIG_PATH", "does not exist"]);

    let e =
        config::load_with_search(Some(f.dir.path()), &env(&[]), &SearchPaths::none()).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }), "{e}");
}

// ---------------------------------------------------------------- env overrides

#[test]
fn env_overrides_sections_and_nested_keys() {
    let vars = env(&[
        ("UNIFI_HQ_API_KEY", KEY),
        ("UNIFI_DNS_SYNC_SYNC__INTERVAL", "10m"),
        ("UNIFI_DNS_SYNC_SYNC__MODE", "upsert-only"),
        ("UNIFI_DNS_SYNC_SYNC__RECORD_TYPES", r#"["A","MX_RECORD"]"#),
        ("UNIFI_DNS_SYNC_SYNC__MAX_DELETE_FRACTION", "0.5"),
        ("UNIFI_DNS_SYNC_SYNC__THRESHOLD_MIN_COPIES", "3"),
        ("UNIFI_DNS_SYNC_SYNC__CLIENTS__ENABLED", "true"),
        ("UNIFI_DNS_SYNC_SYNC__CLIENTS__TYPES", "wired,vpn"),
        ("UNIFI_DNS_SYNC_DATABASE__URL", "sqlite:///data/x.db"),
        ("UNIFI_DNS_SYNC_WEB__LISTEN", "0.0.0.0:9090"),
    ]);
    let c = ok(&with_hq("[sync]\ninterval = \"1h\"\n"), &vars);
    assert_eq!(c.sync.interval, Duration::from_secs(600));
    assert_eq!(c.sync.mode, SyncMode::UpsertOnly);
    assert_eq!(c.sync.record_types, vec![RecordType::A, RecordType::Mx]);
    assert_eq!(c.sync.max_delete_fraction, 0.5);
    assert_eq!(c.sync.threshold_min_copies, 3);
    assert!(c.sync.clients.enabled);
    assert_eq!(
        c.sync.clients.types,
        vec![ClientType::Wired, ClientType::Vpn]
    );
    assert_eq!(c.database.url, "sqlite:///data/x.db");
    assert_eq!(c.web.listen, "0.0.0.0:9090".parse::<SocketAddr>().unwrap());
}

#[test]
fn env_overrides_controller_keys() {
    let text = format!(
        "{HQ}\n[[controller]]\nname = \"branch-1\"\nurl = \"https://10.1.0.1\"\napi_key_env = \"B_KEY\"\n"
    );
    let fp = "sha256:".to_string() + &vec!["0A"; 32].join(":");
    let vars = env(&[
        ("UNIFI_HQ_API_KEY", KEY),
        ("B_KEY", "branch-key"),
        (
            "UNIFI_DNS_SYNC_CONTROLLER__BRANCH_1__URL",
            "https://10.9.9.9/",
        ),
        (
            "UNIFI_DNS_SYNC_CONTROLLER__BRANCH_1__MAX_PARALLEL_WRITES",
            "2",
        ),
        (
            "UNIFI_DNS_SYNC_CONTROLLER__BRANCH_1__SITES",
            "default,Branch Office",
        ),
        ("UNIFI_DNS_SYNC_CONTROLLER__BRANCH_1__TLS__FINGERPRINT", &fp),
        ("UNIFI_DNS_SYNC_CONTROLLER__HQ__TLS", "insecure"),
        ("UNIFI_DNS_SYNC_CONTROLLER__HQ__PRIORITY", "5"),
        ("UNIFI_DNS_SYNC_CONTROLLER__HQ__TIMEOUT", "30"),
    ]);
    let c = ok(&text, &vars);
    let b = c.controller("branch-1").unwrap();
    assert_eq!(b.url, "https://10.9.9.9");
    assert_eq!(b.max_parallel_writes, 2);
    assert_eq!(
        b.sites,
        vec!["default".to_string(), "Branch Office".to_string()]
    );
    assert_eq!(b.tls, TlsMode::Fingerprint([0x0a; 32]));
    let hq = c.controller("hq").unwrap();
    assert_eq!(hq.tls, TlsMode::Insecure);
    assert_eq!(hq.priority, 5);
    assert_eq!(hq.timeout, Duration::from_secs(30));
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("\"hq\"") && w.contains("DISABLED"))
    );
    assert_eq!(b.env_prefix(), "UNIFI_DNS_SYNC_CONTROLLER__BRANCH_1__");
}

#[test]
fn env_override_of_a_secret_source_replaces_the_file_one() {
    let f = Files::new();
    let key_file = f.write("hq.key", "from-file-key\n");
    let vars = env(&[(
        "UNIFI_DNS_SYNC_CONTROLLER__HQ__API_KEY_FILE",
        key_file.to_str().unwrap(),
    )]);
    // UNIFI_HQ_API_KEY is not set: the file's api_key_env must no longer count.
    let c = ok(HQ, &vars);
    assert_eq!(c.controllers[0].api_key.expose(), "from-file-key");
    assert_eq!(
        c.controllers[0].api_key.source(),
        &SecretSource::File(key_file)
    );
}

#[test]
fn env_overrides_site_keys() {
    let text = with_hq("[[site]]\nmatch = \"hq/default\"\n");
    let vars = env(&[
        ("UNIFI_HQ_API_KEY", KEY),
        ("UNIFI_DNS_SYNC_SITE__HQ__DEFAULT__PUBLISH", "false"),
        ("UNIFI_DNS_SYNC_SITE__HQ__DEFAULT__DOMAINS", r#"["*.lan"]"#),
    ]);
    let c = ok(&text, &vars);
    assert!(!c.sites[0].publish);
    assert_eq!(c.sites[0].domains, vec!["*.lan".to_string()]);
}

#[test]
fn env_values_where_a_string_is_expected_are_taken_verbatim() {
    let vars = env(&[
        ("123", "numeric-name-key"),
        ("UNIFI_DNS_SYNC_CONTROLLER__HQ__API_KEY_ENV", "123"),
        ("UNIFI_DNS_SYNC_DATABASE__URL", "2024"),
    ]);
    // "123" is not a valid variable name: the error must say so, without quoting it.
    let (msg, _) = fail(HQ, &vars);
    assert_contains(
        &msg,
        &[
            "UNIFI_DNS_SYNC_CONTROLLER__HQ__API_KEY_ENV",
            "not a valid environment variable name",
        ],
    );
    let vars = env(&[
        ("UNIFI_HQ_API_KEY", KEY),
        ("UNIFI_DNS_SYNC_DATABASE__URL", "2024"),
    ]);
    assert_eq!(ok(HQ, &vars).database.url, "2024");
}

#[test]
fn env_variables_without_double_underscore_are_not_overrides() {
    let vars = env(&[
        ("UNIFI_HQ_API_KEY", KEY),
        ("UNIFI_DNS_SYNC_WEB_TOKEN", "tok-123"),
        ("UNIFI_DNS_SYNC_SOMETHING", "x"),
        ("UNIFI_DNS_SYNC_LOG", "debug"),
    ]);
    let c = ok(HQ, &vars);
    assert_eq!(c.web.token.as_ref().map(|t| t.expose()), Some("tok-123"));
}

#[test]
fn unknown_override_variables_are_errors_naming_the_variable() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "UNIFI_DNS_SYNC_SYNC__INTERVALL",
            "5m",
            &[
                "UNIFI_DNS_SYNC_SYNC__INTERVALL",
                "unknown key \"intervall\"",
                "did you mean \"interval\"",
            ],
        ),
        (
            "UNIFI_DNS_SYNC_FOO__BAR",
            "1",
            &["UNIFI_DNS_SYNC_FOO__BAR", "unknown key \"foo\""],
        ),
        (
            "UNIFI_DNS_SYNC_SYNC__CLIENTS__ENABLE",
            "true",
            &[
                "UNIFI_DNS_SYNC_SYNC__CLIENTS__ENABLE",
                "did you mean \"enabled\"",
            ],
        ),
        (
            "UNIFI_DNS_SYNC_CONTROLLER__NOPE__URL",
            "https://x",
            &[
                "UNIFI_DNS_SYNC_CONTROLLER__NOPE__URL",
                "not configured",
                "HQ",
            ],
        ),
        (
            "UNIFI_DNS_SYNC_CONTROLLER__HQ__URLL",
            "https://x",
            &[
                "UNIFI_DNS_SYNC_CONTROLLER__HQ__URLL",
                "unknown key \"urll\"",
            ],
        ),
        (
            "UNIFI_DNS_SYNC_CONTROLLER__HQ",
            "x",
            &["UNIFI_DNS_SYNC_CONTROLLER__HQ", "names no key"],
        ),
        (
            "UNIFI_DNS_SYNC_SITE__HQ__NOPE__PUBLISH",
            "true",
            &[
                "UNIFI_DNS_SYNC_SITE__HQ__NOPE__PUBLISH",
                "not in the config file",
            ],
        ),
        (
            "UNIFI_DNS_SYNC_SYNC____INTERVAL",
            "5m",
            &["UNIFI_DNS_SYNC_SYNC____INTERVAL", "exactly two underscores"],
        ),
    ];
    for (var, value, needles) in cases {
        let mut vars = hq_env();
        vars.insert(var.to_string(), value.to_string());
        let (msg, _) = fail(HQ, &vars);
        assert_contains(&msg, needles);
    }
}

#[test]
fn bad_override_values_name_the_variable() {
    let mut vars = hq_env();
    vars.insert("UNIFI_DNS_SYNC_SYNC__INTERVAL".into(), "5x".into());
    vars.insert("UNIFI_DNS_SYNC_SYNC__CLIENTS__ENABLED".into(), "yes".into());
    let (msg, _) = fail(HQ, &vars);
    assert_contains(
        &msg,
        &[
            "environment variable UNIFI_DNS_SYNC_SYNC__INTERVAL (sets sync.interval)",
            "\"5x\" is not a duration",
            "environment variable UNIFI_DNS_SYNC_SYNC__CLIENTS__ENABLED (sets sync.clients.enabled)",
            "true or false",
            "2 problems",
        ],
    );
}

#[test]
fn overrides_apply_without_a_file() {
    let vars = env(&[
        ("UNIFI_DNS_SYNC_SYNC__INTERVAL", "1m"),
        ("UNIFI_DNS_SYNC_WEB__LISTEN", "[::]:8081"),
    ]);
    let c = config::load_with_search(None, &vars, &SearchPaths::none()).unwrap();
    assert_eq!(c.sync.interval, Duration::from_secs(60));
    assert_eq!(c.web.listen.port(), 8081);
}

// ---------------------------------------------------------------- secrets

#[test]
fn api_key_from_env_file_and_inline() {
    let c = ok(HQ, &hq_env());
    let k = &c.controllers[0].api_key;
    assert_eq!(k.expose(), KEY);
    assert_eq!(k.fingerprint().len(), 12);

    let f = Files::new();
    f.write("secrets/hq", &format!("{KEY}\n"));
    let path = f.write(
        "unifi-dns-sync.toml",
        "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key_file = \"secrets/hq\"\n",
    );
    let c = config::load_with_search(Some(&path), &env(&[]), &SearchPaths::none()).unwrap();
    let k = &c.controllers[0].api_key;
    assert_eq!(k.expose(), KEY, "trailing newline trimmed");
    assert_eq!(
        k.source(),
        &SecretSource::File(f.path("secrets/hq")),
        "relative to the config file"
    );
    assert!(c.warnings.is_empty());

    let c = ok(
        &format!(
            "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key = \"{SECRET_MARK}\"\n"
        ),
        &env(&[]),
    );
    assert_eq!(c.controllers[0].api_key.expose(), SECRET_MARK);
    assert_eq!(c.controllers[0].api_key.source(), &SecretSource::Inline);
    assert!(
        c.warnings.iter().any(|w| w.contains("api_key_env")),
        "{:?}",
        c.warnings
    );
    assert_no_secret(&c);
}

fn assert_no_secret(c: &Config) {
    for text in [
        format!("{c:?}"),
        format!("{c:#?}"),
        c.to_string(),
        c.redacted_summary(),
        c.warnings.join("\n"),
    ] {
        assert!(!text.contains(SECRET_MARK), "secret leaked in:\n{text}");
        assert!(!text.contains(KEY), "secret leaked in:\n{text}");
    }
}

#[test]
fn secrets_never_appear_in_debug_display_or_summary() {
    let f = Files::new();
    f.write("tok", &format!("{SECRET_MARK}-token\n"));
    let path = f.write(
        "c.toml",
        &format!("[web]\ntoken_file = \"tok\"\n{HQ}\n[[controller]]\nname = \"b\"\nurl = \"https://b\"\napi_key = \"{SECRET_MARK}\"\n"),
    );
    let c = config::load_with_search(Some(&path), &hq_env(), &SearchPaths::none()).unwrap();
    assert_eq!(
        c.web.token.as_ref().unwrap().expose(),
        format!("{SECRET_MARK}-token")
    );
    assert_no_secret(&c);
    let summary = c.redacted_summary();
    let fp = c.controllers[0].api_key.fingerprint();
    assert_contains(
        &summary,
        &[
            "[redacted]",
            &fp,
            "environment variable UNIFI_HQ_API_KEY",
            "[[controller]]",
            "name = \"hq\"",
        ],
    );
    assert_eq!(format!("{:?}", c.controllers[0].api_key), "[redacted]");
    assert_eq!(c.controllers[0].api_key.to_string(), "[redacted]");
}

#[test]
fn secret_failures_name_controller_key_and_source_but_not_the_value() {
    // Missing env var.
    let (msg, file) = fail(HQ, &env(&[]));
    assert_contains(
        &msg,
        &[
            &file,
            "controller[0] (name \"hq\").api_key_env",
            "UNIFI_HQ_API_KEY",
            "not set",
        ],
    );

    // Missing file.
    let (msg, _) = fail(
        "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key_file = \"/nonexistent/hq.key\"\n",
        &env(&[]),
    );
    assert_contains(
        &msg,
        &[
            "controller[0] (name \"hq\").api_key_file",
            "/nonexistent/hq.key",
            "cannot read",
        ],
    );

    // Two sources.
    let (msg, file) = fail(
        &format!(
            "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key = \"{SECRET_MARK}\"\napi_key_env = \"X\"\n"
        ),
        &env(&[("X", "y")]),
    );
    assert_contains(
        &msg,
        &[
            &file,
            "controller[0] (name \"hq\")",
            "api_key and api_key_env are both set",
            "exactly one",
        ],
    );
    assert!(!msg.contains(SECRET_MARK), "{msg}");

    // None at all.
    let (msg, _) = fail(
        "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\n",
        &env(&[]),
    );
    assert_contains(
        &msg,
        &[
            "controller[0] (name \"hq\")",
            "has no API key",
            "api_key_env",
        ],
    );

    // A key pasted where the variable name belongs.
    let (msg, _) = fail(
        &format!(
            "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key_env = \"{SECRET_MARK}\"\n"
        ),
        &env(&[]),
    );
    assert_contains(&msg, &["not a valid environment variable name"]);
    assert!(!msg.contains(SECRET_MARK), "{msg}");

    // Whitespace inside a key (a file with two lines).
    let f = Files::new();
    f.write("k", &format!("{SECRET_MARK}\nsecond line\n"));
    let path = f.write(
        "c.toml",
        "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key_file = \"k\"\n",
    );
    let msg = config::load_with_search(Some(&path), &env(&[]), &SearchPaths::none())
        .unwrap_err()
        .to_string();
    assert_contains(&msg, &["whitespace"]);
    assert!(!msg.contains(SECRET_MARK), "{msg}");

    // An empty env var.
    let (msg, _) = fail(HQ, &env(&[("UNIFI_HQ_API_KEY", "  ")]));
    assert_contains(&msg, &["UNIFI_HQ_API_KEY", "not set (or is empty)"]);
}

#[test]
fn secret_values_never_leak_through_other_errors() {
    // An unknown key holding a secret, a secret of the wrong type, and an override carrying one.
    let text = format!(
        "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napikey = \"{SECRET_MARK}\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\n\n[web]\ntoken = [\"{SECRET_MARK}\"]\n"
    );
    let mut vars = hq_env();
    vars.insert(
        "UNIFI_DNS_SYNC_CONTROLLER__HQ__API_KEYS".into(),
        SECRET_MARK.into(),
    );
    let (msg, _) = fail(&text, &vars);
    assert_contains(
        &msg,
        &[
            "unknown key \"apikey\"",
            "web.token",
            "UNIFI_DNS_SYNC_CONTROLLER__HQ__API_KEYS",
        ],
    );
    assert!(!msg.contains(SECRET_MARK), "{msg}");
    let (_f, _p, r) = load_toml(&text, &vars);
    assert!(!format!("{:?}", r.unwrap_err()).contains(SECRET_MARK));

    // A syntax error on the line of a secret.
    let text = format!("[web]\ntoken = \"{SECRET_MARK}\" x\n");
    let (msg, file) = fail(&text, &env(&[]));
    assert_contains(&msg, &[&format!("{file}:2"), "TOML syntax error"]);
    assert!(!msg.contains(SECRET_MARK), "{msg}");

    // URL credentials.
    let (msg, _) = fail(
        &format!(
            "[[controller]]\nname = \"hq\"\nurl = \"https://admin:{SECRET_MARK}@h\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\n"
        ),
        &hq_env(),
    );
    assert_contains(&msg, &["user:password@"]);
    assert!(!msg.contains(SECRET_MARK), "{msg}");
}

#[test]
fn web_token_sources() {
    // Default variable missing: no token, not an error, no warning.
    let c = ok("", &env(&[]));
    assert!(c.web.token.is_none());
    assert!(c.warnings.is_empty());

    // Default variable set.
    let c = ok("", &env(&[("UNIFI_DNS_SYNC_WEB_TOKEN", "t0k\n")]));
    let t = c.web.token.unwrap();
    assert_eq!(t.expose(), "t0k");
    assert!(t.verify("t0k") && !t.verify("t0"));

    // Explicit variable missing: no token, a warning.
    let c = ok("[web]\ntoken_env = \"MY_TOKEN\"\n", &env(&[]));
    assert!(c.web.token.is_none());
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("MY_TOKEN") && w.contains("disabled"))
    );

    // token_file unreadable: error.
    let (msg, file) = fail("[web]\ntoken_file = \"/nonexistent/token\"\n", &env(&[]));
    assert_contains(
        &msg,
        &[&format!("{file}:2"), "web.token_file", "/nonexistent/token"],
    );

    // Two sources.
    let (msg, _) = fail("[web]\ntoken_env = \"A\"\ntoken_file = \"/x\"\n", &env(&[]));
    assert_contains(
        &msg,
        &["web.token_file", "token_env and token_file are both set"],
    );

    // Inline: accepted with a warning.
    let c = ok(&format!("[web]\ntoken = \"{SECRET_MARK}\"\n"), &env(&[]));
    assert_eq!(c.web.token.as_ref().unwrap().expose(), SECRET_MARK);
    assert!(c.warnings.iter().any(|w| w.contains("token_env")));
    assert_no_secret(&c);
}

// ---------------------------------------------------------------- validation messages

#[test]
fn unknown_keys_name_file_line_and_key() {
    let (msg, file) = fail(&with_hq("[sync]\nintervall = \"5m\"\n"), &hq_env());
    assert_contains(
        &msg,
        &[
            &file,
            "sync.intervall",
            "unknown key \"intervall\" in sync",
            "did you mean \"interval\"",
        ],
    );

    let text = "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\n\n[[controller]]\nname = \"branch\"\nurl = \"https://b\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\nmax_parallel_write = 2\n";
    let (msg, file) = fail(text, &hq_env());
    assert_contains(
        &msg,
        &[
            &format!("{file}:10:"),
            "controller[1] (name \"branch\").max_parallel_write",
            "did you mean \"max_parallel_writes\"",
        ],
    );

    let (msg, _) = fail("[[controllers]]\nname = \"hq\"\n", &env(&[]));
    assert_contains(
        &msg,
        &[
            "unknown key \"controllers\" at the top level",
            "did you mean \"controller\"",
        ],
    );

    let (msg, _) = fail(
        &with_hq("[[site]]\nmatch = \"hq/default\"\npublsh = true\n"),
        &hq_env(),
    );
    assert_contains(
        &msg,
        &[
            "site[0] (match \"hq/default\").publsh",
            "did you mean \"publish\"",
        ],
    );

    let (msg, _) = fail(
        &with_hq("[sync.clients]\nenabled = true\ncolour = \"red\"\n"),
        &hq_env(),
    );
    assert_contains(&msg, &["sync.clients.colour", "the keys allowed here are"]);

    let (msg, _) = fail(
        "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\ntls = { ca = \"/x\" }\n",
        &hq_env(),
    );
    assert_contains(
        &msg,
        &["controller[0] (name \"hq\").tls.ca", "unknown key \"ca\""],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"
[sync]
interval = "5x"
mode = "mirror"
record_types = ["A", "PTR"]
max_delete_fraction = 1.5

[sync.clients]
domain = "{sitename}.lan"

[web]
listen = "localhost"

[[controller]]
name = "HQ"
url = "ftp://192.168.1.1"
api_key_env = "UNIFI_HQ_API_KEY"
max_parallel_writes = 0

[[site]]
match = "hq"
"#;
    let (msg, file) = fail(text, &hq_env());
    let checks: &[(&str, &[&str])] = &[
        (
            "sync.interval",
            &[":3:", "\"5x\" is not a duration", "e.g. \"30s\""],
        ),
        (
            "sync.mode",
            &[":4:", "\"mirror\" is not a sync mode", "upsert-only"],
        ),
        (
            "sync.record_types[1]",
            &[":5:", "\"PTR\" is not a record type"],
        ),
        ("sync.max_delete_fraction", &[":6:", "1.5 is outside 0..=1"]),
        (
            "sync.clients.domain",
            &[":9:", "unknown placeholder {sitename}", "{site}"],
        ),
        (
            "web.listen",
            &[":12:", "\"localhost\" is not an address", "127.0.0.1:8080"],
        ),
        (
            "controller[0] (name \"HQ\").name",
            &[":15:", "not a valid controller name", "\"hq\""],
        ),
        ("controller[0] (name \"HQ\").url", &[":16:", "https://"]),
        (
            "controller[0] (name \"HQ\").max_parallel_writes",
            &[":18:", "must be at least 1, got 0"],
        ),
        (
            "site[0] (match \"hq\").match",
            &[":21:", "is not \"controller/site\"", "hq/default"],
        ),
    ];
    for (key, needles) in checks {
        let line = msg
            .lines()
            .find(|l| l.contains(&format!(": {key}:")))
            .unwrap_or_else(|| panic!("no problem for {key} in:\n{msg}"));
        assert!(line.contains(&file), "{line}");
        assert_contains(line, needles);
    }
    assert!(msg.contains("10 problems"), "{msg}");
}

#[test]
fn controller_names_must_be_unique_and_sites_must_name_a_controller() {
    let text = format!(
        "{HQ}\n{HQ}\n[[site]]\nmatch = \"branch/default\"\n[[site]]\nmatch = \"hq/*\"\n[[site]]\nmatch = \"hq/*\"\n"
    );
    let (msg, _) = fail(&text, &hq_env());
    assert_contains(
        &msg,
        &[
            "controller[1] (name \"hq\").name: \"hq\" is already the name of controller[0]",
            "site[0] (match \"branch/default\").match: names controller \"branch\", which is not configured (controllers: hq, hq)",
            "site[2] (match \"hq/*\").match: \"hq/*\" is already matched by site[1]",
        ],
    );
}

#[test]
fn more_value_checks() {
    let cases: &[(&str, &[&str])] = &[
        (
            "[sync]\ninterval = \"0s\"\n",
            &["sync.interval", "at least 1s"],
        ),
        (
            "[sync]\ninterval = 5.5\n",
            &["sync.interval", "must be a duration"],
        ),
        (
            "[sync]\nrecord_types = []\n",
            &["sync.record_types", "is empty"],
        ),
        (
            "[sync]\nrecord_types = \"A\"\n",
            &["sync.record_types", "must be a list"],
        ),
        (
            "[sync]\nmax_delete_fraction = -0.1\n",
            &["-0.1 is outside 0..=1"],
        ),
        (
            "[sync]\nthreshold_min_copies = -1\n",
            &["sync.threshold_min_copies", "at least 0"],
        ),
        (
            "[sync]\nhistory_retention = \"0d\"\n",
            &["sync.history_retention", "above zero"],
        ),
        (
            "[sync]\nexclude_same_controller = \"yes\"\n",
            &["sync.exclude_same_controller", "true or false"],
        ),
        (
            "[sync.clients]\nttl = 100000\n",
            &["sync.clients.ttl", "at most 86400"],
        ),
        (
            "[sync.clients]\ntypes = [\"WIFI\"]\n",
            &["sync.clients.types[0]", "not a client type"],
        ),
        (
            "[sync.clients]\ndomain = \"{site.lan\"\n",
            &["sync.clients.domain", "without '}'"],
        ),
        ("[database]\nurl = \"\"\n", &["database.url", "is empty"]),
        ("sync = 1\n", &["sync", "must be a table"]),
        (
            "[controller]\nname = \"hq\"\n",
            &["controller", "[[controller]]"],
        ),
        (
            "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\nrequests_per_second = 0\n",
            &["requests_per_second", "must be above 0"],
        ),
        (
            "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\nmax_parallel_reads = 0\n",
            &["max_parallel_reads", "at least 1"],
        ),
        (
            "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\nsites = []\n",
            &["controller[0] (name \"hq\").sites", "is empty", "[\"*\"]"],
        ),
        (
            "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\ntimeout = \"0s\"\n",
            &["timeout", "above zero"],
        ),
        (
            "[[controller]]\nurl = \"https://h\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\n",
            &["controller[0].name", "is missing"],
        ),
        (
            "[[controller]]\nname = \"hq\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\n",
            &["controller[0] (name \"hq\").url", "is missing"],
        ),
        (
            "[[controller]]\nname = \"hq\"\nurl = \"192.168.1.1\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\n",
            &["no scheme", "https://"],
        ),
        (
            &with_hq("[[site]]\nmatch = \"hq/default\"\nclients_domain = \"{ctrl}.lan\"\n"),
            &["site[0] (match \"hq/default\").clients_domain", "{ctrl}"],
        ),
        (
            &with_hq("[[site]]\npublish = false\n"),
            &["site[0].match", "is missing"],
        ),
        (
            &with_hq("[[site]]\nmatch = \"/default\"\n"),
            &["is not \"controller/site\""],
        ),
        ("[sync\n", &["TOML syntax error"]),
    ];
    for (text, needles) in cases {
        let (msg, file) = fail(text, &hq_env());
        assert!(msg.contains(&file), "{msg}");
        assert_contains(&msg, needles);
    }
}

#[test]
fn problems_carry_structured_locations() {
    let (_f, path, r) = load_toml("\n[sync]\nmode = \"x\"\n", &env(&[]));
    let e = r.unwrap_err();
    let p = &e.problems()[0];
    assert_eq!(p.key.as_deref(), Some("sync.mode"));
    assert_eq!(
        p.location,
        Location::File {
            path,
            line: Some(3),
            column: Some(1)
        }
    );
    let vars = env(&[("UNIFI_DNS_SYNC_SYNC__MODE", "x")]);
    let e = config::load_with_search(None, &vars, &SearchPaths::none()).unwrap_err();
    assert_eq!(
        e.problems()[0].location,
        Location::Env {
            var: "UNIFI_DNS_SYNC_SYNC__MODE".into()
        }
    );
}

// ---------------------------------------------------------------- TLS

fn tls_of(value: &str) -> Result<Config, String> {
    let text = format!(
        "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\ntls = {value}\n"
    );
    let (_f, _p, r) = load_toml(&text, &hq_env());
    r.map_err(|e| e.to_string())
}

#[test]
fn tls_modes() {
    assert_eq!(
        tls_of("\"verify\"").unwrap().controllers[0].tls,
        TlsMode::Verify
    );
    assert_eq!(
        tls_of("\"VERIFY\"").unwrap().controllers[0].tls,
        TlsMode::Verify
    );
    let c = tls_of("\"insecure\"").unwrap();
    assert_eq!(c.controllers[0].tls, TlsMode::Insecure);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("DISABLED") && w.contains("fingerprint"))
    );

    let hex: String = (0u8..32).map(|b| format!("{b:02x}")).collect();
    let expected: [u8; 32] = std::array::from_fn(|i| i as u8);
    let colon_upper: String = (0u8..32)
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    for fp in [
        hex.clone(),
        format!("sha256:{colon_upper}"),
        format!("SHA256:{hex}"),
        colon_upper.to_lowercase(),
    ] {
        let c = tls_of(&format!("{{ fingerprint = \"{fp}\" }}")).unwrap();
        assert_eq!(c.controllers[0].tls, TlsMode::Fingerprint(expected), "{fp}");
    }
    let msg = tls_of("{ fingerprint = \"sha256:AB:CD\" }").unwrap_err();
    assert_contains(&msg, &["controller[0] (name \"hq\").tls.fingerprint", "32"]);
    let msg = tls_of("{ fingerprint = \"not-hex\" }").unwrap_err();
    assert_contains(&msg, &["tls.fingerprint", "64 hex digits"]);

    let msg = tls_of("\"maybe\"").unwrap_err();
    assert_contains(
        &msg,
        &[
            "controller[0] (name \"hq\").tls",
            "\"maybe\" is not a TLS mode",
            "fingerprint",
        ],
    );
    let msg = tls_of("{ ca_file = \"/x\", fingerprint = \"ab\" }").unwrap_err();
    assert_contains(&msg, &["both set"]);
    let msg = tls_of("{}").unwrap_err();
    assert_contains(&msg, &["empty table"]);
    let msg = tls_of("{ ca_file = \"/nonexistent/ca.pem\" }").unwrap_err();
    assert_contains(&msg, &["tls.ca_file", "/nonexistent/ca.pem"]);
    let msg = tls_of("true").unwrap_err();
    assert_contains(&msg, &["tls", "wrong type"]);
}

#[test]
fn tls_ca_file_relative_to_config() {
    let f = Files::new();
    f.write("certs/ca.pem", "-----BEGIN CERTIFICATE-----\n");
    let path = f.write(
        "conf/../c.toml",
        "[[controller]]\nname = \"hq\"\nurl = \"https://h\"\napi_key_env = \"UNIFI_HQ_API_KEY\"\ntls = { ca_file = \"certs/ca.pem\" }\n",
    );
    let c = config::load_with_search(Some(&path), &hq_env(), &SearchPaths::none()).unwrap();
    match &c.controllers[0].tls {
        TlsMode::CaFile(p) => assert!(p.is_file(), "{}", p.display()),
        other => panic!("{other:?}"),
    }
    assert!(c.redacted_summary().contains("ca_file"));
}

// ---------------------------------------------------------------- legacy controllers.json

const LEGACY: &str = r#"[
  {"host": "192.168.1.1", "api_key": "LEGACYKEY-one", "site": "default",
   "sync_dhcp_clients": true, "domain_suffix": ".Home.Lan", "allowed_record_types": ["A_RECORD", "CNAME_RECORD"]},
  {"host": "192.168.1.1", "api_key": "LEGACYKEY-two", "verify_ssl": true,
   "allowed_record_types": ["A_RECORD", "AAAA_RECORD"], "comment": "second"},
  {"host": "https://unifi.example.com:8443", "api_key": "LEGACYKEY-three", "verify_ssl": false}
]"#;

fn load_legacy(text: &str, vars: &HashMap<String, String>) -> Result<Config, ConfigError> {
    let f = Files::new();
    let path = f.write("controllers.json", text);
    config::load_with_search(Some(&path), vars, &SearchPaths::none())
}

#[test]
fn legacy_controllers_json_is_mapped() {
    let c = load_legacy(LEGACY, &env(&[])).unwrap();
    assert!(matches!(
        c.source,
        ConfigSource::File {
            format: ConfigFormat::LegacyJson,
            ..
        }
    ));
    let names: Vec<&str> = c.controllers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["192-168-1-1", "192-168-1-1-2", "unifi-example-com"]);
    let urls: Vec<&str> = c.controllers.iter().map(|c| c.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://192.168.1.1",
            "https://192.168.1.1",
            "https://unifi.example.com:8443"
        ]
    );
    assert_eq!(c.controllers[0].sites, vec!["default".to_string()]);
    assert_eq!(c.controllers[1].sites, vec!["*".to_string()]);
    assert_eq!(
        c.controllers[0].tls,
        TlsMode::Insecure,
        "the old tool's default was verify_ssl = false"
    );
    assert_eq!(c.controllers[1].tls, TlsMode::Verify);
    assert_eq!(c.controllers[2].tls, TlsMode::Insecure);
    assert_eq!(c.controllers[0].api_key.expose(), "LEGACYKEY-one");
    assert_eq!(c.controllers[0].api_key.source(), &SecretSource::Inline);

    assert!(c.sync.clients.enabled);
    assert_eq!(c.sync.clients.domain.as_str(), "home.lan");
    assert_eq!(
        c.sync.record_types,
        vec![RecordType::A, RecordType::Cname, RecordType::Aaaa]
    );

    let insecure: Vec<&String> = c
        .warnings
        .iter()
        .filter(|w| w.contains("DISABLED"))
        .collect();
    assert_eq!(insecure.len(), 2, "{:?}", c.warnings);
    assert!(insecure.iter().all(|w| w.contains("verify_ssl")));
    assert!(
        c.warnings.iter().any(|w| w.contains("comment")),
        "unknown legacy key warned"
    );
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("different record types"))
    );
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("sync_dhcp_clients is on for some"))
    );
    for secret in ["LEGACYKEY-one", "LEGACYKEY-two", "LEGACYKEY-three"] {
        for text in [
            format!("{c:?}"),
            c.redacted_summary(),
            c.warnings.join("\n"),
        ] {
            assert!(!text.contains(secret));
        }
    }
}

#[test]
fn legacy_suffixes_that_differ_become_site_overrides() {
    let text = r#"[
      {"host": "a.lan", "api_key": "k1", "verify_ssl": true, "sync_dhcp_clients": true, "domain_suffix": "a.lan"},
      {"host": "b.lan", "api_key": "k2", "verify_ssl": true, "sync_dhcp_clients": true, "domain_suffix": "b.lan"}
    ]"#;
    let c = load_legacy(text, &env(&[])).unwrap();
    assert_eq!(c.sync.clients.domain.as_str(), "{site}.home.arpa");
    assert_eq!(c.sites.len(), 2);
    assert_eq!(c.sites[0].match_str(), "a-lan/*");
    let p = c.site_policy("a-lan", &["default"]);
    assert_eq!(p.clients_domain.as_str(), "a.lan");
    let p = c.site_policy("b-lan", &["anything"]);
    assert_eq!(p.clients_domain.as_str(), "b.lan");
    assert_eq!(c.sync.record_types, vec![RecordType::A, RecordType::Cname]);
}

#[test]
fn legacy_errors() {
    let e = load_legacy("[{\"host\": \"x\", \"api_key\": }]", &env(&[]))
        .unwrap_err()
        .to_string();
    assert_contains(&e, &["controllers.json:1:", "not valid JSON"]);
    let e = load_legacy("[{\"api_key\": \"LEGACYKEY-x\"}, 5, {\"host\": \"h\", \"api_key\": \"k\", \"allowed_record_types\": [\"PTR\"]}]", &env(&[]))
        .unwrap_err()
        .to_string();
    assert_contains(
        &e,
        &[
            "entry [0].host",
            "is missing",
            "entry [1]",
            "must be an object",
            "entry [2] (host \"h\").allowed_record_types[0]",
            "\"PTR\"",
        ],
    );
    assert!(!e.contains("LEGACYKEY-x"));
    let f = Files::new();
    let path = f.write("conf.json", "{\"controllers\": []}");
    let e = config::load_with_search(Some(&path), &env(&[]), &SearchPaths::none())
        .unwrap_err()
        .to_string();
    assert_contains(&e, &["must be an array of controllers"]);
}

#[test]
fn legacy_env_vars_keep_their_meaning() {
    let vars = env(&[
        ("SYNC_INTERVAL_SECONDS", "3600"),
        ("DB_PATH", "/data/dns_sync.db"),
        ("LOG_LEVEL", "WARNING"),
        ("WEB_UI_PORT", "5000"),
    ]);
    let c = load_legacy(LEGACY, &vars).unwrap();
    assert_eq!(c.sync.interval, Duration::from_secs(3600));
    assert_eq!(c.database.url, "/data/dns_sync.db");
    assert_eq!(c.log_level.as_deref(), Some("warn"));
    assert_eq!(
        c.web.listen,
        "127.0.0.1:5000".parse::<SocketAddr>().unwrap()
    );

    // They apply to TOML files too, keep the address of web.listen, and lose to the new names.
    let text = "[web]\nlisten = \"0.0.0.0:8080\"\n[sync]\ninterval = \"1m\"\n";
    let c = ok(text, &vars);
    assert_eq!(c.web.listen, "0.0.0.0:5000".parse::<SocketAddr>().unwrap());
    assert_eq!(c.sync.interval, Duration::from_secs(3600));
    let mut both = vars.clone();
    both.insert("UNIFI_DNS_SYNC_SYNC__INTERVAL".into(), "2m".into());
    both.insert(
        "UNIFI_DNS_SYNC_DATABASE__URL".into(),
        "sqlite://new.db".into(),
    );
    both.insert("UNIFI_DNS_SYNC_WEB__LISTEN".into(), "127.0.0.1:7000".into());
    let c = ok(text, &both);
    assert_eq!(c.sync.interval, Duration::from_secs(120));
    assert_eq!(c.database.url, "sqlite://new.db");
    assert_eq!(c.web.listen.port(), 7000);

    let (msg, _) = fail(
        "",
        &env(&[("SYNC_INTERVAL_SECONDS", "soon"), ("WEB_UI_PORT", "70000")]),
    );
    assert_contains(
        &msg,
        &[
            "environment variable SYNC_INTERVAL_SECONDS (sets sync.interval)",
            "not a whole number of seconds",
            "environment variable WEB_UI_PORT (sets web.listen)",
            "not a TCP port",
        ],
    );
}

// ---------------------------------------------------------------- small public pieces

#[test]
fn site_selection_and_policies() {
    let text = with_hq(
        "[[site]]\nmatch = \"hq/Main*\"\nreceive = false\ndomains = [\"*.Corp.LAN.\"]\nexclude_domains = [\"secret.corp.lan\"]\n",
    );
    let mut c = ok(&text, &hq_env());
    let hq: &mut ControllerConfig = &mut c.controllers[0];
    hq.exclude_sites = vec!["lab-?".into()];
    assert!(hq.manages_site(&["default", "Default", "uuid-1"]));
    assert!(!hq.manages_site(&["lab-1", "Lab 1"]));
    hq.sites = vec!["branch*".into()];
    assert!(!hq.manages_site(&["default"]));
    assert!(hq.manages_site(&["x", "Branch Office"]));

    let p = c.site_policy("hq", &["abc123", "main office", "uuid"]);
    assert!(p.publish && !p.receive);
    assert_eq!(p.domains, vec!["*.corp.lan".to_string()]);
    assert!(p.allows_name("nas.corp.lan"));
    assert!(!p.allows_name("secret.corp.lan"));
    assert!(!p.allows_name("nas.home.arpa"));
}

#[test]
fn glob_and_record_type_basics() {
    assert!(glob_match("*.lan", "NAS.LAN"));
    assert!(glob_match("printer-??.lan", "printer-01.lan"));
    assert!(!glob_match("printer-??.lan", "printer-1.lan"));
    assert!(!glob_match("*.lan", "lan"));
    for (ours, api) in [
        ("A", "A_RECORD"),
        ("AAAA", "AAAA_RECORD"),
        ("FORWARD_DOMAIN", "FORWARD_DOMAIN"),
    ] {
        let t: RecordType = ours.parse().unwrap();
        assert_eq!(t, api.parse().unwrap());
        assert_eq!((t.as_str(), t.api_name()), (ours, api));
    }
    assert_eq!(RecordType::ALL.len(), 7);
}

#[test]
fn summary_lists_the_effective_values() {
    let vars = env(&[
        ("UNIFI_HQ_API_KEY", KEY),
        ("UNIFI_DNS_SYNC_WEB_TOKEN", "web-token-value"),
    ]);
    let c = ok(&with_hq("[[site]]\nmatch = \"hq/default\"\n"), &vars);
    let s = c.redacted_summary();
    assert_contains(
        &s,
        &[
            "[database]\nurl = \"sqlite://dns_sync.db\"",
            "interval = \"5m\"",
            "mode = \"sync\"",
            "record_types = [\"A\", \"AAAA\", \"CNAME\"]",
            "history_retention = \"90d\"",
            "retention = \"1d\"",
            "types = [\"WIRED\", \"WIRELESS\"]",
            "listen = \"127.0.0.1:8080\"",
            "token = \"[redacted]\"  # from environment variable UNIFI_DNS_SYNC_WEB_TOKEN, fingerprint",
            "tls = \"verify\"",
            "timeout = \"10s\"",
            "match = \"hq/default\"",
            "# clients_domain: [sync.clients].domain",
        ],
    );
    assert!(!s.contains("web-token-value") && !s.contains(KEY));
    // The summary is itself a loadable config once the redacted secrets are replaced.
    let reparsed: toml::Table = s.parse().expect("summary is TOML");
    assert!(reparsed.contains_key("controller"));
}
