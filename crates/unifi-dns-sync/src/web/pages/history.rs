//! `/history?site=&domain=&status=&since=&run=&page=`: sync events, newest first, with filters
//! (a GET form) and paging (newer/older links).

use std::collections::HashSet;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use time::OffsetDateTime;
use unifi_dns_sync_store::{EventQuery, EventStatus, Site};

use super::matrix::domain_glob;
use super::view::{EventRow, event_rows, link};
use super::{Chrome, PageError, html, param};
use crate::web::AppState;
use crate::web::placement::{Sites, matching_sites};

pub(super) const PAGE_SIZE: u32 = 50;
const MAX_PAGE: u32 = 100_000;

#[derive(Deserialize)]
pub(super) struct HistoryQuery {
    site: Option<String>,
    domain: Option<String>,
    status: Option<String>,
    since: Option<String>,
    run: Option<String>,
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    chrome: Chrome,
    domain: String,
    since: String,
    run: String,
    /// (label, selected)
    site_options: Vec<(String, bool)>,
    /// (status, selected)
    status_options: Vec<(&'static str, bool)>,
    events: Vec<EventRow>,
    page: u32,
    first: u64,
    last: u64,
    newer: Option<String>,
    older: Option<String>,
    filtered: bool,
}

/// The one site a `controller/site` selector ([`matching_sites`]) names.
fn select_site<'a>(sites: &'a [Site], selector: &str) -> Result<&'a Site, PageError> {
    match matching_sites(sites, selector).as_slice() {
        [one] => Ok(one),
        [] => Err(PageError::bad_param(
            "site",
            format!(
                "no site matches {selector:?}; write controller/site with the site's internalReference, name or UUID, e.g. hq/default"
            ),
        )),
        many => Err(PageError::bad_param(
            "site",
            format!(
                "{selector:?} matches several sites ({}); write controller/site",
                many.iter()
                    .map(|s| s.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn since(raw: &str) -> Result<OffsetDateTime, PageError> {
    crate::duration::parse_since(raw, OffsetDateTime::now_utc())
        .map_err(|e| PageError::bad_param("since", e))
}

fn positive(name: &str, raw: &str, max: i64) -> Result<i64, PageError> {
    match raw.parse::<i64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(PageError::bad_param(
            name,
            format!("{raw:?} is not a whole number from 1 to {max}"),
        )),
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(q) = query.map_err(|e| PageError::query(e, "/history"))?;
    let back = |e: PageError| e.back("/history", "Show all events");
    let store = state.store();
    let sites = Sites::new(store.sites().await?, state.engine.config());
    let rows: Vec<Site> = sites.iter().map(|s| s.site.clone()).collect();

    let site = param(&q.site)
        .map(|s| select_site(&rows, s))
        .transpose()
        .map_err(back)?;
    let domain = param(&q.domain)
        .map(domain_glob)
        .transpose()
        .map_err(back)?;
    let status = param(&q.status)
        .map(|s| {
            s.parse::<EventStatus>().map_err(|_| {
                PageError::bad_param(
                    "status",
                    format!(
                        "{s:?} is not an event status; use one of {}",
                        EventStatus::ALL
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
        })
        .transpose()
        .map_err(back)?;
    let since_at = param(&q.since).map(since).transpose().map_err(back)?;
    let run = param(&q.run)
        .map(|r| positive("run", r, i64::MAX))
        .transpose()
        .map_err(back)?;
    let page = param(&q.page)
        .map(|p| positive("page", p, i64::from(MAX_PAGE)))
        .transpose()
        .map_err(back)?
        .map(|p| p as u32)
        .unwrap_or(1);

    let query = EventQuery {
        since: since_at,
        site_id: site.map(|s| s.id),
        name_glob: domain.clone(),
        status,
        run_id: run,
        offset: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE + 1,
        ..EventQuery::default()
    };
    let mut events = store.events(&query).await?;
    let has_older = events.len() > PAGE_SIZE as usize;
    events.truncate(PAGE_SIZE as usize);

    let existing: HashSet<String> = {
        let ids: HashSet<&str> = events
            .iter()
            .filter_map(|e| e.record_id.as_deref())
            .collect();
        let mut found = HashSet::new();
        for id in ids {
            if store.record(id).await?.is_some() {
                found.insert(id.to_owned());
            }
        }
        found
    };
    let record_exists = |id: &str| existing.contains(id);

    let site_text = site.map(|s| s.label()).unwrap_or_default();
    let domain_text = domain.unwrap_or_default();
    let status_text = status.map(|s| s.as_str().to_owned()).unwrap_or_default();
    let since_text = param(&q.since).unwrap_or_default().to_owned();
    let run_text = run.map(|r| r.to_string()).unwrap_or_default();
    let page_link = |p: u32| {
        let p = if p > 1 { p.to_string() } else { String::new() };
        link(
            "/history",
            &[
                ("site", &site_text),
                ("domain", &domain_text),
                ("status", &status_text),
                ("since", &since_text),
                ("run", &run_text),
                ("page", &p),
            ],
        )
    };
    let offset = u64::from((page - 1) * PAGE_SIZE);
    let page_view = HistoryPage {
        chrome: Chrome::new(&state, "History", "history"),
        site_options: rows
            .iter()
            .map(|s| (s.label(), s.label() == site_text))
            .collect(),
        status_options: EventStatus::ALL
            .iter()
            .map(|s| (s.as_str(), Some(*s) == status))
            .collect(),
        first: offset + 1,
        last: offset + events.len() as u64,
        events: event_rows(&events, &sites.labels, &record_exists),
        page,
        newer: (page > 1).then(|| page_link(page - 1)),
        older: has_older.then(|| page_link(page + 1)),
        filtered: site.is_some()
            || !domain_text.is_empty()
            || status.is_some()
            || since_at.is_some()
            || run.is_some(),
        domain: domain_text.clone(),
        since: since_text.clone(),
        run: run_text.clone(),
    };
    Ok(html(StatusCode::OK, &page_view))
}
