//! What a [`Client`](crate::Client) needs to know about one controller: where it is, its API key,
//! how to trust its certificate, and the limits and retry policy to respect.
//!
//! These types are plain data; the configuration layer of the service builds them from the
//! `[[controller]]` table (SPEC §3). Nothing here touches the network.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::tls::format_fingerprint;

/// Everything a client needs for one controller.
///
/// `Debug` never prints the API key.
#[derive(Clone)]
pub struct Settings {
    /// The controller's name from the configuration; every log line and error message names it.
    pub name: String,
    /// The console root, e.g. `https://192.168.1.1`; the API lives under
    /// `/proxy/network/integration/v1` below it. A path prefix is kept (so the cloud connector's
    /// `https://api.ui.com/v1/connector/consoles/{id}` works too).
    pub base_url: String,
    /// The Integration API key, sent as `X-API-KEY`. Never logged, never in an error message.
    pub api_key: String,
    /// How the console's certificate is trusted.
    pub trust: Trust,
    /// Writes (POST, PUT, DELETE) in flight at once on this controller; at least 1.
    pub max_parallel_writes: usize,
    /// Reads (GET) in flight at once on this controller; at least 1.
    pub max_parallel_reads: usize,
    /// Requests started per second on this controller (every attempt counts, retries included);
    /// at least one per hour (1/3600); `f64::INFINITY` means no spacing.
    pub requests_per_second: f64,
    /// Time allowed for one HTTP attempt: connecting, sending and reading the whole response.
    pub timeout: Duration,
    /// When failed requests are tried again.
    pub retry: RetryPolicy,
}

impl Settings {
    /// Settings with the defaults of SPEC §3: system trust, 1 parallel write, 4 parallel reads,
    /// 20 requests per second, a 10 s timeout and [`RetryPolicy::default`].
    pub fn new(
        name: impl Into<String>,
        base_url: impl Into<String>,
        api_key: impl Into<String>,
    ) -> Self {
        Settings {
            name: name.into(),
            base_url: base_url.into(),
            api_key: api_key.into(),
            trust: Trust::System,
            max_parallel_writes: 1,
            max_parallel_reads: 4,
            requests_per_second: 20.0,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }

    /// Replaces the trust mode.
    pub fn with_trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("api_key", &"[redacted]")
            .field("trust", &self.trust)
            .field("max_parallel_writes", &self.max_parallel_writes)
            .field("max_parallel_reads", &self.max_parallel_reads)
            .field("requests_per_second", &self.requests_per_second)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

/// How a console's TLS certificate is trusted (`tls = …` in the configuration).
#[derive(Clone, PartialEq, Eq)]
pub enum Trust {
    /// The operating system's root certificates; the certificate must name the host or IP.
    System,
    /// Only the PEM certificates in this file are trusted as roots; the host or IP is checked.
    CaFile(PathBuf),
    /// Exactly the certificate whose DER encoding has this SHA-256 digest; chain, expiry and
    /// name are ignored, the handshake signatures are still verified. The usual choice for a
    /// console with its self-signed certificate.
    Fingerprint([u8; 32]),
    /// Any certificate (handshake signatures are still verified). Logged as a warning.
    Insecure,
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trust::System => f.write_str("System"),
            Trust::CaFile(path) => f.debug_tuple("CaFile").field(path).finish(),
            Trust::Fingerprint(pin) => f
                .debug_tuple("Fingerprint")
                .field(&format_fingerprint(pin))
                .finish(),
            Trust::Insecure => f.write_str("Insecure"),
        }
    }
}

/// Exponential backoff for requests that may be tried again (see [`Client`](crate::Client) for
/// which ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first one; 0 disables retries.
    pub max_retries: u32,
    /// The delay before the first retry; doubled for each further one (minus up to a quarter of
    /// random jitter).
    pub base_delay: Duration,
    /// The longest delay, also the cap on a server's `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 3 retries, starting at 250 ms, at most 10 s apart.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (0 = the first retry): `base_delay · 2^retry`,
    /// capped by `max_delay`, then reduced by up to 25 % at random so that clients that failed
    /// together do not retry together. `random` is a number in `0.0..1.0`.
    pub fn backoff(&self, retry: u32, random: f64) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(30));
        let delay = self
            .base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        let jitter = if random.is_nan() {
            0.0
        } else {
            random.clamp(0.0, 1.0) * 0.25
        };
        Duration::try_from_secs_f64(delay.as_secs_f64() * (1.0 - jitter))
            .map_or(delay, |d| d.min(delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_key() {
        let s = Settings::new("hq", "https://10.0.0.1", "super-secret-key");
        let text = format!("{s:?}");
        assert!(!text.contains("super-secret-key"), "{text}");
        assert!(text.contains("[redacted]"));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        assert_eq!(p.backoff(0, 0.0), Duration::from_millis(100));
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(200));
        assert_eq!(p.backoff(2, 0.0), Duration::from_millis(400));
        assert_eq!(p.backoff(3, 0.0), Duration::from_millis(500));
        assert_eq!(p.backoff(40, 0.0), Duration::from_millis(500));
        assert_eq!(p.backoff(0, 1.0), Duration::from_millis(75));
        assert!(p.backoff(u32::MAX, 0.5) <= Duration::from_millis(500));
        let huge = RetryPolicy {
            max_retries: 1,
            base_delay: Duration::MAX,
            max_delay: Duration::MAX,
        };
        assert!(huge.backoff(3, 0.0) > Duration::from_secs(1));
        assert!(huge.backoff(0, f64::NAN) > Duration::from_secs(1));
    }
}
