//! `check` (config and every controller, step by step) and `fingerprint`.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::{EXIT_ERROR, Failure, Output, print_json};
use crate::config::{Config, ConfigError, ControllerConfig, TlsMode};
use crate::logging::LogFormat;

/// What `check` found for one controller.
#[derive(Debug, Serialize)]
struct ControllerCheck {
    name: String,
    url: String,
    trust: String,
    key_fingerprint: String,
    reachable: bool,
    key_accepted: Option<bool>,
    version: Option<String>,
    dns_policies: Option<bool>,
    sites_found: Vec<String>,
    sites_managed: Vec<String>,
    problems: Vec<String>,
}

fn trust_name(tls: &TlsMode) -> String {
    match tls {
        TlsMode::Verify => "system roots".into(),
        TlsMode::CaFile(p) => format!("CA file {}", p.display()),
        TlsMode::Fingerprint(_) => "pinned certificate fingerprint".into(),
        TlsMode::Insecure => "INSECURE (no certificate check)".into(),
    }
}

async fn check_controller(c: &ControllerConfig) -> ControllerCheck {
    let mut out = ControllerCheck {
        name: c.name.clone(),
        url: c.url.clone(),
        trust: trust_name(&c.tls),
        key_fingerprint: c.api_key.fingerprint(),
        reachable: false,
        key_accepted: None,
        version: None,
        dns_policies: None,
        sites_found: vec![],
        sites_managed: vec![],
        problems: vec![],
    };
    if c.tls == TlsMode::Insecure {
        out.problems.push("TLS certificates are not verified (tls = \"insecure\"): pin the console's certificate with tls = { fingerprint = … } (`unifi-dns-sync fingerprint URL` prints it)".into());
    }
    let client = match unifi_client::Client::new(crate::clients::settings_for(c)) {
        Ok(client) => client,
        Err(e) => {
            out.problems.push(e.to_string());
            return out;
        }
    };
    let info = match client.info().await {
        Ok(info) => info,
        Err(e) => {
            let hint = if e.is_tls() {
                format!(
                    "TLS: the console's certificate is not trusted ({}); check `tls`, e.g. pin it: run `unifi-dns-sync fingerprint {}`",
                    trust_name(&c.tls),
                    c.url
                )
            } else if e.is_unauthorized() {
                "the API key was rejected: create one on the console under Network → Settings → Control Plane → Integrations and configure it with api_key_env or api_key_file".to_owned()
            } else {
                "the console cannot be reached: check the url and that this host can reach it"
                    .to_owned()
            };
            out.reachable = !matches!(
                e,
                unifi_client::ClientError::Connect { tls: false, .. }
                    | unifi_client::ClientError::Timeout { .. }
            );
            out.key_accepted = e.is_unauthorized().then_some(false);
            out.problems.push(format!("{e}: {hint}"));
            return out;
        }
    };
    out.reachable = true;
    out.key_accepted = Some(true);
    out.version = Some(info.application_version.clone());
    out.dns_policies = Some(info.supports_dns_policies());
    if !info.supports_dns_policies() {
        out.problems.push(format!(
            "Network {} has no DNS policies (the Integration API has them from 10.1.68): update the console; until then it can only publish client names",
            info.application_version
        ));
    }
    match client.sites().await {
        Ok(sites) => {
            for s in sites {
                let label = format!("{} ({})", s.internal_reference, s.name);
                if c.manages_site(&[&s.internal_reference, &s.name, &s.id]) {
                    out.sites_managed.push(label.clone());
                }
                out.sites_found.push(label);
            }
            if out.sites_managed.is_empty() {
                out.problems.push(format!(
                    "no site matches sites = {:?} / exclude_sites = {:?}",
                    c.sites, c.exclude_sites
                ));
            }
        }
        Err(e) => out.problems.push(format!("listing sites: {e}")),
    }
    out
}

pub(super) async fn check(config: &Config, output: Output) -> Result<u8, Failure> {
    let mut problems = 0;
    if !config.has_controllers() {
        problems += 1;
    }
    let checks = futures::future::join_all(config.controllers.iter().map(check_controller)).await;
    problems += checks.iter().filter(|c| !c.problems.is_empty()).count();
    if output == Output::Json {
        let general: Vec<&str> = if config.has_controllers() {
            vec![]
        } else {
            vec![NO_CONTROLLERS]
        };
        print_json(&json!({
            "config": config.source.to_string(),
            "valid": true,
            "warnings": config.warnings,
            "problems": general,
            "controllers": checks,
            "ok": problems == 0,
        }))?;
        return Ok(if problems == 0 { 0 } else { EXIT_ERROR });
    }
    out!("config: {} (valid)", config.source);
    for w in &config.warnings {
        out!("  warning: {w}");
    }
    if !config.has_controllers() {
        out!("✗ {NO_CONTROLLERS}");
    }
    for c in &checks {
        out!("controller {} ({}):", c.name, c.url);
        let mark = |ok: bool| if ok { "✓" } else { "✗" };
        out!(
            "  {} reachable, TLS trusted ({})",
            mark(c.reachable && c.key_accepted.is_some()),
            c.trust
        );
        if let Some(accepted) = c.key_accepted {
            out!(
                "  {} API key {} (sha256 {}…)",
                mark(accepted),
                if accepted { "accepted" } else { "rejected" },
                c.key_fingerprint
            );
        }
        if let (Some(v), Some(dns)) = (&c.version, c.dns_policies) {
            out!(
                "  {} Network {v}: DNS policies {}",
                mark(dns),
                if dns {
                    "supported"
                } else {
                    "NOT supported (needs 10.1.68 or later)"
                }
            );
        }
        if !c.sites_found.is_empty() {
            out!(
                "  {} {} sites found, {} managed: {}",
                mark(!c.sites_managed.is_empty()),
                c.sites_found.len(),
                c.sites_managed.len(),
                c.sites_managed.join(", ")
            );
        }
        for p in &c.problems {
            out!("  ✗ {p}");
        }
    }
    out!(
        "{}",
        if problems == 0 {
            "All checks passed."
        } else {
            "Some checks failed."
        }
    );
    Ok(if problems == 0 { 0 } else { EXIT_ERROR })
}

const NO_CONTROLLERS: &str =
    "no controllers configured: add a [[controller]] section (see config.example.toml)";

/// `check` with a config that does not load: every problem, then exit 1.
pub(super) fn invalid_config(error: &ConfigError, output: Output) -> Result<u8, Failure> {
    if output == Output::Json {
        let problems: Vec<String> = if error.problems().is_empty() {
            vec![error.to_string()]
        } else {
            error.problems().iter().map(ToString::to_string).collect()
        };
        print_json(&json!({
            "config": null,
            "valid": false,
            "warnings": [],
            "problems": problems,
            "controllers": [],
            "ok": false,
        }))?;
        return Ok(EXIT_ERROR);
    }
    out!("✗ the configuration is not valid:");
    out!("{error}");
    Ok(EXIT_ERROR)
}

pub(super) async fn fingerprint(url: &str, log_format: LogFormat) -> Result<u8, Failure> {
    let digest = unifi_client::fetch_certificate_fingerprint(url, Duration::from_secs(10)).await?;
    let fp = unifi_client::format_fingerprint(&digest);
    out!("{fp}");
    let hint = format!(
        "Paste into the controller's section after checking it on the console:\n  tls = {{ fingerprint = \"{fp}\" }}"
    );
    match log_format {
        LogFormat::Text => eprintln!("{hint}"),
        LogFormat::Json => tracing::info!("{hint}"),
    }
    Ok(0)
}
