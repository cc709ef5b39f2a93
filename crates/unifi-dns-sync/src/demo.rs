//! `demo`: the product on simulated consoles, in one process.
//!
//! Starts three simulated consoles (unifi-sim) — a head office with two sites, a branch, and an
//! old warehouse console on Network 9.5.21 without DNS policies — seeded with realistic records
//! and clients, a temporary database, and the daemon with its dashboard. Every few seconds it
//! changes something on a simulated site, as a person would (adds, edits, deletes a record; a
//! client leaves or comes back), so propagation and history can be watched live. Ctrl-C stops
//! everything and removes the temporary files.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use unifi_sim::{ClientSpec, ConsoleSpec, Scenario, Simulator, SiteSpec};

use crate::app::App;
use crate::config;

/// How often the demo changes something on a simulated site.
const CHANGE_EVERY: Duration = Duration::from_secs(20);

fn a(domain: &str, ip: &str, ttl: u32) -> Value {
    json!({"type": "A_RECORD", "enabled": true, "domain": domain, "ipv4Address": ip, "ttlSeconds": ttl})
}

/// The demo's consoles, sites, records and clients.
pub fn scenario() -> Scenario {
    let hq = ConsoleSpec::new("hq", "demo-hq-key-2f8e1c")
        .site(
            SiteSpec::new("default")
                .name("Head office")
                .local_domain("hq.lan")
                .policy(a("nas.hq.example", "10.1.0.10", 300))
                .policy(json!({"type": "AAAA_RECORD", "domain": "nas.hq.example", "ipv6Address": "fd00:1::10", "ttlSeconds": 300}))
                .policy(json!({"type": "CNAME_RECORD", "domain": "files.hq.example", "targetDomain": "nas.hq.example", "ttlSeconds": 0}))
                .policy(json!({"type": "MX_RECORD", "domain": "hq.example", "mailServerDomain": "mail.hq.example", "priority": 10}))
                .policy(json!({"type": "TXT_RECORD", "domain": "hq.example", "text": "v=spf1 mx -all"}))
                .policy(json!({"type": "SRV_RECORD", "domain": "hq.example", "service": "_sip", "protocol": "_tcp", "serverDomain": "pbx.hq.example", "port": 5060, "priority": 10, "weight": 5}))
                .client(ClientSpec::wired("Office Printer", "aa:bb:cc:00:01:01", "10.1.0.50"))
                .client(ClientSpec::wireless("reception-ipad", "aa:bb:cc:00:01:02", "10.1.0.51")),
        )
        .site(
            SiteSpec::new("lab")
                .name("Lab")
                .local_domain("lab.hq.lan")
                .policy(a("ci.lab.example", "10.2.0.5", 60))
                .policy(a("grafana.lab.example", "10.2.0.7", 60))
                .client(ClientSpec::wired("build-runner-01", "aa:bb:cc:00:02:01", "10.2.0.21")),
        );
    let branch = ConsoleSpec::new("branch", "demo-branch-key-93d0aa").site(
        SiteSpec::new("default")
            .name("Branch office")
            .local_domain("branch.lan")
            .policy(a("printer.branch.example", "10.3.0.20", 3600))
            .policy(a("cctv.branch.example", "10.3.0.30", 3600))
            .client(ClientSpec::wireless(
                "Branch Laptop",
                "aa:bb:cc:00:03:01",
                "10.3.0.101",
            )),
    );
    let warehouse = ConsoleSpec::new("warehouse", "demo-warehouse-key-4c71b2")
        .version("9.5.21")
        .site(
            SiteSpec::new("default")
                .name("Warehouse")
                .client(ClientSpec::wired(
                    "scanner-dock-1",
                    "aa:bb:cc:00:04:01",
                    "10.4.0.11",
                )),
        );
    Scenario::new()
        .console(hq)
        .console(branch)
        .console(warehouse)
}

/// The `[[controller]]` section for a simulated console: its URL, its key from the variable
/// `key_var`, its certificate pinned by fingerprint, and `extra` lines (tests use it for
/// timeouts and limits).
pub fn controller_toml(console: &unifi_sim::Console, key_var: &str, extra: &str) -> String {
    let info = console.info();
    format!(
        "\n[[controller]]\nname = \"{}\"\nurl = \"{}\"\napi_key_env = \"{key_var}\"\ntls = {{ fingerprint = \"{}\" }}\n{extra}\n",
        console.name(),
        info.base_url,
        info.cert_fingerprint.unwrap_or_default()
    )
}

/// Runs the demo until Ctrl-C (or `shutdown`); returns the exit code.
pub async fn run(listen: SocketAddr, shutdown: CancellationToken) -> Result<u8, String> {
    let sim = Simulator::start(&scenario()).await?;
    let dir =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let db = dir.path().join("demo.db");
    let token = format!("demo-{}", uuid::Uuid::new_v4().simple());
    let mut env = BTreeMap::new();
    env.insert("UNIFI_DNS_SYNC_WEB_TOKEN".to_owned(), token.clone());
    let mut text = format!(
        "[database]\nurl = \"{}\"\n\n[web]\nlisten = \"{listen}\"\n\n[sync]\ninterval = \"10s\"\nrecord_types = [\"A\", \"AAAA\", \"CNAME\", \"MX\", \"TXT\", \"SRV\"]\n\n[sync.clients]\nenabled = true\ndomain = \"{{site}}.{{controller}}.home.arpa\"\nretention = \"1m\"\n",
        db.display()
    );
    for c in sim.consoles() {
        let var = format!("DEMO_KEY_{}", c.name().to_ascii_uppercase());
        env.insert(var.clone(), c.api_key().to_owned());
        text.push_str(&controller_toml(c, &var, ""));
    }
    let config =
        config::load_str(&text, None, &env).map_err(|e| format!("demo configuration: {e}"))?;
    let store = unifi_dns_sync_store::Store::open(&db.display().to_string())
        .await
        .map_err(|e| e.to_string())?;
    let app = App::build(config, store, false, false).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        format!("cannot listen on {listen}: {e}; choose another address with --listen")
    })?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "unifi-dns-sync demo: 3 simulated consoles, 4 sites (one on Network 9.5.21, without DNS policies)"
    );
    println!();
    println!("  Dashboard:  http://{address}/");
    println!("  API:        http://{address}/api/v1/status");
    println!(
        "  Sync now:   curl -X POST -H 'Authorization: Bearer {token}' http://{address}/api/v1/sync"
    );
    for c in sim.consoles() {
        println!(
            "  Console {:<9} {}  (X-API-KEY: {})",
            c.name(),
            c.base_url(),
            c.api_key()
        );
    }
    println!();
    println!(
        "A sync runs every 10 s; every {} s the demo changes something on a simulated site. Ctrl-C stops.",
        CHANGE_EVERY.as_secs()
    );
    let mutator = {
        let consoles: Vec<_> = sim.consoles().to_vec();
        let stop = shutdown.clone();
        tokio::spawn(async move { mutate(consoles, stop).await })
    };
    let outcome = app
        .run(Some(listener), shutdown.clone())
        .await
        .map_err(|e| e.to_string());
    shutdown.cancel();
    let _ = mutator.await;
    sim.shutdown().await;
    drop(dir);
    outcome.map(|_| 0)
}

/// Changes one thing at a time, as a person would in a console.
async fn mutate(consoles: Vec<std::sync::Arc<unifi_sim::Console>>, stop: CancellationToken) {
    let find = |name: &str| consoles.iter().find(|c| c.name() == name).cloned();
    let (Some(hq), Some(branch)) = (find("hq"), find("branch")) else {
        return;
    };
    let mut step = 0u32;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(CHANGE_EVERY) => {}
        }
        let result = match step % 6 {
            0 => hq
                .create_policy("lab", &a("jenkins.lab.example", "10.2.0.9", 60))
                .map(|_| "hq/lab: added jenkins.lab.example".to_owned()),
            1 => edit_ip(
                &branch,
                "default",
                "printer.branch.example",
                "10.3.0.21",
                "10.3.0.20",
            ),
            2 => branch
                .disconnect_client("default", "aa:bb:cc:00:03:01")
                .map(|_| "branch/default: Branch Laptop left".to_owned()),
            3 => delete_domain(&hq, "lab", "jenkins.lab.example"),
            4 => branch
                .connect_client(
                    "default",
                    &ClientSpec::wireless("Branch Laptop", "aa:bb:cc:00:03:01", "10.3.0.102"),
                )
                .map(|_| "branch/default: Branch Laptop is back with a new address".to_owned()),
            _ => edit_ip(&hq, "default", "nas.hq.example", "10.1.0.11", "10.1.0.10"),
        };
        match result {
            Ok(what) => tracing::info!("demo change: {what}"),
            Err(e) => tracing::warn!("demo change failed: {e}"),
        }
        step += 1;
    }
}

/// Moves an A record between two addresses (so the demo can repeat forever).
fn edit_ip(
    console: &unifi_sim::Console,
    site: &str,
    domain: &str,
    one: &str,
    other: &str,
) -> Result<String, unifi_sim::ApiError> {
    let policies = console.policies(site)?;
    let Some(p) = policies.iter().find(|p| {
        p["domain"] == domain && p["type"] == "A_RECORD" && p.get("ipv4Address").is_some()
    }) else {
        return Ok(format!("{domain} not found on {}/{site}", console.name()));
    };
    let current = p["ipv4Address"].as_str().unwrap_or_default();
    let next = if current == one { other } else { one };
    let id = p["id"]
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .unwrap_or_default();
    let ttl = p["ttlSeconds"].as_u64().unwrap_or(300) as u32;
    let body = a(domain, next, ttl);
    console.update_policy(site, id, &body)?;
    Ok(format!(
        "{}/{site}: {domain} now points to {next}",
        console.name()
    ))
}

fn delete_domain(
    console: &unifi_sim::Console,
    site: &str,
    domain: &str,
) -> Result<String, unifi_sim::ApiError> {
    for p in console.policies(site)? {
        if p["domain"] == domain
            && let Some(id) = p["id"].as_str().and_then(|s| uuid::Uuid::parse_str(s).ok())
        {
            console.delete_policy(site, id)?;
        }
    }
    Ok(format!("{}/{site}: deleted {domain}", console.name()))
}
