//! `/`: controllers, sites with their health, the running state and the last runs.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use unifi_dns_sync_store::{RunOutcome, Trigger};

use super::model::read_state;
use super::view::{RunRow, When, run_row, site_href, when, when_opt};
use super::{Chrome, PageError, html};
use crate::config::{TlsMode, redact_url_password};
use crate::web::AppState;
use crate::web::placement::{Sites, held_on};

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    running: bool,
    mode: String,
    interval: String,
    record_types: String,
    last_finished: Option<When>,
    next_cycle: Option<When>,
    records: i64,
    copies: i64,
    pending: i64,
    conflicts: i64,
    withheld: i64,
    events: i64,
    controllers: Vec<ControllerRow>,
    sites: Vec<SiteRow>,
    other_sites: Vec<SiteRow>,
    withheld_sites: Vec<String>,
    warnings: Vec<String>,
    runs: Vec<RunRow>,
}

struct ControllerRow {
    name: String,
    url: String,
    state: &'static str,
    state_class: &'static str,
    error: Option<String>,
    version: String,
    fingerprint: String,
    last_contact: Option<When>,
    tls: String,
    insecure: bool,
    sites: usize,
}

pub(super) struct SiteRow {
    pub href: String,
    pub label: String,
    pub name: String,
    pub read: &'static str,
    pub read_class: &'static str,
    pub error: Option<String>,
    pub last_synced: Option<When>,
    pub policies: &'static str,
    pub policies_class: &'static str,
    pub natives: String,
    pub copies: i64,
    pub pending: i64,
    pub conflicts: i64,
    pub withheld: i64,
    pub note: Option<String>,
}

pub(super) async fn page(State(state): State<AppState>) -> Result<Response, PageError> {
    let store = state.store();
    let config = state.engine.config();
    let stored_controllers = store.controllers().await?;
    let sites = Sites::new(store.sites().await?, config);
    let counts = store.counts().await?;
    let runs = store.last_runs(12).await?;
    let report = state.health.last_report();
    let running = state.health.is_running();

    // Records native to each managed site (policies and client names), from the database.
    let mut natives: HashMap<i64, usize> = HashMap::new();
    for info in sites.managed() {
        natives.insert(
            info.site.id,
            store.origins_of_site(info.site.id).await?.len(),
        );
    }
    let failed: HashMap<&str, &str> = report
        .as_ref()
        .map(|r| {
            r.controllers_failed
                .iter()
                .map(|c| (c.controller.as_str(), c.error.as_str()))
                .collect()
        })
        .unwrap_or_default();

    let controllers = config
        .controllers
        .iter()
        .map(|c| {
            let stored = stored_controllers.iter().find(|s| s.name == c.name);
            let error = stored
                .and_then(|s| s.last_error.clone())
                .or_else(|| failed.get(c.name.as_str()).map(|e| e.to_string()));
            let (state, state_class) = match (&error, stored.and_then(|s| s.last_contact)) {
                (Some(_), _) => ("error", "bad"),
                (None, Some(_)) => ("reachable", "ok"),
                (None, None) => ("not contacted yet", "muted"),
            };
            ControllerRow {
                name: c.name.clone(),
                url: redact_url_password(&c.url),
                state,
                state_class,
                error,
                version: stored
                    .and_then(|s| s.app_version.clone())
                    .unwrap_or_else(|| "-".into()),
                fingerprint: stored
                    .and_then(|s| s.key_fingerprint.clone())
                    .unwrap_or_else(|| "-".into()),
                last_contact: when_opt(stored.and_then(|s| s.last_contact)),
                tls: match &c.tls {
                    TlsMode::Verify => "verify".into(),
                    TlsMode::CaFile(_) => "CA file".into(),
                    TlsMode::Fingerprint(_) => "pinned fingerprint".into(),
                    TlsMode::Insecure => "insecure".into(),
                },
                insecure: c.tls == TlsMode::Insecure,
                sites: sites
                    .managed()
                    .filter(|s| s.site.controller == c.name)
                    .count(),
            }
        })
        .collect();

    let mut rows = vec![];
    let mut other = vec![];
    for info in sites.iter() {
        let s = &info.site;
        let held = held_on(&counts, s.id);
        let (read, read_class) = read_state(info);
        let (policies, policies_class) = match s.policy_support {
            Some(true) => ("yes", "ok"),
            Some(false) => ("no: needs Network 10.1.68+", "bad"),
            None => ("unknown", "muted"),
        };
        let row = SiteRow {
            href: site_href(s.id),
            label: s.label(),
            name: s.name.clone(),
            read,
            read_class,
            error: s.last_error.clone(),
            last_synced: when_opt(s.last_synced),
            policies,
            policies_class,
            natives: natives
                .get(&s.id)
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            copies: held.copies,
            pending: held.pending,
            conflicts: held.conflicts,
            withheld: s.withheld_deletes,
            note: info.unmanaged_why.clone(),
        };
        if info.managed {
            rows.push(row);
        } else {
            other.push(row);
        }
    }
    let withheld_sites: Vec<String> = rows
        .iter()
        .filter(|r| r.withheld > 0)
        .map(|r| format!("{} ({})", r.label, r.withheld))
        .collect();
    let warnings = report
        .as_ref()
        .map(|r| {
            r.sites
                .iter()
                .flat_map(|s| s.warnings.iter().map(move |w| format!("{}: {w}", s.label)))
                .collect()
        })
        .unwrap_or_default();

    // The loop sleeps `interval` after each of its cycles; /plan's dry runs are not its own.
    let last_loop_run = runs.iter().find(|r| {
        r.finished_at.is_some()
            && r.trigger != Trigger::Cli
            && !(r.trigger == Trigger::Manual && r.dry_run)
            && r.outcome != Some(RunOutcome::Interrupted)
    });
    let interval = time::Duration::try_from(config.sync.interval).unwrap_or(time::Duration::ZERO);
    let next_cycle = if running {
        None
    } else {
        last_loop_run
            .and_then(|r| r.finished_at)
            .map(|f| when(f + interval))
    };

    let page = OverviewPage {
        chrome: Chrome::new(&state, "Overview", "overview"),
        running,
        mode: config.sync.mode.to_string(),
        interval: crate::duration::format_duration(config.sync.interval),
        record_types: config
            .sync
            .record_types
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        last_finished: when_opt(
            runs.iter()
                .find(|r| r.finished_at.is_some() && !r.dry_run)
                .and_then(|r| r.finished_at),
        ),
        next_cycle,
        records: counts.records(),
        copies: counts.copies_by_site.values().map(|c| c.active).sum(),
        pending: counts.copies_by_site.values().map(|c| c.pending).sum(),
        conflicts: counts.conflicts_by_site.values().sum(),
        withheld: rows.iter().map(|r| r.withheld).sum(),
        events: counts.events,
        controllers,
        sites: rows,
        other_sites: other,
        withheld_sites,
        warnings,
        runs: runs.iter().map(run_row).collect(),
    };
    Ok(html(StatusCode::OK, &page))
}
