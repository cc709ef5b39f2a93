//! The Integration API's error envelope.
//!
//! Every refusal the simulator produces, from a bad API key to a CNAME overlap, is an [`ApiError`]
//! rendered exactly as a Network application renders it: `statusCode, statusName, code, message,
//! timestamp, requestPath, requestId`, in that order, with `requestPath` starting at
//! `/integration` (consoles report the path without UniFi OS's `/proxy/network` prefix).
//!
//! Codes that were captured from real consoles (see `tests/fixtures/SOURCES.md`) are used verbatim.
//! Where no capture exists (401 with a wrong key, 404 bodies, 5xx), the code is our best guess and
//! is marked as such in the constants' docs; clients must branch on the HTTP status first.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Captured: an unknown property in a request body (`id`, `metadata`, `ttlSeconds` on MX…).
pub const UNKNOWN_PROPERTY: &str = "api.request.unknown-property";
/// Captured: a generic validation failure (`ttlSeconds must not be null`).
pub const REQUEST_ERROR: &str = "api.request.error";
/// Seen on another endpoint of the same framework: an unknown discriminator value.
pub const UNKNOWN_TYPE_ID: &str = "api.request.unknown-type-id";
/// Captured: an exact duplicate of an existing policy.
pub const RECORD_ALREADY_EXISTS: &str = "api.dns.policy.validation.record-already-exists";
/// Code seen in clients (no full body captured): the name is one UniFi answers from DHCP itself.
pub const OVERLAP_WITH_LOCAL_DNS: &str = "api.dns.policy.validation.overlap-with-local-dns";
/// Code seen in clients (no full body captured): a CNAME and another policy on one name.
pub const CNAME_ALIAS_OVERLAP: &str = "api.dns.policy.validation.cname-alias-overlap";
/// Documented example code for a request without credentials.
pub const MISSING_CREDENTIALS: &str = "api.authentication.missing-credentials";
/// Not captured: a request with an API key the console does not know.
pub const INVALID_CREDENTIALS: &str = "api.authentication.invalid-credentials";
/// Documented in the vendor's error-handling guide.
pub const RATE_LIMIT_EXCEEDED: &str = "api.rate-limit.exceeded";
/// Not captured: an unknown site, policy or client id, or an unknown path.
pub const NOT_FOUND: &str = "api.entity.not-found";
/// Not captured: a method the endpoint does not serve (e.g. `PATCH` on a DNS policy).
pub const METHOD_NOT_ALLOWED: &str = "api.request.method-not-allowed";
/// Not captured: an invalid `filter` expression.
pub const INVALID_FILTER: &str = "api.request.invalid-filter";
/// Not captured: an internal error (used by injected 5xx faults).
pub const INTERNAL_ERROR: &str = "api.internal-error";

/// One refusal, rendered as the console's JSON error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for a `Retry-After` header (429 only).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A 400 with the generic validation code.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, REQUEST_ERROR, message)
    }

    pub fn unknown_property(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            UNKNOWN_PROPERTY,
            format!("Unknown request body property '$.{name}'"),
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, NOT_FOUND, message)
    }

    /// Renders the envelope for a request to `request_path` (the path as the client sent it).
    pub fn into_response_for(self, request_path: &str) -> Response {
        let body = json!({
            "statusCode": self.status.as_u16(),
            "statusName": status_name(self.status),
            "code": self.code,
            "message": self.message,
            "timestamp": crate::clock::now_rfc3339(),
            "requestPath": console_request_path(request_path),
            "requestId": uuid::Uuid::new_v4().to_string(),
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

/// The Spring-style status name consoles put in `statusName`.
pub fn status_name(status: StatusCode) -> String {
    status
        .canonical_reason()
        .unwrap_or("UNKNOWN")
        .to_ascii_uppercase()
        .replace([' ', '-'], "_")
}

/// Consoles report the path as the Network application saw it: without `/proxy/network`.
pub fn console_request_path(path: &str) -> &str {
    path.strip_prefix("/proxy/network").unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_match_the_captured_spelling() {
        assert_eq!(status_name(StatusCode::BAD_REQUEST), "BAD_REQUEST");
        assert_eq!(status_name(StatusCode::UNAUTHORIZED), "UNAUTHORIZED");
        assert_eq!(status_name(StatusCode::NOT_FOUND), "NOT_FOUND");
        assert_eq!(
            status_name(StatusCode::TOO_MANY_REQUESTS),
            "TOO_MANY_REQUESTS"
        );
        assert_eq!(
            status_name(StatusCode::INTERNAL_SERVER_ERROR),
            "INTERNAL_SERVER_ERROR"
        );
    }

    #[test]
    fn request_path_drops_the_unifi_os_prefix() {
        assert_eq!(
            console_request_path("/proxy/network/integration/v1/sites"),
            "/integration/v1/sites"
        );
        assert_eq!(
            console_request_path("/integration/v1/info"),
            "/integration/v1/info"
        );
    }
}
