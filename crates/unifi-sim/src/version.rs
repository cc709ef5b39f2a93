//! Network application versions and the API features each one has.
//!
//! The simulator can claim any version; what it serves follows the OpenAPI documents of real
//! consoles: DNS policies appear in 10.1.68, `metadata.origin` and the 86 400 s TTL ceiling for
//! A/AAAA in 10.1.78 (10.1.68 allowed 604 800 s).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AppVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl AppVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        AppVersion {
            major,
            minor,
            patch,
        }
    }

    /// The version the simulator claims unless a scenario says otherwise.
    pub const CURRENT: AppVersion = AppVersion::new(10, 5, 66);
    const FIRST_WITH_DNS_POLICIES: AppVersion = AppVersion::new(10, 1, 68);
    const FIRST_WITH_POLICY_METADATA: AppVersion = AppVersion::new(10, 1, 78);

    pub fn has_dns_policies(self) -> bool {
        self >= Self::FIRST_WITH_DNS_POLICIES
    }

    pub fn has_policy_metadata(self) -> bool {
        self >= Self::FIRST_WITH_POLICY_METADATA
    }

    /// Upper bound of `ttlSeconds` on A and AAAA records.
    pub fn max_address_ttl(self) -> i64 {
        if self.has_policy_metadata() {
            86_400
        } else {
            604_800
        }
    }
}

impl Default for AppVersion {
    fn default() -> Self {
        Self::CURRENT
    }
}

impl fmt::Display for AppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for AppVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.trim().split('.').collect();
        let parse = |p: &str| {
            p.parse::<u32>()
                .map_err(|_| format!("invalid version '{s}': expected MAJOR.MINOR.PATCH"))
        };
        match parts.as_slice() {
            [a, b, c] => Ok(AppVersion::new(parse(a)?, parse(b)?, parse(c)?)),
            _ => Err(format!("invalid version '{s}': expected MAJOR.MINOR.PATCH")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_boundaries_follow_the_openapi_documents() {
        let v = |s: &str| s.parse::<AppVersion>().unwrap();
        assert!(!v("9.5.21").has_dns_policies());
        assert!(v("10.1.68").has_dns_policies());
        assert!(!v("10.1.68").has_policy_metadata());
        assert_eq!(v("10.1.68").max_address_ttl(), 604_800);
        assert!(v("10.5.66").has_policy_metadata());
        assert_eq!(v("10.5.66").max_address_ttl(), 86_400);
        assert!("10.5".parse::<AppVersion>().is_err());
        assert!("x.y.z".parse::<AppVersion>().is_err());
    }
}
