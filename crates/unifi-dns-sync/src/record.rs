//! Canonical DNS records (SPEC §2): what a record *is*, independent of which site holds it.
//!
//! A record is `type`, `name`, `value` plus attributes (`ttl`, `enabled`). Its identity is
//! `sha256(type | name | value)` in hex, so the same record read from two sites, or from a site
//! and from one of our copies, has the same id. Domains are lower-cased and lose a trailing dot;
//! addresses are printed canonically; TXT is byte-exact. The conversions to and from the API's
//! policy shape live in [`crate::policy_map`].

use std::fmt;

use crate::record_type::RecordType;

/// A canonical record with its attributes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    pub rtype: RecordType,
    /// Lower-case, no trailing dot; for SRV `_service._proto.domain`.
    pub name: String,
    /// Canonical value (see the SPEC §2 table).
    pub value: String,
    /// Seconds (0 = Auto); only A, AAAA and CNAME have one.
    pub ttl: Option<u32>,
    pub enabled: bool,
}

impl Record {
    /// The record's identity: hex `sha256(type|name|value)`.
    pub fn id(&self) -> String {
        record_id(self.rtype, &self.name, &self.value)
    }

    /// Same attributes (TTL and enabled) — identity is compared through [`Record::id`].
    pub fn same_attributes(&self, other: &Record) -> bool {
        self.ttl == other.ttl && self.enabled == other.enabled
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.rtype, self.name, self.value)
    }
}

/// Hex `sha256(type|name|value)`: the store defines the identity (it checks every record id it
/// stores against it), so there is one implementation.
pub fn record_id(rtype: RecordType, name: &str, value: &str) -> String {
    unifi_dns_sync_store::record_id(rtype.as_str(), name, value)
}

/// Lower-cased, without a trailing dot.
pub fn canonical_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The DNS label for a client name (SPEC §5.1): lower-cased, every run of characters outside
/// `[a-z0-9-]` replaced by `-`, trimmed of `-`, at most 63 characters; `None` when empty.
pub fn client_label(name: &str) -> Option<String> {
    let mut label = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
            label.push(c);
            in_run = false;
        } else if !in_run {
            label.push('-');
            in_run = true;
        }
    }
    let trimmed: String = label.trim_matches('-').chars().take(63).collect();
    let trimmed = trimmed.trim_end_matches('-').to_owned();
    (!trimmed.is_empty()).then_some(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_depend_on_type_name_and_value_only() {
        let a = Record {
            rtype: RecordType::A,
            name: "nas.example".into(),
            value: "10.0.0.1".into(),
            ttl: Some(0),
            enabled: true,
        };
        let b = Record {
            ttl: Some(300),
            enabled: false,
            ..a.clone()
        };
        assert_eq!(a.id(), b.id());
        assert!(!a.same_attributes(&b));
        let c = Record {
            value: "10.0.0.2".into(),
            ..a.clone()
        };
        assert_ne!(a.id(), c.id());
        let d = Record {
            rtype: RecordType::Aaaa,
            ..a.clone()
        };
        assert_ne!(a.id(), d.id());
        assert_eq!(a.id().len(), 64);
        assert_eq!(a.to_string(), "A nas.example 10.0.0.1");
    }

    #[test]
    fn client_labels() {
        assert_eq!(
            client_label("Office Printer").as_deref(),
            Some("office-printer")
        );
        assert_eq!(
            client_label("  Bob's iPhone (2) ").as_deref(),
            Some("bob-s-iphone-2")
        );
        assert_eq!(client_label("--x--").as_deref(), Some("x"));
        assert_eq!(client_label("Café").as_deref(), Some("caf"));
        assert_eq!(client_label("!!!"), None);
        assert_eq!(client_label(""), None);
        let long = "a".repeat(62) + " b";
        assert_eq!(
            client_label(&long).as_deref(),
            Some("a".repeat(62).as_str()),
            "cut to 63, then trimmed"
        );
        assert_eq!(client_label(&"x".repeat(80)).map(|l| l.len()), Some(63));
    }

    #[test]
    fn domains() {
        assert_eq!(canonical_domain("NAS.Example.COM."), "nas.example.com");
    }
}
