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
            let extra = self
                .controller_extra
                .get(c.name())
                .cloned()
                .unwrap_or_default();
            // A controller's own `timeout` (in its extra lines) replaces the default.
            let timeout = if extra.lines().any(|l| l.trim_start().starts_with("timeout")) {
                ""
            } else {
                "timeout = \"3s\"\n"
            };
            let var = format!(
                "TEST_KEY_{}",
                c.name().to_ascii_uppercase().replace('-', "_")
            );
            text.push_str(&unifi_dns_sync::demo::controller_toml(
                c,
                &var,
                &format!("{timeout}requests_per_second = 1000\n{extra}"),
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
            .with_clock(ticking(clock))
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

/// The engine's clock: the world's time, one millisecond later at every reading, so that time
/// moves between cycles as it does for real (origins seen in a later cycle are younger) while
/// tests move it further with [`World::advance`].
fn ticking(clock: Arc<Mutex<OffsetDateTime>>) -> unifi_dns_sync::engine::Clock {
    Arc::new(move || {
        let mut now = clock.lock().unwrap();
        *now += time::Duration::milliseconds(1);
        *now
    })
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

impl World {
    /// A second engine on the same database opened read-only, as `plan` does while the daemon
    /// (another engine) holds the lock.
    pub async fn read_only_engine(&self) -> Engine {
        let store = Store::open_read_only(&self.db_path().display().to_string())
            .await
            .expect("read-only store opens");
        let clock = self.clock.clone();
        Engine::new(Arc::new(self.config()), store)
            .expect("engine")
            .with_clock(ticking(clock))
    }

    /// The one policy of a site that [`describe`]s as `what`; panics if there is not exactly one.
    pub fn policy(&self, console: &str, site: &str, what: &str) -> Value {
        let found: Vec<Value> = self
            .policies(console, site)
            .into_iter()
            .filter(|p| describe(p) == what)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{console}/{site}: expected exactly one `{what}`, have {:?}",
            self.domains(console, site)
        );
        found.into_iter().next().unwrap()
    }

    /// The id of the one policy of a site that [`describe`]s as `what`.
    pub fn policy_id(&self, console: &str, site: &str, what: &str) -> String {
        self.policy(console, site, what)["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Every site's policies (full API bodies), by `console/site`.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<Value>> {
        let mut out = BTreeMap::new();
        for c in self.sim.consoles() {
            for site in c.state().sites {
                let mut policies = c.policies(&site.id.to_string()).unwrap();
                policies.sort_by_key(|p| p["id"].as_str().unwrap_or_default().to_owned());
                out.insert(
                    format!("{}/{}", c.name(), site.internal_reference),
                    policies,
                );
            }
        }
        out
    }

    /// A person creates a policy in the console; returns its id.
    pub fn person_creates(&self, console: &str, site: &str, body: &Value) -> String {
        self.console(console)
            .create_policy(site, &with_enabled(body))
            .unwrap_or_else(|e| panic!("{console}/{site}: create {body}: {e:?}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A person edits a policy in the console (the id stays).
    pub fn person_edits(&self, console: &str, site: &str, id: &str, body: &Value) {
        self.console(console)
            .update_policy(site, id.parse().unwrap(), &with_enabled(body))
            .unwrap_or_else(|e| panic!("{console}/{site}: update {id} {body}: {e:?}"));
    }

    /// A person deletes a policy in the console.
    pub fn person_deletes(&self, console: &str, site: &str, id: &str) {
        self.console(console)
            .delete_policy(site, id.parse().unwrap())
            .unwrap_or_else(|e| panic!("{console}/{site}: delete {id}: {e:?}"));
    }
}

/// `body` as a request: no `id`, no `metadata`, `enabled` present.
pub fn with_enabled(body: &Value) -> Value {
    let mut b = body.as_object().cloned().unwrap_or_default();
    b.remove("id");
    b.remove("metadata");
    b.entry("enabled").or_insert(Value::Bool(true));
    Value::Object(b)
}

/// `describe` plus the attributes: `A nas.example 10.0.0.1 ttl=300` (`disabled` when it is).
pub fn describe_full(p: &Value) -> String {
    let mut s = describe(p);
    if let Some(ttl) = p.get("ttlSeconds").and_then(Value::as_i64) {
        s.push_str(&format!(" ttl={ttl}"));
    }
    if p["enabled"] == Value::Bool(false) {
        s.push_str(" disabled");
    }
    s
}

pub fn a_ttl(domain: &str, ip: &str, ttl: i64) -> Value {
    json!({"type": "A_RECORD", "domain": domain, "ipv4Address": ip, "ttlSeconds": ttl})
}

pub fn disabled(body: Value) -> Value {
    let mut b = body;
    b["enabled"] = Value::Bool(false);
    b
}

/// Runs a cycle with options.
pub async fn cycle_with(engine: &Engine, options: CycleOptions) -> CycleReport {
    engine.run_cycle(&options).await.expect("cycle runs")
}

/// The store's site row for `controller/internalReference`.
pub async fn site(engine: &Engine, label: &str) -> unifi_dns_sync_store::Site {
    engine
        .store()
        .sites()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.label() == label)
        .unwrap_or_else(|| panic!("no site {label} in the store"))
}

/// Events with an id above `after` (oldest first).
pub async fn events_after(engine: &Engine, after: i64) -> Vec<Event> {
    let mut e: Vec<Event> = events(engine)
        .await
        .into_iter()
        .filter(|e| e.id > after)
        .collect();
    e.sort_by_key(|e| e.id);
    e
}

/// The highest event id so far (0 when none).
pub async fn last_event_id(engine: &Engine) -> i64 {
    events(engine).await.iter().map(|e| e.id).max().unwrap_or(0)
}

/// `STATUS site name value reason` lines of events, for assertion messages and comparisons.
pub fn event_lines(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {}",
                e.status,
                e.site_label.as_deref().unwrap_or("-"),
                e.name.as_deref().unwrap_or("-"),
                e.value.as_deref().unwrap_or("-"),
                e.reason.as_deref().unwrap_or("-"),
            )
        })
        .collect()
}
