//! Secrets (API keys, the web token): redacted everywhere except through [`Secret::expose`].

use std::fmt;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The text every `Debug`/`Display` of a secret prints instead of the value.
pub const REDACTED: &str = "[redacted]";

/// A secret value with where it came from. `Debug` and `Display` print `[redacted]`; the value
/// is zeroized on drop (secrecy). Compare a presented value with [`Secret::verify`] (constant
/// time), never by exposing both.
#[derive(Clone)]
pub struct Secret {
    value: SecretString,
    source: SecretSource,
}

/// An API key of one controller.
pub type ApiKey = Secret;
/// The bearer token that enables the web API's POST endpoints.
pub type WebToken = Secret;

/// Where a secret was read from (never the value itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable, by name (`api_key_env`, `token_env`).
    Env(String),
    /// A file, by path (`api_key_file`, `token_file`).
    File(PathBuf),
    /// Written into the config file itself (`api_key`, `token`); discouraged.
    Inline,
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "environment variable {name}"),
            SecretSource::File(path) => write!(f, "file {}", path.display()),
            SecretSource::Inline => f.write_str("the config file (inline)"),
        }
    }
}

impl Secret {
    /// Wraps a value. Callers should have trimmed it already.
    pub fn new(value: impl Into<String>, source: SecretSource) -> Self {
        Secret {
            value: SecretString::from(value.into()),
            source,
        }
    }

    /// The value, for the one place that needs it (the `X-API-KEY` header, the token check).
    pub fn expose(&self) -> &str {
        self.value.expose_secret()
    }

    /// Where the value came from.
    pub fn source(&self) -> &SecretSource {
        &self.source
    }

    /// `sha256(value)` in hex, first 12 digits: lets an operator tell which key is in use
    /// without revealing it. This is what the database stores (SPEC §3).
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.expose().as_bytes());
        let mut hex = hex::encode(digest);
        hex.truncate(12);
        hex
    }

    /// Whether `presented` equals the secret, in time independent of where they differ.
    pub fn verify(&self, presented: &str) -> bool {
        let a = Sha256::digest(self.expose().as_bytes());
        let b = Sha256::digest(presented.as_bytes());
        a.iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_and_fingerprinted() {
        let s = Secret::new("sk-very-secret", SecretSource::Env("K".into()));
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(format!("{s:#?}"), REDACTED);
        assert_eq!(s.expose(), "sk-very-secret");
        let fp = s.fingerprint();
        assert_eq!(fp.len(), 12);
        assert!(fp.bytes().all(|b| b.is_ascii_hexdigit()));
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(
            Secret::new("abc", SecretSource::Inline).fingerprint(),
            "ba7816bf8f01"
        );
    }

    #[test]
    fn verify_compares_values() {
        let s = Secret::new("token-1", SecretSource::Inline);
        assert!(s.verify("token-1"));
        assert!(!s.verify("token-2"));
        assert!(!s.verify(""));
    }
}
