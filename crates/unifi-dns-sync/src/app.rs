//! The daemon as a whole (`run`): the sync loop and the web server side by side, sharing the
//! engine, the metrics and the health state. Both stop on the same shutdown token; the web
//! server stops after the loop has recorded its last run.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use unifi_dns_sync_store::Store;

use crate::config::Config;
use crate::daemon::{LoopHooks, LoopOutcome, LoopSettings, SyncRequest, run_loop};
use crate::engine::{Engine, EngineError};
use crate::health::Health;
use crate::metrics::Metrics;
use crate::web::{self, AppState};

pub struct App {
    pub state: AppState,
    requests: mpsc::Receiver<SyncRequest>,
    settings: LoopSettings,
}

impl App {
    /// Builds the engine (with request metrics), the health state and the web state.
    pub fn build(
        config: Config,
        store: Store,
        dry_run: bool,
        once: bool,
    ) -> Result<App, EngineError> {
        let metrics = Arc::new(Metrics::new());
        let observer_metrics = metrics.clone();
        let observer: unifi_client::Observer = Arc::new(move |r: &unifi_client::RequestRecord| {
            observer_metrics.api_request(&r.controller, r.method, r.status, r.duration)
        });
        let longest_timeout = config
            .controllers
            .iter()
            .map(|c| c.timeout)
            .max()
            .unwrap_or_default();
        let settings = LoopSettings {
            interval: config.sync.interval,
            dry_run,
            once,
            history_retention: config.sync.history_retention,
        };
        let health = Arc::new(Health::new(Health::stuck_after_for(
            config.sync.interval,
            longest_timeout,
        )));
        let token = config.web.token.clone();
        let engine =
            Arc::new(Engine::new(Arc::new(config), store)?.with_request_observer(observer));
        let (tx, rx) = mpsc::channel(1);
        Ok(App {
            state: AppState::new(engine, metrics, health, tx, token),
            requests: rx,
            settings,
        })
    }

    /// Runs the loop (and the web server on `listener`) until `shutdown` or, with `once`, after
    /// one cycle.
    pub async fn run(
        self,
        listener: Option<TcpListener>,
        shutdown: CancellationToken,
    ) -> Result<LoopOutcome, EngineError> {
        let web_stop = CancellationToken::new();
        let server = listener.map(|l| {
            let state = self.state.clone();
            let stop = web_stop.clone();
            tokio::spawn(async move {
                if let Err(e) = web::serve(l, state, stop).await {
                    tracing::error!("web server stopped: {e}");
                }
            })
        });
        let hooks = LoopHooks {
            health: Some(self.state.health.clone()),
            metrics: Some(self.state.metrics.clone()),
            requests: Some(self.requests),
        };
        let outcome = run_loop(self.state.engine.clone(), self.settings, hooks, shutdown).await;
        web_stop.cancel();
        if let Some(server) = server {
            let _ = server.await;
        }
        outcome
    }
}
