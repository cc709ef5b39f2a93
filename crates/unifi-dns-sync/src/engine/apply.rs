//! Applying a plan: the one place where requests that change a console are made.
//!
//! [`ConsoleWriter`] wraps the three write calls and refuses every one of them in a dry run or
//! on a read-only store, so `plan` and `--dry-run` cannot write even if a caller forgot to skip
//! this step (safety rule 4). Around each write the registry is kept so that a crash at any
//! point is harmless (rule 5): a PENDING row is written before a create and activated with the
//! policy id after the 201; a create whose outcome is unknown keeps its PENDING row, and the next
//! discovery adopts the policy if it exists. Every outcome becomes a sync event; conflicts are
//! recorded when they start and when they end. Controllers are written in parallel, each within
//! its client's write limit; a cancellation stops between two writes.

use std::collections::{BTreeMap, HashMap};

use futures::future::join_all;
use time::OffsetDateTime;
use unifi_client::{ClientError, DeleteOutcome, DnsPolicy, DnsPolicyBody};
use unifi_dns_sync_store::{EventStatus, NewConflict, NewEvent, RecordData, RunId};

use super::discover::{Discovered, record_data};
use super::{Counts, CycleOptions, Engine, EngineError, SiteBook};
use crate::plan::{Action, ConflictReason, Plan, SitePlan};
use crate::policy_map::body_of;

pub(crate) struct ApplyOutcome {
    pub counts: Counts,
    /// Some write failed (the run is partial).
    pub failures: bool,
}

/// The only code that sends POST, PUT or DELETE to a console.
struct ConsoleWriter<'a> {
    client: &'a unifi_client::Client,
    dry_run: bool,
}

#[derive(Debug)]
enum WriteError {
    DryRun,
    Client(ClientError),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::DryRun => f.write_str("dry run: no write is sent"),
            WriteError::Client(e) => write!(f, "{e}"),
        }
    }
}

impl ConsoleWriter<'_> {
    fn guard(&self) -> Result<(), WriteError> {
        if self.dry_run {
            Err(WriteError::DryRun)
        } else {
            Ok(())
        }
    }

    async fn create(&self, site: &str, body: &DnsPolicyBody) -> Result<DnsPolicy, WriteError> {
        self.guard()?;
        self.client
            .create_dns_policy(site, body)
            .await
            .map_err(WriteError::Client)
    }

    async fn update(
        &self,
        site: &str,
        policy: &str,
        body: &DnsPolicyBody,
    ) -> Result<DnsPolicy, WriteError> {
        self.guard()?;
        self.client
            .update_dns_policy(site, policy, body)
            .await
            .map_err(WriteError::Client)
    }

    async fn delete(&self, site: &str, policy: &str) -> Result<DeleteOutcome, WriteError> {
        self.guard()?;
        self.client
            .delete_dns_policy(site, policy)
            .await
            .map_err(WriteError::Client)
    }
}

pub(crate) async fn apply(
    engine: &Engine,
    options: &CycleOptions,
    run_id: Option<RunId>,
    plan: &Plan,
    discovered: &Discovered,
) -> Result<ApplyOutcome, EngineError> {
    let mut by_controller: BTreeMap<&str, Vec<&SitePlan>> = BTreeMap::new();
    for site_plan in &plan.sites {
        if let Some(book) = discovered.books.get(&site_plan.site_id) {
            by_controller
                .entry(book.controller.as_str())
                .or_default()
                .push(site_plan);
        }
    }
    if let Some(p) = &options.progress {
        p.phase("applying", plan.action_count() as u64);
    }
    let results = join_all(by_controller.into_iter().map(|(name, sites)| async move {
        let Some(controller) = engine.controllers.iter().find(|c| c.config.name == name) else {
            return Ok(SiteResult::default());
        };
        let writer = ConsoleWriter {
            client: &controller.client,
            dry_run: options.dry_run || engine.store.is_read_only(),
        };
        let mut total = SiteResult::default();
        for site_plan in sites {
            let Some(book) = discovered.books.get(&site_plan.site_id) else {
                continue;
            };
            let r = apply_site(
                engine, options, run_id, &writer, site_plan, book, discovered,
            )
            .await?;
            total.merge(r);
        }
        Ok::<_, EngineError>(total)
    }))
    .await;
    let mut total = SiteResult::default();
    for r in results {
        total.merge(r?);
    }
    Ok(ApplyOutcome {
        failures: total.counts.failed > 0,
        counts: total.counts,
    })
}

#[derive(Default)]
struct SiteResult {
    counts: Counts,
}

impl SiteResult {
    fn merge(&mut self, other: SiteResult) {
        let (a, b) = (&mut self.counts, other.counts);
        a.created += b.created;
        a.updated += b.updated;
        a.deleted += b.deleted;
        a.skipped += b.skipped;
        a.failed += b.failed;
        a.withheld += b.withheld;
        a.conflicts_opened += b.conflicts_opened;
        a.conflicts_closed += b.conflicts_closed;
    }
}

async fn apply_site(
    engine: &Engine,
    options: &CycleOptions,
    run_id: Option<RunId>,
    writer: &ConsoleWriter<'_>,
    site_plan: &SitePlan,
    book: &SiteBook,
    discovered: &Discovered,
) -> Result<SiteResult, EngineError> {
    let store = &engine.store;
    let site = site_plan.site_id;
    let mut result = SiteResult::default();
    let mut events: Vec<NewEvent> = vec![];
    let now = || engine.now();
    let event = |status: EventStatus, data: &RecordData, at: OffsetDateTime| {
        let e = NewEvent::new(status, at).site(site).record(data);
        match run_id {
            Some(id) => e.run(id),
            None => e,
        }
    };
    let data_of = |record_id: &str, action: &Action| -> RecordData {
        discovered
            .record_data
            .get(record_id)
            .cloned()
            .unwrap_or_else(|| record_data(action.record(), &serde_json::json!({})))
    };
    // Conflicts the console reported while applying: record id → code.
    let mut refused: HashMap<String, (String, String)> = HashMap::new();

    for action in &site_plan.actions {
        if options.cancel.is_cancelled() {
            tracing::info!(site, "stopping before the next write: shutdown requested");
            break;
        }
        let body = match body_of(action.record()) {
            Ok(b) => b,
            Err(e) => {
                let record_id = action_record_id(action);
                events.push(
                    event(EventStatus::Failed, &data_of(record_id, action), now())
                        .detail(format!("cannot build the request: {e}")),
                );
                result.counts.failed += 1;
                continue;
            }
        };
        match action {
            Action::Create {
                record_id,
                source_site,
                ..
            } => {
                let data = data_of(record_id, action);
                // A row for a policy deleted by hand is replaced; a PENDING row is reused.
                let existing = book.registry.get(record_id.as_str());
                if existing.is_some_and(|c| c.policy_id.is_some()) {
                    store.remove_copy(site, record_id).await?;
                }
                store
                    .insert_pending(site, &[record_id.as_str()], now())
                    .await?;
                match writer.create(&book.uuid, &body).await {
                    Ok(policy) => {
                        store
                            .activate_copy(site, record_id, &policy.id, Some(*source_site), now())
                            .await?;
                        let detail = if existing.is_some() {
                            "re-created: the copy was missing on the console"
                        } else {
                            "copied"
                        };
                        events.push(
                            event(EventStatus::Created, &data, now())
                                .detail(format!("{detail} (policy {})", policy.id)),
                        );
                        result.counts.created += 1;
                    }
                    Err(WriteError::Client(e)) if e.is_refusal() => {
                        store.remove_copy(site, record_id).await?;
                        let code = e.code().unwrap_or_default().to_owned();
                        refused.insert(record_id.clone(), (code, e.to_string()));
                    }
                    Err(WriteError::Client(e)) if e.effect_unknown() => {
                        // Keep the PENDING row: the next discovery adopts the policy if it exists.
                        events.push(event(EventStatus::Failed, &data, now()).detail(format!(
                            "{e}; the outcome is unknown: the next cycle adopts the policy if it was created"
                        )));
                        result.counts.failed += 1;
                    }
                    Err(e) => {
                        store.remove_copy(site, record_id).await?;
                        events.push(event(EventStatus::Failed, &data, now()).detail(e.to_string()));
                        result.counts.failed += 1;
                    }
                }
            }
            Action::Update {
                policy_id,
                old_record_id,
                record_id,
                source_site,
                ..
            } => {
                let data = data_of(record_id, action);
                match writer.update(&book.uuid, policy_id, &body).await {
                    Ok(_) => {
                        if old_record_id != record_id {
                            store
                                .repoint_copy(
                                    site,
                                    old_record_id,
                                    record_id,
                                    Some(*source_site),
                                    now(),
                                )
                                .await?;
                        }
                        let detail = if old_record_id != record_id {
                            let old = discovered
                                .record_data
                                .get(old_record_id)
                                .map(|d| d.value.clone())
                                .unwrap_or_default();
                            format!(
                                "value changed at the origin (was {old}); policy {policy_id} updated in place"
                            )
                        } else {
                            format!("policy {policy_id} brought back in line with its origin")
                        };
                        events.push(event(EventStatus::Updated, &data, now()).detail(detail));
                        result.counts.updated += 1;
                    }
                    Err(WriteError::Client(e)) if e.is_not_found() => {
                        store.remove_copy(site, old_record_id).await?;
                        events.push(event(EventStatus::Failed, &data, now()).detail(format!(
                            "{e}; the copy vanished from the console: the next cycle creates it again"
                        )));
                        result.counts.failed += 1;
                    }
                    Err(WriteError::Client(e)) if e.is_refusal() => {
                        let code = e.code().unwrap_or_default().to_owned();
                        refused.insert(record_id.clone(), (code, e.to_string()));
                    }
                    Err(e) => {
                        events.push(event(EventStatus::Failed, &data, now()).detail(e.to_string()));
                        result.counts.failed += 1;
                    }
                }
            }
            Action::Delete {
                policy_id,
                record_id,
                ..
            } => {
                let data = data_of(record_id, action);
                match writer.delete(&book.uuid, policy_id).await {
                    Ok(outcome) => {
                        store.remove_copy(site, record_id).await?;
                        let detail = match outcome {
                            DeleteOutcome::Deleted => format!(
                                "policy {policy_id} deleted: no origin publishes it to this site any more"
                            ),
                            DeleteOutcome::AlreadyGone => {
                                format!("policy {policy_id} was already gone")
                            }
                        };
                        events.push(event(EventStatus::Deleted, &data, now()).detail(detail));
                        result.counts.deleted += 1;
                    }
                    Err(e) => {
                        events.push(event(EventStatus::Failed, &data, now()).detail(e.to_string()));
                        result.counts.failed += 1;
                    }
                }
            }
        }
        if let Some(p) = &options.progress {
            p.advance(&format!("{} {}", action.verb(), action.record()));
        }
    }
    for record_id in &site_plan.forget {
        store.remove_copy(site, record_id).await?;
    }

    // Conflicts: what the plan found plus what the console refused, against what is open.
    let mut current: BTreeMap<String, (ConflictReason, String, RecordData)> = BTreeMap::new();
    for c in &site_plan.conflicts {
        let data = discovered
            .record_data
            .get(&c.record_id)
            .cloned()
            .unwrap_or_else(|| record_data(&c.record, &serde_json::json!({})));
        current.insert(
            c.record_id.clone(),
            (c.reason.clone(), c.detail.clone(), data),
        );
    }
    for (record_id, (code, message)) in &refused {
        let data = discovered
            .record_data
            .get(record_id)
            .cloned()
            .unwrap_or_default_record(record_id);
        current.insert(
            record_id.clone(),
            (ConflictReason::Refused(code.clone()), message.clone(), data),
        );
    }
    let mut opened = vec![];
    let mut closed = vec![];
    let mut reopened = vec![];
    for (record_id, (reason, detail, data)) in &current {
        match book.open_conflicts.get(record_id) {
            Some(open) if open.reason == reason.as_code() => {
                // A refusal that was retried and refused again starts a new waiting period.
                if refused.contains_key(record_id) {
                    reopened.push(record_id.clone());
                }
            }
            _ => {
                let mut e = event(EventStatus::Skipped, data, now())
                    .reason(reason.as_code())
                    .detail(detail.clone());
                if let ConflictReason::Refused(code) = reason {
                    e = e.code(code.clone());
                }
                events.push(e);
                opened.push(NewConflict {
                    record_id: record_id.clone(),
                    reason: reason.as_code().to_owned(),
                    code: match reason {
                        ConflictReason::Refused(code) => Some(code.clone()),
                        _ => None,
                    },
                    detail: Some(detail.clone()),
                });
                result.counts.skipped += 1;
                result.counts.conflicts_opened += 1;
            }
        }
    }
    for (record_id, open) in &book.open_conflicts {
        if !current.contains_key(record_id) {
            let data = discovered
                .record_data
                .get(record_id)
                .cloned()
                .unwrap_or_default_record(record_id);
            events.push(
                event(EventStatus::Skipped, &data, now())
                    .reason("conflict-resolved")
                    .detail(format!("the {} conflict ended", open.reason)),
            );
            closed.push(record_id.clone());
            result.counts.conflicts_closed += 1;
        }
    }
    if !reopened.is_empty() {
        store
            .set_conflicts::<String>(site, &[], &reopened, now())
            .await?;
        let again: Vec<NewConflict> = reopened
            .iter()
            .filter_map(|id| book.open_conflicts.get(id))
            .map(|c| NewConflict {
                record_id: c.record_id.clone(),
                reason: c.reason.clone(),
                code: c.code.clone(),
                detail: c.detail.clone(),
            })
            .collect();
        store
            .set_conflicts::<String>(site, &again, &[], now())
            .await?;
    }
    // A conflict on a record that just changed may replace one with another reason.
    let replaced: Vec<String> = opened
        .iter()
        .filter(|c| book.open_conflicts.contains_key(&c.record_id))
        .map(|c| c.record_id.clone())
        .collect();
    if !replaced.is_empty() {
        store
            .set_conflicts::<String>(site, &[], &replaced, now())
            .await?;
    }
    store.set_conflicts(site, &opened, &closed, now()).await?;

    // The deletion threshold: recorded when the number withheld changes.
    let withheld = site_plan.withheld.len() as i64;
    if withheld != book.withheld {
        store.set_withheld_deletes(site, withheld as u64).await?;
        if withheld > 0 {
            let mut e = NewEvent::new(EventStatus::Skipped, now()).site(site).reason("threshold").detail(format!(
                "{withheld} deletes withheld: more than {:.0}% of this site's copies would go; run `sync --force` to apply them",
                engine.config.sync.max_delete_fraction * 100.0
            ));
            if let Some(id) = run_id {
                e = e.run(id);
            }
            events.push(e);
        }
    }
    result.counts.withheld = withheld as u64;
    store.add_events(&events).await?;
    Ok(result)
}

fn action_record_id(action: &Action) -> &str {
    match action {
        Action::Create { record_id, .. }
        | Action::Update { record_id, .. }
        | Action::Delete { record_id, .. } => record_id,
    }
}

trait OrRecord {
    fn unwrap_or_default_record(self, record_id: &str) -> RecordData;
}

impl OrRecord for Option<RecordData> {
    fn unwrap_or_default_record(self, record_id: &str) -> RecordData {
        self.unwrap_or_else(|| RecordData {
            id: record_id.to_owned(),
            rtype: String::new(),
            name: String::new(),
            value: String::new(),
            ttl: None,
            enabled: true,
            raw: serde_json::Value::Null,
        })
    }
}
