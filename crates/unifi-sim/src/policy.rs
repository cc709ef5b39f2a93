//! DNS policies: the seven types, their request validation and their response shape.
//!
//! A request body is checked the way a Network application checks it (reference §2.4, §2.7):
//! the discriminator first, then every property against the type's request schema (an unknown
//! property, including `id`, `metadata` and `ttlSeconds` on types without a TTL, is refused with
//! `api.request.unknown-property`), then presence (`<field> must not be null`), then ranges and
//! formats. Site-level rules (duplicates, overlaps) live in [`crate::state`], because they need
//! the rest of the site.
//!
//! A policy keeps its fields as the client sent them, in schema order, so a response echoes
//! exactly what was stored.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::error::{ApiError, UNKNOWN_TYPE_ID};
use crate::version::AppVersion;
use axum::http::StatusCode;

/// The `type` discriminator of a DNS policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    A,
    Aaaa,
    Cname,
    Mx,
    Txt,
    Srv,
    ForwardDomain,
}

/// How one request field is validated.
#[derive(Debug, Clone, Copy)]
enum FieldRule {
    /// The policy's own name; `*` is allowed as the whole leftmost label unless `wildcard` is false.
    Domain {
        wildcard: bool,
    },
    /// A domain-valued target (1–127 characters).
    TargetDomain,
    Ipv4,
    Ipv6,
    IpAny,
    Integer {
        min: i64,
        max: Option<i64>,
    },
    /// `ttlSeconds` on A/AAAA, whose maximum depends on the version.
    AddressTtl,
    Text,
    /// A free string that must not be empty (SRV `service`, `protocol`).
    Label,
}

#[derive(Debug, Clone, Copy)]
struct FieldSpec {
    name: &'static str,
    rule: FieldRule,
    /// Part of a policy's identity for duplicate detection (TTL is not).
    identity: bool,
}

const fn field(name: &'static str, rule: FieldRule) -> FieldSpec {
    FieldSpec {
        name,
        rule,
        identity: true,
    }
}

const TTL_ADDRESS: FieldSpec = FieldSpec {
    name: "ttlSeconds",
    rule: FieldRule::AddressTtl,
    identity: false,
};
const PORT_RANGE: FieldRule = FieldRule::Integer {
    min: 0,
    max: Some(65_535),
};

impl PolicyKind {
    pub const ALL: [PolicyKind; 7] = [
        PolicyKind::A,
        PolicyKind::Aaaa,
        PolicyKind::Cname,
        PolicyKind::Mx,
        PolicyKind::Txt,
        PolicyKind::Srv,
        PolicyKind::ForwardDomain,
    ];

    pub fn api_name(self) -> &'static str {
        match self {
            PolicyKind::A => "A_RECORD",
            PolicyKind::Aaaa => "AAAA_RECORD",
            PolicyKind::Cname => "CNAME_RECORD",
            PolicyKind::Mx => "MX_RECORD",
            PolicyKind::Txt => "TXT_RECORD",
            PolicyKind::Srv => "SRV_RECORD",
            PolicyKind::ForwardDomain => "FORWARD_DOMAIN",
        }
    }

    pub fn from_api_name(name: &str) -> Option<PolicyKind> {
        PolicyKind::ALL.into_iter().find(|k| k.api_name() == name)
    }

    /// The request schema's fields besides `type` and `enabled`, in schema order.
    fn fields(self) -> &'static [FieldSpec] {
        const A: &[FieldSpec] = &[
            field("domain", FieldRule::Domain { wildcard: true }),
            field("ipv4Address", FieldRule::Ipv4),
            TTL_ADDRESS,
        ];
        const AAAA: &[FieldSpec] = &[
            field("domain", FieldRule::Domain { wildcard: true }),
            field("ipv6Address", FieldRule::Ipv6),
            TTL_ADDRESS,
        ];
        const CNAME: &[FieldSpec] = &[
            field("domain", FieldRule::Domain { wildcard: false }),
            field("targetDomain", FieldRule::TargetDomain),
            FieldSpec {
                name: "ttlSeconds",
                rule: FieldRule::Integer {
                    min: 0,
                    max: Some(604_800),
                },
                identity: false,
            },
        ];
        const MX: &[FieldSpec] = &[
            field("domain", FieldRule::Domain { wildcard: true }),
            field("mailServerDomain", FieldRule::TargetDomain),
            field("priority", PORT_RANGE),
        ];
        const TXT: &[FieldSpec] = &[
            field("domain", FieldRule::Domain { wildcard: true }),
            field("text", FieldRule::Text),
        ];
        const SRV: &[FieldSpec] = &[
            field("domain", FieldRule::Domain { wildcard: true }),
            field("serverDomain", FieldRule::TargetDomain),
            field("service", FieldRule::Label),
            field("protocol", FieldRule::Label),
            field("port", PORT_RANGE),
            field("priority", PORT_RANGE),
            field("weight", PORT_RANGE),
        ];
        const FORWARD: &[FieldSpec] = &[
            field("domain", FieldRule::Domain { wildcard: true }),
            field("ipAddress", FieldRule::IpAny),
        ];
        match self {
            PolicyKind::A => A,
            PolicyKind::Aaaa => AAAA,
            PolicyKind::Cname => CNAME,
            PolicyKind::Mx => MX,
            PolicyKind::Txt => TXT,
            PolicyKind::Srv => SRV,
            PolicyKind::ForwardDomain => FORWARD,
        }
    }
}

/// A validated create-or-update request.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySpec {
    pub kind: PolicyKind,
    pub enabled: bool,
    /// The type's fields in schema order, as sent.
    pub fields: Map<String, Value>,
}

impl PolicySpec {
    pub fn domain(&self) -> &str {
        self.fields
            .get("domain")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// True when both describe the same record: same type, same name (case-insensitive) and
    /// same values; TTL and `enabled` do not count.
    pub fn same_record(&self, other: &PolicySpec) -> bool {
        self.kind == other.kind
            && self.domain().eq_ignore_ascii_case(other.domain())
            && self
                .kind
                .fields()
                .iter()
                .filter(|f| f.identity && f.name != "domain")
                .all(|f| self.fields.get(f.name) == other.fields.get(f.name))
    }
}

/// A stored DNS policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub id: Uuid,
    pub spec: PolicySpec,
}

impl Policy {
    /// The response body (`DNS policy` schema), fields in the order real consoles send them.
    pub fn to_api_json(&self, version: AppVersion) -> Value {
        let mut out = Map::new();
        out.insert("type".into(), json!(self.spec.kind.api_name()));
        out.insert("id".into(), json!(self.id.to_string()));
        out.insert("enabled".into(), json!(self.spec.enabled));
        if version.has_policy_metadata() {
            out.insert("metadata".into(), json!({"origin": "USER_DEFINED"}));
        }
        for (k, v) in &self.spec.fields {
            out.insert(k.clone(), v.clone());
        }
        Value::Object(out)
    }
}

/// Parses and validates a request body (POST or PUT).
pub fn parse_request(body: &[u8], version: AppVersion) -> Result<PolicySpec, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Malformed JSON request body: {e}")))?;
    validate_request(&value, version)
}

/// Validates a request already parsed as JSON.
pub fn validate_request(value: &Value, version: AppVersion) -> Result<PolicySpec, ApiError> {
    let Some(body) = value.as_object() else {
        return Err(ApiError::bad_request("Request body must be a JSON object"));
    };
    let kind = match body.get("type") {
        None | Some(Value::Null) => return Err(ApiError::bad_request("type must not be null")),
        Some(Value::String(name)) => PolicyKind::from_api_name(name).ok_or_else(|| {
            let valid: Vec<&str> = PolicyKind::ALL.iter().map(|k| k.api_name()).collect();
            ApiError::new(
                StatusCode::BAD_REQUEST,
                UNKNOWN_TYPE_ID,
                format!(
                    "Invalid $.type value '{name}' (valid values: {})",
                    valid.join(", ")
                ),
            )
        })?,
        Some(_) => return Err(invalid_value("type")),
    };
    let specs = kind.fields();
    if let Some(unknown) = body
        .keys()
        .find(|k| *k != "type" && *k != "enabled" && !specs.iter().any(|f| f.name == k.as_str()))
    {
        return Err(ApiError::unknown_property(unknown));
    }
    let enabled = match body.get("enabled") {
        None | Some(Value::Null) => return Err(ApiError::bad_request("enabled must not be null")),
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid_value("enabled")),
    };
    let mut fields = Map::new();
    for spec in specs {
        let value = match body.get(spec.name) {
            None | Some(Value::Null) => {
                return Err(ApiError::bad_request(format!(
                    "{} must not be null",
                    spec.name
                )));
            }
            Some(v) => v,
        };
        check_field(spec, value, version)?;
        fields.insert(spec.name.to_owned(), value.clone());
    }
    Ok(PolicySpec {
        kind,
        enabled,
        fields,
    })
}

fn invalid_value(name: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid value for property '$.{name}'"))
}

fn check_field(spec: &FieldSpec, value: &Value, version: AppVersion) -> Result<(), ApiError> {
    let name = spec.name;
    let integer_range = |min: i64, max: i64| -> Result<(), ApiError> {
        let n = value.as_i64().ok_or_else(|| invalid_value(name))?;
        if n < min || n > max {
            return Err(ApiError::bad_request(format!(
                "{name} must be between {min} and {max}"
            )));
        }
        Ok(())
    };
    match spec.rule {
        FieldRule::Integer { min, max } => integer_range(min, max.unwrap_or(i64::from(i32::MAX))),
        FieldRule::AddressTtl => integer_range(0, version.max_address_ttl()),
        rule => {
            let s = value.as_str().ok_or_else(|| invalid_value(name))?;
            check_string(name, rule, s)
        }
    }
}

fn check_string(name: &str, rule: FieldRule, s: &str) -> Result<(), ApiError> {
    let size = |min: usize, max: usize| -> Result<(), ApiError> {
        let n = s.chars().count();
        if n < min || n > max {
            return Err(ApiError::bad_request(format!(
                "{name} size must be between {min} and {max}"
            )));
        }
        Ok(())
    };
    let invalid_ip = || ApiError::bad_request(format!("{name} must be valid IP format"));
    match rule {
        FieldRule::Domain { wildcard } => {
            size(1, 127)?;
            if !is_valid_domain(s, wildcard) {
                return Err(ApiError::bad_request(format!(
                    "{name} must be valid domain"
                )));
            }
        }
        FieldRule::TargetDomain => {
            size(1, 127)?;
            if !is_valid_domain(s, false) {
                return Err(ApiError::bad_request(format!(
                    "{name} must be valid domain"
                )));
            }
        }
        FieldRule::Ipv4 => {
            s.parse::<Ipv4Addr>().map_err(|_| invalid_ip())?;
        }
        FieldRule::Ipv6 => {
            s.parse::<Ipv6Addr>().map_err(|_| invalid_ip())?;
        }
        FieldRule::IpAny => {
            s.parse::<IpAddr>().map_err(|_| invalid_ip())?;
        }
        FieldRule::Text => {
            size(1, 1024)?;
            check_txt_quoting(s)?;
        }
        FieldRule::Label => size(1, 63)?,
        FieldRule::Integer { .. } | FieldRule::AddressTtl => {}
    }
    Ok(())
}

/// Labels of letters, digits, `-` and `_` (1–63 characters), an optional trailing dot, and, when
/// allowed, `*` as the whole leftmost label. Wildcard CNAMEs are refused by real consoles with
/// `domain must be valid domain`.
fn is_valid_domain(s: &str, wildcard: bool) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() {
        return false;
    }
    s.split('.').enumerate().all(|(i, label)| {
        if label == "*" {
            return wildcard && i == 0;
        }
        !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// TXT values: a value with commas must be wrapped in double quotes (schema text), and interior
/// double quotes are refused (`incorrectly quoted value`, reported by DNSControl).
fn check_txt_quoting(s: &str) -> Result<(), ApiError> {
    let wrapped = s.len() >= 2 && s.starts_with('"') && s.ends_with('"');
    let inner = if wrapped { &s[1..s.len() - 1] } else { s };
    if inner.contains('"') {
        return Err(ApiError::bad_request(format!(
            "text has an incorrectly quoted value: {s}"
        )));
    }
    if !wrapped && s.contains(',') {
        return Err(ApiError::bad_request(
            "text containing commas must be enclosed in double quotes (incorrectly quoted value)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{REQUEST_ERROR, UNKNOWN_PROPERTY};

    fn check(body: Value) -> Result<PolicySpec, ApiError> {
        validate_request(&body, AppVersion::CURRENT)
    }

    fn message(body: Value) -> (&'static str, String) {
        let e = check(body).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        (e.code, e.message)
    }

    #[test]
    fn accepts_each_type_with_its_required_fields() {
        let bodies = [
            json!({"type":"A_RECORD","enabled":true,"domain":"a.example.com","ipv4Address":"10.0.0.1","ttlSeconds":0}),
            json!({"type":"AAAA_RECORD","enabled":true,"domain":"a.example.com","ipv6Address":"fd00::1","ttlSeconds":86400}),
            json!({"type":"CNAME_RECORD","enabled":false,"domain":"c.example.com","targetDomain":"a.example.com","ttlSeconds":604800}),
            json!({"type":"MX_RECORD","enabled":true,"domain":"example.com","mailServerDomain":"mail.example.com","priority":10}),
            json!({"type":"TXT_RECORD","enabled":true,"domain":"example.com","text":"v=spf1 -all"}),
            json!({"type":"SRV_RECORD","enabled":true,"domain":"example.com","serverDomain":"sip.example.com","service":"_sip","protocol":"_tcp","port":5060,"priority":10,"weight":5}),
            json!({"type":"FORWARD_DOMAIN","enabled":true,"domain":"corp.example","ipAddress":"2001:db8::53"}),
        ];
        for body in bodies {
            let spec = check(body.clone()).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(spec.kind.api_name(), body["type"]);
        }
    }

    #[test]
    fn unknown_properties_are_refused_with_the_captured_message() {
        let (code, msg) = message(
            json!({"type":"A_RECORD","enabled":true,"domain":"a.b","ipv4Address":"10.0.0.1","ttlSeconds":1,"metadata":{"origin":"USER_DEFINED"}}),
        );
        assert_eq!(
            (code, msg.as_str()),
            (
                UNKNOWN_PROPERTY,
                "Unknown request body property '$.metadata'"
            )
        );
        let (code, msg) = message(
            json!({"id":"a9238946-8cbe-4be5-b65e-1b5106e049c9","type":"A_RECORD","enabled":true,"domain":"a.b","ipv4Address":"10.0.0.1","ttlSeconds":1}),
        );
        assert_eq!(
            (code, msg.as_str()),
            (UNKNOWN_PROPERTY, "Unknown request body property '$.id'")
        );
        for t in ["MX_RECORD", "TXT_RECORD", "SRV_RECORD", "FORWARD_DOMAIN"] {
            let (code, msg) = message(json!({"type":t,"enabled":true,"ttlSeconds":300}));
            assert_eq!(
                (code, msg.as_str()),
                (
                    UNKNOWN_PROPERTY,
                    "Unknown request body property '$.ttlSeconds'"
                ),
                "{t}"
            );
        }
    }

    #[test]
    fn missing_ttl_on_address_and_cname_types_is_the_captured_error() {
        for (t, f, v) in [
            ("A_RECORD", "ipv4Address", "10.0.0.1"),
            ("AAAA_RECORD", "ipv6Address", "::1"),
            ("CNAME_RECORD", "targetDomain", "x.y"),
        ] {
            let (code, msg) = message(json!({"type":t,"enabled":true,"domain":"a.b", f: v}));
            assert_eq!(
                (code, msg.as_str()),
                (REQUEST_ERROR, "ttlSeconds must not be null")
            );
            let (_, msg) =
                message(json!({"type":t,"enabled":true,"domain":"a.b", f: v, "ttlSeconds": null}));
            assert_eq!(msg, "ttlSeconds must not be null");
        }
    }

    #[test]
    fn ranges_and_formats_are_enforced() {
        let a = |ip: &str, ttl: i64| json!({"type":"A_RECORD","enabled":true,"domain":"a.b","ipv4Address":ip,"ttlSeconds":ttl});
        assert_eq!(
            message(a("10.0.0.300", 1)).1,
            "ipv4Address must be valid IP format"
        );
        assert_eq!(
            message(a("10.0.0.1", 86_401)).1,
            "ttlSeconds must be between 0 and 86400"
        );
        assert_eq!(
            message(a("10.0.0.1", -1)).1,
            "ttlSeconds must be between 0 and 86400"
        );
        assert!(validate_request(&a("10.0.0.1", 604_800), "10.1.68".parse().unwrap()).is_ok());
        let aaaa = json!({"type":"AAAA_RECORD","enabled":true,"domain":"a.b","ipv6Address":"fd00::zz","ttlSeconds":1});
        assert_eq!(message(aaaa).1, "ipv6Address must be valid IP format");
        let mx = json!({"type":"MX_RECORD","enabled":true,"domain":"a.b","mailServerDomain":"m.a.b","priority":65536});
        assert_eq!(message(mx).1, "priority must be between 0 and 65535");
        let long = "a".repeat(60) + "." + &"b".repeat(60) + ".example";
        let txt = json!({"type":"TXT_RECORD","enabled":true,"domain":long,"text":"x"});
        assert_eq!(message(txt).1, "domain size must be between 1 and 127");
        let txt =
            json!({"type":"TXT_RECORD","enabled":true,"domain":"a.b","text":"x".repeat(1025)});
        assert_eq!(message(txt).1, "text size must be between 1 and 1024");
        let srv = json!({"type":"SRV_RECORD","enabled":true,"domain":"a.b","serverDomain":"s.a.b","service":"_sip","protocol":"_tcp","port":"5060","priority":1,"weight":1});
        assert_eq!(message(srv).1, "Invalid value for property '$.port'");
        let fwd =
            json!({"type":"FORWARD_DOMAIN","enabled":true,"domain":"a.b","ipAddress":"dns.google"});
        assert_eq!(message(fwd).1, "ipAddress must be valid IP format");
    }

    #[test]
    fn wildcards_are_allowed_except_on_cname() {
        let a = json!({"type":"A_RECORD","enabled":true,"domain":"*.wild.example.com","ipv4Address":"10.0.0.1","ttlSeconds":1});
        assert!(check(a).is_ok());
        let c = json!({"type":"CNAME_RECORD","enabled":true,"domain":"*.x.example.com","targetDomain":"a.example.com","ttlSeconds":1});
        assert_eq!(message(c).1, "domain must be valid domain");
        let single = json!({"type":"CNAME_RECORD","enabled":true,"domain":"plex","targetDomain":"nas.example.com","ttlSeconds":1});
        assert!(check(single).is_ok());
        let bad = json!({"type":"A_RECORD","enabled":true,"domain":"a..b","ipv4Address":"10.0.0.1","ttlSeconds":1});
        assert_eq!(message(bad).1, "domain must be valid domain");
    }

    #[test]
    fn txt_quoting_rules() {
        let t = |text: &str| json!({"type":"TXT_RECORD","enabled":true,"domain":"a.b","text":text});
        assert!(check(t("\"a,b\"")).is_ok());
        assert!(message(t("a,b")).1.contains("double quotes"));
        assert!(
            message(t("say \"hi\""))
                .1
                .contains("incorrectly quoted value")
        );
        assert!(check(t("<script>alert(1)</script>")).is_ok());
    }

    #[test]
    fn discriminator_and_shape_errors() {
        let (code, msg) = message(json!({"type":"NS_RECORD","enabled":true}));
        assert_eq!(code, UNKNOWN_TYPE_ID);
        assert!(msg.starts_with("Invalid $.type value 'NS_RECORD' (valid values: A_RECORD"));
        assert_eq!(message(json!({"enabled":true})).1, "type must not be null");
        assert_eq!(
            message(json!({"type":"TXT_RECORD","domain":"a.b","text":"x"})).1,
            "enabled must not be null"
        );
        assert_eq!(
            message(json!([1, 2])).1,
            "Request body must be a JSON object"
        );
        let e = parse_request(b"{\"type\":", AppVersion::CURRENT).unwrap_err();
        assert!(
            e.message.starts_with("Malformed JSON request body"),
            "{}",
            e.message
        );
    }

    #[test]
    fn response_shape_follows_version() {
        let spec = check(json!({"type":"A_RECORD","enabled":true,"domain":"a.b","ipv4Address":"10.0.0.1","ttlSeconds":0})).unwrap();
        let p = Policy {
            id: Uuid::nil(),
            spec,
        };
        let current = p.to_api_json(AppVersion::CURRENT);
        let keys: Vec<&String> = current.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "type",
                "id",
                "enabled",
                "metadata",
                "domain",
                "ipv4Address",
                "ttlSeconds"
            ]
        );
        let old = p.to_api_json("10.1.68".parse().unwrap());
        assert!(old.get("metadata").is_none());
    }

    #[test]
    fn same_record_ignores_ttl_enabled_and_name_case() {
        let a = |d: &str, ip: &str, ttl: i64, en: bool| {
            check(json!({"type":"A_RECORD","enabled":en,"domain":d,"ipv4Address":ip,"ttlSeconds":ttl})).unwrap()
        };
        assert!(a("Nas.Example.com", "10.0.0.1", 1, true).same_record(&a(
            "nas.example.com",
            "10.0.0.1",
            300,
            false
        )));
        assert!(!a("nas.example.com", "10.0.0.1", 1, true).same_record(&a(
            "nas.example.com",
            "10.0.0.2",
            1,
            true
        )));
    }
}
