//! `/sites/{id}`: one site: its settings, health, native records, the copies it holds, its
//! conflicts and its recent events.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use time::OffsetDateTime;
use unifi_dns_sync_store::{CopyState, EventQuery, StoredRecord};

use super::model::{conflict_reason, origin_source, read_state};
use super::view::{EventRow, When, event_rows, link, name_sites, record_href, when, when_opt};
use super::{Chrome, PageError, html};
use crate::web::AppState;
use crate::web::placement::Sites;

/// Events shown on the page (the rest is one click away in the history).
const EVENTS: u32 = 30;

#[derive(Template)]
#[template(path = "site.html")]
struct SitePage {
    chrome: Chrome,
    label: String,
    name: String,
    uuid: String,
    controller: String,
    managed: bool,
    unmanaged_why: Option<String>,
    removed: Option<When>,
    settings: Vec<(String, String)>,
    read: &'static str,
    read_class: &'static str,
    last_error: Option<String>,
    last_synced: Option<When>,
    last_read_at: Option<When>,
    first_seen: When,
    policies: &'static str,
    policies_class: &'static str,
    withheld: i64,
    warnings: Vec<String>,
    natives: Vec<NativeRow>,
    copies: Vec<CopyRow>,
    conflicts: Vec<ConflictRow>,
    events: Vec<EventRow>,
    history_href: String,
}

struct RecordCols {
    href: String,
    rtype: String,
    name: String,
    value: String,
    disabled: bool,
}

fn record_cols(id: &str, records: &HashMap<&str, &StoredRecord>) -> RecordCols {
    match records.get(id) {
        Some(r) => RecordCols {
            href: record_href(id),
            rtype: r.record.rtype.clone(),
            name: r.record.name.clone(),
            value: r.record.value.clone(),
            disabled: !r.record.enabled,
        },
        None => RecordCols {
            href: record_href(id),
            rtype: "?".into(),
            name: id.chars().take(12).collect(),
            value: String::new(),
            disabled: false,
        },
    }
}

struct NativeRow {
    record: RecordCols,
    kind: String,
    source: String,
    first_seen: When,
    last_seen: When,
    copied_to: usize,
}

struct CopyRow {
    record: RecordCols,
    state: &'static str,
    state_class: &'static str,
    policy_id: String,
    source: String,
    source_href: Option<String>,
    created: When,
    verified: Option<When>,
}

struct ConflictRow {
    record: RecordCols,
    reason: String,
    code: Option<String>,
    detail: String,
    since: When,
}

/// Parses a site id from the path; anything else is an unknown site.
fn site_id(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>().map_err(|_| {
        PageError::not_found(format!(
            "There is no site with id {raw:?}: site pages are /sites/<number>; the overview links every site."
        ))
        .back("/", "Go to the overview")
    })
}

pub(super) async fn page(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = site_id(&raw)?;
    let store = state.store();
    let config = state.engine.config();
    let sites = Sites::new(store.sites().await?, config);
    let Some(info) = sites.get(id) else {
        return Err(
            PageError::not_found(format!("There is no site with id {id}."))
                .back("/", "Go to the overview"),
        );
    };
    let site = &info.site;
    let all_records = store.records_with_origins().await?;
    let records: HashMap<&str, &StoredRecord> = all_records
        .iter()
        .map(|r| (r.record.id.as_str(), r))
        .collect();
    let all_copies = store.all_copies().await?;
    let mut copied_to: HashMap<&str, usize> = HashMap::new();
    for c in &all_copies {
        *copied_to.entry(c.record_id.as_str()).or_default() += 1;
    }
    let origins = store.origins_of_site(id).await?;
    let conflicts = store.open_conflicts(id).await?;
    let events = store
        .events(&EventQuery {
            site_id: Some(id),
            limit: EVENTS,
            ..EventQuery::default()
        })
        .await?;
    let report = state.health.last_report();
    let summary = report
        .as_ref()
        .and_then(|r| r.sites.iter().find(|s| s.site_id == id));

    // An origin or copy present in the last complete read counts as seen at that read.
    let seen = |t: OffsetDateTime| match site.last_synced {
        Some(read) if read > t => read,
        _ => t,
    };

    let mut natives: Vec<NativeRow> = origins
        .iter()
        .map(|o| NativeRow {
            record: record_cols(&o.record_id, &records),
            kind: o.kind.to_string(),
            source: origin_source(o),
            first_seen: when(o.first_seen),
            last_seen: when(seen(o.last_seen)),
            copied_to: copied_to.get(o.record_id.as_str()).copied().unwrap_or(0),
        })
        .collect();
    natives.sort_by(|a, b| {
        (&a.record.name, &a.record.rtype, &a.record.value).cmp(&(
            &b.record.name,
            &b.record.rtype,
            &b.record.value,
        ))
    });

    let mut copies: Vec<CopyRow> = all_copies
        .iter()
        .filter(|c| c.site_id == id)
        .map(|c| {
            let (state, state_class) = match c.state {
                CopyState::Active => ("copied", "ok"),
                CopyState::Pending => ("pending", "pending"),
            };
            CopyRow {
                record: record_cols(&c.record_id, &records),
                state,
                state_class,
                policy_id: c.policy_id.clone().unwrap_or_else(|| "-".into()),
                source: c
                    .source_site_id
                    .map(|s| sites.label(s))
                    .unwrap_or_else(|| "-".into()),
                source_href: c
                    .source_site_id
                    .filter(|s| sites.get(*s).is_some())
                    .map(super::view::site_href),
                created: when(c.created_at),
                verified: when_opt(match c.state {
                    CopyState::Active => c.verified_at.map(seen),
                    CopyState::Pending => None,
                }),
            }
        })
        .collect();
    copies
        .sort_by(|a, b| (&a.record.name, &a.record.rtype).cmp(&(&b.record.name, &b.record.rtype)));

    let conflicts: Vec<ConflictRow> = conflicts
        .iter()
        .map(|c| ConflictRow {
            record: record_cols(&c.record_id, &records),
            reason: conflict_reason(&c.reason),
            code: c.code.clone(),
            detail: name_sites(c.detail.as_deref().unwrap_or_default(), &sites.labels),
            since: when(c.since),
        })
        .collect();

    let rules = &info.rules;
    let controller = config.controller(&site.controller);
    let mut settings = vec![
        (
            "publish".to_owned(),
            if rules.publish {
                "yes: its native records are copied to other sites"
            } else {
                "no: its native records stay here"
            }
            .to_owned(),
        ),
        (
            "receive".to_owned(),
            if rules.receive {
                "yes: it receives copies of other sites' records"
            } else {
                "no: it receives no copies"
            }
            .to_owned(),
        ),
        ("domains".to_owned(), rules.domains.join(", ")),
        (
            "exclude_domains".to_owned(),
            if rules.exclude_domains.is_empty() {
                "-".to_owned()
            } else {
                rules.exclude_domains.join(", ")
            },
        ),
        (
            "settings from".to_owned(),
            match rules.entry.and_then(|i| config.sites.get(i)) {
                Some(entry) => format!("[[site]] match = \"{}\"", entry.match_str()),
                None => "defaults (no [[site]] entry matches)".to_owned(),
            },
        ),
    ];
    if config.sync.clients.enabled {
        settings.push((
            "client names".to_owned(),
            format!(
                "*.{}",
                rules
                    .clients_domain
                    .render(&site.internal_reference, &site.controller)
            ),
        ));
    }
    if let Some(c) = controller {
        settings.push(("controller priority".to_owned(), c.priority.to_string()));
    }

    let (read, read_class) = read_state(info);
    let (policies, policies_class) = match site.policy_support {
        Some(true) => ("supported", "ok"),
        Some(false) => ("not supported: needs Network 10.1.68+", "bad"),
        None => ("unknown", "muted"),
    };
    let record_exists = |rid: &str| records.contains_key(rid);

    let page = SitePage {
        chrome: Chrome::new(&state, format!("Site {}", site.label()), ""),
        label: site.label(),
        name: site.name.clone(),
        uuid: site.uuid.clone(),
        controller: site.controller.clone(),
        managed: info.managed,
        unmanaged_why: info.unmanaged_why.clone(),
        removed: when_opt(site.removed_at),
        settings,
        read,
        read_class,
        last_error: site.last_error.clone(),
        last_synced: when_opt(site.last_synced),
        last_read_at: when_opt(site.last_read_at),
        first_seen: when(site.first_seen),
        policies,
        policies_class,
        withheld: site.withheld_deletes,
        warnings: summary.map(|s| s.warnings.clone()).unwrap_or_default(),
        natives,
        copies,
        conflicts,
        events: event_rows(&events, &sites.labels, &record_exists),
        history_href: link("/history", &[("site", &site.label())]),
    };
    Ok(html(StatusCode::OK, &page))
}
