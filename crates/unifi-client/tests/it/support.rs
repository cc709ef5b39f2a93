//! Shared helpers: start consoles, build clients with fast retries, make policy bodies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use unifi_client::{Client, RequestRecord, RetryPolicy, Settings, Trust, parse_fingerprint};
use unifi_sim::{ConsoleInfo, ConsoleSpec, Scenario, Simulator, SiteSpec};

/// The DNS policy list template, as counted by the simulator.
pub const POLICIES: &str = "/v1/sites/{siteId}/dns/policies";

pub async fn start(scenario: Scenario) -> Simulator {
    Simulator::start(&scenario).await.expect("simulator starts")
}

/// One console `hq` (key `hq-key`) with a `default` site whose local domain is `hq.lan`.
pub async fn start_one() -> Simulator {
    start(Scenario::new().console(
        ConsoleSpec::new("hq", "hq-key").site(SiteSpec::new("default").local_domain("hq.lan")),
    ))
    .await
}

pub fn info(sim: &Simulator, name: &str) -> ConsoleInfo {
    sim.console(name).expect("console exists").info()
}

/// Settings pinned to the console's certificate, with small retry delays.
pub fn settings(info: &ConsoleInfo) -> Settings {
    let pin = parse_fingerprint(info.cert_fingerprint.as_deref().expect("https console"))
        .expect("valid fingerprint");
    Settings {
        name: info.name.clone(),
        base_url: info.base_url.clone(),
        api_key: info.api_key.clone(),
        trust: Trust::Fingerprint(pin),
        max_parallel_writes: 4,
        max_parallel_reads: 4,
        requests_per_second: 1000.0,
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
        },
    }
}

pub fn client(info: &ConsoleInfo) -> Client {
    Client::new(settings(info)).expect("client builds")
}

/// Records every attempt the client reports.
#[derive(Clone, Default)]
pub struct Recorder(pub Arc<Mutex<Vec<RequestRecord>>>);

impl Recorder {
    pub fn attach(&self, client: Client) -> Client {
        let records = self.0.clone();
        client.with_observer(Arc::new(move |r: &RequestRecord| {
            records.lock().unwrap().push(r.clone());
        }))
    }

    pub fn count(&self, method: &str, template: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.method == method && r.path_template == template)
            .count()
    }

    pub fn all(&self) -> Vec<RequestRecord> {
        self.0.lock().unwrap().clone()
    }
}

/// An A record request body.
pub fn a_record(domain: &str, ip: &str) -> Value {
    json!({"type": "A_RECORD", "enabled": true, "domain": domain, "ipv4Address": ip, "ttlSeconds": 300})
}

/// `n` distinct A records.
pub fn many_a_records(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            a_record(
                &format!("host{i}.example.com"),
                &format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256),
            )
        })
        .collect()
}

/// A unique counter for names.
pub fn unique() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
