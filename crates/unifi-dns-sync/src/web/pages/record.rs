//! `/records/{id}`: one record: its data, its origins, its state on every managed site (with the
//! reason when it is not there), and its events.
//!
//! A record that no longer exists but has events (it was withdrawn everywhere) still gets a page
//! with its history; an id nothing knows is a 404.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use unifi_dns_sync_store::EventQuery;

use super::model::{Kind, copy_state, leftover_state, origin_source};
use super::view::{EventRow, When, event_rows, link, site_href, when};
use super::{Chrome, PageError, html};
use crate::web::AppState;
use crate::web::placement::{Placement, Sites};

const EVENTS: u32 = 100;

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    chrome: Chrome,
    id: String,
    rtype: String,
    name: String,
    value: String,
    ttl: String,
    enabled: bool,
    exists: bool,
    first_seen: Option<When>,
    updated_at: Option<When>,
    raw: String,
    origins: Vec<OriginRow>,
    states: Vec<StateRow>,
    /// How many sites are in each state: (label, class, count).
    tally: Vec<(&'static str, &'static str, usize)>,
    events: Vec<EventRow>,
    history_href: String,
}

struct OriginRow {
    site: String,
    site_href: String,
    site_name: String,
    kind: String,
    source: String,
    first_seen: When,
    last_seen: When,
}

struct StateRow {
    kind: Kind,
    site: String,
    site_href: String,
    site_name: String,
    label: &'static str,
    class: &'static str,
    detail: String,
}

fn is_record_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub(super) async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let unknown = || {
        PageError::not_found(format!(
            "There is no record with id {id:?}. Record ids are the SHA-256 of type|name|value; the matrix links every record."
        ))
        .back("/matrix", "Go to the matrix")
    };
    if !is_record_id(&id) {
        return Err(unknown());
    }
    let store = state.store();
    let config = state.engine.config();
    let record = store.record(&id).await?;
    let events = store
        .events(&EventQuery {
            record_id: Some(id.clone()),
            limit: EVENTS,
            ..EventQuery::default()
        })
        .await?;
    if record.is_none() && events.is_empty() {
        return Err(unknown());
    }
    let sites = Sites::new(store.sites().await?, config);
    let exists = record.is_some();
    let record_exists = |rid: &str| exists && rid == id;
    let event_rows = event_rows(&events, &sites.labels, &record_exists);

    let mut page = RecordPage {
        chrome: Chrome::new(&state, "Record", ""),
        id: id.clone(),
        rtype: String::new(),
        name: String::new(),
        value: String::new(),
        ttl: "-".into(),
        enabled: true,
        exists,
        first_seen: None,
        updated_at: None,
        raw: String::new(),
        origins: vec![],
        states: vec![],
        tally: vec![],
        events: event_rows,
        history_href: String::new(),
    };

    match &record {
        None => {
            // Gone: show what the newest event remembers.
            let last = &events[0];
            page.rtype = last.rtype.clone().unwrap_or_default();
            page.name = last.name.clone().unwrap_or_default();
            page.value = last.value.clone().unwrap_or_default();
        }
        Some(r) => {
            let placement = Placement::load(store, Some(&id)).await?;
            page.rtype = r.record.rtype.clone();
            page.name = r.record.name.clone();
            page.value = r.record.value.clone();
            page.ttl = match r.record.ttl {
                Some(0) => "0 (Auto)".into(),
                Some(t) => format!("{t} s"),
                None => "-".into(),
            };
            page.enabled = r.record.enabled;
            page.first_seen = Some(when(r.first_seen));
            page.updated_at = Some(when(r.updated_at));
            page.raw = serde_json::to_string_pretty(&r.record.raw).unwrap_or_default();
            page.origins = r
                .origins
                .iter()
                .map(|o| {
                    let site = sites.get(o.site_id);
                    // Present in the site's last complete read = seen then.
                    let last_seen = match site.and_then(|s| s.site.last_synced) {
                        Some(read) if read > o.last_seen => read,
                        _ => o.last_seen,
                    };
                    OriginRow {
                        site: sites.label(o.site_id),
                        site_href: site_href(o.site_id),
                        site_name: site.map(|s| s.site.name.clone()).unwrap_or_default(),
                        kind: o.kind.to_string(),
                        source: origin_source(o),
                        first_seen: when(o.first_seen),
                        last_seen: when(last_seen),
                    }
                })
                .collect();
            let managed = sites
                .managed()
                .map(|target| (target, copy_state(r, target, &sites, &placement, config)));
            // Copies or conflicts left on sites that are no longer managed.
            let leftovers = sites.leftovers(&id, &placement).filter_map(|other| {
                leftover_state(r, other, &sites, &placement, config).map(|cell| (other, cell))
            });
            for (target, cell) in managed.chain(leftovers) {
                page.states.push(StateRow {
                    kind: cell.kind,
                    site: target.site.label(),
                    site_href: site_href(target.site.id),
                    site_name: target.site.name.clone(),
                    label: cell.label,
                    class: cell.class,
                    detail: cell.detail,
                });
            }
            for (kind, label) in [
                (Kind::Origin, "origin"),
                (Kind::Copied, "copied"),
                (Kind::Pending, "pending"),
                (Kind::Conflict, "conflict"),
                (Kind::Skipped, "skipped"),
                (Kind::NotWanted, "not wanted"),
            ] {
                let n = page.states.iter().filter(|s| s.kind == kind).count();
                if n > 0 {
                    page.tally.push((label, kind.class(), n));
                }
            }
        }
    }
    page.chrome.title = format!("{} {}", page.rtype, page.name);
    page.history_href = link("/history", &[("domain", &page.name)]);
    Ok(html(StatusCode::OK, &page))
}
