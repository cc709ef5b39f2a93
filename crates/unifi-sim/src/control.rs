//! Control endpoints under `/__sim/`, served on a loopback-only listener without an API key.
//!
//! They let a test or a person change a console's data as someone would in its UI (same
//! validation as the API, no notion of ownership), inject faults, and read counters and state:
//!
//! | method and path | what |
//! |---|---|
//! | `GET /__sim/state` | every console with its sites, policies and clients |
//! | `GET /__sim/consoles/{c}/state` | one console |
//! | `POST /__sim/consoles/{c}/sites` | add a site (`{"internal_reference":…, "name":…, "local_domain":…}`) |
//! | `DELETE /__sim/consoles/{c}/sites/{s}` | remove a site |
//! | `POST /__sim/consoles/{c}/sites/{s}/policies` | create a policy (API request body) |
//! | `PUT`/`DELETE /__sim/consoles/{c}/sites/{s}/policies/{id}` | edit / delete a policy |
//! | `POST /__sim/consoles/{c}/sites/{s}/clients` | connect or update a client (`{"type","name","mac","ip"}`) |
//! | `DELETE /__sim/consoles/{c}/sites/{s}/clients/{mac or id}` | disconnect a client |
//! | `GET`/`PUT`/`DELETE /__sim/consoles/{c}/faults` | read / replace / clear injected faults |
//! | `POST /__sim/consoles/{c}/faults/rules` | add one fault rule |
//! | `GET /__sim/counters`, `GET /__sim/consoles/{c}/counters` | request counters |
//! | `POST /__sim/counters/reset` | zero every console's counters |
//! | `POST /__sim/reset` | back to the scenario: data, faults and counters |
//!
//! `{s}` is a site's UUID, internalReference or name. Refusals use the API's error envelope.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, OriginalUri, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::console::Console;
use crate::error::ApiError;
use crate::faults::{FaultConfig, FaultRule};
use crate::scenario::{ClientSpec, SiteSpec};

type Consoles = Arc<Vec<Arc<Console>>>;

pub fn router(
    consoles: Vec<Arc<Console>>,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, SocketAddr> {
    Router::new()
        .route("/__sim/state", get(all_state))
        .route("/__sim/counters", get(all_counters))
        .route("/__sim/counters/reset", post(reset_counters))
        .route("/__sim/reset", post(reset_all))
        .route("/__sim/consoles/{console}/state", get(console_state))
        .route("/__sim/consoles/{console}/counters", get(console_counters))
        .route(
            "/__sim/consoles/{console}/faults",
            get(get_faults).put(put_faults).delete(clear_faults),
        )
        .route(
            "/__sim/consoles/{console}/faults/rules",
            post(add_fault_rule),
        )
        .route("/__sim/consoles/{console}/sites", post(add_site))
        .route(
            "/__sim/consoles/{console}/sites/{site}",
            delete(remove_site),
        )
        .route(
            "/__sim/consoles/{console}/sites/{site}/policies",
            post(create_policy),
        )
        .route(
            "/__sim/consoles/{console}/sites/{site}/policies/{id}",
            put(update_policy).delete(delete_policy),
        )
        .route(
            "/__sim/consoles/{console}/sites/{site}/clients",
            post(connect_client),
        )
        .route(
            "/__sim/consoles/{console}/sites/{site}/clients/{client}",
            delete(disconnect_client),
        )
        .fallback(|uri: OriginalUri| async move {
            ApiError::not_found("No such control endpoint").into_response_for(uri.path())
        })
        .layer(middleware::from_fn(loopback_only))
        .with_state(Arc::new(consoles))
        .into_make_service_with_connect_info::<SocketAddr>()
}

/// The listener is bound to loopback; this is the second lock on the door.
async fn loopback_only(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if peer.ip().is_loopback() {
        next.run(request).await
    } else {
        (
            StatusCode::FORBIDDEN,
            "control endpoints answer loopback clients only",
        )
            .into_response()
    }
}

fn find(consoles: &Consoles, name: &str) -> Result<Arc<Console>, ApiError> {
    consoles
        .iter()
        .find(|c| c.name() == name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("No console named '{name}'")))
}

fn reply(uri: &OriginalUri, status: StatusCode, result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => (status, Json(v)).into_response(),
        Err(e) => e.into_response_for(uri.path()),
    }
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid control request body: {e}")))
}

async fn all_state(State(consoles): State<Consoles>) -> Json<Value> {
    Json(json!({"consoles": consoles.iter().map(|c| c.state_json()).collect::<Vec<_>>()}))
}

async fn all_counters(State(consoles): State<Consoles>) -> Json<Value> {
    let map: serde_json::Map<String, Value> = consoles
        .iter()
        .map(|c| (c.name().to_owned(), c.counters().to_json()))
        .collect();
    Json(json!({"consoles": map}))
}

async fn reset_counters(State(consoles): State<Consoles>) -> StatusCode {
    consoles.iter().for_each(|c| c.reset_counters());
    StatusCode::NO_CONTENT
}

async fn reset_all(State(consoles): State<Consoles>) -> StatusCode {
    consoles.iter().for_each(|c| c.reset());
    StatusCode::NO_CONTENT
}

async fn console_state(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path(name): Path<String>,
) -> Response {
    reply(
        &uri,
        StatusCode::OK,
        find(&consoles, &name).map(|c| c.state_json()),
    )
}

async fn console_counters(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path(name): Path<String>,
) -> Response {
    reply(
        &uri,
        StatusCode::OK,
        find(&consoles, &name).map(|c| c.counters().to_json()),
    )
}

fn faults_json(c: &Console) -> Value {
    serde_json::to_value(c.faults()).unwrap_or(Value::Null)
}

async fn get_faults(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path(name): Path<String>,
) -> Response {
    reply(
        &uri,
        StatusCode::OK,
        find(&consoles, &name).map(|c| faults_json(&c)),
    )
}

async fn put_faults(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let result = find(&consoles, &name).and_then(|c| {
        let faults: FaultConfig = parse_body(&body)?;
        c.set_faults(faults).map_err(ApiError::bad_request)?;
        Ok(faults_json(&c))
    });
    reply(&uri, StatusCode::OK, result)
}

async fn clear_faults(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path(name): Path<String>,
) -> Response {
    let result = find(&consoles, &name).map(|c| {
        c.clear_faults();
        faults_json(&c)
    });
    reply(&uri, StatusCode::OK, result)
}

async fn add_fault_rule(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let result = find(&consoles, &name).and_then(|c| {
        let rule: FaultRule = parse_body(&body)?;
        c.add_fault(rule).map_err(ApiError::bad_request)?;
        Ok(faults_json(&c))
    });
    reply(&uri, StatusCode::CREATED, result)
}

async fn add_site(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let result = find(&consoles, &name).and_then(|c| c.add_site(&parse_body::<SiteSpec>(&body)?));
    reply(&uri, StatusCode::CREATED, result)
}

async fn remove_site(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path((name, site)): Path<(String, String)>,
) -> Response {
    reply(
        &uri,
        StatusCode::OK,
        find(&consoles, &name).and_then(|c| c.remove_site(&site)),
    )
}

async fn create_policy(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path((name, site)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let result =
        find(&consoles, &name).and_then(|c| c.create_policy(&site, &parse_body::<Value>(&body)?));
    reply(&uri, StatusCode::CREATED, result)
}

fn policy_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::bad_request(format!("Invalid DNS policy id '{raw}': expected a UUID"))
    })
}

async fn update_policy(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path((name, site, id)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let result = find(&consoles, &name)
        .and_then(|c| c.update_policy(&site, policy_id(&id)?, &parse_body::<Value>(&body)?));
    reply(&uri, StatusCode::OK, result)
}

async fn delete_policy(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path((name, site, id)): Path<(String, String, String)>,
) -> Response {
    let result = find(&consoles, &name).and_then(|c| {
        let removed = c.delete_policy(&site, policy_id(&id)?)?;
        Ok(removed.to_api_json(c.version()))
    });
    reply(&uri, StatusCode::OK, result)
}

async fn connect_client(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path((name, site)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let result = find(&consoles, &name)
        .and_then(|c| c.connect_client(&site, &parse_body::<ClientSpec>(&body)?));
    reply(&uri, StatusCode::CREATED, result)
}

async fn disconnect_client(
    State(consoles): State<Consoles>,
    uri: OriginalUri,
    Path((name, site, client)): Path<(String, String, String)>,
) -> Response {
    reply(
        &uri,
        StatusCode::OK,
        find(&consoles, &name).and_then(|c| c.disconnect_client(&site, &client)),
    )
}
