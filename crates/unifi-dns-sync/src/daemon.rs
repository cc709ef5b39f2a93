//! The scheduled loop of `run`: a cycle every `interval` until shutdown, plus cycles requested
//! through the API (`POST /api/v1/sync`).
//!
//! The loop takes its engine, settings, hooks and shutdown token as arguments, so tests run it
//! and stop it deterministically. A shutdown while a cycle applies lets the write in flight
//! finish, stops before the next one, records the run, and returns. After every cycle the loop
//! reports to [`Health`] and refreshes [`Metrics`] from the report and the database.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use unifi_dns_sync_store::{EventQuery, EventStatus, RunOutcome, Trigger};

use crate::engine::{CycleOptions, CycleReport, Engine, EngineError};
use crate::health::Health;
use crate::metrics::{Metrics, SiteGauges};

/// How the loop runs.
#[derive(Debug, Clone)]
pub struct LoopSettings {
    pub interval: Duration,
    pub dry_run: bool,
    /// One cycle, then return.
    pub once: bool,
    /// Sync events older than this are pruned after each cycle.
    pub history_retention: Duration,
}

/// A cycle requested from outside the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncRequest {
    /// Apply deletes the threshold withholds.
    pub force: bool,
}

/// What the loop reports to and listens on; all optional.
#[derive(Default)]
pub struct LoopHooks {
    pub health: Option<Arc<Health>>,
    pub metrics: Option<Arc<Metrics>>,
    pub requests: Option<mpsc::Receiver<SyncRequest>>,
}

/// What the loop did.
#[derive(Debug, Default)]
pub struct LoopOutcome {
    pub cycles: u64,
    /// The last cycle was partial.
    pub last_partial: bool,
}

/// Runs cycles until `shutdown` is cancelled (or once).
pub async fn run_loop(
    engine: Arc<Engine>,
    settings: LoopSettings,
    mut hooks: LoopHooks,
    shutdown: CancellationToken,
) -> Result<LoopOutcome, EngineError> {
    let mut outcome = LoopOutcome::default();
    let mut next = (Trigger::Schedule, false);
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        let (trigger, force) = next;
        let mut options = CycleOptions::new(trigger)
            .dry_run(settings.dry_run)
            .force(force);
        options.cancel = shutdown.clone();
        if let Some(h) = &hooks.health {
            h.cycle_started();
        }
        let started = Instant::now();
        let mut result = engine.run_cycle(&options).await;
        // A dry run for the dashboard's plan page may hold the engine for a moment: wait for it.
        while matches!(result, Err(EngineError::CycleRunning)) && !shutdown.is_cancelled() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            result = engine.run_cycle(&options).await;
        }
        let report = match result {
            Ok(report) => {
                log_report(&report);
                outcome.last_partial = report.outcome == RunOutcome::Partial;
                Some(Arc::new(report))
            }
            Err(EngineError::Store(e)) => {
                if let Some(h) = &hooks.health {
                    h.cycle_finished(None);
                }
                return Err(EngineError::Store(e));
            }
            Err(e) => {
                tracing::error!("sync cycle failed: {e}");
                outcome.last_partial = true;
                None
            }
        };
        if let Some(m) = &hooks.metrics {
            refresh_metrics(&engine, m, report.as_deref(), started.elapsed()).await;
        }
        if let Some(h) = &hooks.health {
            h.cycle_finished(report);
        }
        outcome.cycles += 1;
        if !settings.dry_run {
            prune(&engine, settings.history_retention).await;
        }
        if settings.once {
            break;
        }
        next = (Trigger::Schedule, false);
        let request = async {
            match hooks.requests.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(settings.interval) => {}
            Some(req) = request => next = (Trigger::Manual, req.force),
        }
    }
    Ok(outcome)
}

async fn prune(engine: &Engine, retention: Duration) {
    let Ok(retention) = time::Duration::try_from(retention) else {
        return;
    };
    let cutoff = time::OffsetDateTime::now_utc() - retention;
    match engine.store().prune_events(cutoff).await {
        Ok(p) if p.events > 0 => tracing::info!(
            events = p.events,
            runs = p.runs,
            "pruned history older than the retention"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("pruning history failed: {e}"),
    }
}

/// Counters from the cycle's events, gauges from the database.
async fn refresh_metrics(
    engine: &Engine,
    metrics: &Metrics,
    report: Option<&CycleReport>,
    took: Duration,
) {
    let outcome = report.map_or("failed", |r| r.outcome.as_str());
    let finished = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    metrics.cycle_finished(outcome, took, finished);
    let store = engine.store();
    let sites = match store.sites().await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("metrics: reading sites failed: {e}");
            return;
        }
    };
    let label: BTreeMap<i64, (String, String)> = sites
        .iter()
        .map(|s| (s.id, (s.controller.clone(), s.internal_reference.clone())))
        .collect();
    if let Some(run_id) = report.and_then(|r| r.run_id) {
        let query = EventQuery {
            run_id: Some(run_id),
            limit: 10_000,
            ..EventQuery::default()
        };
        if let Ok(events) = store.events(&query).await {
            let mut per_site: BTreeMap<(i64, EventStatus), u64> = BTreeMap::new();
            for e in events {
                if let Some(site) = e.site_id {
                    *per_site.entry((site, e.status)).or_default() += 1;
                }
            }
            for ((site, status), n) in per_site {
                if let Some((controller, name)) = label.get(&site) {
                    metrics.changes(controller, name, &status.as_str().to_ascii_lowercase(), n);
                }
            }
        }
    }
    if let Ok(counts) = store.counts().await {
        metrics.set_records(&counts.records_by_type);
        let read_ok: BTreeMap<i64, bool> = report
            .map(|r| r.sites.iter().map(|s| (s.site_id, s.complete)).collect())
            .unwrap_or_default();
        let gauges: Vec<SiteGauges> = sites
            .iter()
            .filter(|s| !s.is_removed())
            .map(|s| SiteGauges {
                controller: s.controller.clone(),
                site: s.internal_reference.clone(),
                copies: counts
                    .copies_by_site
                    .get(&s.id)
                    .map_or(0, |c| c.active.max(0) as u64),
                conflicts: counts
                    .conflicts_by_site
                    .get(&s.id)
                    .map_or(0, |n| (*n).max(0) as u64),
                withheld: s.withheld_deletes.max(0) as u64,
                read_ok: read_ok.get(&s.id).copied(),
            })
            .collect();
        metrics.set_sites(&gauges);
    }
}

fn log_report(report: &CycleReport) {
    let c = &report.counts;
    tracing::info!(
        outcome = %report.outcome,
        created = c.created,
        updated = c.updated,
        deleted = c.deleted,
        skipped = c.skipped,
        failed = c.failed,
        withheld = c.withheld,
        dry_run = report.dry_run,
        "sync cycle finished"
    );
    for site in &report.sites {
        if let Some(error) = &site.error {
            tracing::warn!(site = %site.label, "{error}");
        }
        for w in &site.warnings {
            tracing::warn!(site = %site.label, "{w}");
        }
    }
}
