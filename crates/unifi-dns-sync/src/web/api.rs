//! The JSON API under `/api/v1/` (SPEC §7): read endpoints over the database, the daemon's
//! health and the current plan. `POST /api/v1/sync` lives in the parent module.
//!
//! Every answer is `application/json`; every error is `{"error": "…"}` with its status (400 for
//! a bad query parameter, naming it; 404 for an unknown record; 405 for another method; 409 for
//! a plan while a cycle runs; 500 for a database failure). The document in
//! `docs/api/openapi.json` describes every route and shape, and a test checks it against this
//! router. Query parameters are checked strictly: an unknown parameter, a repeated one or a bad
//! value is a 400, so a typo never silently widens a listing; an empty value counts as absent
//! (what an HTML form sends for an empty field).
//!
//! A record's state on each site (`/records`, `/records/{id}`) comes from
//! [`super::placement`], the model the dashboard pages render too; this module only turns it
//! into JSON.
//!
//! No answer carries a secret: controllers show the key's fingerprint (first 12 hex digits of
//! its SHA-256), never the key, and a URL's password is redacted.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use serde::Serialize;
use time::OffsetDateTime;
use unifi_dns_sync_store::{Event, EventQuery, EventStatus, OriginKind, Run, Site, StoredRecord};

use super::placement::{
    Placement, SiteInfo, Sites, State as PlacementState, held_on, listing_order, matching_sites,
    record_matches, state_on,
};
use super::{ApiError, AppState};
use crate::config::{Config, TlsMode, redact_url_password};
use crate::record_type::RecordType;

/// Records per page of `/records`: default and maximum.
const RECORDS_LIMIT: (u32, u32) = (100, 1000);
/// Events per page of `/events`: default (as `history`) and maximum.
const EVENTS_LIMIT: (u32, u32) = (50, 1000);
/// Runs in `/runs`: default and maximum.
const RUNS_LIMIT: (u32, u32) = (20, 500);
/// Events shown with one record (`/records/{id}`); the rest via `/events?record=`.
const RECORD_EVENTS: u32 = 100;
/// How many recent runs `status` looks through for the last one that was not a dry run.
const LAST_RUN_SCAN: u32 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/status", only_get(status))
        .route("/api/v1/controllers", only_get(controllers))
        .route("/api/v1/sites", only_get(sites))
        .route("/api/v1/records", only_get(records))
        .route("/api/v1/records/{id}", only_get(record))
        .route("/api/v1/events", only_get(events))
        .route("/api/v1/runs", only_get(runs))
        .route("/api/v1/plan", only_get(plan))
}

/// A GET route whose other methods answer a JSON 405 with `Allow`.
fn only_get<H, T>(handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    get(handler).fallback(|| async { method_not_allowed("GET, HEAD") })
}

/// A JSON 405 naming the allowed methods (also used for `POST /api/v1/sync`).
pub(super) fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method not allowed: this endpoint answers {allow}"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

// ---------------------------------------------------------------------------------------------
// Query parameters

type RawQuery = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The query parameters of one request, checked against what the endpoint accepts.
struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    fn parse(raw: RawQuery, accepted: &[&str]) -> Result<Params, ApiError> {
        let Query(pairs) = raw.map_err(|e| {
            ApiError::bad_request(format!("invalid query string: {}", e.body_text()))
        })?;
        let mut seen = BTreeSet::new();
        let mut values = BTreeMap::new();
        for (key, value) in pairs {
            if !accepted.contains(&key.as_str()) {
                let what = if accepted.is_empty() {
                    "this endpoint takes no parameters".to_owned()
                } else {
                    format!("this endpoint accepts: {}", accepted.join(", "))
                };
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{key}`: {what}"
                )));
            }
            if !seen.insert(key.clone()) {
                return Err(ApiError::bad_request(format!(
                    "query parameter `{key}` is given more than once"
                )));
            }
            let value = value.trim();
            if !value.is_empty() {
                values.insert(key, value.to_owned());
            }
        }
        Ok(Params { values })
    }

    fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A whole number in `min..=max`, `default` when absent.
    fn number<T>(&self, name: &str, default: T, min: T, max: T) -> Result<T, ApiError>
    where
        T: FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(text) = self.text(name) else {
            return Ok(default);
        };
        match text.parse::<T>() {
            Ok(n) if n >= min && n <= max => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "`{name}` must be a whole number from {min} to {max}, not {text:?}"
            ))),
        }
    }

    fn limit(&self, (default, max): (u32, u32)) -> Result<u32, ApiError> {
        self.number("limit", default, 1, max)
    }
}

/// The ids of the sites a `controller/site` selector names ([`matching_sites`]); none is a 400
/// naming `param`.
fn select_sites<'a>(
    sites: impl IntoIterator<Item = &'a Site>,
    param: &str,
    selector: &str,
) -> Result<BTreeSet<i64>, ApiError> {
    let found: BTreeSet<i64> = matching_sites(sites, selector)
        .iter()
        .map(|s| s.id)
        .collect();
    if found.is_empty() {
        return Err(ApiError::bad_request(format!(
            "`{param}`: no site matches {selector:?}: write controller/site with the site's internalReference, name or UUID (see /api/v1/sites)"
        )));
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// Controllers and sites

/// A controller as the API shows it: configuration plus what the last contact found.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ControllerView {
    pub name: String,
    /// The console URL (a password in it is redacted).
    pub url: String,
    /// Network application version reported by the console.
    pub version: Option<String>,
    /// First 12 hex digits of `sha256(api key)`; never the key.
    pub key_fingerprint: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_contact: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    /// `true` when the last contact worked, `false` when it failed, `null` before any.
    pub reachable: Option<bool>,
    /// `verify`, `ca_file`, `fingerprint` or `insecure`.
    pub tls: &'static str,
    /// `tls = "insecure"`: certificates are not checked.
    pub insecure_tls: bool,
    /// Whether the controller is in the configuration (a removed one stays in the database).
    pub configured: bool,
}

/// A site as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SiteView {
    pub id: i64,
    /// `controller/internalReference`.
    pub site: String,
    pub controller: String,
    pub internal_reference: String,
    pub name: String,
    pub uuid: String,
    /// Selected by the controller's `sites` / `exclude_sites` and still listed.
    pub managed: bool,
    /// The controller no longer lists it.
    pub removed: bool,
    /// Last complete read.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_synced: Option<OffsetDateTime>,
    /// Last read attempt, complete or not.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_read_at: Option<OffsetDateTime>,
    pub last_read_complete: bool,
    pub last_error: Option<String>,
    /// Whether the console serves DNS policies (Network ≥ 10.1.68); `null` = not known yet.
    pub dns_policies: Option<bool>,
    /// Active copies this service owns on the site.
    pub copies: i64,
    /// Copies being created (registry rows without a policy id yet).
    pub pending: i64,
    /// Open conflicts (including refusals by the console).
    pub conflicts: i64,
    /// Deletes withheld by the deletion threshold in the last plan.
    pub withheld_deletes: i64,
}

fn tls_name(tls: &TlsMode) -> &'static str {
    match tls {
        TlsMode::Verify => "verify",
        TlsMode::CaFile(_) => "ca_file",
        TlsMode::Fingerprint(_) => "fingerprint",
        TlsMode::Insecure => "insecure",
    }
}

/// Configured controllers first (in configuration order), then any the database still knows.
pub(crate) async fn controller_views(state: &AppState) -> Result<Vec<ControllerView>, ApiError> {
    let config = state.engine.config();
    let mut stored: BTreeMap<String, unifi_dns_sync_store::ControllerState> = state
        .store()
        .controllers()
        .await?
        .into_iter()
        .map(|c| (c.name.clone(), c))
        .collect();
    let reachable =
        |c: &unifi_dns_sync_store::ControllerState| match (&c.last_error, c.last_contact) {
            (Some(_), _) => Some(false),
            (None, Some(_)) => Some(true),
            (None, None) => None,
        };
    let mut out: Vec<ControllerView> = config
        .controllers
        .iter()
        .map(|c| {
            let s = stored.remove(&c.name);
            ControllerView {
                name: c.name.clone(),
                url: redact_url_password(&c.url),
                version: s.as_ref().and_then(|s| s.app_version.clone()),
                key_fingerprint: Some(
                    s.as_ref()
                        .and_then(|s| s.key_fingerprint.clone())
                        .unwrap_or_else(|| c.api_key.fingerprint()),
                ),
                last_contact: s.as_ref().and_then(|s| s.last_contact),
                last_error: s.as_ref().and_then(|s| s.last_error.clone()),
                reachable: s.as_ref().and_then(reachable),
                tls: tls_name(&c.tls),
                insecure_tls: c.tls == TlsMode::Insecure,
                configured: true,
            }
        })
        .collect();
    out.extend(stored.into_values().map(|s| ControllerView {
        reachable: reachable(&s),
        url: redact_url_password(&s.url),
        name: s.name,
        version: s.app_version,
        key_fingerprint: s.key_fingerprint,
        last_contact: s.last_contact,
        last_error: s.last_error,
        tls: "unknown",
        insecure_tls: false,
        configured: false,
    }));
    Ok(out)
}

/// Every site the database knows (managed or not, removed included), by controller then id.
pub(crate) async fn site_views(state: &AppState) -> Result<Vec<SiteView>, ApiError> {
    let store = state.store();
    let sites = Sites::new(store.sites().await?, state.engine.config());
    let counts = store.counts().await?;
    Ok(sites
        .in_store_order()
        .map(|info| {
            let s = &info.site;
            let held = held_on(&counts, s.id);
            SiteView {
                id: s.id,
                site: s.label(),
                controller: s.controller.clone(),
                internal_reference: s.internal_reference.clone(),
                name: s.name.clone(),
                uuid: s.uuid.clone(),
                managed: info.managed,
                removed: s.is_removed(),
                last_synced: s.last_synced,
                last_read_at: s.last_read_at,
                last_read_complete: s.last_read_complete,
                last_error: s.last_error.clone(),
                dns_policies: s.policy_support,
                copies: held.copies,
                pending: held.pending,
                conflicts: held.conflicts,
                withheld_deletes: s.withheld_deletes,
            }
        })
        .collect())
}

#[derive(Debug, Serialize)]
struct ControllersAnswer {
    controllers: Vec<ControllerView>,
}

#[derive(Debug, Serialize)]
struct SitesAnswer {
    sites: Vec<SiteView>,
}

async fn controllers(
    State(state): State<AppState>,
    q: RawQuery,
) -> Result<Json<ControllersAnswer>, ApiError> {
    Params::parse(q, &[])?;
    Ok(Json(ControllersAnswer {
        controllers: controller_views(&state).await?,
    }))
}

async fn sites(State(state): State<AppState>, q: RawQuery) -> Result<Json<SitesAnswer>, ApiError> {
    Params::parse(q, &[])?;
    Ok(Json(SitesAnswer {
        sites: site_views(&state).await?,
    }))
}

// ---------------------------------------------------------------------------------------------
// Status

#[derive(Debug, Serialize)]
pub(crate) struct SyncSettingsView {
    /// `sync`, `upsert-only` or `create-only`.
    pub mode: &'static str,
    /// The daemon's cycle interval in seconds.
    pub interval_seconds: u64,
    pub record_types: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct StatusView {
    /// The service version.
    pub version: &'static str,
    /// `/readyz`: at least one cycle has finished.
    pub ready: bool,
    /// A cycle (or the plan's dry run) is running now.
    pub running: bool,
    pub sync: SyncSettingsView,
    pub controllers: Vec<ControllerView>,
    pub sites: Vec<SiteView>,
    /// The most recent run that was not a dry run, finished or still running (the plan's dry
    /// runs are in `/runs`).
    pub last_run: Option<Run>,
    /// Records known, in total and by type.
    pub records: i64,
    pub records_by_type: BTreeMap<String, i64>,
    /// Open conflicts over all sites.
    pub conflicts: i64,
    /// Withheld deletes over all sites.
    pub withheld_deletes: i64,
    /// Names of controllers with `tls = "insecure"`.
    pub insecure_tls: Vec<String>,
}

pub(crate) async fn status_view(state: &AppState) -> Result<StatusView, ApiError> {
    let store = state.store();
    let controllers = controller_views(state).await?;
    let sites = site_views(state).await?;
    let counts = store.counts().await?;
    let last_run = store
        .last_runs(LAST_RUN_SCAN)
        .await?
        .into_iter()
        .find(|r| !r.dry_run);
    let config = state.engine.config();
    Ok(StatusView {
        version: env!("CARGO_PKG_VERSION"),
        ready: state.health.ready(),
        running: state.engine.is_running() || state.health.is_running(),
        sync: SyncSettingsView {
            mode: config.sync.mode.as_str(),
            interval_seconds: config.sync.interval.as_secs(),
            record_types: config
                .sync
                .record_types
                .iter()
                .map(|t| t.as_str())
                .collect(),
        },
        insecure_tls: controllers
            .iter()
            .filter(|c| c.insecure_tls)
            .map(|c| c.name.clone())
            .collect(),
        records: counts.records(),
        records_by_type: counts.records_by_type.clone(),
        conflicts: sites.iter().map(|s| s.conflicts).sum(),
        withheld_deletes: sites.iter().map(|s| s.withheld_deletes).sum(),
        controllers,
        sites,
        last_run,
    })
}

async fn status(State(state): State<AppState>, q: RawQuery) -> Result<Json<StatusView>, ApiError> {
    Params::parse(q, &[])?;
    Ok(Json(status_view(&state).await?))
}

// ---------------------------------------------------------------------------------------------
// Records

#[derive(Debug, Clone, Serialize)]
pub(crate) struct OriginView {
    pub site_id: i64,
    pub site: String,
    /// `POLICY` or `CLIENT`.
    pub kind: OriginKind,
    /// The policy id or the client's MAC.
    pub source_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
}

/// What one site has of one record.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SiteStateView {
    pub site_id: i64,
    pub site: String,
    /// `origin` (native there), `present` (our copy), `pending` (copy being created),
    /// `conflict` (see `reason`), `skipped` (refused by the console, see `code`), `missing`
    /// (wanted, no copy yet: the next cycle creates it), `unsupported` (wanted, but the
    /// console has no DNS policies) or `not_wanted`.
    pub state: &'static str,
    /// Whether the configuration wants a copy there (publish/receive, domain filters, types;
    /// competing origins and shadowing show as conflicts). A `present` copy that is not wanted
    /// is deleted by the next cycle (or withheld by the threshold).
    pub wanted: bool,
    pub reason: Option<String>,
    pub code: Option<String>,
    pub detail: Option<String>,
    /// When the conflict started.
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    /// Our copy's policy id on the console (none while pending).
    pub policy_id: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub copy_created_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub copy_verified_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct RecordView {
    pub id: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub name: String,
    pub value: String,
    pub ttl: Option<i64>,
    pub enabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub origins: Vec<OriginView>,
    /// Every managed site (plus any other site holding a copy or a conflict of it).
    pub sites: Vec<SiteStateView>,
}

/// Sites, copies and conflicts ([`super::placement`]), to tell each record's state on every
/// site.
pub(crate) struct Landscape<'a> {
    config: &'a Config,
    sites: Sites,
    placement: Placement,
}

impl<'a> Landscape<'a> {
    async fn load(state: &'a AppState, record: Option<&str>) -> Result<Landscape<'a>, ApiError> {
        let store = state.store();
        let config = state.engine.config();
        Ok(Landscape {
            config,
            sites: Sites::new(store.sites().await?, config),
            placement: Placement::load(store, record).await?,
        })
    }

    /// Whether `r` involves one of `sites`: native there, or a site has (or should have) a copy
    /// or a conflict of it — every state but `not_wanted` and `unsupported`.
    fn involves(&self, r: &StoredRecord, sites: &BTreeSet<i64>) -> bool {
        sites
            .iter()
            .filter_map(|id| self.sites.get(*id))
            .any(|site| {
                !matches!(
                    state_on(r, site, &self.sites, &self.placement, self.config).state,
                    PlacementState::NotWanted | PlacementState::Unsupported
                )
            })
    }

    /// The record's state on one site, as the API shows it.
    fn state_on(&self, r: &StoredRecord, site: &SiteInfo) -> SiteStateView {
        let st = state_on(r, site, &self.sites, &self.placement, self.config);
        let (state, conflict) = match st.state {
            PlacementState::Origin(_) => ("origin", None),
            PlacementState::Conflict(c) => ("conflict", Some(c)),
            PlacementState::Skipped(c, _) => ("skipped", Some(c)),
            PlacementState::Present(_) => ("present", None),
            PlacementState::Pending(_) => ("pending", None),
            PlacementState::Missing => ("missing", None),
            PlacementState::Unsupported => ("unsupported", None),
            PlacementState::NotWanted => ("not_wanted", None),
        };
        SiteStateView {
            site_id: site.site.id,
            site: site.site.label(),
            state,
            wanted: st.wanted.is_ok(),
            reason: conflict.map(|c| c.reason.clone()),
            code: conflict.and_then(|c| c.code.clone()),
            detail: conflict.and_then(|c| c.detail.clone()),
            since: conflict.map(|c| c.since),
            policy_id: st.copy.and_then(|c| c.policy_id.clone()),
            copy_created_at: st.copy.map(|c| c.created_at),
            copy_verified_at: st.copy.and_then(|c| c.verified_at),
        }
    }

    /// Every managed site (in the store's order), then the other sites still holding a copy or
    /// a conflict of it (by id).
    fn site_states(&self, r: &StoredRecord) -> Vec<SiteStateView> {
        let mut others: Vec<&SiteInfo> = self
            .sites
            .leftovers(&r.record.id, &self.placement)
            .collect();
        others.sort_by_key(|s| s.site.id);
        self.sites
            .in_store_order()
            .filter(|s| s.managed)
            .chain(others)
            .map(|s| self.state_on(r, s))
            .collect()
    }

    fn view(&self, r: &StoredRecord) -> RecordView {
        RecordView {
            id: r.record.id.clone(),
            rtype: r.record.rtype.clone(),
            name: r.record.name.clone(),
            value: r.record.value.clone(),
            ttl: r.record.ttl,
            enabled: r.record.enabled,
            first_seen: r.first_seen,
            updated_at: r.updated_at,
            origins: r
                .origins
                .iter()
                .map(|o| OriginView {
                    site_id: o.site_id,
                    site: self.sites.label(o.site_id),
                    kind: o.kind,
                    source_id: o.source_id.clone(),
                    first_seen: o.first_seen,
                    last_seen: o.last_seen,
                })
                .collect(),
            sites: self.site_states(r),
        }
    }
}

#[derive(Debug, Serialize)]
struct RecordsAnswer {
    /// Records matching the filters (all pages).
    total: usize,
    offset: u32,
    limit: u32,
    records: Vec<RecordView>,
}

/// `GET /api/v1/records?site=&domain=&type=&limit=&offset=`, ordered by name, type, value.
async fn records(
    State(state): State<AppState>,
    q: RawQuery,
) -> Result<Json<RecordsAnswer>, ApiError> {
    let p = Params::parse(q, &["site", "domain", "type", "limit", "offset"])?;
    let limit = p.limit(RECORDS_LIMIT)?;
    let offset = p.number("offset", 0u32, 0, u32::MAX)?;
    let rtype = match p.text("type") {
        Some(t) => Some(RecordType::from_str(t).map_err(|_| {
            ApiError::bad_request(format!(
                "`type`: unknown record type {t:?} (expected one of: {})",
                RecordType::ALL.map(|t| t.as_str()).join(", ")
            ))
        })?),
        None => None,
    };
    let domain = p.text("domain");
    let land = Landscape::load(&state, None).await?;
    let selected = match p.text("site") {
        Some(sel) => Some(select_sites(
            land.sites.iter().map(|s| &s.site),
            "site",
            sel,
        )?),
        None => None,
    };
    let mut records = state.store().records_with_origins().await?;
    records.retain(|r| record_matches(r, domain, rtype));
    records.sort_by(listing_order);
    let mut views: Vec<RecordView> = Vec::new();
    let mut total = 0usize;
    for r in &records {
        if selected.as_ref().is_some_and(|sel| !land.involves(r, sel)) {
            continue;
        }
        if total >= offset as usize && views.len() < limit as usize {
            views.push(land.view(r));
        }
        total += 1;
    }
    Ok(Json(RecordsAnswer {
        total,
        offset,
        limit,
        records: views,
    }))
}

#[derive(Debug, Serialize)]
struct RecordAnswer {
    #[serde(flatten)]
    record: RecordView,
    /// The origin policy's fields as the console returned them (no `id`, no `metadata`).
    raw: serde_json::Value,
    /// The record's sync events, newest first (at most 100; see `more_events`).
    events: Vec<Event>,
    /// More events exist: page through `/api/v1/events?record=ID&before=…`.
    more_events: bool,
}

async fn record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: RawQuery,
) -> Result<Json<RecordAnswer>, ApiError> {
    Params::parse(q, &[])?;
    let id = id.trim().to_ascii_lowercase();
    let Some(r) = state.store().record(&id).await? else {
        return Err(ApiError::not_found(format!(
            "no record with id {id:?}: ids are the 64 hex digits that /api/v1/records lists (a removed record's history is at /api/v1/events?record=ID)"
        )));
    };
    let land = Landscape::load(&state, Some(&id)).await?;
    let mut events = state
        .store()
        .events(&EventQuery {
            record_id: Some(id.clone()),
            limit: RECORD_EVENTS + 1,
            ..EventQuery::default()
        })
        .await?;
    let more_events = events.len() > RECORD_EVENTS as usize;
    events.truncate(RECORD_EVENTS as usize);
    Ok(Json(RecordAnswer {
        record: land.view(&r),
        raw: r.record.raw.clone(),
        events,
        more_events,
    }))
}

// ---------------------------------------------------------------------------------------------
// Events and runs

#[derive(Debug, Serialize)]
struct EventsAnswer {
    events: Vec<Event>,
    limit: u32,
    /// Pass as `before` for the next (older) page; `null` on the last page.
    next_before: Option<i64>,
}

/// `since`: a duration back from now (`1h`, `7d`) or an RFC 3339 time.
fn parse_since(text: &str) -> Result<OffsetDateTime, ApiError> {
    crate::duration::parse_since(text, OffsetDateTime::now_utc())
        .map_err(|e| ApiError::bad_request(format!("`since`: {e}")))
}

/// `GET /api/v1/events`: the filters of `history`, newest first, keyset paging by `before`.
async fn events(
    State(state): State<AppState>,
    q: RawQuery,
) -> Result<Json<EventsAnswer>, ApiError> {
    let p = Params::parse(
        q,
        &[
            "since", "site", "domain", "status", "limit", "before", "record", "run",
        ],
    )?;
    let limit = p.limit(EVENTS_LIMIT)?;
    let mut query = EventQuery {
        limit: limit + 1,
        ..EventQuery::default()
    };
    if let Some(since) = p.text("since") {
        query.since = Some(parse_since(since)?);
    }
    if let Some(status) = p.text("status") {
        query.status = Some(EventStatus::from_str(status).map_err(|_| {
            ApiError::bad_request(format!(
                "`status`: unknown status {status:?} (expected one of: {})",
                EventStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?);
    }
    if p.text("before").is_some() {
        query.before_id = Some(p.number("before", 0i64, 1, i64::MAX)?);
    }
    if p.text("run").is_some() {
        query.run_id = Some(p.number("run", 0i64, 1, i64::MAX)?);
    }
    query.name_glob = p.text("domain").map(str::to_owned);
    query.record_id = p.text("record").map(str::to_ascii_lowercase);
    let mut events = match p.text("site") {
        None => state.store().events(&query).await?,
        Some(sel) => {
            let sites = state.store().sites().await?;
            let mut events = vec![];
            for id in select_sites(&sites, "site", sel)? {
                events.extend(
                    state
                        .store()
                        .events(&EventQuery {
                            site_id: Some(id),
                            ..query.clone()
                        })
                        .await?,
                );
            }
            events.sort_by_key(|e| std::cmp::Reverse(e.id));
            events
        }
    };
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    let next_before = if more {
        events.last().map(|e| e.id)
    } else {
        None
    };
    Ok(Json(EventsAnswer {
        events,
        limit,
        next_before,
    }))
}

#[derive(Debug, Serialize)]
struct RunsAnswer {
    runs: Vec<Run>,
}

/// `GET /api/v1/runs?limit=`: recent runs (dry runs included, flagged), newest first.
async fn runs(State(state): State<AppState>, q: RawQuery) -> Result<Json<RunsAnswer>, ApiError> {
    let p = Params::parse(q, &["limit"])?;
    let limit = p.limit(RUNS_LIMIT)?;
    Ok(Json(RunsAnswer {
        runs: state.store().last_runs(limit).await?,
    }))
}

/// `GET /api/v1/plan`: the current plan (a dry run, cached briefly); 409 while a cycle runs and
/// none is cached.
async fn plan(
    State(state): State<AppState>,
    q: RawQuery,
) -> Result<Json<crate::plan_view::PlanView>, ApiError> {
    Params::parse(q, &[])?;
    let (report, computed_now) = state.current_plan().await?;
    Ok(Json(crate::plan_view::plan_view(&report, computed_now)))
}
