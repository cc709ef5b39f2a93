//! The sync cycle (SPEC §5): discovery, planning, applying, and the run record.
//!
//! ```text
//!  consoles ──read──▶ discover ──origins, live copies──▶ plan (pure) ──actions──▶ apply ──writes──▶ consoles
//!                        │                                  ▲                        │
//!                        └──────── store (origins, registry, conflicts, events, runs) ┘
//! ```
//!
//! [`Engine::run_cycle`] is the only entry point. Discovery ([`discover`]) reads every managed
//! site and turns the read into origin changes and the planner's view of live copies; a site
//! whose read is incomplete changes nothing (safety rule 2). The planner ([`crate::plan`]) is a
//! pure function of that view and the database. [`apply`] is the one place where requests that
//! change a console are made, and it refuses to make any in a dry run (safety rule 4). Cycles
//! never overlap: a second call while one runs fails with [`EngineError::CycleRunning`].

mod apply;
mod discover;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use unifi_dns_sync_store::{RunId, RunOutcome, Store, Trigger};

use crate::config::Config;
use crate::plan::{Plan, PlanSettings};

pub use discover::{ControllerFailure, SiteSummary};

/// The time source; tests move it forward to pass retention windows.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Receives progress for the CLI's progress bar (the daemon logs instead).
pub trait Progress: Send + Sync {
    /// A new phase started (`reading`, `planning`, `applying`).
    fn phase(&self, name: &str, total: u64);
    /// One unit of the current phase finished.
    fn advance(&self, message: &str);
}

/// How a cycle runs.
#[derive(Clone)]
pub struct CycleOptions {
    pub trigger: Trigger,
    /// Plan only: no request that changes a console, no change to records, origins or copies.
    /// Implied when the engine's store is read-only.
    pub dry_run: bool,
    /// Apply deletes the threshold would withhold (§5.7).
    pub force: bool,
    /// Stops the apply step between two writes (the write in flight finishes).
    pub cancel: CancellationToken,
    pub progress: Option<Arc<dyn Progress>>,
    /// Apply only to these sites (`controller/site`, site = internalReference, name or UUID);
    /// empty = all. Discovery still reads every site, so origins stay complete.
    pub only_sites: Vec<String>,
    /// A look at the plan (the dashboard's plan page): a dry run that is not recorded as a run.
    pub preview: bool,
}

impl CycleOptions {
    pub fn new(trigger: Trigger) -> Self {
        CycleOptions {
            trigger,
            dry_run: false,
            force: false,
            cancel: CancellationToken::new(),
            progress: None,
            only_sites: vec![],
            preview: false,
        }
    }

    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// A dry run that leaves no `sync_runs` row (see [`CycleOptions::preview`]).
    pub fn preview(mut self) -> Self {
        self.preview = true;
        self.dry_run = true;
        self
    }

    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }
}

/// What a cycle did, for the CLI, the API and tests.
#[derive(Debug, Clone, Serialize)]
pub struct CycleReport {
    /// The `sync_runs` row (none for a dry run on a read-only database).
    pub run_id: Option<RunId>,
    pub outcome: RunOutcome,
    pub dry_run: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    pub counts: Counts,
    /// Every managed site: read state, errors and warnings.
    pub sites: Vec<SiteSummary>,
    /// Controllers that could not be read at all (the cycle is then partial).
    pub controllers_failed: Vec<ControllerFailure>,
    /// The plan that was (or, in a dry run, would be) applied.
    #[serde(skip)]
    pub plan: Plan,
    /// Site id → `controller/site`, to print the plan.
    #[serde(skip)]
    pub labels: HashMap<i64, String>,
}

/// `controller/site` for a site id, or `site #N` when the labels do not know it.
pub fn site_label(labels: &HashMap<i64, String>, id: i64) -> String {
    labels
        .get(&id)
        .cloned()
        .unwrap_or_else(|| format!("site #{id}"))
}

impl CycleReport {
    /// `controller/site` of a site of this cycle.
    pub fn site_label(&self, id: i64) -> String {
        site_label(&self.labels, id)
    }

    /// True when some site could not be read or written (exit code 3).
    pub fn is_partial(&self) -> bool {
        self.outcome == RunOutcome::Partial
    }
}

/// Counts of one cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Deletes held back by the threshold.
    pub withheld: u64,
    /// Conflicts that started this cycle.
    pub conflicts_opened: u64,
    pub conflicts_closed: u64,
    pub sites_read: u64,
    pub sites_incomplete: u64,
    /// Planned actions (equals created + updated + deleted + … when applied).
    pub planned: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("a sync cycle is already running; wait for it to finish")]
    CycleRunning,
    #[error("no controllers are configured: add a [[controller]] section to the config file")]
    NoControllers,
    #[error("controller '{controller}': {message}")]
    Controller { controller: String, message: String },
    #[error(
        "no managed site matches --site {0}: use controller/site with the site's internalReference, name or UUID (see `status`)"
    )]
    UnknownSite(String),
    #[error("database: {0}")]
    Store(#[from] unifi_dns_sync_store::StoreError),
}

/// One configured console: its settings and its client.
pub struct Controller {
    pub config: crate::config::ControllerConfig,
    pub client: unifi_client::Client,
}

/// Runs sync cycles against the configured controllers, keeping state in the store.
pub struct Engine {
    config: Arc<Config>,
    store: Store,
    controllers: Vec<Controller>,
    clock: Clock,
    cycle: tokio::sync::Mutex<()>,
}

impl Engine {
    /// Builds one API client per controller.
    pub fn new(config: Arc<Config>, store: Store) -> Result<Engine, EngineError> {
        if !config.has_controllers() {
            return Err(EngineError::NoControllers);
        }
        let controllers =
            config
                .controllers
                .iter()
                .map(|c| {
                    let client = unifi_client::Client::new(crate::clients::settings_for(c))
                        .map_err(|e| EngineError::Controller {
                            controller: c.name.clone(),
                            message: e.to_string(),
                        })?;
                    Ok(Controller {
                        config: c.clone(),
                        client,
                    })
                })
                .collect::<Result<Vec<_>, EngineError>>()?;
        Ok(Engine {
            config,
            store,
            controllers,
            clock: Arc::new(OffsetDateTime::now_utc),
            cycle: tokio::sync::Mutex::new(()),
        })
    }

    /// Reports every HTTP attempt to a console to `observer` (metrics).
    pub fn with_request_observer(mut self, observer: unifi_client::Observer) -> Self {
        for c in &mut self.controllers {
            c.client = c.client.clone().with_observer(observer.clone());
        }
        self
    }

    /// Replaces the time source (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn controllers(&self) -> &[Controller] {
        &self.controllers
    }

    /// True while a cycle runs.
    pub fn is_running(&self) -> bool {
        self.cycle.try_lock().is_err()
    }

    fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    fn plan_settings(&self, force: bool) -> PlanSettings {
        let s = &self.config.sync;
        PlanSettings {
            record_types: s.record_types.clone(),
            exclude_same_controller: s.exclude_same_controller,
            mode: s.mode,
            max_delete_fraction: s.max_delete_fraction,
            threshold_min_copies: s.threshold_min_copies,
            force,
        }
    }

    /// One cycle: discovery, plan, apply (unless dry run), run record.
    pub async fn run_cycle(&self, options: &CycleOptions) -> Result<CycleReport, EngineError> {
        let _running = self
            .cycle
            .try_lock()
            .map_err(|_| EngineError::CycleRunning)?;
        let started_at = self.now();
        let writable = !self.store.is_read_only();
        let run_id = if writable && !(options.preview && options.dry_run) {
            Some(
                self.store
                    .start_run(options.trigger, options.dry_run, started_at)
                    .await?,
            )
        } else {
            None
        };
        let result = self.cycle_body(options, run_id, started_at).await;
        let finished_at = self.now();
        match result {
            Ok(mut report) => {
                report.finished_at = finished_at;
                if let Some(id) = run_id {
                    let counts = serde_json::to_value(&report.counts).unwrap_or_default();
                    let error = report
                        .sites
                        .iter()
                        .filter_map(|s| s.error.clone())
                        .chain(
                            report
                                .controllers_failed
                                .iter()
                                .map(|c| format!("controller '{}': {}", c.controller, c.error)),
                        )
                        .next();
                    self.store
                        .finish_run(id, report.outcome, &counts, error.as_deref(), finished_at)
                        .await?;
                }
                Ok(report)
            }
            Err(e) => {
                if let Some(id) = run_id {
                    let message = e.to_string();
                    // The run row must say it failed; the original error is what matters.
                    let _ = self
                        .store
                        .finish_run(
                            id,
                            RunOutcome::Failed,
                            &serde_json::json!({}),
                            Some(&message),
                            finished_at,
                        )
                        .await;
                }
                Err(e)
            }
        }
    }

    async fn cycle_body(
        &self,
        options: &CycleOptions,
        run_id: Option<RunId>,
        started_at: OffsetDateTime,
    ) -> Result<CycleReport, EngineError> {
        let progress = options.progress.clone();
        if let Some(p) = &progress {
            p.phase("reading", self.controllers.len() as u64);
        }
        let discovered = discover::discover(self, options, run_id).await?;
        if let Some(p) = &progress {
            p.phase("planning", 1);
        }
        let mut plan = crate::plan::plan(
            &discovered.records,
            &discovered.plan_sites,
            &self.plan_settings(options.force),
        );
        if !options.only_sites.is_empty() {
            // `sync --site`: every site was read (origins stay complete); only these are written.
            let mut keep = std::collections::HashSet::new();
            for selector in &options.only_sites {
                let matching: Vec<i64> = discovered
                    .summaries
                    .iter()
                    .filter(|s| s.matches(selector))
                    .map(|s| s.site_id)
                    .collect();
                if matching.is_empty() {
                    return Err(EngineError::UnknownSite(selector.clone()));
                }
                keep.extend(matching);
            }
            plan.sites.retain(|s| keep.contains(&s.site_id));
        }
        let mut counts = Counts {
            planned: plan.action_count() as u64,
            sites_read: discovered.summaries.iter().filter(|s| s.complete).count() as u64,
            sites_incomplete: discovered
                .summaries
                .iter()
                .filter(|s| !s.complete && s.error.is_some())
                .count() as u64,
            ..Counts::default()
        };
        let mut failures = false;
        // A read-only store (`plan` while the daemon holds the database) is always a dry run:
        // its writes would fail after the console had already been changed.
        let dry_run = options.dry_run || self.store.is_read_only();
        if !dry_run {
            let outcome = apply::apply(self, options, run_id, &plan, &discovered).await?;
            failures = outcome.failures;
            counts = Counts {
                planned: counts.planned,
                sites_read: counts.sites_read,
                sites_incomplete: counts.sites_incomplete,
                ..outcome.counts
            };
            self.store.remove_orphan_records().await?;
        } else {
            counts.withheld = plan.sites.iter().map(|s| s.withheld.len() as u64).sum();
        }
        let outcome =
            if counts.sites_incomplete > 0 || failures || !discovered.controllers_failed.is_empty()
            {
                RunOutcome::Partial
            } else {
                RunOutcome::Success
            };
        let labels: HashMap<i64, String> = discovered
            .summaries
            .iter()
            .map(|s| (s.site_id, s.label.clone()))
            .collect();
        Ok(CycleReport {
            run_id,
            outcome,
            dry_run,
            started_at,
            finished_at: started_at,
            counts,
            sites: discovered.summaries,
            controllers_failed: discovered.controllers_failed,
            plan,
            labels,
        })
    }
}

/// The planner's records: id → record with its eligible origins (built by discovery).
pub(crate) type PlanRecords = HashMap<String, crate::plan::PlanRecord>;

/// Per-site bookkeeping discovery hands to the apply step.
#[derive(Default)]
pub(crate) struct SiteBook {
    /// Open conflicts in the store: record id → (reason, code, since).
    pub open_conflicts: BTreeMap<String, unifi_dns_sync_store::Conflict>,
    /// The site's UUID on its console, for API calls.
    pub uuid: String,
    pub controller: String,
    /// Deletes the threshold withheld in the previous cycle (an event is recorded on change).
    pub withheld: i64,
    /// The site's registry rows as discovery read them, by record id (apply consults them
    /// before a create instead of reading the registry again).
    pub registry: HashMap<String, unifi_dns_sync_store::SyncedCopy>,
}
