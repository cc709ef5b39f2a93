//! Injected faults: what can go wrong between a sync tool and a console.
//!
//! A console's [`FaultConfig`] says whether it is down (connections refused, or accepted and left
//! hanging), how much latency every request gets, and a list of [`FaultRule`]s that answer chosen
//! requests with a 5xx, a 429 with `Retry-After`, a timeout, or a truncated or malformed body.
//! Rules match on method and path, fire with a probability (`rate`), can let the first `skip`
//! matches through (to fail "page 2 of a read") and stop after `times` firings. With `apply`,
//! the request takes effect before the fault answers — a write whose response is lost, which is
//! how a sync tool's crash between the API call and its own bookkeeping is reproduced.

use serde::{Deserialize, Serialize};

/// How a console that is down treats connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DownMode {
    /// The port is closed: connections are refused.
    Refuse,
    /// Connections are accepted and nothing is answered until the console comes back.
    Hang,
}

/// What a matching rule does to the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with `status` (500, 502, 503…; default 500) and the error envelope.
    Status,
    /// Answer 429 `api.rate-limit.exceeded` with `Retry-After: retry_after` seconds (default 1).
    RateLimit,
    /// Hold the request for `hold_ms` (default 60 s), then answer 504: the client times out first.
    Timeout,
    /// Send the first half of the real body (valid HTTP framing, incomplete JSON).
    Truncate,
    /// Replace the body with something that is not JSON.
    Malformed,
}

fn default_rate() -> f64 {
    1.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    pub kind: FaultKind,
    /// The status of a `status` fault (5xx).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Seconds in the `Retry-After` header of a `rate_limit` fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// How long a `timeout` fault holds the request, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_ms: Option<u64>,
    /// Probability in 0..=1 that a matching request is hit.
    #[serde(default = "default_rate")]
    pub rate: f64,
    /// Methods to match (`GET`, `POST`…); empty = all.
    #[serde(default)]
    pub methods: Vec<String>,
    /// A path pattern relative to `/proxy/network/integration` (`/v1/sites/*/dns/policies`, `*`
    /// = one or more characters) or a path template (`/v1/sites/{siteId}/dns/policies`); none = all.
    #[serde(default)]
    pub path: Option<String>,
    /// Let this many matching requests through before firing.
    #[serde(default)]
    pub skip: u64,
    /// Fire at most this many times.
    #[serde(default)]
    pub times: Option<u64>,
    /// Let the request take effect, then answer with the fault (truncate and malformed always do).
    #[serde(default)]
    pub apply: bool,
    /// How many requests matched so far (managed by the simulator).
    #[serde(default)]
    pub matched: u64,
    /// How many times it fired so far (managed by the simulator).
    #[serde(default)]
    pub fired: u64,
}

impl FaultRule {
    pub fn new(kind: FaultKind) -> Self {
        FaultRule {
            kind,
            status: None,
            retry_after: None,
            hold_ms: None,
            rate: 1.0,
            methods: vec![],
            path: None,
            skip: 0,
            times: None,
            apply: false,
            matched: 0,
            fired: 0,
        }
    }

    /// A `status` fault answering `status`.
    pub fn status(status: u16) -> Self {
        FaultRule {
            status: Some(status),
            ..FaultRule::new(FaultKind::Status)
        }
    }

    /// A `rate_limit` fault with this `Retry-After`.
    pub fn rate_limit(retry_after: u64) -> Self {
        FaultRule {
            retry_after: Some(retry_after),
            ..FaultRule::new(FaultKind::RateLimit)
        }
    }

    /// A `timeout` fault holding requests for `hold_ms`.
    pub fn timeout(hold_ms: u64) -> Self {
        FaultRule {
            hold_ms: Some(hold_ms),
            ..FaultRule::new(FaultKind::Timeout)
        }
    }

    pub fn on(mut self, method: &str, path: &str) -> Self {
        self.methods = vec![method.to_ascii_uppercase()];
        self.path = Some(path.to_owned());
        self
    }

    pub fn skip(mut self, n: u64) -> Self {
        self.skip = n;
        self
    }

    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    pub fn rate(mut self, rate: f64) -> Self {
        self.rate = rate;
        self
    }

    pub fn applied(mut self) -> Self {
        self.apply = true;
        self
    }

    /// Whether the rule's effect lets the request run first.
    pub fn applies_request(&self) -> bool {
        self.apply || matches!(self.kind, FaultKind::Truncate | FaultKind::Malformed)
    }

    fn matches(&self, method: &str, path: &str, template: &str) -> bool {
        let method_ok =
            self.methods.is_empty() || self.methods.iter().any(|m| m.eq_ignore_ascii_case(method));
        let path_ok = match &self.path {
            None => true,
            Some(p) => p == template || glob(p, path),
        };
        method_ok && path_ok
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.rate) {
            return Err(format!("rate must be between 0 and 1, got {}", self.rate));
        }
        if let Some(status) = self.status
            && !(500..=599).contains(&status)
        {
            return Err(format!("status must be a 5xx code, got {status}"));
        }
        Ok(())
    }
}

/// Everything injected into one console.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    #[serde(default)]
    pub down: Option<DownMode>,
    /// Added to every API request (not to control endpoints).
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

impl FaultConfig {
    pub fn validate(&self) -> Result<(), String> {
        self.rules
            .iter()
            .enumerate()
            .try_for_each(|(i, r)| r.validate().map_err(|e| format!("rules[{i}]: {e}")))
    }

    /// Picks the rule that fires for this request, updating the rules' counters.
    pub fn pick(
        &mut self,
        method: &str,
        path: &str,
        template: &str,
        rng: &mut fastrand::Rng,
    ) -> Option<FaultRule> {
        for rule in &mut self.rules {
            if !rule.matches(method, path, template) {
                continue;
            }
            rule.matched += 1;
            if rule.matched <= rule.skip || rule.times.is_some_and(|t| rule.fired >= t) {
                continue;
            }
            if rule.rate < 1.0 && rng.f64() >= rule.rate {
                continue;
            }
            rule.fired += 1;
            return Some(rule.clone());
        }
        None
    }
}

/// `*` matches one or more characters; everything else is literal.
fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (1..=t.len()).any(|i| go(rest, &t[i..])),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "/v1/sites/{siteId}/dns/policies";

    #[test]
    fn skip_times_and_matching() {
        let mut cfg = FaultConfig {
            rules: vec![
                FaultRule::status(500)
                    .on("GET", "/v1/sites/*/dns/policies")
                    .skip(1)
                    .times(1),
            ],
            ..Default::default()
        };
        let mut rng = fastrand::Rng::with_seed(1);
        let p = "/v1/sites/abc/dns/policies";
        assert!(
            cfg.pick("GET", p, LIST, &mut rng).is_none(),
            "first match skipped"
        );
        assert!(
            cfg.pick("POST", p, LIST, &mut rng).is_none(),
            "other method"
        );
        assert!(
            cfg.pick("GET", "/v1/sites", "/v1/sites", &mut rng)
                .is_none(),
            "other path"
        );
        assert!(
            cfg.pick("GET", p, LIST, &mut rng).is_some(),
            "second match fires"
        );
        assert!(
            cfg.pick("GET", p, LIST, &mut rng).is_none(),
            "times exhausted"
        );
    }

    #[test]
    fn templates_match_too_and_rate_zero_never_fires() {
        let mut cfg = FaultConfig {
            rules: vec![FaultRule::new(FaultKind::Truncate).on("GET", LIST)],
            ..Default::default()
        };
        let mut rng = fastrand::Rng::with_seed(1);
        assert!(
            cfg.pick("GET", "/v1/sites/x/dns/policies", LIST, &mut rng)
                .is_some()
        );
        let mut never = FaultConfig {
            rules: vec![FaultRule::new(FaultKind::Malformed).rate(0.0)],
            ..Default::default()
        };
        assert!((0..100).all(|_| {
            never
                .pick("GET", "/v1/info", "/v1/info", &mut rng)
                .is_none()
        }));
    }

    #[test]
    fn serde_shape_and_validation() {
        let cfg: FaultConfig = serde_json::from_str(
            r#"{"down":"hang","latency_ms":5,"rules":[{"kind":"rate_limit","retry_after":3,"methods":["GET"],"path":"/v1/sites"},{"kind":"status","status":503,"rate":0.5}]}"#,
        )
        .unwrap();
        assert_eq!(cfg.down, Some(DownMode::Hang));
        assert_eq!(
            (cfg.rules[0].kind, cfg.rules[0].retry_after),
            (FaultKind::RateLimit, Some(3))
        );
        assert!(cfg.validate().is_ok());
        let bad: FaultConfig =
            serde_json::from_str(r#"{"rules":[{"kind":"status","status":404}]}"#).unwrap();
        assert!(
            serde_json::from_str::<FaultConfig>(r#"{"rules":[{"kind":"status","sttus":500}]}"#)
                .is_err()
        );
        assert!(bad.validate().unwrap_err().contains("5xx"));
        assert!(serde_json::from_str::<FaultConfig>(r#"{"downn":"hang"}"#).is_err());
    }
}
