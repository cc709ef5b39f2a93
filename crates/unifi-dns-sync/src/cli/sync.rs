//! `run`, `sync` and `plan`: the commands that run a cycle.

use std::io::IsTerminal;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use unifi_dns_sync_store::{Store, StoreError, Trigger};

use super::{EXIT_CHANGES, EXIT_PARTIAL, Failure, Output, print_json};
use crate::app::App;
use crate::config::Config;
use crate::engine::{CycleOptions, CycleReport, Engine, Progress};
use crate::plan::{Action, ConflictReason};

/// Opens the database for a command that writes (the daemon, `sync`); a second process is
/// refused with the store's message.
pub(super) async fn open_writable(config: &Config) -> Result<Store, Failure> {
    Store::open(&config.database.url)
        .await
        .map_err(|e| Failure::error(format!("database {}: {e}", config.database.url)))
}

fn engine(config: Config, store: Store) -> Result<Engine, Failure> {
    Engine::new(Arc::new(config), store).map_err(Failure::from)
}

pub(super) async fn run(config: Config, once: bool, dry_run: bool) -> Result<u8, Failure> {
    let store = open_writable(&config).await?;
    let listen = config.web.listen;
    let interval = config.sync.interval;
    let app = App::build(config, store, dry_run, once)?;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        Failure::error(format!("cannot listen on {listen} ([web] listen): {e}; choose another address or stop what uses it"))
    })?;
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested: finishing the write in flight");
        signal.cancel();
    });
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| listen.to_string());
    tracing::info!(interval = ?interval, dry_run, "unifi-dns-sync running; dashboard on http://{address}/");
    let outcome = app.run(Some(listener), shutdown).await?;
    tracing::info!(cycles = outcome.cycles, "stopped");
    Ok(if once && outcome.last_partial {
        EXIT_PARTIAL
    } else {
        0
    })
}

/// Resolves on SIGINT or SIGTERM.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

pub(super) async fn sync(
    config: Config,
    force: bool,
    sites: Vec<String>,
    output: Output,
) -> Result<u8, Failure> {
    let store = open_writable(&config).await?;
    let engine = engine(config, store)?;
    for selector in &sites {
        check_site_selector(&engine, selector).await?;
    }
    let mut options = CycleOptions::new(Trigger::Cli).force(force);
    options.only_sites = sites;
    let bar =
        (std::io::stderr().is_terminal() && output == Output::Text).then(|| Arc::new(Bar::new()));
    if let Some(bar) = &bar {
        options.progress = Some(bar.clone());
    }
    let report = engine.run_cycle(&options).await?;
    if let Some(bar) = bar {
        bar.bar.finish_and_clear();
    }
    match output {
        Output::Json => print_json(&report)?,
        Output::Text => out!("{}", summary(&report).trim_end()),
    }
    Ok(if report.is_partial() { EXIT_PARTIAL } else { 0 })
}

/// Refuses a `sync --site` selector (`controller/site` or `site`; site = internalReference, name
/// or UUID) that names no managed site, before anything is written. Sites are looked up in the
/// database first, then listed from the console (a first `sync` has no sites in the database).
async fn check_site_selector(engine: &Engine, selector: &str) -> Result<(), Failure> {
    let (controller, key) = match selector.split_once('/') {
        Some((c, s)) => (Some(c), s),
        None => (None, selector),
    };
    let controllers: Vec<_> = engine
        .controllers()
        .iter()
        .filter(|c| controller.is_none_or(|name| name == c.config.name))
        .collect();
    let names: Vec<&str> = engine
        .controllers()
        .iter()
        .map(|c| c.config.name.as_str())
        .collect();
    if controllers.is_empty() {
        return Err(Failure::error(format!(
            "no site matches --site {selector}: there is no controller {:?} in the config (configured: {}); write controller/site",
            controller.unwrap_or_default(),
            names.join(", ")
        )));
    }
    let matches = |c: &crate::config::ControllerConfig, keys: [&str; 3]| {
        keys.contains(&key) && c.manages_site(&keys)
    };
    let known = engine.store().sites().await?;
    let in_store = |c: &crate::config::ControllerConfig| {
        known.iter().any(|s| {
            s.controller == c.name
                && !s.is_removed()
                && matches(c, [&s.internal_reference, &s.name, &s.uuid])
        })
    };
    if controllers.iter().any(|c| in_store(&c.config)) {
        return Ok(());
    }
    let mut available = vec![];
    let mut unreachable = vec![];
    for c in &controllers {
        match c.client.sites().await {
            Ok(listed) => {
                for s in listed {
                    if matches(&c.config, [&s.internal_reference, &s.name, &s.id]) {
                        return Ok(());
                    }
                    if c.config
                        .manages_site(&[&s.internal_reference, &s.name, &s.id])
                    {
                        available.push(format!("{}/{}", c.config.name, s.internal_reference));
                    }
                }
            }
            Err(e) => unreachable.push(e.to_string()),
        }
    }
    let mut message = format!(
        "no managed site matches --site {selector}: write controller/site with the site's internalReference, name or UUID"
    );
    if !available.is_empty() {
        message.push_str(&format!(" (managed sites: {})", available.join(", ")));
    }
    for e in unreachable {
        message.push_str(&format!("; cannot list the sites: {e}"));
    }
    Err(Failure::error(message))
}

pub(super) async fn plan(
    config: Config,
    detailed_exitcode: bool,
    output: Output,
) -> Result<u8, Failure> {
    // Read-only when the database exists, so `plan` works beside a running daemon and cannot
    // write; a fresh database is created (schema only) so a first plan works too.
    let store = match Store::open_read_only(&config.database.url).await {
        Ok(s) => s,
        Err(StoreError::NotFound { .. }) => open_writable(&config).await?,
        Err(e) => {
            return Err(Failure::error(format!(
                "database {}: {e}",
                config.database.url
            )));
        }
    };
    let engine = engine(config, store)?;
    let report = engine
        .run_cycle(&CycleOptions::new(Trigger::Cli).dry_run(true))
        .await?;
    match output {
        Output::Json => print_json(&crate::plan_view::plan_view(&report, true))?,
        Output::Text => out!("{}", plan_text(&report).trim_end()),
    }
    let changes = report.plan.action_count() > 0;
    Ok(if report.is_partial() {
        EXIT_PARTIAL
    } else if detailed_exitcode && changes {
        EXIT_CHANGES
    } else {
        0
    })
}

fn summary(report: &CycleReport) -> String {
    let c = &report.counts;
    let mut out = format!(
        "sync {}: {} created, {} updated, {} deleted, {} skipped, {} failed",
        report.outcome, c.created, c.updated, c.deleted, c.skipped, c.failed
    );
    if c.withheld > 0 {
        out.push_str(&format!(
            "; {} deletes withheld by the threshold (sync --force applies them)",
            c.withheld
        ));
    }
    out.push('\n');
    for site in &report.sites {
        if let Some(e) = &site.error {
            out.push_str(&format!("  {}: not read: {e}\n", site.label));
        }
        for w in &site.warnings {
            out.push_str(&format!("  {}: {w}\n", site.label));
        }
    }
    out
}

fn plan_text(report: &CycleReport) -> String {
    let mut out = String::new();
    for s in &report.plan.sites {
        if s.actions.is_empty() && s.withheld.is_empty() && s.conflicts.is_empty() {
            continue;
        }
        out.push_str(&format!("{}:\n", report.site_label(s.site_id)));
        for a in &s.actions {
            let sign = match a {
                Action::Create { .. } => '+',
                Action::Update { .. } => '~',
                Action::Delete { .. } => '-',
            };
            let from = match a {
                Action::Create { source_site, .. } | Action::Update { source_site, .. } => {
                    format!("  (from {})", report.site_label(*source_site))
                }
                Action::Delete { .. } => String::new(),
            };
            out.push_str(&format!("  {sign} {} {}{from}\n", a.verb(), a.record()));
        }
        for a in &s.withheld {
            out.push_str(&format!(
                "  = withheld delete {} (deletion threshold; sync --force applies it)\n",
                a.record()
            ));
        }
        for c in &s.conflicts {
            let what = match &c.reason {
                ConflictReason::ShadowedByNative => "shadowed by the site's own record".to_owned(),
                ConflictReason::CompetingOrigin => "competing origin".to_owned(),
                ConflictReason::Refused(code) => format!("refused by the console ({code})"),
            };
            out.push_str(&format!(
                "  ! conflict {}: {what}: {}\n",
                c.record, c.detail
            ));
        }
    }
    for site in report.sites.iter().filter(|s| s.error.is_some()) {
        out.push_str(&format!(
            "{}: not read, nothing planned: {}\n",
            site.label,
            site.error.as_deref().unwrap_or_default()
        ));
    }
    let n = report.plan.action_count();
    out.push_str(&if n == 0 {
        "No changes.\n".to_owned()
    } else {
        format!("{n} change{} planned.\n", if n == 1 { "" } else { "s" })
    });
    out
}

/// The progress bar of `sync` on a terminal.
struct Bar {
    bar: indicatif::ProgressBar,
}

impl Bar {
    fn new() -> Bar {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{prefix:>9} [{bar:30}] {pos}/{len} {wide_msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar { bar }
    }
}

impl Progress for Bar {
    fn phase(&self, name: &str, total: u64) {
        self.bar.set_prefix(name.to_owned());
        self.bar.set_length(total);
        self.bar.set_position(0);
    }

    fn advance(&self, message: &str) {
        self.bar.set_message(message.to_owned());
        self.bar.inc(1);
    }
}
