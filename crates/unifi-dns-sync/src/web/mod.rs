//! The HTTP side of `run` (SPEC §7): dashboard pages, the JSON API, `/metrics`, `/healthz` and
//! `/readyz`, on one listener.
//!
//! Handlers read the database (through the engine's store) and the daemon's in-memory health;
//! they never call a console, except `/plan`, which runs a dry cycle when no cycle is running
//! (and is cached briefly). `POST /api/v1/sync` does not run a cycle itself: it asks the sync
//! loop for one, so cycles never overlap. Everything shown is escaped (record values are user
//! input), and no page or answer carries a secret.

mod api;
mod pages;
mod placement;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use unifi_dns_sync_store::Trigger;

use crate::config::WebToken;
use crate::daemon::SyncRequest;
use crate::engine::{CycleOptions, CycleReport, Engine, EngineError};
use crate::health::Health;
use crate::metrics::Metrics;

/// How long a computed plan is shown before `/plan` computes a new one.
const PLAN_CACHE: Duration = Duration::from_secs(15);

/// The last computed plan and when it was computed.
type PlanCache = Arc<tokio::sync::Mutex<Option<(Instant, Arc<CycleReport>)>>>;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    pub requests: mpsc::Sender<SyncRequest>,
    pub token: Option<WebToken>,
    plan_cache: PlanCache,
}

impl AppState {
    pub fn new(
        engine: Arc<Engine>,
        metrics: Arc<Metrics>,
        health: Arc<Health>,
        requests: mpsc::Sender<SyncRequest>,
        token: Option<WebToken>,
    ) -> AppState {
        AppState {
            engine,
            metrics,
            health,
            requests,
            token,
            plan_cache: Arc::default(),
        }
    }

    pub fn store(&self) -> &unifi_dns_sync_store::Store {
        self.engine.store()
    }

    /// The current plan: a fresh dry run unless one is cached or a cycle is running (then the
    /// last computed plan, if any).
    pub async fn current_plan(&self) -> Result<(Arc<CycleReport>, bool), ApiError> {
        let mut cache = self.plan_cache.lock().await;
        if let Some((at, report)) = cache.as_ref()
            && at.elapsed() < PLAN_CACHE
        {
            return Ok((report.clone(), false));
        }
        // Not recorded as a run: looking at the plan is not a sync.
        let options = CycleOptions::new(Trigger::Manual).preview();
        match self.engine.run_cycle(&options).await {
            Ok(report) => {
                let report = Arc::new(report);
                *cache = Some((Instant::now(), report.clone()));
                Ok((report, true))
            }
            Err(EngineError::CycleRunning) => match cache.as_ref() {
                Some((_, report)) => Ok((report.clone(), false)),
                None => Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "a sync cycle is running; the plan is computed when it has finished",
                )),
            },
            Err(e) => Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                e.to_string(),
            )),
        }
    }
}

/// A JSON error answer: `{"error": "…"}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<unifi_dns_sync_store::StoreError> for ApiError {
    fn from(e: unifi_dns_sync_store::StoreError) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("database: {e}"))
    }
}

/// Every route of the listener.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/api/v1/sync",
            post(trigger_sync).fallback(|| async { api::method_not_allowed("POST") }),
        )
        .merge(api::routes())
        .merge(pages::routes())
        .fallback(fallback)
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Unknown paths: the HTML 404 page for a browser, JSON for the API and other clients.
async fn fallback(uri: axum::http::Uri, headers: HeaderMap) -> Response {
    let wants_html = !uri.path().starts_with("/api/")
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        pages::not_found_page(uri.path())
    } else {
        ApiError::not_found("no such page or endpoint").into_response()
    }
}

/// Serves until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

async fn security_headers(request: axum::extract::Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"),
    );
    response
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.health.alive() {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "stuck", "error": why})),
        )
            .into_response(),
    }
}

async fn readyz(State(state): State<AppState>) -> Response {
    if let Err(e) = state.store().diagnostics().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not ready", "error": format!("database: {e}")})),
        )
            .into_response();
    }
    if !state.health.ready() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not ready", "error": "no sync cycle has finished yet"})),
        )
            .into_response();
    }
    Json(json!({"status": "ready"})).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

#[derive(Deserialize)]
struct SyncQuery {
    #[serde(default)]
    force: bool,
}

/// Checks `Authorization: Bearer <token>` for POST endpoints.
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let Some(token) = &state.token else {
        return Err(Box::new(ApiError::new(
            StatusCode::FORBIDDEN,
            "POST endpoints are disabled because no token is configured: set the environment variable named by [web] token_env (default UNIFI_DNS_SYNC_WEB_TOKEN) or [web] token_file, restart, and send it as `Authorization: Bearer <token>`",
        )
        .into_response()));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(p) if token.verify(p) => Ok(()),
        _ => {
            let mut response = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing or wrong bearer token: send `Authorization: Bearer <token>`",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            Err(Box::new(response))
        }
    }
}

async fn trigger_sync(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<SyncQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(response) = authorize(&state, &headers) {
        return *response;
    }
    let Ok(Query(query)) = query else {
        return ApiError::bad_request("invalid query: `force` must be true or false")
            .into_response();
    };
    if state.engine.is_running() || state.health.is_running() {
        return ApiError::new(
            StatusCode::CONFLICT,
            "a sync cycle is running; try again when it has finished",
        )
        .into_response();
    }
    match state.requests.try_send(SyncRequest { force: query.force }) {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(json!({"status": "accepted", "force": query.force})),
        )
            .into_response(),
        Err(mpsc::error::TrySendError::Full(_)) => ApiError::new(
            StatusCode::CONFLICT,
            "a sync cycle has already been requested",
        )
        .into_response(),
        Err(mpsc::error::TrySendError::Closed(_)) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the sync loop is not running (shutting down?)",
        )
        .into_response(),
    }
}
