//! The data of one simulated console: its sites, their DNS policies and connected clients, and
//! the site-level rules a console applies on every write.
//!
//! The HTTP API ([`crate::api`]) and the control endpoints ([`crate::control`]) both go through
//! [`ConsoleState`], so a change "made by a person in the console" is checked exactly like one
//! made through the Integration API: same validation, same refusals, no notion of ownership.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{ApiError, CNAME_ALIAS_OVERLAP, OVERLAP_WITH_LOCAL_DNS, RECORD_ALREADY_EXISTS};
use crate::policy::{Policy, PolicyKind, PolicySpec};
use crate::version::AppVersion;
use axum::http::StatusCode;

/// The UUID real consoles report for the site whose internalReference is `default`; it appears
/// on different users' consoles, so consoles derive it from the name (SPEC §2).
pub const DEFAULT_SITE_UUID: Uuid = uuid::uuid!("88f7af54-98f8-306a-a1c7-c9349722b1f6");

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ClientKind {
    Wired,
    Wireless,
    Vpn,
    Teleport,
}

impl ClientKind {
    pub fn api_name(self) -> &'static str {
        match self {
            ClientKind::Wired => "WIRED",
            ClientKind::Wireless => "WIRELESS",
            ClientKind::Vpn => "VPN",
            ClientKind::Teleport => "TELEPORT",
        }
    }

    /// Wired and wireless clients carry a MAC address and an uplink device.
    pub fn is_local(self) -> bool {
        matches!(self, ClientKind::Wired | ClientKind::Wireless)
    }
}

/// A connected client.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub id: Uuid,
    pub kind: ClientKind,
    /// Real consoles omit `name` for clients they have not identified.
    pub name: Option<String>,
    pub mac: Option<String>,
    pub ip: Option<String>,
    pub connected_at: OffsetDateTime,
    /// `None` = `{"type":"DEFAULT"}`; `Some(authorized)` = a guest.
    pub guest_authorized: Option<bool>,
    pub uplink_device_id: Uuid,
}

impl Client {
    /// Stable id derived from the MAC (captured client ids are name-based UUIDs too).
    pub fn id_for(mac: Option<&str>, name: Option<&str>) -> Uuid {
        let key = mac.or(name).unwrap_or("anonymous").to_ascii_lowercase();
        Uuid::new_v5(&Uuid::NAMESPACE_OID, key.as_bytes())
    }

    /// The body of the clients list and detail endpoints, in captured field order.
    pub fn to_api_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("type".into(), json!(self.kind.api_name()));
        out.insert("id".into(), json!(self.id.to_string()));
        if let Some(name) = &self.name {
            out.insert("name".into(), json!(name));
        }
        out.insert(
            "connectedAt".into(),
            json!(crate::clock::rfc3339(self.connected_at)),
        );
        if let Some(ip) = &self.ip {
            out.insert("ipAddress".into(), json!(ip));
        }
        if self.kind.is_local() {
            out.insert(
                "macAddress".into(),
                json!(self.mac.clone().unwrap_or_default()),
            );
            out.insert(
                "uplinkDeviceId".into(),
                json!(self.uplink_device_id.to_string()),
            );
        }
        let access = match self.guest_authorized {
            None => json!({"type": "DEFAULT"}),
            Some(authorized) => json!({"type": "GUEST", "authorized": authorized}),
        };
        out.insert("access".into(), access);
        Value::Object(out)
    }

    /// The name UniFi itself answers for this client under the site's local domain.
    fn local_hostname(&self) -> Option<String> {
        let name = self.name.as_deref()?.trim();
        if name.is_empty() {
            return None;
        }
        Some(
            name.to_ascii_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join("-"),
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub id: Uuid,
    pub internal_reference: String,
    pub name: String,
    /// The LAN's domain name; UniFi answers `<client>.<local_domain>` itself.
    pub local_domain: Option<String>,
    /// Refuse every name under `local_domain`, as one user reports a console doing.
    pub strict_local_domain: bool,
    pub policies: Vec<Policy>,
    pub clients: Vec<Client>,
}

impl Site {
    pub fn to_api_json(&self) -> Value {
        json!({"id": self.id.to_string(), "internalReference": self.internal_reference, "name": self.name})
    }

    pub fn policy(&self, id: Uuid) -> Option<&Policy> {
        self.policies.iter().find(|p| p.id == id)
    }

    /// The console's own checks for a new or changed policy (`replacing` = the id being updated).
    fn check_rules(&self, spec: &PolicySpec, replacing: Option<Uuid>) -> Result<(), ApiError> {
        let others = || {
            self.policies
                .iter()
                .filter(move |p| Some(p.id) != replacing)
        };
        if others().any(|p| p.spec.same_record(spec)) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                RECORD_ALREADY_EXISTS,
                "DNS policy with the same type and properties already exists",
            ));
        }
        let domain = spec.domain().trim_end_matches('.').to_ascii_lowercase();
        let same_name = |p: &&Policy| {
            p.spec
                .domain()
                .trim_end_matches('.')
                .eq_ignore_ascii_case(&domain)
        };
        let cname_conflict = if spec.kind == PolicyKind::Cname {
            others().any(|p| same_name(&p))
        } else {
            others()
                .filter(same_name)
                .any(|p| p.spec.kind == PolicyKind::Cname)
        };
        if cname_conflict {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                CNAME_ALIAS_OVERLAP,
                format!(
                    "DNS policy for '{domain}' overlaps with a CNAME alias: a CNAME must be the only DNS policy of its name"
                ),
            ));
        }
        if let Some(local) = &self.local_domain {
            let local = local.trim_end_matches('.').to_ascii_lowercase();
            let under_local = domain == local || domain.ends_with(&format!(".{local}"));
            let client_name = self
                .clients
                .iter()
                .filter_map(Client::local_hostname)
                .any(|h| format!("{h}.{local}") == domain);
            if client_name || (self.strict_local_domain && under_local) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    OVERLAP_WITH_LOCAL_DNS,
                    format!(
                        "DNS policy for '{domain}' overlaps with a local DNS record of this network"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// All sites of one console.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsoleState {
    pub sites: Vec<Site>,
}

impl ConsoleState {
    /// Finds a site by UUID (as the API does) — see [`ConsoleState::site_by_selector`] for names.
    pub fn site(&self, id: Uuid) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
    }

    fn site_mut(&mut self, id: Uuid) -> Result<&mut Site, ApiError> {
        self.sites
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| ApiError::not_found(format!("Site '{id}' not found")))
    }

    /// Finds a site by UUID, internalReference or name (for control endpoints and tests).
    pub fn site_by_selector(&self, selector: &str) -> Option<&Site> {
        let by_id = Uuid::parse_str(selector).ok();
        self.sites
            .iter()
            .find(|s| Some(s.id) == by_id)
            .or_else(|| self.sites.iter().find(|s| s.internal_reference == selector))
            .or_else(|| self.sites.iter().find(|s| s.name == selector))
    }

    pub fn create_policy(&mut self, site: Uuid, spec: PolicySpec) -> Result<Policy, ApiError> {
        self.insert_policy(site, Uuid::new_v4(), spec)
    }

    /// Creates a policy with a given id (scenario seeds may fix ids).
    pub fn insert_policy(
        &mut self,
        site: Uuid,
        id: Uuid,
        spec: PolicySpec,
    ) -> Result<Policy, ApiError> {
        let site = self.site_mut(site)?;
        site.check_rules(&spec, None)?;
        let policy = Policy { id, spec };
        site.policies.push(policy.clone());
        Ok(policy)
    }

    pub fn update_policy(
        &mut self,
        site: Uuid,
        id: Uuid,
        spec: PolicySpec,
    ) -> Result<Policy, ApiError> {
        let site = self.site_mut(site)?;
        if site.policy(id).is_none() {
            return Err(policy_not_found(id));
        }
        site.check_rules(&spec, Some(id))?;
        let policy = site
            .policies
            .iter_mut()
            .find(|p| p.id == id)
            .ok_or_else(|| policy_not_found(id))?;
        policy.spec = spec;
        Ok(policy.clone())
    }

    pub fn delete_policy(&mut self, site: Uuid, id: Uuid) -> Result<Policy, ApiError> {
        let site = self.site_mut(site)?;
        let index = site
            .policies
            .iter()
            .position(|p| p.id == id)
            .ok_or_else(|| policy_not_found(id))?;
        Ok(site.policies.remove(index))
    }

    /// Connects a client, or replaces the one with the same id (a person renaming it, a new lease).
    pub fn upsert_client(&mut self, site: Uuid, client: Client) -> Result<Client, ApiError> {
        let site = self.site_mut(site)?;
        match site.clients.iter_mut().find(|c| c.id == client.id) {
            Some(existing) => *existing = client.clone(),
            None => site.clients.push(client.clone()),
        }
        Ok(client)
    }

    /// Disconnects a client (found by id or MAC).
    pub fn remove_client(&mut self, site: Uuid, id_or_mac: &str) -> Result<Client, ApiError> {
        let site = self.site_mut(site)?;
        let index = site
            .clients
            .iter()
            .position(|c| {
                c.id.to_string() == id_or_mac
                    || c.mac
                        .as_deref()
                        .is_some_and(|m| m.eq_ignore_ascii_case(id_or_mac))
            })
            .ok_or_else(|| ApiError::not_found(format!("Client '{id_or_mac}' not found")))?;
        Ok(site.clients.remove(index))
    }

    pub fn add_site(&mut self, site: Site) -> Result<(), String> {
        if self.sites.iter().any(|s| s.id == site.id) {
            return Err(format!("a site with id {} already exists", site.id));
        }
        if self
            .sites
            .iter()
            .any(|s| s.internal_reference == site.internal_reference)
        {
            return Err(format!(
                "a site with internalReference '{}' already exists",
                site.internal_reference
            ));
        }
        self.sites.push(site);
        Ok(())
    }

    pub fn remove_site(&mut self, id: Uuid) -> Result<Site, ApiError> {
        let index = self
            .sites
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| ApiError::not_found(format!("Site '{id}' not found")))?;
        Ok(self.sites.remove(index))
    }

    /// The full state as JSON, for `/__sim/state`.
    pub fn to_json(&self, version: AppVersion) -> Value {
        let sites: Vec<Value> = self
            .sites
            .iter()
            .map(|s| {
                json!({
                    "id": s.id.to_string(),
                    "internalReference": s.internal_reference,
                    "name": s.name,
                    "localDomain": s.local_domain,
                    "policies": s.policies.iter().map(|p| p.to_api_json(version)).collect::<Vec<_>>(),
                    "clients": s.clients.iter().map(Client::to_api_json).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({ "sites": sites })
    }
}

fn policy_not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format!("DNS policy '{id}' not found"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::validate_request;

    fn site() -> (ConsoleState, Uuid) {
        let id = Uuid::new_v4();
        let mut state = ConsoleState::default();
        state
            .add_site(Site {
                id,
                internal_reference: "default".into(),
                name: "Default".into(),
                local_domain: Some("hq.lan".into()),
                strict_local_domain: false,
                policies: vec![],
                clients: vec![Client {
                    id: Uuid::new_v4(),
                    kind: ClientKind::Wired,
                    name: Some("Office Printer".into()),
                    mac: Some("aa:bb:cc:00:00:01".into()),
                    ip: Some("10.0.0.9".into()),
                    connected_at: OffsetDateTime::UNIX_EPOCH,
                    guest_authorized: None,
                    uplink_device_id: Uuid::nil(),
                }],
            })
            .unwrap();
        (state, id)
    }

    fn spec(v: Value) -> PolicySpec {
        validate_request(&v, AppVersion::CURRENT).unwrap()
    }

    fn a(domain: &str, ip: &str) -> PolicySpec {
        spec(
            json!({"type":"A_RECORD","enabled":true,"domain":domain,"ipv4Address":ip,"ttlSeconds":0}),
        )
    }

    fn cname(domain: &str) -> PolicySpec {
        spec(
            json!({"type":"CNAME_RECORD","enabled":true,"domain":domain,"targetDomain":"t.example","ttlSeconds":0}),
        )
    }

    #[test]
    fn duplicates_are_refused_but_round_robin_is_allowed() {
        let (mut st, s) = site();
        st.create_policy(s, a("nas.example", "10.0.0.1")).unwrap();
        let e = st
            .create_policy(s, a("NAS.example", "10.0.0.1"))
            .unwrap_err();
        assert_eq!(e.code, RECORD_ALREADY_EXISTS);
        assert_eq!(
            e.message,
            "DNS policy with the same type and properties already exists"
        );
        st.create_policy(s, a("nas.example", "10.0.0.2")).unwrap();
        assert_eq!(st.site(s).unwrap().policies.len(), 2);
    }

    #[test]
    fn cname_overlaps_are_refused_both_ways() {
        let (mut st, s) = site();
        st.create_policy(s, a("www.example", "10.0.0.1")).unwrap();
        assert_eq!(
            st.create_policy(s, cname("www.example")).unwrap_err().code,
            CNAME_ALIAS_OVERLAP
        );
        st.create_policy(s, cname("alias.example")).unwrap();
        assert_eq!(
            st.create_policy(s, a("alias.example", "10.0.0.1"))
                .unwrap_err()
                .code,
            CNAME_ALIAS_OVERLAP
        );
        assert_eq!(
            st.create_policy(s, cname("alias.example"))
                .unwrap_err()
                .code,
            RECORD_ALREADY_EXISTS
        );
    }

    #[test]
    fn client_names_under_the_local_domain_are_refused() {
        let (mut st, s) = site();
        let e = st
            .create_policy(s, a("office-printer.hq.lan", "10.0.0.1"))
            .unwrap_err();
        assert_eq!(e.code, OVERLAP_WITH_LOCAL_DNS);
        st.create_policy(s, a("other.hq.lan", "10.0.0.1")).unwrap();
        st.sites[0].strict_local_domain = true;
        assert_eq!(
            st.create_policy(s, a("third.hq.lan", "10.0.0.1"))
                .unwrap_err()
                .code,
            OVERLAP_WITH_LOCAL_DNS
        );
    }

    #[test]
    fn updates_keep_the_id_and_check_rules_against_the_others() {
        let (mut st, s) = site();
        let p1 = st.create_policy(s, a("one.example", "10.0.0.1")).unwrap();
        st.create_policy(s, a("two.example", "10.0.0.2")).unwrap();
        let same = st
            .update_policy(s, p1.id, a("one.example", "10.0.0.1"))
            .unwrap();
        assert_eq!(same.id, p1.id);
        let moved = st
            .update_policy(s, p1.id, a("one.example", "10.0.0.3"))
            .unwrap();
        assert_eq!(moved.id, p1.id);
        let e = st
            .update_policy(s, p1.id, a("two.example", "10.0.0.2"))
            .unwrap_err();
        assert_eq!(e.code, RECORD_ALREADY_EXISTS);
        assert_eq!(
            st.update_policy(s, Uuid::new_v4(), a("x.example", "10.0.0.1"))
                .unwrap_err()
                .status,
            StatusCode::NOT_FOUND
        );
        st.delete_policy(s, p1.id).unwrap();
        assert_eq!(
            st.delete_policy(s, p1.id).unwrap_err().status,
            StatusCode::NOT_FOUND
        );
    }
}
