//! Scenario files: which consoles to start, with which sites, policies and clients.
//!
//! A scenario is TOML (see `scenarios/` at the crate root for examples) or built in Rust by tests
//! and the `demo` command. Policies are written with the API's own field names
//! (`type = "A_RECORD"`, `ipv4Address`, `ttlSeconds`…) so real bodies can be pasted in, and they
//! are checked by the same rules as a POST; a scenario the console would refuse is an error that
//! names the console, site and policy.
//!
//! ```toml
//! [[console]]
//! name = "hq"
//! api_key = "hq-key"
//! version = "10.5.66"        # optional; "9.5.21" = a console without DNS policies
//! port = 0                   # optional; 0 = any free port
//! tls = true                 # optional; false = plain HTTP
//!
//! [[console.site]]
//! internal_reference = "default"
//! name = "Default"
//! local_domain = "hq.lan"
//!
//! [[console.site.policy]]
//! type = "A_RECORD"
//! domain = "nas.hq.example"
//! ipv4Address = "10.1.0.10"
//! ttlSeconds = 300
//!
//! [[console.site.client]]
//! type = "WIRED"
//! name = "printer"
//! mac = "aa:bb:cc:00:00:01"
//! ip = "10.1.0.20"
//! ```

use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::faults::FaultConfig;
use crate::policy::validate_request;
use crate::state::{Client, ClientKind, ConsoleState, DEFAULT_SITE_UUID, Site};
use crate::version::AppVersion;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Seed for the fault rules' random draws (reproducible runs).
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub control: ControlSpec,
    #[serde(default, rename = "console")]
    pub consoles: Vec<ConsoleSpec>,
}

/// Where the control endpoints (`/__sim/…`) listen: always loopback.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlSpec {
    #[serde(default)]
    pub port: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSpec {
    pub name: String,
    pub api_key: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub port: u16,
    #[serde(default = "yes")]
    pub tls: bool,
    /// Listen address; loopback unless set.
    #[serde(default)]
    pub bind: Option<IpAddr>,
    #[serde(default, rename = "site")]
    pub sites: Vec<SiteSpec>,
    #[serde(default)]
    pub faults: FaultConfig,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    /// Omitted: the well-known UUID for `default`, a random one otherwise.
    #[serde(default)]
    pub id: Option<Uuid>,
    pub internal_reference: String,
    /// Omitted: the internalReference with its first letter upper-cased (`default` → `Default`).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub local_domain: Option<String>,
    #[serde(default)]
    pub strict_local_domain: bool,
    /// Request bodies (the API's field names); `enabled` defaults to true; `id` may be given.
    #[serde(default, rename = "policy")]
    pub policies: Vec<Value>,
    #[serde(default, rename = "client")]
    pub clients: Vec<ClientSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    #[serde(rename = "type", default = "wired")]
    pub kind: ClientKind,
    /// Omitted: the id is derived from the MAC (or the name).
    #[serde(default)]
    pub id: Option<Uuid>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub mac: Option<String>,
    #[serde(default)]
    pub ip: Option<String>,
    /// RFC 3339; omitted: now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub connected_at: Option<OffsetDateTime>,
    /// Set for a guest client (`access.type = GUEST`) with this authorization.
    #[serde(default)]
    pub guest_authorized: Option<bool>,
}

fn wired() -> ClientKind {
    ClientKind::Wired
}

impl Scenario {
    pub fn new() -> Self {
        Scenario::default()
    }

    pub fn console(mut self, console: ConsoleSpec) -> Self {
        self.consoles.push(console);
        self
    }

    /// Reads a scenario file; errors name the file and the problem.
    pub fn load(path: &Path) -> Result<Scenario, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read scenario file {}: {e}", path.display()))?;
        Scenario::from_toml(&text).map_err(|e| format!("scenario file {}: {e}", path.display()))
    }

    pub fn from_toml(text: &str) -> Result<Scenario, String> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| e.to_string())?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Checks names and builds every console's data once, so errors surface before anything starts.
    pub fn validate(&self) -> Result<(), String> {
        for (i, c) in self.consoles.iter().enumerate() {
            if c.name.trim().is_empty() {
                return Err(format!("console[{i}]: name must not be empty"));
            }
            if self.consoles[..i].iter().any(|o| o.name == c.name) {
                return Err(format!("console[{i}]: duplicate console name '{}'", c.name));
            }
            c.build_state()
                .map_err(|e| format!("console '{}': {e}", c.name))?;
            c.faults
                .validate()
                .map_err(|e| format!("console '{}': faults: {e}", c.name))?;
        }
        Ok(())
    }
}

impl ConsoleSpec {
    pub fn new(name: &str, api_key: &str) -> Self {
        ConsoleSpec {
            name: name.into(),
            api_key: api_key.into(),
            version: None,
            port: 0,
            tls: true,
            bind: None,
            sites: vec![],
            faults: FaultConfig::default(),
        }
    }

    pub fn version(mut self, version: &str) -> Self {
        self.version = Some(version.into());
        self
    }

    pub fn plain_http(mut self) -> Self {
        self.tls = false;
        self
    }

    pub fn site(mut self, site: SiteSpec) -> Self {
        self.sites.push(site);
        self
    }

    pub fn app_version(&self) -> Result<AppVersion, String> {
        match &self.version {
            None => Ok(AppVersion::CURRENT),
            Some(v) => v.parse(),
        }
    }

    pub(crate) fn build_state(&self) -> Result<ConsoleState, String> {
        if self.api_key.is_empty() {
            return Err("api_key must not be empty".into());
        }
        let version = self.app_version()?;
        let mut state = ConsoleState::default();
        for (i, spec) in self.sites.iter().enumerate() {
            let site = spec
                .build(version)
                .map_err(|e| format!("site[{i}] ('{}'): {e}", spec.internal_reference))?;
            state
                .add_site(site)
                .map_err(|e| format!("site[{i}]: {e}"))?;
        }
        Ok(state)
    }
}

impl SiteSpec {
    pub fn new(internal_reference: &str) -> Self {
        SiteSpec {
            id: None,
            internal_reference: internal_reference.into(),
            name: None,
            local_domain: None,
            strict_local_domain: false,
            policies: vec![],
            clients: vec![],
        }
    }

    pub fn id(mut self, id: Uuid) -> Self {
        self.id = Some(id);
        self
    }

    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn local_domain(mut self, domain: &str) -> Self {
        self.local_domain = Some(domain.into());
        self
    }

    pub fn policy(mut self, body: Value) -> Self {
        self.policies.push(body);
        self
    }

    pub fn client(mut self, client: ClientSpec) -> Self {
        self.clients.push(client);
        self
    }

    /// Builds the site: policies are validated like API requests, including the site rules.
    pub(crate) fn build(&self, version: AppVersion) -> Result<Site, String> {
        if self.internal_reference.trim().is_empty() {
            return Err("internal_reference must not be empty".into());
        }
        let id = self.id.unwrap_or(if self.internal_reference == "default" {
            DEFAULT_SITE_UUID
        } else {
            Uuid::new_v4()
        });
        let name = self.name.clone().unwrap_or_else(|| {
            let mut chars = self.internal_reference.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        });
        let mut state = ConsoleState::default();
        state.add_site(Site {
            id,
            internal_reference: self.internal_reference.clone(),
            name,
            local_domain: self.local_domain.clone(),
            strict_local_domain: self.strict_local_domain,
            policies: vec![],
            clients: vec![],
        })?;
        for (i, body) in self.policies.iter().enumerate() {
            let (policy_id, request) =
                split_policy_seed(body).map_err(|e| format!("policy[{i}]: {e}"))?;
            let spec = validate_request(&request, version)
                .map_err(|e| format!("policy[{i}]: {}", e.message))?;
            state
                .insert_policy(id, policy_id, spec)
                .map_err(|e| format!("policy[{i}]: {} ({})", e.message, e.code))?;
        }
        for (i, client) in self.clients.iter().enumerate() {
            let client = client.build().map_err(|e| format!("client[{i}]: {e}"))?;
            state
                .upsert_client(id, client)
                .map_err(|e| format!("client[{i}]: {}", e.message))?;
        }
        let mut sites = state.sites;
        sites
            .pop()
            .ok_or_else(|| "internal error: site vanished".to_string())
    }
}

/// A seeded policy may carry its `id`; `enabled` defaults to true.
fn split_policy_seed(body: &Value) -> Result<(Uuid, Value), String> {
    let mut body = body.as_object().cloned().ok_or("must be a table")?;
    let id = match body.remove("id") {
        None => Uuid::new_v4(),
        Some(Value::String(s)) => {
            Uuid::parse_str(&s).map_err(|_| format!("id '{s}' is not a UUID"))?
        }
        Some(other) => return Err(format!("id {other} is not a UUID string")),
    };
    body.entry("enabled").or_insert(Value::Bool(true));
    Ok((id, Value::Object(body)))
}

impl ClientSpec {
    pub fn new(kind: ClientKind, name: Option<&str>, mac: &str, ip: Option<&str>) -> Self {
        ClientSpec {
            kind,
            id: None,
            name: name.map(Into::into),
            mac: Some(mac.into()),
            ip: ip.map(Into::into),
            connected_at: None,
            guest_authorized: None,
        }
    }

    pub fn wired(name: &str, mac: &str, ip: &str) -> Self {
        Self::new(ClientKind::Wired, Some(name), mac, Some(ip))
    }

    pub fn wireless(name: &str, mac: &str, ip: &str) -> Self {
        Self::new(ClientKind::Wireless, Some(name), mac, Some(ip))
    }

    pub fn connected_at(mut self, at: OffsetDateTime) -> Self {
        self.connected_at = Some(at);
        self
    }

    pub fn build(&self) -> Result<Client, String> {
        let mac = match &self.mac {
            Some(m) => Some(normalize_mac(m)?),
            None if self.kind.is_local() => {
                return Err(format!("{} clients need a mac", self.kind.api_name()));
            }
            None => None,
        };
        if let Some(ip) = &self.ip {
            ip.parse::<IpAddr>()
                .map_err(|_| format!("ip '{ip}' is not an IP address"))?;
        }
        Ok(Client {
            id: self
                .id
                .unwrap_or_else(|| Client::id_for(mac.as_deref(), self.name.as_deref())),
            kind: self.kind,
            name: self.name.clone(),
            mac,
            ip: self.ip.clone(),
            // Consoles print `connectedAt` to the second.
            connected_at: self
                .connected_at
                .unwrap_or_else(crate::clock::now)
                .replace_nanosecond(0)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            guest_authorized: self.guest_authorized,
            uplink_device_id: Uuid::new_v5(&Uuid::NAMESPACE_OID, b"unifi-sim-uplink"),
        })
    }
}

/// Lower-case colon form, as consoles print MACs.
fn normalize_mac(mac: &str) -> Result<String, String> {
    let hex: String = mac.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let separators_ok = mac
        .chars()
        .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '-');
    if hex.len() != 12 || !separators_ok {
        return Err(format!("mac '{mac}' is not a MAC address"));
    }
    let lower = hex.to_ascii_lowercase();
    Ok(lower
        .as_bytes()
        .chunks(2)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect::<Vec<_>>()
        .join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
seed = 7
[[console]]
name = "hq"
api_key = "k"
[[console.site]]
internal_reference = "default"
local_domain = "hq.lan"
[[console.site.policy]]
type = "A_RECORD"
domain = "nas.example"
ipv4Address = "10.0.0.1"
ttlSeconds = 300
[[console.site.client]]
name = "printer"
mac = "AA-BB-CC-00-00-01"
ip = "10.0.0.9"
"#;

    #[test]
    fn parses_and_builds_with_defaults() {
        let s = Scenario::from_toml(EXAMPLE).unwrap();
        let state = s.consoles[0].build_state().unwrap();
        let site = &state.sites[0];
        assert_eq!(site.id, DEFAULT_SITE_UUID);
        assert_eq!(site.name, "Default");
        assert!(site.policies[0].spec.enabled);
        assert_eq!(site.clients[0].mac.as_deref(), Some("aa:bb:cc:00:00:01"));
        assert_eq!(site.clients[0].kind, ClientKind::Wired);
    }

    #[test]
    fn errors_name_console_site_and_policy() {
        let bad = EXAMPLE.replace("ttlSeconds = 300", "");
        let e = Scenario::from_toml(&bad).unwrap_err();
        assert!(
            e.contains("console 'hq'")
                && e.contains("site[0] ('default')")
                && e.contains("policy[0]")
                && e.contains("ttlSeconds must not be null"),
            "{e}"
        );
        let e = Scenario::from_toml(&EXAMPLE.replace("seed = 7", "sed = 7")).unwrap_err();
        assert!(e.contains("unknown field `sed`"), "{e}");
        let dup = format!("{EXAMPLE}\n[[console]]\nname = \"hq\"\napi_key = \"x\"\n");
        assert!(
            Scenario::from_toml(&dup)
                .unwrap_err()
                .contains("duplicate console name 'hq'")
        );
        let e = Scenario::from_toml(&EXAMPLE.replace("AA-BB-CC-00-00-01", "nope")).unwrap_err();
        assert!(
            e.contains("client[0]: mac 'nope' is not a MAC address"),
            "{e}"
        );
        let e = Scenario::from_toml(
            &EXAMPLE.replace("name = \"hq\"", "name = \"hq\"\nversion = \"10\""),
        )
        .unwrap_err();
        assert!(e.contains("invalid version '10'"), "{e}");
    }
}
