//! DNS record types the service knows about.
//!
//! Two spellings exist: ours (`A`, `AAAA`, `CNAME`, `MX`, `TXT`, `SRV`, `FORWARD_DOMAIN`), used in
//! the config file, the database, the CLI and the UI; and the Integration API's (`A_RECORD`,
//! `AAAA_RECORD`, …, `FORWARD_DOMAIN`), used on the wire. [`RecordType::from_str`] accepts both,
//! in any case; [`RecordType::as_str`] gives ours and [`RecordType::api_name`] the API's.

use std::fmt;
use std::str::FromStr;

/// A DNS record type (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordType {
    A,
    Aaaa,
    Cname,
    Mx,
    Txt,
    Srv,
    ForwardDomain,
}

impl RecordType {
    /// Every record type, in the order the SPEC lists them.
    pub const ALL: [RecordType; 7] = [
        RecordType::A,
        RecordType::Aaaa,
        RecordType::Cname,
        RecordType::Mx,
        RecordType::Txt,
        RecordType::Srv,
        RecordType::ForwardDomain,
    ];

    /// Our spelling: `A`, `AAAA`, `CNAME`, `MX`, `TXT`, `SRV`, `FORWARD_DOMAIN`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Srv => "SRV",
            RecordType::ForwardDomain => "FORWARD_DOMAIN",
        }
    }

    /// The Integration API's `type` discriminator: `A_RECORD`, …, `FORWARD_DOMAIN`.
    pub const fn api_name(self) -> &'static str {
        match self {
            RecordType::A => "A_RECORD",
            RecordType::Aaaa => "AAAA_RECORD",
            RecordType::Cname => "CNAME_RECORD",
            RecordType::Mx => "MX_RECORD",
            RecordType::Txt => "TXT_RECORD",
            RecordType::Srv => "SRV_RECORD",
            RecordType::ForwardDomain => "FORWARD_DOMAIN",
        }
    }

    /// Whether policies of this type carry `ttlSeconds` (A, AAAA and CNAME only; the API
    /// refuses it on the others).
    pub const fn has_ttl(self) -> bool {
        matches!(self, RecordType::A | RecordType::Aaaa | RecordType::Cname)
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not a record type in either spelling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a record type; use one of A, AAAA, CNAME, MX, TXT, SRV, FORWARD_DOMAIN \
     (the API's A_RECORD spellings are accepted too)"
)]
pub struct UnknownRecordType(pub String);

impl FromStr for RecordType {
    type Err = UnknownRecordType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        RecordType::ALL
            .into_iter()
            .find(|t| {
                trimmed.eq_ignore_ascii_case(t.as_str())
                    || trimmed.eq_ignore_ascii_case(t.api_name())
            })
            .ok_or_else(|| UnknownRecordType(s.to_string()))
    }
}

impl serde::Serialize for RecordType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for RecordType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_any_case() {
        for t in RecordType::ALL {
            assert_eq!(t.as_str().parse::<RecordType>(), Ok(t));
            assert_eq!(t.api_name().parse::<RecordType>(), Ok(t));
            assert_eq!(t.as_str().to_lowercase().parse::<RecordType>(), Ok(t));
            assert_eq!(t.api_name().to_lowercase().parse::<RecordType>(), Ok(t));
            assert_eq!(t.to_string(), t.as_str());
        }
        assert_eq!("cname_record".parse::<RecordType>(), Ok(RecordType::Cname));
        assert_eq!(" aaaa ".parse::<RecordType>(), Ok(RecordType::Aaaa));
    }

    #[test]
    fn unknown_names_are_refused() {
        for bad in [
            "",
            "PTR",
            "A_RECORDS",
            "FORWARD",
            "FORWARD_DOMAIN_RECORD",
            "NS_RECORD",
        ] {
            let err = bad.parse::<RecordType>().unwrap_err();
            assert!(err.to_string().contains("not a record type"), "{err}");
        }
    }

    #[test]
    fn serde_uses_our_spelling() {
        let json = serde_json::to_string(&RecordType::ALL).unwrap();
        assert_eq!(
            json,
            r#"["A","AAAA","CNAME","MX","TXT","SRV","FORWARD_DOMAIN"]"#
        );
        let back: Vec<RecordType> =
            serde_json::from_str(r#"["a_record","AAAA","CNAME_RECORD","forward_domain"]"#).unwrap();
        assert_eq!(
            back,
            vec![
                RecordType::A,
                RecordType::Aaaa,
                RecordType::Cname,
                RecordType::ForwardDomain
            ]
        );
        assert!(serde_json::from_str::<RecordType>(r#""PTR""#).is_err());
    }

    #[test]
    fn ttl_only_on_address_and_alias_types() {
        let with_ttl: Vec<_> = RecordType::ALL
            .into_iter()
            .filter(|t| t.has_ttl())
            .collect();
        assert_eq!(
            with_ttl,
            vec![RecordType::A, RecordType::Aaaa, RecordType::Cname]
        );
    }
}
