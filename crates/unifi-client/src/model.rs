//! Typed models of the Integration API objects this service uses, and their exact JSON shapes.
//!
//! Parsing is lenient about what the service does not need (unknown extra fields, a missing
//! `metadata` on 10.1.68, a client without `name`) and strict about what it does: a required
//! field that is missing or of the wrong type is a [`DecodeError`] naming the field. A policy of a
//! type this crate does not know is kept verbatim as [`PolicyData::Other`] rather than failing
//! the whole site's read.
//!
//! Serialising a [`DnsPolicyBody`] gives exactly the request schema ("Create or update DNS
//! policy", reference §2.7.2): `type`, `enabled`, `domain` and the type's fields; `ttlSeconds`
//! on A, AAAA and CNAME only (and always there); never `id` or `metadata`.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A required field missing or of the wrong type in a response object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct DecodeError {
    /// The JSON path of the field (`ipv4Address`, `data[3].ttlSeconds`, or `$` for the object).
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl DecodeError {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        DecodeError {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The same error for an object nested at `prefix` (e.g. `data[3]`).
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = if self.field == "$" {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

/// Typed access to one JSON object's fields.
struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn of(value: &'a Value) -> Result<Self, DecodeError> {
        value.as_object().map(Fields).ok_or_else(|| {
            DecodeError::new("$", format!("expected an object, got {}", kind(value)))
        })
    }

    /// The field, `None` if absent or null.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn required(&self, name: &str) -> Result<&'a Value, DecodeError> {
        self.get(name)
            .ok_or_else(|| DecodeError::new(name, "missing required field"))
    }

    fn string(&self, name: &str) -> Result<String, DecodeError> {
        let v = self.required(name)?;
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| wrong_type(name, "a string", v))
    }

    fn opt_string(&self, name: &str) -> Result<Option<String>, DecodeError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| wrong_type(name, "a string", v)),
        }
    }

    fn boolean(&self, name: &str) -> Result<bool, DecodeError> {
        let v = self.required(name)?;
        v.as_bool().ok_or_else(|| wrong_type(name, "a boolean", v))
    }

    fn integer<T: TryFrom<u64>>(&self, name: &str, max: u64) -> Result<T, DecodeError> {
        let v = self.required(name)?;
        let n = v
            .as_u64()
            .ok_or_else(|| wrong_type(name, &format!("an integer from 0 to {max}"), v))?;
        if n > max {
            return Err(DecodeError::new(
                name,
                format!("{n} is out of range (0 to {max})"),
            ));
        }
        T::try_from(n).map_err(|_| DecodeError::new(name, format!("{n} is out of range")))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(name: &str, expected: &str, got: &Value) -> DecodeError {
    DecodeError::new(name, format!("expected {expected}, got {}", kind(got)))
}

/// `GET /v1/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppInfo {
    /// The Network application's version, e.g. `10.5.66`.
    pub application_version: String,
}

impl AppInfo {
    /// Parses the `Application info` object.
    pub fn from_json(value: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(value)?;
        Ok(AppInfo {
            application_version: f.string("applicationVersion")?,
        })
    }

    /// The version as numbers, if it reads as `MAJOR.MINOR.PATCH`.
    pub fn version(&self) -> Option<AppVersion> {
        self.application_version.parse().ok()
    }

    /// True when the console serves DNS policies (Network 10.1.68 or later); false for older or
    /// unreadable versions.
    pub fn supports_dns_policies(&self) -> bool {
        self.version()
            .is_some_and(|v| v >= AppVersion::FIRST_WITH_DNS_POLICIES)
    }
}

/// A Network application version, `MAJOR.MINOR.PATCH`, ordered numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AppVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

impl AppVersion {
    /// The first version with the DNS policy endpoints.
    pub const FIRST_WITH_DNS_POLICIES: AppVersion = AppVersion {
        major: 10,
        minor: 1,
        patch: 68,
    };
}

impl fmt::Display for AppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for AppVersion {
    type Err = String;

    /// Reads the first three dot-separated numbers; a suffix on the patch (`68-beta`) and
    /// further components are ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = || format!("invalid version '{s}': expected MAJOR.MINOR.PATCH");
        let mut parts = s.trim().split('.');
        let mut number = |strict: bool| -> Result<u32, String> {
            let part = parts.next().ok_or_else(fail)?;
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() || (strict && digits.len() != part.len()) {
                return Err(fail());
            }
            digits.parse().map_err(|_| fail())
        };
        Ok(AppVersion {
            major: number(true)?,
            minor: number(true)?,
            patch: number(false)?,
        })
    }
}

/// One site of a controller (`GET /v1/sites`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// The site's UUID; unique only within its controller (SPEC §2).
    pub id: String,
    /// The short name used by the internal APIs, e.g. `default`.
    pub internal_reference: String,
    /// The display name, e.g. `Default`.
    pub name: String,
}

impl Site {
    /// Parses a `Site overview` object.
    pub fn from_json(value: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(value)?;
        Ok(Site {
            id: f.string("id")?,
            internal_reference: f.string("internalReference")?,
            name: f.string("name")?,
        })
    }
}

/// The seven DNS policy types of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyType {
    /// `A_RECORD`
    A,
    /// `AAAA_RECORD`
    Aaaa,
    /// `CNAME_RECORD`
    Cname,
    /// `MX_RECORD`
    Mx,
    /// `TXT_RECORD`
    Txt,
    /// `SRV_RECORD`
    Srv,
    /// `FORWARD_DOMAIN`
    ForwardDomain,
}

impl PolicyType {
    /// Every type, in the API's order.
    pub const ALL: [PolicyType; 7] = [
        PolicyType::A,
        PolicyType::Aaaa,
        PolicyType::Cname,
        PolicyType::Mx,
        PolicyType::Txt,
        PolicyType::Srv,
        PolicyType::ForwardDomain,
    ];

    /// The API's spelling (`A_RECORD`…).
    pub fn api_name(self) -> &'static str {
        match self {
            PolicyType::A => "A_RECORD",
            PolicyType::Aaaa => "AAAA_RECORD",
            PolicyType::Cname => "CNAME_RECORD",
            PolicyType::Mx => "MX_RECORD",
            PolicyType::Txt => "TXT_RECORD",
            PolicyType::Srv => "SRV_RECORD",
            PolicyType::ForwardDomain => "FORWARD_DOMAIN",
        }
    }

    /// The type with this API spelling.
    pub fn from_api_name(name: &str) -> Option<PolicyType> {
        PolicyType::ALL.into_iter().find(|t| t.api_name() == name)
    }

    /// True for the types whose request schema has `ttlSeconds` (A, AAAA, CNAME).
    pub fn has_ttl(self) -> bool {
        matches!(self, PolicyType::A | PolicyType::Aaaa | PolicyType::Cname)
    }
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// The type-specific part of a DNS policy (reference §2.7.2). TTL 0 means "Auto".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyData {
    /// `A_RECORD`
    A {
        /// `ipv4Address`
        ipv4_address: String,
        /// `ttlSeconds`
        ttl_seconds: u32,
    },
    /// `AAAA_RECORD`
    Aaaa {
        /// `ipv6Address`
        ipv6_address: String,
        /// `ttlSeconds`
        ttl_seconds: u32,
    },
    /// `CNAME_RECORD`
    Cname {
        /// `targetDomain`
        target_domain: String,
        /// `ttlSeconds`
        ttl_seconds: u32,
    },
    /// `MX_RECORD`
    Mx {
        /// `mailServerDomain`
        mail_server_domain: String,
        /// `priority` (lower preferred)
        priority: u16,
    },
    /// `TXT_RECORD`
    Txt {
        /// `text`, byte-exact
        text: String,
    },
    /// `SRV_RECORD`: `domain` holds the owner name, `service` and `protocol` the `_sip`/`_tcp`
    /// labels.
    Srv {
        /// `serverDomain` (the target host)
        server_domain: String,
        /// `service`, e.g. `_sip`
        service: String,
        /// `protocol`, e.g. `_tcp`
        protocol: String,
        /// `port`
        port: u16,
        /// `priority`
        priority: u16,
        /// `weight`
        weight: u16,
    },
    /// `FORWARD_DOMAIN`: queries for `domain` go to this DNS server.
    ForwardDomain {
        /// `ipAddress` (IPv4 or IPv6)
        ip_address: String,
    },
    /// A type this crate does not know, kept verbatim (its fields besides `type`, `id`,
    /// `enabled`, `metadata` and `domain`) so that a newer console does not break reads.
    Other {
        /// The `type` value.
        type_name: String,
        /// The remaining fields, in the order received.
        fields: Map<String, Value>,
    },
}

const MAX_TTL: u64 = u32::MAX as u64;
const MAX_U16: u64 = u16::MAX as u64;

impl PolicyData {
    /// The policy type, `None` for [`PolicyData::Other`].
    pub fn policy_type(&self) -> Option<PolicyType> {
        Some(match self {
            PolicyData::A { .. } => PolicyType::A,
            PolicyData::Aaaa { .. } => PolicyType::Aaaa,
            PolicyData::Cname { .. } => PolicyType::Cname,
            PolicyData::Mx { .. } => PolicyType::Mx,
            PolicyData::Txt { .. } => PolicyType::Txt,
            PolicyData::Srv { .. } => PolicyType::Srv,
            PolicyData::ForwardDomain { .. } => PolicyType::ForwardDomain,
            PolicyData::Other { .. } => return None,
        })
    }

    /// The `type` value as the API spells it.
    pub fn type_name(&self) -> &str {
        match self {
            PolicyData::Other { type_name, .. } => type_name,
            known => known.policy_type().map_or("", PolicyType::api_name),
        }
    }

    /// The TTL of A, AAAA and CNAME policies.
    pub fn ttl_seconds(&self) -> Option<u32> {
        match self {
            PolicyData::A { ttl_seconds, .. }
            | PolicyData::Aaaa { ttl_seconds, .. }
            | PolicyData::Cname { ttl_seconds, .. } => Some(*ttl_seconds),
            _ => None,
        }
    }

    /// Reads the type-specific fields of an object whose `type` is `type_name`.
    fn from_fields(type_name: &str, f: &Fields<'_>) -> Result<Self, DecodeError> {
        let Some(kind) = PolicyType::from_api_name(type_name) else {
            let fields =
                f.0.iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "type" | "id" | "enabled" | "metadata" | "domain"
                        )
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
            return Ok(PolicyData::Other {
                type_name: type_name.to_owned(),
                fields,
            });
        };
        Ok(match kind {
            PolicyType::A => PolicyData::A {
                ipv4_address: f.string("ipv4Address")?,
                ttl_seconds: f.integer("ttlSeconds", MAX_TTL)?,
            },
            PolicyType::Aaaa => PolicyData::Aaaa {
                ipv6_address: f.string("ipv6Address")?,
                ttl_seconds: f.integer("ttlSeconds", MAX_TTL)?,
            },
            PolicyType::Cname => PolicyData::Cname {
                target_domain: f.string("targetDomain")?,
                ttl_seconds: f.integer("ttlSeconds", MAX_TTL)?,
            },
            PolicyType::Mx => PolicyData::Mx {
                mail_server_domain: f.string("mailServerDomain")?,
                priority: f.integer("priority", MAX_U16)?,
            },
            PolicyType::Txt => PolicyData::Txt {
                text: f.string("text")?,
            },
            PolicyType::Srv => PolicyData::Srv {
                server_domain: f.string("serverDomain")?,
                service: f.string("service")?,
                protocol: f.string("protocol")?,
                port: f.integer("port", MAX_U16)?,
                priority: f.integer("priority", MAX_U16)?,
                weight: f.integer("weight", MAX_U16)?,
            },
            PolicyType::ForwardDomain => PolicyData::ForwardDomain {
                ip_address: f.string("ipAddress")?,
            },
        })
    }

    /// Appends the type's request fields, in schema order.
    fn write_fields(&self, out: &mut Map<String, Value>) {
        let mut put = |k: &str, v: Value| {
            out.insert(k.to_owned(), v);
        };
        match self {
            PolicyData::A {
                ipv4_address,
                ttl_seconds,
            } => {
                put("ipv4Address", json!(ipv4_address));
                put("ttlSeconds", json!(ttl_seconds));
            }
            PolicyData::Aaaa {
                ipv6_address,
                ttl_seconds,
            } => {
                put("ipv6Address", json!(ipv6_address));
                put("ttlSeconds", json!(ttl_seconds));
            }
            PolicyData::Cname {
                target_domain,
                ttl_seconds,
            } => {
                put("targetDomain", json!(target_domain));
                put("ttlSeconds", json!(ttl_seconds));
            }
            PolicyData::Mx {
                mail_server_domain,
                priority,
            } => {
                put("mailServerDomain", json!(mail_server_domain));
                put("priority", json!(priority));
            }
            PolicyData::Txt { text } => put("text", json!(text)),
            PolicyData::Srv {
                server_domain,
                service,
                protocol,
                port,
                priority,
                weight,
            } => {
                put("serverDomain", json!(server_domain));
                put("service", json!(service));
                put("protocol", json!(protocol));
                put("port", json!(port));
                put("priority", json!(priority));
                put("weight", json!(weight));
            }
            PolicyData::ForwardDomain { ip_address } => put("ipAddress", json!(ip_address)),
            PolicyData::Other { fields, .. } => {
                for (k, v) in fields {
                    put(k, v.clone());
                }
            }
        }
    }
}

/// A live DNS policy as the console returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsPolicy {
    /// The policy's UUID (random, stable across updates).
    pub id: String,
    /// Whether the console answers it.
    pub enabled: bool,
    /// The name it answers (for SRV: the owner name without service and protocol).
    pub domain: String,
    /// The type and its fields.
    pub data: PolicyData,
    /// `metadata.origin` (`USER_DEFINED`); absent on 10.1.68.
    pub origin: Option<String>,
}

impl DnsPolicy {
    /// Parses a `DNS policy` response object. Unknown extra fields are ignored.
    pub fn from_json(value: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(value)?;
        let type_name = f.string("type")?;
        let id = f.string("id")?;
        let enabled = f.boolean("enabled")?;
        let domain = f.string("domain")?;
        let origin = match f.get("metadata") {
            None => None,
            Some(meta @ Value::Object(_)) => Fields::of(meta)?
                .opt_string("origin")
                .map_err(|e| e.within("metadata"))?,
            Some(other) => return Err(wrong_type("metadata", "an object", other)),
        };
        let data = PolicyData::from_fields(&type_name, &f)?;
        Ok(DnsPolicy {
            id,
            enabled,
            domain,
            data,
            origin,
        })
    }

    /// The request body that would recreate this policy as it is (no `id`, no `metadata`).
    pub fn body(&self) -> DnsPolicyBody {
        DnsPolicyBody {
            enabled: self.enabled,
            domain: self.domain.clone(),
            data: self.data.clone(),
        }
    }
}

/// The body of a create (POST) or update (PUT, a full replacement) of a DNS policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsPolicyBody {
    /// Whether the console answers it.
    pub enabled: bool,
    /// The name it answers.
    pub domain: String,
    /// The type and its fields.
    pub data: PolicyData,
}

impl DnsPolicyBody {
    /// The request JSON: `type`, `enabled`, `domain`, then the type's fields in schema order.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("type".into(), json!(self.data.type_name()));
        out.insert("enabled".into(), json!(self.enabled));
        out.insert("domain".into(), json!(self.domain));
        self.data.write_fields(&mut out);
        Value::Object(out)
    }

    /// Parses a request body (or a response; `id` and `metadata` are ignored).
    pub fn from_json(value: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(value)?;
        let type_name = f.string("type")?;
        Ok(DnsPolicyBody {
            enabled: f.boolean("enabled")?,
            domain: f.string("domain")?,
            data: PolicyData::from_fields(&type_name, &f)?,
        })
    }
}

impl Serialize for DnsPolicyBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// The kind of a connected client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientKind {
    /// `WIRED`
    Wired,
    /// `WIRELESS`
    Wireless,
    /// `VPN`
    Vpn,
    /// `TELEPORT`
    Teleport,
    /// Any other `type` value, verbatim.
    Other(String),
}

impl ClientKind {
    /// The kind with this API spelling.
    pub fn from_api_name(name: &str) -> ClientKind {
        match name {
            "WIRED" => ClientKind::Wired,
            "WIRELESS" => ClientKind::Wireless,
            "VPN" => ClientKind::Vpn,
            "TELEPORT" => ClientKind::Teleport,
            other => ClientKind::Other(other.to_owned()),
        }
    }

    /// The API spelling.
    pub fn api_name(&self) -> &str {
        match self {
            ClientKind::Wired => "WIRED",
            ClientKind::Wireless => "WIRELESS",
            ClientKind::Vpn => "VPN",
            ClientKind::Teleport => "TELEPORT",
            ClientKind::Other(name) => name,
        }
    }
}

/// A connected client (`GET /v1/sites/{siteId}/clients`). Only what DNS names need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedClient {
    /// The client's UUID.
    pub id: String,
    /// Wired, wireless, VPN…
    pub kind: ClientKind,
    /// The name the console shows; absent for clients it has not identified.
    pub name: Option<String>,
    /// The current IP address, if it has one.
    pub ip_address: Option<String>,
    /// The MAC address (lower-case, colon form) of wired and wireless clients.
    pub mac_address: Option<String>,
    /// When it connected.
    pub connected_at: Option<OffsetDateTime>,
}

impl ConnectedClient {
    /// Parses a `Client overview` object.
    pub fn from_json(value: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(value)?;
        let connected_at = match f.opt_string("connectedAt")? {
            None => None,
            Some(text) => Some(OffsetDateTime::parse(&text, &Rfc3339).map_err(|e| {
                DecodeError::new(
                    "connectedAt",
                    format!("'{text}' is not an RFC 3339 date-time: {e}"),
                )
            })?),
        };
        Ok(ConnectedClient {
            id: f.string("id")?,
            kind: ClientKind::from_api_name(&f.string("type")?),
            name: f.opt_string("name")?,
            ip_address: f.opt_string("ipAddress")?,
            mac_address: f.opt_string("macAddress")?,
            connected_at,
        })
    }
}

/// What a delete found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The console deleted the policy (200).
    Deleted,
    /// The console did not know it (404): it is gone either way.
    AlreadyGone,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = |s: &str| s.parse::<AppVersion>();
        assert_eq!(
            v("10.1.68"),
            Ok(AppVersion {
                major: 10,
                minor: 1,
                patch: 68
            })
        );
        assert!(v("10.1.68").unwrap() >= AppVersion::FIRST_WITH_DNS_POLICIES);
        assert!(v("10.1.67").unwrap() < AppVersion::FIRST_WITH_DNS_POLICIES);
        assert!(v("10.2.0").unwrap() > AppVersion::FIRST_WITH_DNS_POLICIES);
        assert!(v("9.5.21").unwrap() < AppVersion::FIRST_WITH_DNS_POLICIES);
        assert!(v("11.0.1").unwrap() > v("10.99.99").unwrap());
        assert_eq!(v("10.1.68-beta").map(|x| x.patch), Ok(68));
        for bad in [
            "",
            "10",
            "10.1",
            "a.b.c",
            "10.x.1",
            "99999999999.1.1",
            "-1.0.0",
        ] {
            assert!(v(bad).is_err(), "{bad}");
        }
        let info = |s: &str| AppInfo {
            application_version: s.into(),
        };
        assert!(info("10.5.66").supports_dns_policies());
        assert!(!info("9.5.21").supports_dns_policies());
        assert!(!info("garbage").supports_dns_policies());
    }

    #[test]
    fn bodies_carry_exactly_the_request_schema() {
        let body = DnsPolicyBody {
            enabled: true,
            domain: "mx.example".into(),
            data: PolicyData::Mx {
                mail_server_domain: "mail.example".into(),
                priority: 10,
            },
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"type":"MX_RECORD","enabled":true,"domain":"mx.example","mailServerDomain":"mail.example","priority":10}"#
        );
        let a = DnsPolicyBody {
            enabled: false,
            domain: "a.example".into(),
            data: PolicyData::A {
                ipv4_address: "10.0.0.1".into(),
                ttl_seconds: 0,
            },
        };
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"type":"A_RECORD","enabled":false,"domain":"a.example","ipv4Address":"10.0.0.1","ttlSeconds":0}"#
        );
    }

    #[test]
    fn decode_errors_name_the_field() {
        let missing =
            json!({"type":"A_RECORD","id":"x","enabled":true,"domain":"a","ttlSeconds":1});
        assert_eq!(
            DnsPolicy::from_json(&missing).unwrap_err(),
            DecodeError::new("ipv4Address", "missing required field")
        );
        let wrong = json!({"type":"SRV_RECORD","id":"x","enabled":true,"domain":"a","serverDomain":"s","service":"_a","protocol":"_tcp","port":"80","priority":1,"weight":1});
        let e = DnsPolicy::from_json(&wrong).unwrap_err();
        assert_eq!(e.field, "port");
        assert!(e.problem.contains("expected an integer"), "{e}");
        let range = json!({"type":"MX_RECORD","id":"x","enabled":true,"domain":"a","mailServerDomain":"m","priority":70000});
        assert!(
            DnsPolicy::from_json(&range)
                .unwrap_err()
                .problem
                .contains("out of range")
        );
        let meta = json!({"type":"TXT_RECORD","id":"x","enabled":true,"domain":"a","text":"t","metadata":{"origin":5}});
        assert_eq!(
            DnsPolicy::from_json(&meta).unwrap_err().field,
            "metadata.origin"
        );
        assert_eq!(
            DnsPolicy::from_json(&json!([1]))
                .unwrap_err()
                .within("data[2]")
                .field,
            "data[2]"
        );
        let neg_ttl = json!({"type":"A_RECORD","id":"x","enabled":true,"domain":"a","ipv4Address":"1.2.3.4","ttlSeconds":-1});
        assert_eq!(
            DnsPolicy::from_json(&neg_ttl).unwrap_err().field,
            "ttlSeconds"
        );
    }

    #[test]
    fn unknown_types_and_fields_are_kept_or_ignored() {
        let v = json!({"type":"NS_RECORD","id":"x","enabled":true,"metadata":{"origin":"USER_DEFINED"},"domain":"z.example","nameServer":"ns1.example"});
        let p = DnsPolicy::from_json(&v).unwrap();
        assert_eq!(p.data.policy_type(), None);
        assert_eq!(p.data.type_name(), "NS_RECORD");
        assert_eq!(
            p.body().to_json(),
            json!({"type":"NS_RECORD","enabled":true,"domain":"z.example","nameServer":"ns1.example"})
        );
        let extra = json!({"type":"TXT_RECORD","id":"x","enabled":true,"domain":"a","text":"t","future":{"x":1}});
        assert_eq!(
            DnsPolicy::from_json(&extra).unwrap().body().to_json(),
            json!({"type":"TXT_RECORD","enabled":true,"domain":"a","text":"t"})
        );
    }

    #[test]
    fn clients_without_name_or_with_bad_dates() {
        let c = ConnectedClient::from_json(
            &json!({"type":"VPN","id":"c1","access":{"type":"DEFAULT"}}),
        )
        .unwrap();
        assert_eq!(
            (c.kind, c.name, c.connected_at),
            (ClientKind::Vpn, None, None)
        );
        let other = ConnectedClient::from_json(&json!({"type":"SATELLITE","id":"c2"})).unwrap();
        assert_eq!(other.kind, ClientKind::Other("SATELLITE".into()));
        let bad = ConnectedClient::from_json(
            &json!({"type":"WIRED","id":"c3","connectedAt":"yesterday"}),
        );
        assert_eq!(bad.unwrap_err().field, "connectedAt");
    }
}
