//! [`Client`]: one controller's Integration API, with its limits, retries and paging.
//!
//! Request life cycle: a permit from the read or write semaphore (held across retries), then for
//! each attempt a slot from the rate limiter, the HTTP exchange (bounded by the timeout, body
//! capped at [`MAX_BODY_BYTES`]), a [`RequestRecord`] for the observer, and the retry decision:
//!
//! | outcome | GET | POST / PUT / DELETE |
//! |---|---|---|
//! | connection refused, DNS failure (nothing sent) | retry | retry |
//! | TLS handshake refused (trust) | fail | fail |
//! | timeout, connection lost after sending | retry | fail (`effect_unknown`) |
//! | 429 | retry after `Retry-After` (capped) | same |
//! | 5xx | retry | fail (`effect_unknown`) |
//! | other 4xx | fail | fail |

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Url};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::error::{ClientError, ErrorBody, scrub, snippet, transport_error};
use crate::limits::{RateLimiter, random_unit};
use crate::model::{
    AppInfo, ConnectedClient, DecodeError, DeleteOutcome, DnsPolicy, DnsPolicyBody, Site,
};
use crate::settings::{RetryPolicy, Settings, Trust};

/// Page size of every list read (the API's maximum).
pub const PAGE_LIMIT: u64 = 200;
/// Largest response body accepted (a full page of policies is well under 1 MiB).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Largest `totalCount` accepted for one list.
pub const MAX_LIST_ITEMS: u64 = 1_000_000;
/// Where UniFi OS serves the Network application's Integration API, below the console root.
pub const API_PREFIX: &str = "/proxy/network/integration";

/// One HTTP attempt, as reported to the observer (for metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The controller's name.
    pub controller: String,
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// The API path template, e.g. `/v1/sites/{siteId}/dns/policies` (bounded cardinality).
    pub path_template: &'static str,
    /// The HTTP status, `None` when no response arrived (refused, timeout, connection lost).
    pub status: Option<u16>,
    /// From sending the request to the end of the response body (or the failure).
    pub duration: Duration,
}

/// A callback told about every HTTP attempt.
pub type Observer = Arc<dyn Fn(&RequestRecord) + Send + Sync>;

/// The Integration API of one controller. Cheap to clone; clones share the connection pool,
/// the limits and the observer.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    observer: Option<Observer>,
}

struct Inner {
    name: String,
    base_url: String,
    /// The console root plus [`API_PREFIX`].
    api_root: Url,
    /// Only used to scrub it from texts that come from outside.
    api_key: String,
    http: reqwest::Client,
    reads: Semaphore,
    writes: Semaphore,
    limiter: RateLimiter,
    timeout: Duration,
    retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("name", &self.inner.name)
            .field("base_url", &self.inner.base_url)
            .field("api_key", &"[redacted]")
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

/// One request before it is sent.
struct Call<'a> {
    method: Method,
    template: &'static str,
    /// Path segments after `v1`.
    segments: &'a [&'a str],
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
}

/// A response as read: status, `Retry-After`, body.
struct Raw {
    status: u16,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

/// The outcome of reading every page once.
enum Pages {
    Complete(Vec<Value>),
    Changed(String),
}

impl Client {
    /// Checks the settings and builds the HTTP client; nothing is sent.
    pub fn new(settings: Settings) -> Result<Client, ClientError> {
        let name = settings.name.as_str();
        let fail = |m: String| ClientError::config(name, m);
        if settings.api_key.is_empty() {
            return Err(fail("the API key is empty".into()));
        }
        let mut key = HeaderValue::from_str(&settings.api_key).map_err(|_| {
            fail("the API key contains characters that cannot be sent in an HTTP header".into())
        })?;
        key.set_sensitive(true);
        let api_root = api_root(&settings.base_url).map_err(fail)?;
        if settings.max_parallel_writes == 0 || settings.max_parallel_reads == 0 {
            return Err(fail(
                "max_parallel_writes and max_parallel_reads must be at least 1".into(),
            ));
        }
        if settings.timeout.is_zero() {
            return Err(fail("timeout must be longer than zero".into()));
        }
        let limiter = RateLimiter::new(settings.requests_per_second).ok_or_else(|| {
            fail(format!(
                "requests_per_second must be at least 1/3600 (one per hour), got {}",
                settings.requests_per_second
            ))
        })?;
        let tls = crate::tls::client_config(name, &settings.trust)?;
        if settings.trust == Trust::Insecure {
            tracing::warn!(
                controller = name,
                url = %settings.base_url,
                "TLS certificate verification is disabled for controller '{name}' (tls = \"insecure\"); \
                 pin its certificate instead: tls = {{ fingerprint = \"…\" }}"
            );
        }
        if api_root.scheme() == "http" {
            tracing::warn!(
                controller = name,
                url = %settings.base_url,
                "controller '{name}' is reached over plain HTTP: its API key travels unencrypted"
            );
        }
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", key);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .default_headers(headers)
            .user_agent(concat!("unifi-dns-sync/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect could carry the API key header to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| fail(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                name: settings.name.clone(),
                base_url: settings.base_url.clone(),
                api_root,
                api_key: settings.api_key.clone(),
                http,
                reads: Semaphore::new(settings.max_parallel_reads),
                writes: Semaphore::new(settings.max_parallel_writes),
                limiter,
                timeout: settings.timeout,
                retry: settings.retry,
            }),
            observer: None,
        })
    }

    /// The same client, telling `observer` about every HTTP attempt (for metrics).
    pub fn with_observer(mut self, observer: Observer) -> Client {
        self.observer = Some(observer);
        self
    }

    /// The controller's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The console root URL as configured.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// `GET /v1/info`: the application version (also a cheap check of reachability, TLS trust
    /// and the key). Use [`AppInfo::supports_dns_policies`] before touching DNS policies.
    pub async fn info(&self) -> Result<AppInfo, ClientError> {
        let call = Call::get("/v1/info", &["info"]);
        let (raw, path) = self.execute(call).await?;
        let value = self.json(&raw, "GET", &path)?;
        AppInfo::from_json(&value)
            .map_err(|e| self.decode_error("GET", &path, "the application info", e))
    }

    /// Every site of the controller (all pages).
    pub async fn sites(&self) -> Result<Vec<Site>, ClientError> {
        let items = self.list("/v1/sites", &["sites"]).await?;
        self.typed(items, &["sites"], "site", Site::from_json)
    }

    /// Every DNS policy of a site (all pages). A 404 means the site is unknown or the console
    /// predates DNS policies (see [`AppInfo::supports_dns_policies`]).
    pub async fn dns_policies(&self, site_id: &str) -> Result<Vec<DnsPolicy>, ClientError> {
        self.check_id("site id", site_id)?;
        let segments = ["sites", site_id, "dns", "policies"];
        let template = "/v1/sites/{siteId}/dns/policies";
        let items = self.list(template, &segments).await?;
        let what = format!("DNS policy of site {site_id}");
        self.typed(items, &segments, &what, DnsPolicy::from_json)
    }

    /// Every connected client of a site (all pages).
    pub async fn clients(&self, site_id: &str) -> Result<Vec<ConnectedClient>, ClientError> {
        self.check_id("site id", site_id)?;
        let segments = ["sites", site_id, "clients"];
        let template = "/v1/sites/{siteId}/clients";
        let items = self.list(template, &segments).await?;
        let what = format!("client of site {site_id}");
        self.typed(items, &segments, &what, ConnectedClient::from_json)
    }

    /// Creates a DNS policy (POST, 201) and returns it with its new id.
    pub async fn create_dns_policy(
        &self,
        site_id: &str,
        body: &DnsPolicyBody,
    ) -> Result<DnsPolicy, ClientError> {
        self.check_id("site id", site_id)?;
        let segments = ["sites", site_id, "dns", "policies"];
        let call = Call::write(
            Method::POST,
            "/v1/sites/{siteId}/dns/policies",
            &segments,
            body,
        );
        let (raw, path) = self.execute(call).await?;
        let value = self.json(&raw, "POST", &path)?;
        DnsPolicy::from_json(&value).map_err(|e| {
            self.decode_error(
                "POST",
                &path,
                &format!("the created DNS policy on site {site_id}"),
                e,
            )
        })
    }

    /// Replaces a DNS policy in place (PUT, same id) and returns it as stored.
    pub async fn update_dns_policy(
        &self,
        site_id: &str,
        policy_id: &str,
        body: &DnsPolicyBody,
    ) -> Result<DnsPolicy, ClientError> {
        self.check_id("site id", site_id)?;
        self.check_id("DNS policy id", policy_id)?;
        let segments = ["sites", site_id, "dns", "policies", policy_id];
        let call = Call::write(
            Method::PUT,
            "/v1/sites/{siteId}/dns/policies/{dnsPolicyId}",
            &segments,
            body,
        );
        let (raw, path) = self.execute(call).await?;
        let value = self.json(&raw, "PUT", &path)?;
        DnsPolicy::from_json(&value).map_err(|e| {
            self.decode_error(
                "PUT",
                &path,
                &format!("the updated DNS policy {policy_id} on site {site_id}"),
                e,
            )
        })
    }

    /// Deletes a DNS policy; 200 and 404 are both success.
    pub async fn delete_dns_policy(
        &self,
        site_id: &str,
        policy_id: &str,
    ) -> Result<DeleteOutcome, ClientError> {
        self.check_id("site id", site_id)?;
        self.check_id("DNS policy id", policy_id)?;
        let segments = ["sites", site_id, "dns", "policies", policy_id];
        let call = Call {
            method: Method::DELETE,
            template: "/v1/sites/{siteId}/dns/policies/{dnsPolicyId}",
            segments: &segments,
            query: vec![],
            body: None,
        };
        match self.execute(call).await {
            Ok(_) => Ok(DeleteOutcome::Deleted),
            Err(e) if e.is_not_found() => Ok(DeleteOutcome::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// Ids go into the URL path: only UUID-like tokens are accepted.
    fn check_id(&self, what: &str, id: &str) -> Result<(), ClientError> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(())
        } else {
            let shown: String = id.chars().take(80).collect();
            Err(ClientError::InvalidInput {
                controller: self.inner.name.clone(),
                message: format!("invalid {what} '{shown}': expected a UUID"),
            })
        }
    }

    /// Reads a whole list; if it changes while being read, reads it once more from the start.
    async fn list(
        &self,
        template: &'static str,
        segments: &[&str],
    ) -> Result<Vec<Value>, ClientError> {
        let first = match self.read_pages(template, segments).await? {
            Pages::Complete(items) => return Ok(items),
            Pages::Changed(detail) => detail,
        };
        tracing::info!(
            controller = %self.inner.name,
            list = template,
            "{first}; reading the list again from the start"
        );
        match self.read_pages(template, segments).await? {
            Pages::Complete(items) => Ok(items),
            Pages::Changed(second) => Err(ClientError::ListChanged {
                controller: self.inner.name.clone(),
                path: self.path_of(segments),
                detail: format!("{first}; reading it again from the start: {second}"),
            }),
        }
    }

    /// Reads every page once, with `limit=200`, from offset 0.
    async fn read_pages(
        &self,
        template: &'static str,
        segments: &[&str],
    ) -> Result<Pages, ClientError> {
        let mut items: Vec<Value> = Vec::new();
        let mut ids: HashSet<String> = HashSet::new();
        let mut total: Option<u64> = None;
        let mut offset: u64 = 0;
        loop {
            let call = Call {
                method: Method::GET,
                template,
                segments,
                query: vec![
                    ("offset", offset.to_string()),
                    ("limit", PAGE_LIMIT.to_string()),
                ],
                body: None,
            };
            let (raw, path) = self.execute(call).await?;
            let value = self.json(&raw, "GET", &path)?;
            let (count, page_total, data) =
                page(value).map_err(|e| self.decode_error("GET", &path, "the list page", e))?;
            match total {
                Some(t) if t != page_total => {
                    return Ok(Pages::Changed(format!(
                        "totalCount changed from {t} to {page_total} between pages (at offset {offset})"
                    )));
                }
                Some(_) => {}
                None if page_total > MAX_LIST_ITEMS => {
                    return Err(self.decode_error(
                        "GET",
                        &path,
                        "the list page",
                        DecodeError {
                            field: "totalCount".into(),
                            problem: format!(
                                "{page_total} items is more than this client reads ({MAX_LIST_ITEMS})"
                            ),
                        },
                    ));
                }
                None => total = Some(page_total),
            }
            if count == 0 {
                break;
            }
            for item in data {
                if let Some(id) = item.get("id").and_then(Value::as_str)
                    && !ids.insert(id.to_owned())
                {
                    return Ok(Pages::Changed(format!(
                        "item {id} was returned twice (items moved between pages)"
                    )));
                }
                items.push(item);
            }
            offset += count;
            if offset >= page_total {
                break;
            }
        }
        let total = total.unwrap_or(0);
        if items.len() as u64 != total {
            return Ok(Pages::Changed(format!(
                "received {} items but totalCount is {total}",
                items.len()
            )));
        }
        Ok(Pages::Complete(items))
    }

    /// Parses every item of a list; the first bad one fails the whole list.
    fn typed<T>(
        &self,
        items: Vec<Value>,
        segments: &[&str],
        what: &str,
        parse: impl Fn(&Value) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, ClientError> {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                parse(item).map_err(|e| {
                    let id = item
                        .get("id")
                        .and_then(Value::as_str)
                        .map(|id| format!(" (id {id})"))
                        .unwrap_or_default();
                    self.decode_error(
                        "GET",
                        &self.path_of(segments),
                        &format!("{what}, item {i} of the list{id}"),
                        e,
                    )
                })
            })
            .collect()
    }

    fn decode_error(
        &self,
        method: &'static str,
        path: &str,
        what: &str,
        e: DecodeError,
    ) -> ClientError {
        ClientError::Decode {
            controller: self.inner.name.clone(),
            method,
            path: path.to_owned(),
            message: scrub(&format!("{what}: {e}"), Some(&self.inner.api_key)),
            field: Some(e.field),
        }
    }

    /// The body as JSON.
    fn json(&self, raw: &Raw, method: &'static str, path: &str) -> Result<Value, ClientError> {
        serde_json::from_slice(&raw.body).map_err(|e| ClientError::Decode {
            controller: self.inner.name.clone(),
            method,
            path: path.to_owned(),
            field: None,
            message: format!(
                "HTTP {} with a body that is not valid JSON ({e}): {}",
                raw.status,
                scrub(&snippet(&raw.body), Some(&self.inner.api_key))
            ),
        })
    }

    fn url(&self, segments: &[&str], query: &[(&'static str, String)]) -> Url {
        let mut url = self.inner.api_root.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.push("v1");
            path.extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// The path (and query) of a URL below the host, as error messages show it.
    fn label(url: &Url) -> String {
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    fn path_of(&self, segments: &[&str]) -> String {
        Self::label(&self.url(segments, &[]))
    }

    /// Sends a request with limits and retries; returns a 2xx response and the request's label.
    async fn execute(&self, call: Call<'_>) -> Result<(Raw, String), ClientError> {
        let url = self.url(call.segments, &call.query);
        let label = Self::label(&url);
        let method = method_name(&call.method);
        let is_get = call.method == Method::GET;
        let semaphore = if is_get {
            &self.inner.reads
        } else {
            &self.inner.writes
        };
        // The semaphore is never closed; without a permit the request would still be correct.
        let _permit = semaphore.acquire().await.ok();
        let policy = self.inner.retry;
        let mut retries: u32 = 0;
        loop {
            self.inner.limiter.acquire().await;
            let (error, retry_after) = match self.attempt(&call, &url, &label).await {
                Ok(raw) if (200..300).contains(&raw.status) => return Ok((raw, label)),
                Ok(raw) => {
                    let retryable = raw.status == 429 || (is_get && raw.status >= 500);
                    let retry_after = raw.retry_after;
                    let error = self.api_error(method, &label, raw);
                    if !retryable {
                        return Err(error);
                    }
                    (error, retry_after)
                }
                Err(error) => {
                    let retryable = match &error {
                        ClientError::Connect { tls, .. } => !tls,
                        ClientError::Timeout { .. } | ClientError::Transport { .. } => is_get,
                        _ => false,
                    };
                    if !retryable {
                        return Err(error);
                    }
                    (error, None)
                }
            };
            if retries >= policy.max_retries {
                return Err(error);
            }
            let delay = match retry_after {
                Some(d) => d.min(policy.max_delay),
                None => policy.backoff(retries, random_unit()),
            };
            retries += 1;
            tracing::warn!(
                controller = %self.inner.name,
                method,
                path = %label,
                retry = retries,
                of = policy.max_retries,
                delay_ms = delay.as_millis() as u64,
                "{error}; trying again"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One HTTP exchange, reported to the observer.
    async fn attempt(&self, call: &Call<'_>, url: &Url, label: &str) -> Result<Raw, ClientError> {
        let method = method_name(&call.method);
        let started = Instant::now();
        let mut request = self.inner.http.request(call.method.clone(), url.clone());
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        let mut status = None;
        let result = async {
            let mut response = request
                .send()
                .await
                .map_err(|e| self.transport(method, label, &e, false))?;
            status = Some(response.status().as_u16());
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let mut body = Vec::new();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        if body.len() + chunk.len() > MAX_BODY_BYTES {
                            return Err(ClientError::Decode {
                                controller: self.inner.name.clone(),
                                method,
                                path: label.to_owned(),
                                field: None,
                                message: format!(
                                    "the response body is larger than {MAX_BODY_BYTES} bytes"
                                ),
                            });
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => return Err(self.transport(method, label, &e, true)),
                }
            }
            Ok(Raw {
                status: response.status().as_u16(),
                retry_after,
                body,
            })
        }
        .await;
        let record = RequestRecord {
            controller: self.inner.name.clone(),
            method,
            path_template: call.template,
            status,
            duration: started.elapsed(),
        };
        tracing::debug!(
            controller = %record.controller,
            method,
            path = %label,
            status = ?record.status,
            duration_ms = record.duration.as_millis() as u64,
            "UniFi API request"
        );
        if let Some(observer) = &self.observer {
            observer(&record);
        }
        result
    }

    fn transport(
        &self,
        method: &'static str,
        label: &str,
        e: &reqwest::Error,
        while_reading_body: bool,
    ) -> ClientError {
        transport_error(
            &self.inner.name,
            method,
            label,
            Some(&self.inner.api_key),
            e,
            self.inner.timeout,
            while_reading_body,
        )
    }

    /// An error answer, with texts from the server scrubbed of the key.
    fn api_error(&self, method: &'static str, label: &str, raw: Raw) -> ClientError {
        let body = ErrorBody::parse(raw.status, &raw.body);
        let key = Some(self.inner.api_key.as_str());
        ClientError::Api {
            controller: self.inner.name.clone(),
            method,
            path: label.to_owned(),
            status: raw.status,
            code: body.code.map(|c| scrub(&c, key)),
            message: match body.request_id {
                Some(id) => format!("{} (requestId {id})", scrub(&body.message, key)),
                None => scrub(&body.message, key),
            },
        }
    }
}

impl<'a> Call<'a> {
    fn get(template: &'static str, segments: &'a [&'a str]) -> Self {
        Call {
            method: Method::GET,
            template,
            segments,
            query: vec![],
            body: None,
        }
    }

    fn write(
        method: Method,
        template: &'static str,
        segments: &'a [&'a str],
        body: &DnsPolicyBody,
    ) -> Self {
        Call {
            method,
            template,
            segments,
            query: vec![],
            body: Some(body.to_json().to_string().into_bytes()),
        }
    }
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        _ => "OTHER",
    }
}

/// The console root (any path prefix kept) plus [`API_PREFIX`].
fn api_root(base_url: &str) -> Result<Url, String> {
    let mut url = Url::parse(base_url.trim()).map_err(|e| {
        format!("invalid url '{base_url}': {e} (expected e.g. https://192.168.1.1)")
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!(
            "invalid url '{base_url}': the scheme must be https:// (or http://)"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("invalid url '{base_url}': no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "the url must not contain credentials; the API key goes in api_key_env or api_key_file"
                .into(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "invalid url '{base_url}': no query or fragment allowed"
        ));
    }
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|_| format!("invalid url '{base_url}'"))?;
        path.pop_if_empty();
        path.extend(API_PREFIX.trim_start_matches('/').split('/'));
    }
    Ok(url)
}

/// The page envelope: `count`, `totalCount`, `data` (all required; `count` must match `data`).
fn page(value: Value) -> Result<(u64, u64, Vec<Value>), DecodeError> {
    let err = |field: &str, problem: &str| DecodeError {
        field: field.into(),
        problem: problem.into(),
    };
    let Value::Object(mut map) = value else {
        return Err(err("$", "expected a page object"));
    };
    let number = |field: &str| match map.get(field) {
        None | Some(Value::Null) => Err(err(field, "missing required field")),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| err(field, "expected a non-negative integer")),
    };
    let count = number("count")?;
    let total = number("totalCount")?;
    // Taken, not cloned: a page's items are moved out of the parsed body.
    let data = match map.remove("data") {
        None | Some(Value::Null) => return Err(err("data", "missing required field")),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(err("data", "expected an array")),
    };
    if data.len() as u64 != count {
        return Err(err(
            "count",
            &format!("says {count} but data holds {} items", data.len()),
        ));
    }
    Ok((count, total, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_root_keeps_prefixes_and_refuses_bad_urls() {
        assert_eq!(
            api_root("https://192.168.1.1").unwrap().as_str(),
            "https://192.168.1.1/proxy/network/integration"
        );
        assert_eq!(
            api_root("https://192.168.1.1/").unwrap().as_str(),
            "https://192.168.1.1/proxy/network/integration"
        );
        assert_eq!(
            api_root("https://api.ui.com/v1/connector/consoles/abc:1")
                .unwrap()
                .as_str(),
            "https://api.ui.com/v1/connector/consoles/abc:1/proxy/network/integration"
        );
        for bad in [
            "",
            "192.168.1.1",
            "ftp://x",
            "https://user:pw@host",
            "https://h/?a=1",
            "https://h/#f",
        ] {
            assert!(api_root(bad).is_err(), "{bad}");
        }
        let secret = api_root("https://admin:hunter2@host").unwrap_err();
        assert!(!secret.contains("hunter2"), "{secret}");
    }

    #[test]
    fn pages_must_be_consistent() {
        let ok = serde_json::json!({"offset":0,"limit":200,"count":1,"totalCount":3,"data":[{}]});
        assert_eq!(page(ok).unwrap().0, 1);
        let bad = serde_json::json!({"count":2,"totalCount":3,"data":[{}]});
        assert_eq!(page(bad).unwrap_err().field, "count");
        let missing = serde_json::json!({"count":0,"data":[]});
        assert_eq!(page(missing).unwrap_err().field, "totalCount");
    }

    #[test]
    fn settings_are_checked() {
        let base = || Settings::new("hq", "https://10.0.0.1", "key");
        let err = |s: Settings| Client::new(s).unwrap_err().to_string();
        assert!(
            err(Settings {
                api_key: String::new(),
                ..base()
            })
            .contains("API key is empty")
        );
        assert!(
            err(Settings {
                api_key: "bad\nkey".into(),
                ..base()
            })
            .contains("cannot be sent")
        );
        assert!(
            err(Settings {
                max_parallel_writes: 0,
                ..base()
            })
            .contains("at least 1")
        );
        assert!(
            err(Settings {
                requests_per_second: 0.0,
                ..base()
            })
            .contains("at least 1/3600")
        );
        assert!(
            err(Settings {
                timeout: Duration::ZERO,
                ..base()
            })
            .contains("timeout")
        );
        assert!(
            err(Settings {
                base_url: "nope".into(),
                ..base()
            })
            .starts_with("controller 'hq': invalid url")
        );
        let client = Client::new(base()).unwrap();
        assert!(!format!("{client:?}").contains("\"key\""));
    }

    #[test]
    fn list_items_that_do_not_decode_name_the_field_site_and_item() {
        let client = Client::new(Settings::new("hq", "https://10.0.0.1", "k")).unwrap();
        let good = serde_json::json!({"type":"TXT_RECORD","id":"p0","enabled":true,"domain":"a","text":"t"});
        let bad = serde_json::json!({"type":"A_RECORD","id":"p1","enabled":true,"domain":"b","ttlSeconds":5});
        let err = client
            .typed(
                vec![good, bad],
                &["sites", "s1", "dns", "policies"],
                "DNS policy of site s1",
                DnsPolicy::from_json,
            )
            .unwrap_err();
        let ClientError::Decode { field, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(field.as_deref(), Some("ipv4Address"));
        assert_eq!(
            err.to_string(),
            "controller 'hq': GET /proxy/network/integration/v1/sites/s1/dns/policies: invalid response: \
             DNS policy of site s1, item 1 of the list (id p1): ipv4Address: missing required field"
        );
    }
}
