//! One simulated console: its identity (name, API key, version), its data, its injected faults
//! and its request counters, shared by the API server, the control endpoints and in-process tests.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::counters::Counters;
use crate::error::ApiError;
use crate::faults::{DownMode, FaultConfig, FaultRule};
use crate::policy::{Policy, validate_request};
use crate::scenario::{ClientSpec, SiteSpec};
use crate::state::{ConsoleState, Site};
use crate::version::AppVersion;

/// What a test (or the `unifi-sim` binary's output line) needs to talk to a console.
#[derive(Debug, Clone, Serialize)]
pub struct ConsoleInfo {
    pub name: String,
    /// `https://127.0.0.1:PORT` — the console root; the API is under `/proxy/network/integration/v1`.
    pub base_url: String,
    pub api_key: String,
    pub version: String,
    /// `sha256:AB:CD:…` of the console's certificate (HTTPS only).
    pub cert_fingerprint: Option<String>,
    /// The certificate in PEM (HTTPS only), usable as the only trusted root.
    pub cert_pem: Option<String>,
    /// Base URL of the simulator's control endpoints (`/__sim/…`).
    pub control_url: String,
}

pub struct Console {
    name: String,
    api_key: String,
    version: AppVersion,
    state: Mutex<ConsoleState>,
    seed: ConsoleState,
    faults: Mutex<FaultConfig>,
    seed_faults: FaultConfig,
    /// Bumped on every fault change, so the server can drop connections when going down.
    fault_generation: tokio::sync::watch::Sender<u64>,
    counters: Mutex<Counters>,
    rng: Mutex<fastrand::Rng>,
    pub(crate) info: OnceLock<ConsoleInfo>,
}

/// Locks a mutex even if a panicking thread poisoned it: the data is plain and always consistent
/// between statements, and a simulator that stops answering would hide the real failure.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Console {
    pub(crate) fn new(
        name: String,
        api_key: String,
        version: AppVersion,
        state: ConsoleState,
        faults: FaultConfig,
        seed: u64,
    ) -> Arc<Console> {
        Arc::new(Console {
            name,
            api_key,
            version,
            seed: state.clone(),
            state: Mutex::new(state),
            seed_faults: faults.clone(),
            faults: Mutex::new(faults),
            fault_generation: tokio::sync::watch::channel(0).0,
            counters: Mutex::new(Counters::default()),
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            info: OnceLock::new(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    pub fn version(&self) -> AppVersion {
        self.version
    }

    /// Address details; available once the simulator has started the console.
    pub fn info(&self) -> ConsoleInfo {
        self.info.get().cloned().unwrap_or_else(|| ConsoleInfo {
            name: self.name.clone(),
            base_url: String::new(),
            api_key: self.api_key.clone(),
            version: self.version.to_string(),
            cert_fingerprint: None,
            cert_pem: None,
            control_url: String::new(),
        })
    }

    pub fn base_url(&self) -> String {
        self.info().base_url
    }

    pub(crate) fn lock_state(&self) -> MutexGuard<'_, ConsoleState> {
        lock(&self.state)
    }

    /// A snapshot of all sites, policies and clients.
    pub fn state(&self) -> ConsoleState {
        self.lock_state().clone()
    }

    pub fn state_json(&self) -> Value {
        let mut v = self.lock_state().to_json(self.version);
        if let Value::Object(map) = &mut v {
            map.insert("name".into(), Value::String(self.name.clone()));
            map.insert("version".into(), Value::String(self.version.to_string()));
            map.insert("baseUrl".into(), Value::String(self.base_url()));
        }
        v
    }

    /// The UUID of a site given its UUID, internalReference or name.
    pub fn site_id(&self, selector: &str) -> Result<Uuid, ApiError> {
        self.lock_state()
            .site_by_selector(selector)
            .map(|s| s.id)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "Site '{selector}' not found on console '{}'",
                    self.name
                ))
            })
    }

    /// The site's policies as the API returns them.
    pub fn policies(&self, site: &str) -> Result<Vec<Value>, ApiError> {
        let id = self.site_id(site)?;
        let state = self.lock_state();
        let site = state
            .site(id)
            .ok_or_else(|| ApiError::not_found(format!("Site '{id}' not found")))?;
        Ok(site
            .policies
            .iter()
            .map(|p| p.to_api_json(self.version))
            .collect())
    }

    /// Creates a policy as a person would in the console: same validation as the API.
    pub fn create_policy(&self, site: &str, body: &Value) -> Result<Value, ApiError> {
        let id = self.site_id(site)?;
        let spec = validate_request(body, self.version)?;
        Ok(self
            .lock_state()
            .create_policy(id, spec)?
            .to_api_json(self.version))
    }

    pub fn update_policy(&self, site: &str, policy: Uuid, body: &Value) -> Result<Value, ApiError> {
        let id = self.site_id(site)?;
        let spec = validate_request(body, self.version)?;
        Ok(self
            .lock_state()
            .update_policy(id, policy, spec)?
            .to_api_json(self.version))
    }

    pub fn delete_policy(&self, site: &str, policy: Uuid) -> Result<Policy, ApiError> {
        let id = self.site_id(site)?;
        self.lock_state().delete_policy(id, policy)
    }

    /// Connects a client (or updates the one with the same MAC / id).
    pub fn connect_client(&self, site: &str, client: &ClientSpec) -> Result<Value, ApiError> {
        let id = self.site_id(site)?;
        let client = client.build().map_err(ApiError::bad_request)?;
        Ok(self.lock_state().upsert_client(id, client)?.to_api_json())
    }

    pub fn disconnect_client(&self, site: &str, id_or_mac: &str) -> Result<Value, ApiError> {
        let id = self.site_id(site)?;
        Ok(self
            .lock_state()
            .remove_client(id, id_or_mac)?
            .to_api_json())
    }

    pub fn add_site(&self, spec: &SiteSpec) -> Result<Value, ApiError> {
        let site: Site = spec.build(self.version).map_err(ApiError::bad_request)?;
        let json = site.to_api_json();
        self.lock_state()
            .add_site(site)
            .map_err(ApiError::bad_request)?;
        Ok(json)
    }

    pub fn remove_site(&self, selector: &str) -> Result<Value, ApiError> {
        let id = self.site_id(selector)?;
        Ok(self.lock_state().remove_site(id)?.to_api_json())
    }

    pub fn faults(&self) -> FaultConfig {
        lock(&self.faults).clone()
    }

    pub fn set_faults(&self, faults: FaultConfig) -> Result<(), String> {
        faults.validate()?;
        *lock(&self.faults) = faults;
        self.fault_generation.send_modify(|g| *g += 1);
        Ok(())
    }

    pub fn add_fault(&self, rule: FaultRule) -> Result<(), String> {
        let mut faults = self.faults();
        faults.rules.push(rule);
        self.set_faults(faults)
    }

    pub fn set_down(&self, down: Option<DownMode>) {
        let mut faults = self.faults();
        faults.down = down;
        // Only rule validation can fail, and the rules are unchanged.
        let _ = self.set_faults(faults);
    }

    pub fn set_latency_ms(&self, ms: u64) {
        let mut faults = self.faults();
        faults.latency_ms = ms;
        let _ = self.set_faults(faults);
    }

    pub fn clear_faults(&self) {
        let _ = self.set_faults(FaultConfig::default());
    }

    pub(crate) fn down(&self) -> Option<DownMode> {
        lock(&self.faults).down
    }

    pub(crate) fn latency_ms(&self) -> u64 {
        lock(&self.faults).latency_ms
    }

    pub(crate) fn pick_fault(&self, method: &str, path: &str, template: &str) -> Option<FaultRule> {
        let mut rng = lock(&self.rng);
        lock(&self.faults).pick(method, path, template, &mut rng)
    }

    pub(crate) fn fault_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.fault_generation.subscribe()
    }

    pub fn counters(&self) -> Counters {
        lock(&self.counters).clone()
    }

    pub(crate) fn lock_counters(&self) -> MutexGuard<'_, Counters> {
        lock(&self.counters)
    }

    pub fn reset_counters(&self) {
        lock(&self.counters).reset();
    }

    /// Back to the scenario's data and faults, with fresh counters.
    pub fn reset(&self) {
        *self.lock_state() = self.seed.clone();
        let _ = self.set_faults(self.seed_faults.clone());
        self.reset_counters();
    }
}
