//! The effective configuration as TOML-like text, for `check`: secrets as `[redacted]` with
//! where they came from and key fingerprints.

use std::fmt::Write as _;

use super::{Config, ConfigFormat, ConfigSource, REDACTED, Secret, redact_url_password};
use crate::duration::format_duration;

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list<T: ToString>(items: &[T]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| q(&i.to_string())).collect();
    format!("[{}]", quoted.join(", "))
}

fn secret_line(key: &str, secret: &Secret) -> String {
    format!(
        "{key} = {}  # from {}, fingerprint {}",
        q(REDACTED),
        secret.source(),
        secret.fingerprint()
    )
}

pub(crate) fn render(c: &Config) -> String {
    let mut o = String::new();
    // Writing to a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(
        o,
        "# unifi-dns-sync: effective configuration (secrets redacted)"
    );
    match &c.source {
        ConfigSource::File {
            path,
            found_via,
            format,
        } => {
            let fmt = match format {
                ConfigFormat::Toml => "TOML",
                ConfigFormat::LegacyJson => "legacy controllers.json",
            };
            let _ = writeln!(
                o,
                "# source: {} ({fmt}, found via {found_via})",
                path.display()
            );
        }
        ConfigSource::Defaults { searched } => {
            let paths: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
            let _ = writeln!(
                o,
                "# source: no config file found (searched: {}); built-in defaults and environment",
                if paths.is_empty() {
                    "nothing".to_string()
                } else {
                    paths.join(", ")
                }
            );
        }
    }
    if let Some(level) = &c.log_level {
        let _ = writeln!(o, "# log level: {} (from LOG_LEVEL)", q(level));
    }

    let _ = writeln!(o, "\n[database]");
    let _ = writeln!(o, "url = {}", q(&redact_url_password(&c.database.url)));

    let s = &c.sync;
    let _ = writeln!(o, "\n[sync]");
    let _ = writeln!(o, "interval = {}", q(&format_duration(s.interval)));
    let _ = writeln!(o, "mode = {}", q(s.mode.as_str()));
    let _ = writeln!(o, "record_types = {}", list(&s.record_types));
    let _ = writeln!(o, "exclude_same_controller = {}", s.exclude_same_controller);
    let _ = writeln!(o, "max_delete_fraction = {}", s.max_delete_fraction);
    let _ = writeln!(o, "threshold_min_copies = {}", s.threshold_min_copies);
    let _ = writeln!(
        o,
        "history_retention = {}",
        q(&format_duration(s.history_retention))
    );

    let cl = &s.clients;
    let _ = writeln!(o, "\n[sync.clients]");
    let _ = writeln!(o, "enabled = {}", cl.enabled);
    let _ = writeln!(o, "domain = {}", q(cl.domain.as_str()));
    let _ = writeln!(o, "ttl = {}", cl.ttl);
    let _ = writeln!(o, "retention = {}", q(&format_duration(cl.retention)));
    let _ = writeln!(o, "types = {}", list(&cl.types));

    let _ = writeln!(o, "\n[web]");
    let _ = writeln!(o, "listen = {}", q(&c.web.listen.to_string()));
    match &c.web.token {
        Some(t) => {
            let _ = writeln!(o, "{}", secret_line("token", t));
        }
        None => {
            let _ = writeln!(o, "# token: none, so the POST endpoints are disabled");
        }
    }

    if c.controllers.is_empty() {
        let _ = writeln!(o, "\n# no [[controller]] configured");
    }
    for ctl in &c.controllers {
        let _ = writeln!(o, "\n[[controller]]");
        let _ = writeln!(o, "name = {}", q(&ctl.name));
        let _ = writeln!(o, "url = {}", q(&ctl.url));
        let _ = writeln!(o, "{}", secret_line("api_key", &ctl.api_key));
        let _ = writeln!(o, "tls = {}", ctl.tls);
        let _ = writeln!(o, "sites = {}", list(&ctl.sites));
        let _ = writeln!(o, "exclude_sites = {}", list(&ctl.exclude_sites));
        let _ = writeln!(o, "priority = {}", ctl.priority);
        let _ = writeln!(o, "max_parallel_writes = {}", ctl.max_parallel_writes);
        let _ = writeln!(o, "max_parallel_reads = {}", ctl.max_parallel_reads);
        let _ = writeln!(o, "requests_per_second = {}", ctl.requests_per_second);
        let _ = writeln!(o, "timeout = {}", q(&format_duration(ctl.timeout)));
    }

    for site in &c.sites {
        let _ = writeln!(o, "\n[[site]]");
        let _ = writeln!(o, "match = {}", q(&site.match_str()));
        let _ = writeln!(o, "publish = {}", site.publish);
        let _ = writeln!(o, "receive = {}", site.receive);
        let _ = writeln!(o, "domains = {}", list(&site.domains));
        let _ = writeln!(o, "exclude_domains = {}", list(&site.exclude_domains));
        match &site.clients_domain {
            Some(d) => {
                let _ = writeln!(o, "clients_domain = {}", q(d.as_str()));
            }
            None => {
                let _ = writeln!(o, "# clients_domain: [sync.clients].domain");
            }
        }
    }

    if !c.warnings.is_empty() {
        let _ = writeln!(o, "\n# warnings:");
        for w in &c.warnings {
            let _ = writeln!(o, "# - {w}");
        }
    }
    o
}
