//! The Integration API as a console serves it under `/proxy/network/integration/v1`.
//!
//! Layers, outermost first: [`observe`] counts every request by method, path template and final
//! status and tracks concurrent writes; [`inject_faults`] adds latency, hangs, and answers from
//! matching fault rules; [`authenticate`] checks `X-API-KEY`; then the handlers. Handlers parse
//! ids and query parameters themselves so every refusal is the console's JSON envelope, never a
//! framework's plain-text rejection.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, RawQuery, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::console::Console;
use crate::error::{
    ApiError, INTERNAL_ERROR, INVALID_CREDENTIALS, INVALID_FILTER, METHOD_NOT_ALLOWED,
    MISSING_CREDENTIALS, RATE_LIMIT_EXCEEDED,
};
use crate::faults::FaultKind;
use crate::filter::{CLIENT_PROPERTIES, DNS_POLICY_PROPERTIES, Filter, Property, SITE_PROPERTIES};
use crate::policy::parse_request;

/// Where UniFi OS proxies the Network application's Integration API.
pub const API_PREFIX: &str = "/proxy/network/integration";

const MAX_LIMIT: i64 = 200;
const DEFAULT_LIMIT: i64 = 25;

pub fn router(console: Arc<Console>) -> Router {
    let v1 = Router::new()
        .route("/v1/info", get(info))
        .route("/v1/sites", get(list_sites))
        .route(
            "/v1/sites/{site_id}/dns/policies",
            get(list_policies).post(create_policy),
        )
        .route(
            "/v1/sites/{site_id}/dns/policies/{policy_id}",
            get(get_policy).put(update_policy).delete(delete_policy),
        )
        .route("/v1/sites/{site_id}/clients", get(list_clients))
        .route("/v1/sites/{site_id}/clients/{client_id}", get(get_client))
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest(API_PREFIX, v1)
        .fallback(unknown_path)
        .layer(middleware::from_fn_with_state(
            console.clone(),
            authenticate,
        ))
        .layer(middleware::from_fn_with_state(
            console.clone(),
            inject_faults,
        ))
        .layer(middleware::from_fn_with_state(console.clone(), observe))
        .with_state(console)
}

/// The path template of a request (as counted and as matched by fault rules) and its site id.
pub fn template_of(path: &str) -> (&'static str, Option<&str>) {
    let Some(rest) = path.strip_prefix(API_PREFIX) else {
        return ("other", None);
    };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v1", "info"] => ("/v1/info", None),
        ["v1", "sites"] => ("/v1/sites", None),
        ["v1", "sites", site, "dns", "policies"] => ("/v1/sites/{siteId}/dns/policies", Some(site)),
        ["v1", "sites", site, "dns", "policies", _] => {
            ("/v1/sites/{siteId}/dns/policies/{dnsPolicyId}", Some(site))
        }
        ["v1", "sites", site, "clients"] => ("/v1/sites/{siteId}/clients", Some(site)),
        ["v1", "sites", site, "clients", _] => {
            ("/v1/sites/{siteId}/clients/{clientId}", Some(site))
        }
        _ => ("other", None),
    }
}

fn is_policy_write(method: &Method, template: &str) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::DELETE)
        && template.contains("/dns/policies")
}

/// Counts the request with its final status and tracks writes in flight.
async fn observe(State(console): State<Arc<Console>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let (template, site) = template_of(&path);
    let write_site =
        is_policy_write(&method, template).then(|| site.unwrap_or_default().to_owned());
    if let Some(site) = &write_site {
        console.lock_counters().write_started(site);
    }
    // Dropped when the response is produced or when the client goes away mid-request (then
    // the request is counted with status 0).
    let mut guard = RequestGuard {
        console: &console,
        method,
        template,
        site: write_site,
        status: 0,
    };
    let response = next.run(request).await;
    guard.status = response.status().as_u16();
    drop(guard);
    response
}

struct RequestGuard<'a> {
    console: &'a Console,
    method: Method,
    template: &'static str,
    site: Option<String>,
    status: u16,
}

impl Drop for RequestGuard<'_> {
    fn drop(&mut self) {
        let mut counters = self.console.lock_counters();
        if let Some(site) = &self.site {
            counters.write_finished(site);
        }
        counters.record(self.method.as_str(), self.template, self.status);
    }
}

/// Latency, hangs and fault rules.
async fn inject_faults(
    State(console): State<Arc<Console>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let (template, _) = template_of(&path);
    if console.down().is_some() {
        // Hold the request until the console comes back (or the client gives up). A console
        // that went down refusing connections also cuts this one, which drops the request.
        let mut changes = console.fault_changes();
        while console.down().is_some() {
            if changes.changed().await.is_err() {
                break;
            }
        }
    }
    let latency = console.latency_ms();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    // Rule paths are relative to `/proxy/network/integration` (see `FaultRule::path`).
    let relative = path.strip_prefix(API_PREFIX).unwrap_or(&path);
    let Some(rule) = console.pick_fault(method.as_str(), relative, template) else {
        return next.run(request).await;
    };
    let real = if rule.applies_request() {
        Some(next.run(request).await)
    } else {
        None
    };
    match rule.kind {
        FaultKind::Status => {
            let status = StatusCode::from_u16(rule.status.unwrap_or(500))
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            ApiError::new(status, INTERNAL_ERROR, "Injected server error").into_response_for(&path)
        }
        FaultKind::RateLimit => {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                RATE_LIMIT_EXCEEDED,
                "Rate limit exceeded",
            );
            e.retry_after = Some(rule.retry_after.unwrap_or(1));
            e.into_response_for(&path)
        }
        FaultKind::Timeout => {
            tokio::time::sleep(Duration::from_millis(rule.hold_ms.unwrap_or(60_000))).await;
            ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                INTERNAL_ERROR,
                "Injected timeout",
            )
            .into_response_for(&path)
        }
        FaultKind::Truncate => {
            let response = real.unwrap_or_else(|| StatusCode::OK.into_response());
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let cut = bytes.len() / 2;
            let mut response = Response::from_parts(parts, Body::from(bytes.slice(..cut)));
            response.headers_mut().remove(header::CONTENT_LENGTH);
            response
        }
        FaultKind::Malformed => {
            let status = real.map(|r| r.status()).unwrap_or(StatusCode::OK);
            let mut response = (
                status,
                Bytes::from_static(b"{\"offset\":0,\"data\":[{\"type\":<html>Bad Gateway</html>"),
            )
                .into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
    }
}

/// Every API path needs the console's key in `X-API-KEY` (header names are case-insensitive).
async fn authenticate(
    State(console): State<Arc<Console>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let error = match request.headers().get("x-api-key") {
        None => Some((MISSING_CREDENTIALS, "Missing credentials")),
        Some(key) if key.as_bytes() != console.api_key().as_bytes() => {
            Some((INVALID_CREDENTIALS, "Invalid API key"))
        }
        Some(_) => None,
    };
    match error {
        Some((code, message)) => {
            ApiError::new(StatusCode::UNAUTHORIZED, code, message).into_response_for(&path)
        }
        None => next.run(request).await,
    }
}

fn reply(uri: &OriginalUri, result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(|e| e.into_response_for(uri.path()))
}

async fn unknown_path(uri: OriginalUri, method: Method) -> Response {
    ApiError::not_found(format!(
        "No endpoint {method} {}",
        crate::error::console_request_path(uri.path())
    ))
    .into_response_for(uri.path())
}

async fn method_not_allowed(uri: OriginalUri, method: Method) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        METHOD_NOT_ALLOWED,
        format!("Request method '{method}' is not supported"),
    )
    .into_response_for(uri.path())
}

async fn info(State(console): State<Arc<Console>>) -> Response {
    Json(json!({"applicationVersion": console.version().to_string()})).into_response()
}

/// Pagination parameters and the filter, parsed as the console does.
struct ListQuery {
    offset: i64,
    limit: i64,
    filter: Option<Filter>,
}

fn parse_list_query(raw: Option<&str>, properties: &[Property]) -> Result<ListQuery, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|e| ApiError::bad_request(format!("Malformed query string: {e}")))?;
    let param = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let number = |name: &str, default: i64| -> Result<i64, ApiError> {
        match param(name) {
            None => Ok(default),
            Some(v) => v.trim().parse::<i32>().map(i64::from).map_err(|_| {
                ApiError::bad_request(format!(
                    "Invalid value '{v}' for query parameter '{name}': expected an integer"
                ))
            }),
        }
    };
    let offset = number("offset", 0)?;
    let limit = number("limit", DEFAULT_LIMIT)?;
    if offset < 0 {
        return Err(ApiError::bad_request(
            "offset must be greater than or equal to 0",
        ));
    }
    if limit < 0 {
        return Err(ApiError::bad_request(
            "limit must be greater than or equal to 0",
        ));
    }
    if limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit must be less than or equal to {MAX_LIMIT}"
        )));
    }
    let filter =
        match param("filter") {
            None => None,
            Some(f) => Some(Filter::parse(f, properties).map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, INVALID_FILTER, e.to_string())
            })?),
        };
    Ok(ListQuery {
        offset,
        limit,
        filter,
    })
}

/// Filters, then pages: `offset, limit, count, totalCount, data`, in that order.
fn page(items: Vec<Value>, query: &ListQuery) -> Response {
    let matching: Vec<Value> = match &query.filter {
        Some(f) => items.into_iter().filter(|i| f.matches(i)).collect(),
        None => items,
    };
    let total = matching.len();
    let data: Vec<Value> = matching
        .into_iter()
        .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(query.limit).unwrap_or(0))
        .collect();
    Json(json!({
        "offset": query.offset,
        "limit": query.limit,
        "count": data.len(),
        "totalCount": total,
        "data": data,
    }))
    .into_response()
}

fn parse_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::bad_request(format!("Invalid {what} '{raw}': expected a UUID")))
}

/// The site, on a console that serves DNS policies (older versions answer 404 like a console
/// without the feature).
fn require_dns_policies(
    console: &Console,
    uri: &OriginalUri,
    method: &Method,
) -> Result<(), ApiError> {
    if console.version().has_dns_policies() {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "No endpoint {method} {}",
            crate::error::console_request_path(uri.path())
        )))
    }
}

fn with_site<T>(
    console: &Console,
    site_id: &str,
    f: impl FnOnce(&crate::state::Site) -> T,
) -> Result<T, ApiError> {
    let id = parse_id(site_id, "site id")?;
    let state = console.lock_state();
    let site = state
        .site(id)
        .ok_or_else(|| ApiError::not_found(format!("Site '{id}' not found")))?;
    Ok(f(site))
}

async fn list_sites(
    State(console): State<Arc<Console>>,
    uri: OriginalUri,
    RawQuery(q): RawQuery,
) -> Response {
    reply(
        &uri,
        (|| {
            let query = parse_list_query(q.as_deref(), SITE_PROPERTIES)?;
            let sites: Vec<Value> = console
                .lock_state()
                .sites
                .iter()
                .map(crate::state::Site::to_api_json)
                .collect();
            Ok(page(sites, &query))
        })(),
    )
}

async fn list_policies(
    State(console): State<Arc<Console>>,
    uri: OriginalUri,
    method: Method,
    Path(site_id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    reply(
        &uri,
        (|| {
            require_dns_policies(&console, &uri, &method)?;
            let version = console.version();
            let policies = with_site(&console, &site_id, |s| {
                s.policies.iter().map(|p| p.to_api_json(version)).collect()
            })?;
            let query = parse_list_query(q.as_deref(), DNS_POLICY_PROPERTIES)?;
            Ok(page(policies, &query))
        })(),
    )
}

async fn get_policy(
    State(console): State<Arc<Console>>,
    uri: OriginalUri,
    method: Method,
    Path((site_id, policy_id)): Path<(String, String)>,
) -> Response {
    reply(
        &uri,
        (|| {
            require_dns_policies(&console, &uri, &method)?;
            let policy_id = parse_id(&policy_id, "DNS policy id")?;
            let version = console.version();
            with_site(&console, &site_id, |s| {
                s.policy(policy_id).map(|p| p.to_api_json(version))
            })?
            .map(|p| Json(p).into_response())
            .ok_or_else(|| ApiError::not_found(format!("DNS policy '{policy_id}' not found")))
        })(),
    )
}

async fn create_policy(
    State(console): State<Arc<Console>>,
    uri: OriginalUri,
    method: Method,
    Path(site_id): Path<String>,
    body: Bytes,
) -> Response {
    reply(
        &uri,
        (|| {
            require_dns_policies(&console, &uri, &method)?;
            let site = parse_id(&site_id, "site id")?;
            let spec = parse_request(&body, console.version())?;
            let policy = console.lock_state().create_policy(site, spec)?;
            Ok((
                StatusCode::CREATED,
                Json(policy.to_api_json(console.version())),
            )
                .into_response())
        })(),
    )
}

async fn update_policy(
    State(console): State<Arc<Console>>,
    uri: OriginalUri,
    method: Method,
    Path((site_id, policy_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    reply(
        &uri,
        (|| {
            require_dns_policies(&console, &uri, &method)?;
            let site = parse_id(&site_id, "site id")?;
            let policy_id = parse_id(&policy_id, "DNS policy id")?;
            let spec = parse_request(&body, console.version())?;
            let policy = console.lock_state().update_policy(site, policy_id, spec)?;
            Ok(Json(policy.to_api_json(console.version())).into_response())
        })(),
    )
}

async fn delete_policy(
    State(console): State<Arc<Console>>,
    uri: OriginalUri,
    method: Method,
    Path((site_id, policy_id)): Path<(String, String)>,
) -> Response {
    reply(
        &uri,
        (|| {
            require_dns_policies(&console, &uri, &method)?;
            let site = parse_id(&site_id, "site id")?;
            let policy_id = parse_id(&policy_id, "DNS policy id")?;
            console.lock_state().delete_policy(site, policy_id)?;
            Ok(StatusCode::OK.into_response())
        })(),
    )
}

async fn list_clients(
    State(console): State<Arc<Console>>,
    uri: OriginalUri,
    Path(site_id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    reply(
        &uri,
        (|| {
            let clients = with_site(&console, &site_id, |s| {
                s.clients
                    .iter()
                    .map(crate::state::Client::to_api_json)
                    .collect()
            })?;
            let query = parse_list_query(q.as_deref(), CLIENT_PROPERTIES)?;
            Ok(page(clients, &query))
        })(),
    )
}

async fn get_client(
    State(console): State<Arc<Console>>,
    uri: OriginalUri,
    Path((site_id, client_id)): Path<(String, String)>,
) -> Response {
    reply(
        &uri,
        (|| {
            let client_id = parse_id(&client_id, "client id")?;
            with_site(&console, &site_id, |s| {
                s.clients
                    .iter()
                    .find(|c| c.id == client_id)
                    .map(crate::state::Client::to_api_json)
            })?
            .map(|c| Json(c).into_response())
            .ok_or_else(|| ApiError::not_found(format!("Client '{client_id}' not found")))
        })(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(
            template_of("/proxy/network/integration/v1/sites"),
            ("/v1/sites", None)
        );
        assert_eq!(
            template_of("/proxy/network/integration/v1/sites/abc/dns/policies/def"),
            ("/v1/sites/{siteId}/dns/policies/{dnsPolicyId}", Some("abc"))
        );
        assert_eq!(template_of("/integration/v1/sites").0, "other");
        assert_eq!(template_of("/proxy/network/integration/v2/x").0, "other");
    }
}
