//! The scheduled loop of `run`: a cycle every `interval` until shutdown.
//!
//! The loop takes its engine, settings and shutdown token as arguments, so tests run it and stop
//! it deterministically. A shutdown while a cycle applies lets the write in flight finish, stops
//! before the next one, records the run, and returns.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use unifi_dns_sync_store::{RunOutcome, Trigger};

use crate::engine::{CycleOptions, CycleReport, Engine, EngineError};

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
    shutdown: CancellationToken,
) -> Result<LoopOutcome, EngineError> {
    let mut outcome = LoopOutcome::default();
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        let mut options = CycleOptions::new(Trigger::Schedule).dry_run(settings.dry_run);
        options.cancel = shutdown.clone();
        match engine.run_cycle(&options).await {
            Ok(report) => {
                log_report(&report);
                outcome.last_partial = report.outcome == RunOutcome::Partial;
            }
            Err(EngineError::Store(e)) => return Err(EngineError::Store(e)),
            Err(e) => {
                tracing::error!("sync cycle failed: {e}");
                outcome.last_partial = true;
            }
        }
        outcome.cycles += 1;
        if !settings.dry_run {
            prune(&engine, settings.history_retention).await;
        }
        if settings.once {
            break;
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(settings.interval) => {}
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
