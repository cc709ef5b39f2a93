//! The plan of a cycle as JSON: what `plan --output json` prints and `GET /api/v1/plan`
//! answers, built once from a [`CycleReport`] so both always agree.

use serde::Serialize;
use time::OffsetDateTime;

use crate::engine::CycleReport;
use crate::plan::Action;

#[derive(Debug, Serialize)]
pub struct ActionView {
    /// `create`, `update` or `delete`.
    pub action: &'static str,
    pub record_id: String,
    #[serde(rename = "type")]
    pub rtype: &'static str,
    pub name: String,
    pub value: String,
    pub ttl: Option<u32>,
    pub enabled: bool,
    /// The origin site the copy is made from (create, update).
    pub from: Option<String>,
    pub from_site_id: Option<i64>,
    /// Our policy the update or delete changes.
    pub policy_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PlanConflictView {
    pub record_id: String,
    #[serde(rename = "type")]
    pub rtype: &'static str,
    pub name: String,
    pub value: String,
    /// `shadowed`, `competing-origin` or the console's refusal code.
    pub reason: String,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct SitePlanView {
    pub site_id: i64,
    pub site: String,
    /// Deletes first, then updates, then creates.
    pub actions: Vec<ActionView>,
    /// Deletes held back by the deletion threshold (`POST /api/v1/sync?force=true` applies them).
    pub withheld: Vec<ActionView>,
    pub conflicts: Vec<PlanConflictView>,
}

#[derive(Debug, Serialize)]
pub struct UnreadSiteView {
    pub site_id: i64,
    pub site: String,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FailedControllerView {
    pub controller: String,
    pub error: String,
}

#[derive(Debug, Serialize)]
pub struct PlanView {
    /// When the plan was computed (end of its dry run).
    #[serde(with = "time::serde::rfc3339")]
    pub computed_at: OffsetDateTime,
    /// `true` when this request computed it, `false` when it was cached.
    pub computed_now: bool,
    /// Actions over all sites.
    pub changes: usize,
    pub withheld: usize,
    pub conflicts: usize,
    /// Some site or controller could not be read: the plan leaves those sites alone.
    pub partial: bool,
    pub sites: Vec<SitePlanView>,
    pub unread_sites: Vec<UnreadSiteView>,
    pub controllers_failed: Vec<FailedControllerView>,
}

pub fn plan_view(report: &CycleReport, computed_now: bool) -> PlanView {
    let label = |id: i64| report.site_label(id);
    let action = |a: &Action| {
        let r = a.record();
        let (record_id, from, policy_id) = match a {
            Action::Create {
                record_id,
                source_site,
                ..
            } => (record_id.clone(), Some(*source_site), None),
            Action::Update {
                record_id,
                source_site,
                policy_id,
                ..
            } => (
                record_id.clone(),
                Some(*source_site),
                Some(policy_id.clone()),
            ),
            Action::Delete {
                record_id,
                policy_id,
                ..
            } => (record_id.clone(), None, Some(policy_id.clone())),
        };
        ActionView {
            action: a.verb(),
            record_id,
            rtype: r.rtype.as_str(),
            name: r.name.clone(),
            value: r.value.clone(),
            ttl: r.ttl,
            enabled: r.enabled,
            from: from.map(label),
            from_site_id: from,
            policy_id,
        }
    };
    let sites: Vec<SitePlanView> = report
        .plan
        .sites
        .iter()
        .map(|s| SitePlanView {
            site_id: s.site_id,
            site: label(s.site_id),
            actions: s.actions.iter().map(action).collect(),
            withheld: s.withheld.iter().map(action).collect(),
            conflicts: s
                .conflicts
                .iter()
                .map(|c| PlanConflictView {
                    record_id: c.record_id.clone(),
                    rtype: c.record.rtype.as_str(),
                    name: c.record.name.clone(),
                    value: c.record.value.clone(),
                    reason: c.reason.as_code().to_owned(),
                    detail: c.detail.clone(),
                })
                .collect(),
        })
        .collect();
    PlanView {
        computed_at: report.finished_at,
        computed_now,
        changes: sites.iter().map(|s| s.actions.len()).sum(),
        withheld: sites.iter().map(|s| s.withheld.len()).sum(),
        conflicts: sites.iter().map(|s| s.conflicts.len()).sum(),
        partial: report.is_partial(),
        sites,
        unread_sites: report
            .sites
            .iter()
            .filter(|s| !s.complete)
            .map(|s| UnreadSiteView {
                site_id: s.site_id,
                site: s.label.clone(),
                error: s.error.clone(),
            })
            .collect(),
        controllers_failed: report
            .controllers_failed
            .iter()
            .map(|c| FailedControllerView {
                controller: c.controller.clone(),
                error: c.error.clone(),
            })
            .collect(),
    }
}
