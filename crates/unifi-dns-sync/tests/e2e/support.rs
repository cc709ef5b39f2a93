//! Test worlds: simulated consoles over HTTPS, a real SQLite file, and the engine between them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use time::OffsetDateTime;
use unifi_dns_sync::config::{self, Config};
use unifi_dns_sync::engine::{CycleOptions, CycleReport, Engine};
use unifi_dns_sync_store::{Event, EventQuery, Store, Trigger};
use unifi_sim::{Console, ConsoleSpec, Scenario, Simulator};

pub struct World {
    pub sim: Simulator,
    pub dir: tempfile::TempDir,
    pub env: BTreeMap<String, String>,
    /// Extra TOML appended to the generated config (`[sync]` keys etc. go in `sync_extra`).
    pub sync_extra: String,
    pub extra: String,
    /// Per-controller extra lines, by controller name.
    pub controller_extra: BTreeMap<String, String>,
    pub clock: Arc<Mutex<OffsetDateTime>>,
}

impl World {
    pub async fn start(scenario: Scenario) -> World {
        let sim = Simulator::start(&scenario).await.expect("simulator starts");
        let mut env = BTreeMap::new();
        for c in sim.consoles() {
            env.insert(
                format!(
                    "TEST_KEY_{}",
                    c.name().to_ascii_uppercase().replace('-', "_")
                ),
                c.api_key().to_owned(),
            );
        }
        World {
            sim,
            dir: tempfile::tempdir().unwrap(),
            env,
            sync_extra: String::new(),
            extra: String::new(),
            controller_extra: BTreeMap::new(),
            clock: Arc::new(Mutex::new(OffsetDateTime::now_utc())),
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("dns_sync.db")
    }

    pub fn config_text(&self) -> String {
        let mut text = format!(
            "[database]\nurl = \"{}\"\n\n[sync]\nrecord_types = [\"A\", \"AAAA\", \"CNAME\", \"MX\", \"TXT\", \"SRV\", \"FORWARD_DOMAIN\"]\n{}\n",
            self.db_path().display(),
            self.sync_extra
        );
        for c in self.sim.consoles() {
            let info = c.info();
            text.push_str(&format!(
                "\n[[controller]]\nname = \"{}\"\nurl = \"{}\"\napi_key_env = \"TEST_KEY_{}\"\ntls = {{ fingerprint = \"{}\" }}\ntimeout = \"3s\"\nrequests_per_second = 1000\n{}\n",
                c.name(),
                info.base_url,
                c.name().to_ascii_uppercase().replace('-', "_"),
                info.cert_fingerprint.unwrap_or_default(),
                self.controller_extra.get(c.name()).cloned().unwrap_or_default(),
            ));
        }
        text.push_str(&self.extra);
        text
    }

    pub fn config(&self) -> Config {
        let path = self.dir.path().join("unifi-dns-sync.toml");
        std::fs::write(&path, self.config_text()).unwrap();
        config::load_str(&self.config_text(), Some(&path), &self.env)
            .unwrap_or_else(|e| panic!("config: {e}\n{}", self.config_text()))
    }

    pub async fn engine(&self) -> Engine {
        let store = Store::open(&self.db_path().display().to_string())
            .await
            .expect("store opens");
        let clock = self.clock.clone();
        Engine::new(Arc::new(self.config()), store)
            .expect("engine")
            .with_clock(Arc::new(move || *clock.lock().unwrap()))
    }

    pub fn advance(&self, by: time::Duration) {
        *self.clock.lock().unwrap() += by;
    }

    pub fn console(&self, name: &str) -> Arc<Console> {
        self.sim
            .console(name)
            .unwrap_or_else(|| panic!("no console {name}"))
    }

    /// The policies of a site as (type, domain, value-ish) strings, sorted.
    pub fn policies(&self, console: &str, site: &str) -> Vec<Value> {
        self.console(console).policies(site).unwrap()
    }

    pub fn domains(&self, console: &str, site: &str) -> Vec<String> {
        let mut d: Vec<String> = self.policies(console, site).iter().map(describe).collect();
        d.sort();
        d
    }

    pub fn reset_counters(&self) {
        for c in self.sim.consoles() {
            c.reset_counters();
        }
    }

    pub fn total_writes(&self) -> u64 {
        self.sim
            .consoles()
            .iter()
            .map(|c| c.counters().writes())
            .sum()
    }
}

/// `TYPE domain value` of an API policy body.
pub fn describe(p: &Value) -> String {
    let t = p["type"]
        .as_str()
        .unwrap_or_default()
        .trim_end_matches("_RECORD");
    let value = [
        "ipv4Address",
        "ipv6Address",
        "targetDomain",
        "text",
        "ipAddress",
        "mailServerDomain",
        "serverDomain",
    ]
    .iter()
    .find_map(|k| p.get(*k).and_then(Value::as_str))
    .unwrap_or_default();
    format!("{t} {} {value}", p["domain"].as_str().unwrap_or_default())
}

pub fn a(domain: &str, ip: &str) -> Value {
    json!({"type": "A_RECORD", "domain": domain, "ipv4Address": ip, "ttlSeconds": 300})
}

pub fn cname(domain: &str, target: &str) -> Value {
    json!({"type": "CNAME_RECORD", "domain": domain, "targetDomain": target, "ttlSeconds": 0})
}

pub fn console(name: &str) -> ConsoleSpec {
    ConsoleSpec::new(name, &format!("{name}-secret-api-key-0123456789"))
}

pub async fn cycle(engine: &Engine) -> CycleReport {
    engine
        .run_cycle(&CycleOptions::new(Trigger::Cli))
        .await
        .expect("cycle runs")
}

pub async fn events(engine: &Engine) -> Vec<Event> {
    engine
        .store()
        .events(&EventQuery {
            limit: 10_000,
            ..EventQuery::default()
        })
        .await
        .unwrap()
}
