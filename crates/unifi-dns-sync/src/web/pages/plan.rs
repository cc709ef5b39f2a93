//! `/plan`: what the next cycle would do, from [`AppState::current_plan`] (a dry run, cached
//! briefly; while a cycle runs, the last plan computed).

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::model::conflict_reason;
use super::view::{When, name_sites, record_href, site_href, when};
use super::{Chrome, PageError, html};
use crate::plan::{Action, ConflictReason};
use crate::record::Record;
use crate::web::AppState;
use crate::web::placement::site_label;

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    chrome: Chrome,
    computed: When,
    fresh: bool,
    running: bool,
    creates: usize,
    updates: usize,
    deletes: usize,
    withheld: usize,
    conflicts: usize,
    sites: Vec<SiteView>,
    in_sync: Vec<(String, String)>,
    unread: Vec<(String, String, String)>,
    controllers_failed: Vec<(String, String)>,
}

struct SiteView {
    label: String,
    href: String,
    actions: Vec<ActionRow>,
    withheld: Vec<ActionRow>,
    conflicts: Vec<ConflictRow>,
    verified: usize,
    forget: usize,
    dropped_by_mode: usize,
}

struct ActionRow {
    verb: &'static str,
    class: &'static str,
    rtype: String,
    name: String,
    value: String,
    attributes: String,
    href: Option<String>,
    note: String,
}

struct ConflictRow {
    rtype: String,
    name: String,
    value: String,
    href: Option<String>,
    reason: String,
    code: Option<String>,
    detail: String,
}

fn attributes(r: &Record) -> String {
    let mut parts = vec![];
    match r.ttl {
        Some(0) => parts.push("ttl auto".to_owned()),
        Some(t) => parts.push(format!("ttl {t}")),
        None => {}
    }
    if !r.enabled {
        parts.push("disabled".into());
    }
    parts.join(", ")
}

pub(super) async fn page(State(state): State<AppState>) -> Result<Response, PageError> {
    let (report, fresh) = state.current_plan().await.map_err(|e| {
        PageError::new(e.status, format!("The plan cannot be shown: {}", e.message))
            .back("/plan", "Try again")
    })?;
    let store = state.store();
    let stored: HashSet<String> = store
        .records_with_origins()
        .await?
        .into_iter()
        .map(|r| r.record.id)
        .collect();
    let labels: HashMap<i64, String> = store
        .sites()
        .await?
        .into_iter()
        .map(|s| (s.id, s.label()))
        .chain(report.labels.iter().map(|(k, v)| (*k, v.clone())))
        .collect();
    let label = |id: i64| site_label(&labels, id);
    let href = |id: &str| stored.contains(id).then(|| record_href(id));
    let action_row = |a: &Action| {
        let r = a.record();
        let (class, note, id) = match a {
            Action::Create {
                record_id,
                source_site,
                ..
            } => ("ok", format!("from {}", label(*source_site)), record_id),
            Action::Update {
                policy_id,
                old_record_id,
                record_id,
                source_site,
                ..
            } => (
                "info",
                if old_record_id == record_id {
                    format!(
                        "policy {policy_id}: attributes differ from {}",
                        label(*source_site)
                    )
                } else {
                    format!(
                        "policy {policy_id}: the value changed at {}",
                        label(*source_site)
                    )
                },
                record_id,
            ),
            Action::Delete {
                policy_id,
                record_id,
                ..
            } => (
                "warn",
                format!("policy {policy_id}: no longer wanted here"),
                record_id,
            ),
        };
        ActionRow {
            verb: a.verb(),
            class,
            rtype: r.rtype.as_str().to_owned(),
            name: r.name.clone(),
            value: r.value.clone(),
            attributes: attributes(r),
            href: href(id),
            note,
        }
    };

    let mut sites = vec![];
    let mut in_sync = vec![];
    for sp in &report.plan.sites {
        let view = SiteView {
            label: label(sp.site_id),
            href: site_href(sp.site_id),
            actions: sp.actions.iter().map(action_row).collect(),
            withheld: sp.withheld.iter().map(action_row).collect(),
            conflicts: sp
                .conflicts
                .iter()
                .map(|c| ConflictRow {
                    rtype: c.record.rtype.as_str().to_owned(),
                    name: c.record.name.clone(),
                    value: c.record.value.clone(),
                    href: href(&c.record_id),
                    reason: match &c.reason {
                        ConflictReason::Refused(_) => "refused by the console".to_owned(),
                        other => conflict_reason(other.as_code()),
                    },
                    code: match &c.reason {
                        ConflictReason::Refused(code) => Some(code.clone()),
                        _ => None,
                    },
                    detail: name_sites(&c.detail, &labels),
                })
                .collect(),
            verified: sp.verified.len(),
            forget: sp.forget.len(),
            dropped_by_mode: sp.dropped_by_mode,
        };
        if view.actions.is_empty()
            && view.withheld.is_empty()
            && view.conflicts.is_empty()
            && view.forget == 0
            && view.dropped_by_mode == 0
        {
            in_sync.push((view.label, view.href));
        } else {
            sites.push(view);
        }
    }
    let count = |verb: &str| {
        report
            .plan
            .sites
            .iter()
            .flat_map(|s| &s.actions)
            .filter(|a| a.verb() == verb)
            .count()
    };
    let page = PlanPage {
        chrome: Chrome::new(&state, "Plan", "plan"),
        computed: when(report.finished_at),
        fresh,
        running: state.health.is_running(),
        creates: count("create"),
        updates: count("update"),
        deletes: count("delete"),
        withheld: report.plan.sites.iter().map(|s| s.withheld.len()).sum(),
        conflicts: report.plan.sites.iter().map(|s| s.conflicts.len()).sum(),
        sites,
        in_sync,
        unread: report
            .sites
            .iter()
            .filter(|s| !s.complete || s.dns_policies == Some(false))
            .map(|s| {
                (
                    s.label.clone(),
                    site_href(s.site_id),
                    match (&s.error, s.dns_policies) {
                        (Some(e), _) => e.clone(),
                        (None, Some(false)) => "the console has no DNS policies (needs Network 10.1.68+): it receives no copies".to_owned(),
                        (None, _) => "not read".to_owned(),
                    },
                )
            })
            .collect(),
        controllers_failed: report
            .controllers_failed
            .iter()
            .map(|c| (c.controller.clone(), c.error.clone()))
            .collect(),
    };
    Ok(html(StatusCode::OK, &page))
}
