//! Shared helpers: start a simulator from a Rust-built scenario, talk to its consoles through a
//! stock reqwest client that trusts only the console's own certificate, and check every
//! Integration API response against the OpenAPI contract of the console's version.

use std::future::Future;
use std::sync::{Arc, LazyLock, Once};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Certificate, Client, ClientBuilder, Method};
use serde_json::{Value, json};
use unifi_sim::{
    ClientSpec, Console, ConsoleInfo, ConsoleSpec, FaultConfig, FaultRule, Scenario, Simulator,
    SiteSpec,
};
use uuid::Uuid;

use crate::openapi::ApiContract;

/// Where UniFi OS serves the Integration API.
pub const API: &str = "/proxy/network/integration";
/// The name of the error body schema in every vendored document.
pub const ERROR_SCHEMA: &str = "Error Message";

/// The document of current consoles (10.1.78 … 10.5.66 share the DNS, site and client schemas).
pub static CURRENT: LazyLock<ApiContract> = LazyLock::new(|| ApiContract::load("10.5.66"));
/// The first document with DNS policies (no `metadata`, A/AAAA TTL up to 604800).
pub static V10_1_68: LazyLock<ApiContract> = LazyLock::new(|| ApiContract::load("10.1.68"));
/// A document without DNS policies.
pub static V9_5_21: LazyLock<ApiContract> = LazyLock::new(|| ApiContract::load("9.5.21"));

/// The contract a console of this version is checked against.
pub fn contract_for(version: &str) -> &'static ApiContract {
    let v: Vec<u32> = version
        .split('.')
        .map(|p| p.parse().expect("numeric version"))
        .collect();
    let v = (v[0], v[1], v[2]);
    if v < (10, 1, 68) {
        &V9_5_21
    } else if v < (10, 1, 78) {
        &V10_1_68
    } else {
        &CURRENT
    }
}

/// reqwest is built without a default crypto provider; install ring once per process.
pub fn init_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client builder that trusts the console's certificate as its only root (HTTPS consoles).
pub fn client_builder(info: &ConsoleInfo) -> ClientBuilder {
    init_crypto();
    let builder = Client::builder().no_proxy();
    match &info.cert_pem {
        Some(pem) => builder.tls_certs_only([
            Certificate::from_pem(pem.as_bytes()).expect("the console's PEM parses")
        ]),
        None => builder,
    }
}

/// A client for the console with a fresh connection per request (no pooled connections), for
/// tests that take a console down and up again.
pub fn unpooled_client(info: &ConsoleInfo) -> Client {
    client_builder(info)
        .pool_max_idle_per_host(0)
        .build()
        .expect("client builds")
}

/// Checks one Integration API response body against `contract`: the operation's declared
/// response, the error schema for any non-2xx status. 9.x documents declare an error schema
/// without `code`; the simulator sends the 10.x envelope everywhere, so errors from a 9.x
/// console are checked against the error schema of 10.5.66.
pub fn check_contract(
    contract: &ApiContract,
    method: &str,
    path: &str,
    status: u16,
    body: &[u8],
) -> Result<(), String> {
    let error = !(200..300).contains(&status);
    let error_schema = |contract: &ApiContract| {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            format!(
                "{method} {path} {status}: error body is not JSON ({e}): {}",
                String::from_utf8_lossy(body)
            )
        })?;
        contract.check_schema(ERROR_SCHEMA, &value)
    };
    if error && contract.version().starts_with("9.") {
        return error_schema(&CURRENT);
    }
    match contract.operation_for(method, path) {
        Some(operation) => contract.check_response(operation, status, body),
        None if error => error_schema(contract),
        None => Err(format!(
            "{method} {path} answered {status}, but network-{} has no such operation",
            contract.version()
        )),
    }
}

/// One response of the Integration API, with the verdict of the contract check.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// `Ok` when the body matches the contract of the console's version.
    pub contract: Result<(), String>,
    /// The DER certificate the server presented (HTTPS).
    pub peer_certificate: Option<Vec<u8>>,
    pub http_version: reqwest::Version,
    pub elapsed: Duration,
}

impl Resp {
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }

    /// Asserts an error envelope with this status, code and exact message.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str, message: &str) -> Value {
        let body = self.expect_code(status, code);
        assert_eq!(body["message"], message, "message of {body}");
        body
    }

    /// Asserts an error envelope with this status and code; returns the body.
    #[track_caller]
    pub fn expect_code(&self, status: u16, code: &str) -> Value {
        let body = self.expect(status);
        assert_eq!(body["statusCode"], status, "{body}");
        assert_eq!(body["code"], code, "{body}");
        let name = reqwest::StatusCode::from_u16(status)
            .expect("a status")
            .canonical_reason()
            .expect("a reason")
            .to_ascii_uppercase()
            .replace([' ', '-'], "_");
        assert_eq!(body["statusName"], name.as_str(), "{body}");
        assert!(
            body["requestPath"]
                .as_str()
                .is_some_and(|p| p.starts_with("/integration/") || p.starts_with("/__sim/")),
            "requestPath without /proxy/network: {body}"
        );
        body
    }

    /// The object's keys in the order they were sent.
    pub fn keys(&self) -> Vec<String> {
        keys(&self.json())
    }
}

/// The keys of a JSON object in document order (serde_json keeps order in this workspace).
pub fn keys(value: &Value) -> Vec<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

/// A client of one console's Integration API.
#[derive(Clone)]
pub struct Api {
    pub client: Client,
    pub base_url: String,
    pub key: Option<String>,
    pub contract: &'static ApiContract,
    /// A per-request timeout (none by default).
    pub timeout: Option<Duration>,
}

impl Api {
    pub fn new(info: &ConsoleInfo) -> Api {
        Api {
            client: client_builder(info).build().expect("client builds"),
            base_url: info.base_url.clone(),
            key: Some(info.api_key.clone()),
            contract: contract_for(&info.version),
            timeout: None,
        }
    }

    /// The same client (and its pooled connections) giving up on each request after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Api {
        Api {
            timeout: Some(timeout),
            ..self.clone()
        }
    }

    pub fn with_client(&self, client: Client) -> Api {
        Api {
            client,
            ..self.clone()
        }
    }

    pub fn with_key(&self, key: Option<&str>) -> Api {
        Api {
            key: key.map(str::to_owned),
            ..self.clone()
        }
    }

    /// `path` is relative to `/proxy/network/integration` (`/v1/sites`) unless it starts with
    /// `/proxy` or `/integration`.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/proxy/") || path.starts_with("/integration/") {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}{API}{path}", self.base_url)
        }
    }

    /// Sends one request; a transport failure is returned, every response is contract-checked
    /// (the verdict is in [`Resp::contract`]).
    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Resp, reqwest::Error> {
        let started = Instant::now();
        let mut request = self
            .client
            .request(method.clone(), self.url(path))
            .header("Accept", "application/json");
        if let Some(key) = &self.key {
            request = request.header("X-API-KEY", key);
        }
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let http_version = response.version();
        let peer_certificate = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|t| t.peer_certificate().map(<[u8]>::to_vec));
        let body = response.bytes().await?.to_vec();
        let contract = check_contract(
            self.contract,
            method.as_str(),
            &self.url(path)[self.base_url.len()..],
            status,
            &body,
        );
        Ok(Resp {
            status,
            headers,
            body,
            contract,
            peer_certificate,
            http_version,
            elapsed: started.elapsed(),
        })
    }

    /// Sends one request that must get a response matching the contract.
    #[track_caller]
    pub fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> impl Future<Output = Resp> + '_ {
        let caller = std::panic::Location::caller();
        let path = path.to_owned();
        async move {
            let resp = self
                .try_send(method.clone(), &path, body)
                .await
                .unwrap_or_else(|e| panic!("{method} {path} ({caller}): {e:?}"));
            if let Err(problem) = &resp.contract {
                panic!(
                    "{method} {path} ({caller}): response breaks the contract:\n{problem}\nbody: {}",
                    String::from_utf8_lossy(&resp.body)
                );
            }
            resp
        }
    }

    #[track_caller]
    pub fn get(&self, path: &str) -> impl Future<Output = Resp> + '_ {
        self.send(Method::GET, path, None)
    }

    #[track_caller]
    pub fn post(&self, path: &str, body: &Value) -> impl Future<Output = Resp> + '_ {
        self.send(Method::POST, path, Some(body.to_string().into_bytes()))
    }

    #[track_caller]
    pub fn post_raw(&self, path: &str, body: &str) -> impl Future<Output = Resp> + '_ {
        self.send(Method::POST, path, Some(body.as_bytes().to_vec()))
    }

    #[track_caller]
    pub fn put(&self, path: &str, body: &Value) -> impl Future<Output = Resp> + '_ {
        self.send(Method::PUT, path, Some(body.to_string().into_bytes()))
    }

    #[track_caller]
    pub fn delete(&self, path: &str) -> impl Future<Output = Resp> + '_ {
        self.send(Method::DELETE, path, None)
    }

    /// Creates a policy that must be accepted; returns the stored policy.
    #[track_caller]
    pub fn create(&self, site: Uuid, body: &Value) -> impl Future<Output = Value> + '_ {
        let caller = std::panic::Location::caller();
        let body = body.clone();
        async move {
            let resp = self.post(&policies(site), &body).await;
            assert_eq!(
                resp.status,
                201,
                "create {body} ({caller}): {}",
                String::from_utf8_lossy(&resp.body)
            );
            resp.json()
        }
    }

    /// Every item of a list endpoint, read page by page with `limit`.
    pub async fn read_all(&self, path: &str, limit: u32) -> Vec<Value> {
        let mut items = Vec::new();
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let page = self
                .get(&format!("{path}{sep}offset={}&limit={limit}", items.len()))
                .await
                .expect(200);
            let data = page["data"].as_array().expect("data").clone();
            let total = page["totalCount"].as_u64().expect("totalCount") as usize;
            items.extend(data.iter().cloned());
            if data.is_empty() || items.len() >= total {
                return items;
            }
        }
    }
}

pub fn sites() -> String {
    "/v1/sites".to_owned()
}

pub fn policies(site: Uuid) -> String {
    format!("/v1/sites/{site}/dns/policies")
}

pub fn policy(site: Uuid, id: impl std::fmt::Display) -> String {
    format!("/v1/sites/{site}/dns/policies/{id}")
}

pub fn clients(site: Uuid) -> String {
    format!("/v1/sites/{site}/clients")
}

pub fn client(site: Uuid, id: impl std::fmt::Display) -> String {
    format!("/v1/sites/{site}/clients/{id}")
}

/// `?filter=…`, URL-encoded.
pub fn filter(expression: &str) -> String {
    format!(
        "?{}",
        serde_urlencoded::to_string([("filter", expression)]).expect("encodes")
    )
}

/// A running simulator with a client for its control endpoints.
pub struct TestSim {
    pub sim: Simulator,
    pub control: Control,
}

impl TestSim {
    pub async fn start(scenario: Scenario) -> TestSim {
        let sim = Simulator::start(&scenario)
            .await
            .unwrap_or_else(|e| panic!("the simulator starts: {e}"));
        TestSim::from(sim)
    }

    /// Wraps a simulator started elsewhere.
    pub fn from(sim: Simulator) -> TestSim {
        let control = Control::new(sim.control_url());
        TestSim { sim, control }
    }

    pub fn console(&self, name: &str) -> Arc<Console> {
        self.sim
            .console(name)
            .unwrap_or_else(|| panic!("no console {name}"))
    }

    pub fn info(&self, name: &str) -> ConsoleInfo {
        self.console(name).info()
    }

    pub fn api(&self, name: &str) -> Api {
        Api::new(&self.info(name))
    }

    /// The UUID of a site of a console, by UUID, internalReference or name.
    pub fn site(&self, console: &str, selector: &str) -> Uuid {
        self.console(console)
            .site_id(selector)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// A client of the loopback control endpoints (`/__sim/…`). Their refusals use the API's error
/// envelope, so error bodies are checked against the error schema too.
#[derive(Clone)]
pub struct Control {
    pub client: Client,
    pub url: String,
}

impl Control {
    pub fn new(url: &str) -> Control {
        init_crypto();
        Control {
            client: Client::builder().no_proxy().build().expect("client builds"),
            url: url.to_owned(),
        }
    }

    /// Returns the status and the JSON body (`Null` when empty).
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("control body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{method} {path}: control body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        if !(200..300).contains(&status) {
            CURRENT
                .check_schema(ERROR_SCHEMA, &value)
                .unwrap_or_else(|e| panic!("{method} {path}: control error body: {e}"));
        }
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn post_empty(&self, path: &str) -> (u16, Value) {
        self.send(Method::POST, path, None).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(Method::DELETE, path, None).await
    }

    /// `GET /__sim/consoles/{c}/state`.
    pub async fn state(&self, console: &str) -> Value {
        let (status, body) = self.get(&format!("/__sim/consoles/{console}/state")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// `GET /__sim/consoles/{c}/counters`.
    pub async fn counters(&self, console: &str) -> Value {
        let (status, body) = self
            .get(&format!("/__sim/consoles/{console}/counters"))
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

/// How a test drives faults: through the control endpoints over HTTP, or the Rust API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Http,
    Rust,
}

pub const BOTH: [Via; 2] = [Via::Http, Via::Rust];

impl Via {
    /// Replaces the console's faults.
    pub async fn set_faults(self, sim: &TestSim, console: &str, faults: &FaultConfig) {
        match self {
            Via::Http => {
                let body = serde_json::to_value(faults).expect("serializes");
                let (status, echoed) = sim
                    .control
                    .put(&format!("/__sim/consoles/{console}/faults"), &body)
                    .await;
                assert_eq!(status, 200, "{echoed}");
                assert_eq!(echoed["latency_ms"], body["latency_ms"]);
            }
            Via::Rust => sim
                .console(console)
                .set_faults(faults.clone())
                .expect("valid faults"),
        }
    }

    /// Adds one rule.
    pub async fn add_rule(self, sim: &TestSim, console: &str, rule: FaultRule) {
        match self {
            Via::Http => {
                let body = serde_json::to_value(&rule).expect("serializes");
                let (status, echoed) = sim
                    .control
                    .post(&format!("/__sim/consoles/{console}/faults/rules"), &body)
                    .await;
                assert_eq!(status, 201, "{echoed}");
            }
            Via::Rust => sim
                .console(console)
                .add_fault(rule)
                .expect("valid fault rule"),
        }
    }

    /// Clears every fault.
    pub async fn clear(self, sim: &TestSim, console: &str) {
        match self {
            Via::Http => {
                let (status, echoed) = sim
                    .control
                    .delete(&format!("/__sim/consoles/{console}/faults"))
                    .await;
                assert_eq!(status, 200, "{echoed}");
                assert_eq!(echoed, json!({"down": null, "latency_ms": 0, "rules": []}));
            }
            Via::Rust => sim.console(console).clear_faults(),
        }
    }
}

/// Polls `attempt` until it yields a value (at most ~5 s): for effects the simulator applies
/// asynchronously, such as re-binding a port. Never used to assert timing.
pub async fn eventually<T, F, Fut>(what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..250 {
        if let Some(value) = attempt().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("gave up waiting: {what}");
}

// ---------------------------------------------------------------------------------------------
// Scenario building blocks.

pub const HQ_KEY: &str = "hq-secret-key";

pub fn a_record(domain: &str, ip: &str, ttl: i64) -> Value {
    json!({"type": "A_RECORD", "enabled": true, "domain": domain, "ipv4Address": ip, "ttlSeconds": ttl})
}

pub fn aaaa_record(domain: &str, ip: &str, ttl: i64) -> Value {
    json!({"type": "AAAA_RECORD", "enabled": true, "domain": domain, "ipv6Address": ip, "ttlSeconds": ttl})
}

pub fn cname_record(domain: &str, target: &str, ttl: i64) -> Value {
    json!({"type": "CNAME_RECORD", "enabled": true, "domain": domain, "targetDomain": target, "ttlSeconds": ttl})
}

pub fn mx_record(domain: &str, server: &str, priority: i64) -> Value {
    json!({"type": "MX_RECORD", "enabled": true, "domain": domain, "mailServerDomain": server, "priority": priority})
}

pub fn txt_record(domain: &str, text: &str) -> Value {
    json!({"type": "TXT_RECORD", "enabled": true, "domain": domain, "text": text})
}

pub fn srv_record(domain: &str, server: &str, port: i64, priority: i64, weight: i64) -> Value {
    json!({"type": "SRV_RECORD", "enabled": true, "domain": domain, "serverDomain": server,
           "service": "_sip", "protocol": "_tcp", "port": port, "priority": priority, "weight": weight})
}

pub fn forward_domain(domain: &str, ip: &str) -> Value {
    json!({"type": "FORWARD_DOMAIN", "enabled": true, "domain": domain, "ipAddress": ip})
}

/// One valid body of each of the seven types, on distinct names.
pub fn one_of_each_type() -> Vec<Value> {
    vec![
        a_record("nas.example.com", "10.0.0.10", 300),
        aaaa_record("nas6.example.com", "fd00::10", 0),
        cname_record("files.example.com", "nas.example.com", 604_800),
        mx_record("example.com", "mail.example.com", 10),
        txt_record("txt.example.com", "v=spf1 mx -all"),
        srv_record("sip.example.com", "pbx.example.com", 5060, 10, 5),
        forward_domain("corp.example", "2001:db8::53"),
    ]
}

/// The standard console `hq` (current version): a `default` site with local domain `hq.lan`,
/// a named wired client (`Office Printer`), a wireless one and a wired one without a name.
pub fn hq() -> ConsoleSpec {
    ConsoleSpec::new("hq", HQ_KEY).site(default_site())
}

pub fn default_site() -> SiteSpec {
    SiteSpec::new("default")
        .name("Head office")
        .local_domain("hq.lan")
        .client(ClientSpec::wired(
            "Office Printer",
            "aa:bb:cc:00:01:01",
            "10.1.0.50",
        ))
        .client(ClientSpec::wireless(
            "reception-ipad",
            "aa:bb:cc:00:01:02",
            "10.1.0.51",
        ))
        .client(ClientSpec::new(
            unifi_sim::ClientKind::Wired,
            None,
            "aa:bb:cc:00:01:03",
            Some("10.1.0.52"),
        ))
}

/// Starts the standard `hq` console alone; returns the simulator, its API and the default site.
pub async fn start_hq() -> (TestSim, Api, Uuid) {
    let sim = TestSim::start(Scenario::new().console(hq())).await;
    let api = sim.api("hq");
    let site = sim.site("hq", "default");
    (sim, api, site)
}

/// Asserts that `id` is a random (version 4) UUID.
#[track_caller]
pub fn assert_v4(id: &Value) -> Uuid {
    let id = Uuid::parse_str(id.as_str().expect("id is a string")).expect("id is a UUID");
    assert_eq!(id.get_version_num(), 4, "{id} is a version-4 UUID");
    id
}
