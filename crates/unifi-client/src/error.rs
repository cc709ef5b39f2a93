//! [`ClientError`]: everything that can go wrong talking to a console, typed so that the sync
//! engine can tell a refusal (a conflict to record as SKIPPED) from a failure, and a write that
//! certainly did not happen from one whose effect is unknown.
//!
//! Every message names the controller and the request (method and path) and never contains the
//! API key: texts that come from the server or the TLS stack are scrubbed of it.

use std::error::Error as StdError;
use std::time::Duration;

/// The three refusals of a DNS policy write that mean "this name is already answered here"
/// (SPEC §5.3): recorded as conflicts, never as failures.
pub const REFUSAL_CODES: [&str; 3] = [
    "api.dns.policy.validation.overlap-with-local-dns",
    "api.dns.policy.validation.cname-alias-overlap",
    "api.dns.policy.validation.record-already-exists",
];

/// An error of the UniFi client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No connection: refused, name resolution failed, or the TLS handshake failed (`tls`; the
    /// cause then says why, e.g. "certificate fingerprint mismatch: expected …, got …"). The
    /// request was not sent.
    #[error("controller '{controller}': {method} {path}: cannot connect: {cause}")]
    Connect {
        /// The controller's name.
        controller: String,
        /// The HTTP method.
        method: &'static str,
        /// The request path (and query) below the console root.
        path: String,
        /// Why, as reported by the network or TLS stack.
        cause: String,
        /// True when the TCP connection worked but the TLS handshake (trust) failed.
        tls: bool,
    },
    /// The connection broke after the request may have been sent (reset, closed early,
    /// incomplete response).
    #[error(
        "controller '{controller}': {method} {path}: connection lost, the request may have reached the console: {cause}"
    )]
    Transport {
        /// The controller's name.
        controller: String,
        /// The HTTP method.
        method: &'static str,
        /// The request path (and query) below the console root.
        path: String,
        /// Why, as reported by the network stack.
        cause: String,
    },
    /// No complete answer within the configured timeout.
    #[error("controller '{controller}': {method} {path}: no answer within {timeout:?} (timeout)")]
    Timeout {
        /// The controller's name.
        controller: String,
        /// The HTTP method.
        method: &'static str,
        /// The request path (and query) below the console root.
        path: String,
        /// The configured per-request timeout.
        timeout: Duration,
    },
    /// The console answered with an error status.
    #[error("controller '{controller}': {method} {path}: HTTP {status}{}: {message}", code_suffix(.code))]
    Api {
        /// The controller's name.
        controller: String,
        /// The HTTP method.
        method: &'static str,
        /// The request path (and query) below the console root.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The envelope's `code` (e.g. `api.dns.policy.validation.record-already-exists`).
        code: Option<String>,
        /// The envelope's `message` (or the start of a non-JSON body), followed by
        /// `(requestId …)` when the console sent one, to quote when reporting a 5xx.
        message: String,
    },
    /// The answer could not be understood: not JSON, or a required field missing or of the
    /// wrong type (the message says which field of which object).
    #[error("controller '{controller}': {method} {path}: invalid response: {message}")]
    Decode {
        /// The controller's name.
        controller: String,
        /// The HTTP method.
        method: &'static str,
        /// The request path (and query) below the console root.
        path: String,
        /// The JSON path of the offending field (`data[3].ipv4Address`), when known.
        field: Option<String>,
        /// What was wrong and where (object kind, site).
        message: String,
    },
    /// A paged list kept changing while it was read (or its pages did not add up to
    /// `totalCount`), even after reading it again from the start; no partial list is returned.
    #[error("controller '{controller}': GET {path}: list changed while reading: {detail}")]
    ListChanged {
        /// The controller's name.
        controller: String,
        /// The list's path.
        path: String,
        /// What did not add up.
        detail: String,
    },
    /// An argument cannot be sent (e.g. a site or policy id that is not a UUID-like token);
    /// nothing was sent.
    #[error("controller '{controller}': {message}")]
    InvalidInput {
        /// The controller's name.
        controller: String,
        /// What is wrong.
        message: String,
    },
    /// The settings are unusable (bad URL, missing or invalid CA file, zero limits…).
    #[error("controller '{controller}': {message}")]
    Config {
        /// The controller's name (or the URL for [`fetch_certificate_fingerprint`](crate::fetch_certificate_fingerprint)).
        controller: String,
        /// What is wrong and what to do.
        message: String,
    },
}

fn code_suffix(code: &Option<String>) -> String {
    match code {
        Some(c) => format!(" ({c})"),
        None => String::new(),
    }
}

impl ClientError {
    pub(crate) fn config(controller: &str, message: impl Into<String>) -> Self {
        ClientError::Config {
            controller: controller.to_owned(),
            message: message.into(),
        }
    }

    /// The controller the error is about.
    pub fn controller(&self) -> &str {
        match self {
            ClientError::Connect { controller, .. }
            | ClientError::Transport { controller, .. }
            | ClientError::Timeout { controller, .. }
            | ClientError::Api { controller, .. }
            | ClientError::Decode { controller, .. }
            | ClientError::ListChanged { controller, .. }
            | ClientError::InvalidInput { controller, .. }
            | ClientError::Config { controller, .. } => controller,
        }
    }

    /// The HTTP method of the failed request, if the error is about a request.
    pub fn method(&self) -> Option<&'static str> {
        match self {
            ClientError::Connect { method, .. }
            | ClientError::Transport { method, .. }
            | ClientError::Timeout { method, .. }
            | ClientError::Api { method, .. }
            | ClientError::Decode { method, .. } => Some(method),
            ClientError::ListChanged { .. } => Some("GET"),
            ClientError::InvalidInput { .. } | ClientError::Config { .. } => None,
        }
    }

    /// The HTTP status, for [`ClientError::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The envelope's error code, for [`ClientError::Api`].
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// True for the DNS-policy refusals of [`REFUSAL_CODES`] (the name is already answered on
    /// the site): a conflict, not a failure.
    pub fn is_refusal(&self) -> bool {
        matches!(self, ClientError::Api { status: 400, code: Some(code), .. }
            if REFUSAL_CODES.contains(&code.as_str()))
    }

    /// True when the console refused the API key (HTTP 401).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// True for HTTP 404 (an unknown id, or an endpoint this console's version lacks).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when the TLS handshake failed (certificate not trusted, fingerprint mismatch…).
    pub fn is_tls(&self) -> bool {
        matches!(self, ClientError::Connect { tls: true, .. })
    }

    /// True for a write (POST, PUT, DELETE) whose outcome is unknown: it timed out, the
    /// connection broke after sending, the console answered 5xx, or its answer was unreadable.
    /// The next read settles what happened; such a write must not be blindly repeated.
    pub fn effect_unknown(&self) -> bool {
        let write = matches!(self.method(), Some("POST" | "PUT" | "DELETE"));
        write
            && match self {
                ClientError::Timeout { .. }
                | ClientError::Transport { .. }
                | ClientError::Decode { .. } => true,
                ClientError::Api { status, .. } => *status >= 500,
                _ => false,
            }
    }
}

/// The useful parts of an error answer's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// The envelope's `code` (a string; UniFi OS's numeric code is not kept).
    pub code: Option<String>,
    /// The envelope's `message`, else the start of the body as one line of text, else the
    /// status's reason phrase.
    pub message: String,
    /// The envelope's `requestId`.
    pub request_id: Option<String>,
}

impl ErrorBody {
    /// Reads the Network application's envelope (`statusCode, statusName, code, message,
    /// timestamp, requestPath, requestId`), else UniFi OS's `{"error":{"code":401,"message":…}}`,
    /// else plain text.
    pub fn parse(status: u16, body: &[u8]) -> ErrorBody {
        let text = |v: Option<&serde_json::Value>| {
            v.and_then(serde_json::Value::as_str).map(str::to_owned)
        };
        let (code, message, request_id) = match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(map))
                if map.contains_key("message") || map.contains_key("code") =>
            {
                (
                    text(map.get("code")),
                    text(map.get("message")),
                    text(map.get("requestId")),
                )
            }
            Ok(serde_json::Value::Object(map)) => match map.get("error") {
                Some(serde_json::Value::Object(inner)) => {
                    (text(inner.get("code")), text(inner.get("message")), None)
                }
                Some(serde_json::Value::String(s)) => (None, Some(s.clone()), None),
                _ => (None, None, None),
            },
            _ => (None, None, None),
        };
        let message = message
            .or_else(|| {
                let s = snippet(body);
                (!s.is_empty()).then_some(s)
            })
            .unwrap_or_else(|| {
                reqwest::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("no message")
                    .to_owned()
            });
        ErrorBody {
            code,
            message,
            request_id,
        }
    }
}

/// The start of a body as one line of text, for messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 200 {
        format!("{}…", line.chars().take(200).collect::<String>())
    } else {
        line
    }
}

/// Replaces every occurrence of the key in a text from outside (server message, TLS error).
pub(crate) fn scrub(text: &str, key: Option<&str>) -> String {
    match key {
        Some(k) if !k.is_empty() && text.contains(k) => text.replace(k, "[redacted]"),
        _ => text.to_owned(),
    }
}

/// Turns a reqwest failure into a typed error: timeout, connect (incl. TLS), or transport.
pub(crate) fn transport_error(
    controller: &str,
    method: &'static str,
    path: &str,
    key: Option<&str>,
    err: &reqwest::Error,
    timeout: Duration,
    while_reading_body: bool,
) -> ClientError {
    if err.is_timeout() {
        return ClientError::Timeout {
            controller: controller.to_owned(),
            method,
            path: path.to_owned(),
            timeout,
        };
    }
    let (cause, tls) = describe(err);
    let cause = scrub(&cause, key);
    if err.is_connect() && !while_reading_body {
        ClientError::Connect {
            controller: controller.to_owned(),
            method,
            path: path.to_owned(),
            cause,
            tls,
        }
    } else {
        ClientError::Transport {
            controller: controller.to_owned(),
            method,
            path: path.to_owned(),
            cause,
        }
    }
}

/// The readable cause of a reqwest error (without its URL, which the message already names) and
/// whether the TLS layer produced it.
fn describe(err: &reqwest::Error) -> (String, bool) {
    let mut parts: Vec<String> = Vec::new();
    let mut tls = None;
    let mut current: Option<&(dyn StdError + 'static)> = err.source();
    while let Some(e) = current {
        if let Some(text) = rustls_text(e) {
            tls = Some(text);
            break;
        }
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    match tls {
        Some(text) => (format!("TLS handshake failed: {text}"), true),
        None if parts.is_empty() => (err.to_string(), false),
        None => {
            // The deepest causes are the informative ones ("Connection refused (os error 111)").
            let tail: Vec<String> = parts.into_iter().rev().take(2).collect();
            (tail.into_iter().rev().collect::<Vec<_>>().join(": "), false)
        }
    }
}

/// The text of a rustls error found in an error, looking through nested `io::Error`s (the TLS
/// connector wraps the handshake's `io::Error` in another one, and `io::Error::source` skips
/// the wrapped error).
fn rustls_text(e: &(dyn StdError + 'static)) -> Option<String> {
    let mut current: &(dyn StdError + 'static) = e;
    let mut found = None;
    for _ in 0..8 {
        if let Some(r) = current.downcast_ref::<rustls::Error>() {
            found = Some(r);
            break;
        }
        match current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => current = inner,
            None => break,
        }
    }
    const PIN_HINT: &str = "trust this console with tls = { fingerprint = \"…\" } (`unifi-dns-sync fingerprint <url>` prints it) or tls = { ca_file = \"…\" }";
    Some(match found? {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => format!(
            "{other} (if the console's certificate was replaced on purpose, update the pin)"
        ),
        rustls::Error::InvalidCertificate(cert) => {
            format!("invalid peer certificate: {cert}; {PIN_HINT}")
        }
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: Option<&str>, method: &'static str) -> ClientError {
        ClientError::Api {
            controller: "hq".into(),
            method,
            path: "/proxy/network/integration/v1/sites/x/dns/policies".into(),
            status,
            code: code.map(Into::into),
            message: "m".into(),
        }
    }

    #[test]
    fn errors_stay_small_enough_to_return_by_value() {
        // clippy's result_large_err threshold: callers can use Result<_, ClientError> freely.
        assert!(std::mem::size_of::<ClientError>() <= 128);
    }

    #[test]
    fn classification() {
        for code in REFUSAL_CODES {
            assert!(api(400, Some(code), "POST").is_refusal());
        }
        assert!(!api(400, Some("api.request.error"), "POST").is_refusal());
        assert!(!api(500, None, "POST").is_refusal());
        assert!(api(401, None, "GET").is_unauthorized());
        assert!(api(404, None, "GET").is_not_found());
        assert!(api(503, None, "POST").effect_unknown());
        assert!(!api(503, None, "GET").effect_unknown());
        assert!(!api(429, None, "POST").effect_unknown());
        let timeout = ClientError::Timeout {
            controller: "hq".into(),
            method: "PUT",
            path: "/p".into(),
            timeout: Duration::from_secs(1),
        };
        assert!(timeout.effect_unknown());
        let refused = ClientError::Connect {
            controller: "hq".into(),
            method: "POST",
            path: "/p".into(),
            cause: "refused".into(),
            tls: false,
        };
        assert!(!refused.effect_unknown() && !refused.is_tls());
    }

    #[test]
    fn messages_name_controller_request_and_code() {
        let text = api(400, Some(REFUSAL_CODES[2]), "POST").to_string();
        assert_eq!(
            text,
            "controller 'hq': POST /proxy/network/integration/v1/sites/x/dns/policies: HTTP 400 (api.dns.policy.validation.record-already-exists): m"
        );
    }

    #[test]
    fn error_bodies() {
        let b = ErrorBody::parse(
            400,
            br#"{"statusCode":400,"statusName":"BAD_REQUEST","code":"api.request.error","message":"ttlSeconds must not be null","requestId":"r1"}"#,
        );
        assert_eq!(b.code.as_deref(), Some("api.request.error"));
        assert_eq!(b.message, "ttlSeconds must not be null");
        assert_eq!(b.request_id.as_deref(), Some("r1"));
        let os = ErrorBody::parse(401, br#"{"error":{"code":401,"message":"Unauthorized"}}"#);
        assert_eq!((os.code, os.message.as_str()), (None, "Unauthorized"));
        let text = ErrorBody::parse(502, b"<html>\n Bad   Gateway</html>");
        assert_eq!(text.message, "<html> Bad Gateway</html>");
        assert_eq!(ErrorBody::parse(503, b"").message, "Service Unavailable");
        assert_eq!(ErrorBody::parse(599, b"").message, "no message");
        assert_eq!(snippet(&[b'x'; 500]).chars().count(), 201);
    }

    #[test]
    fn scrub_removes_the_key() {
        assert_eq!(
            scrub("bad key abc123!", Some("abc123")),
            "bad key [redacted]!"
        );
        assert_eq!(scrub("nothing", Some("")), "nothing");
        assert_eq!(scrub("nothing", None), "nothing");
    }
}
