//! Starts the whole daemon (`App`: sync loop + web listener on port 0) against simulated
//! consoles, with a real SQLite file, and stops it cleanly.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use unifi_dns_sync::app::App;
use unifi_dns_sync::config;
use unifi_dns_sync::web::AppState;
use unifi_dns_sync_store::Store;
use unifi_sim::{ConsoleSpec, Scenario, Simulator};

pub const TOKEN: &str = "test-web-token-5f1c2a";

/// What the daemon is started with.
pub struct Options {
    /// Set `UNIFI_DNS_SYNC_WEB_TOKEN`; `None` = no token (POST endpoints disabled).
    pub token: Option<&'static str>,
    /// `[sync] interval` (long by default: tests trigger cycles through the API).
    pub interval: &'static str,
    /// Extra lines for `[sync]`.
    pub sync_extra: String,
    /// Extra TOML at the end (e.g. `[[site]]` entries).
    pub extra: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            token: Some(TOKEN),
            interval: "1h",
            sync_extra: String::new(),
            extra: String::new(),
        }
    }
}

#[allow(dead_code)] // each test module uses a different part
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub sim: Simulator,
    pub state: AppState,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub fn console(name: &str) -> ConsoleSpec {
    ConsoleSpec::new(name, &format!("{name}-secret-api-key-0123456789"))
}

/// Starts the daemon; does not wait for the first cycle (see [`TestApp::wait_ready`]).
pub async fn spawn_app(scenario: Scenario, options: Options) -> TestApp {
    // The tests' own HTTP client (plain HTTP to the daemon) uses the process-wide provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Simulator::start(&scenario).await.expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dns_sync.db");
    let mut env = BTreeMap::new();
    let mut text = format!(
        "[database]\nurl = \"{}\"\n\n[web]\nlisten = \"127.0.0.1:0\"\n\n[sync]\ninterval = \"{}\"\nrecord_types = [\"A\", \"AAAA\", \"CNAME\", \"MX\", \"TXT\", \"SRV\", \"FORWARD_DOMAIN\"]\n{}\n",
        db.display(),
        options.interval,
        options.sync_extra
    );
    for c in sim.consoles() {
        let var = format!(
            "TEST_KEY_{}",
            c.name().to_ascii_uppercase().replace('-', "_")
        );
        env.insert(var.clone(), c.api_key().to_owned());
        text.push_str(&unifi_dns_sync::demo::controller_toml(
            c,
            &var,
            "timeout = \"3s\"\nrequests_per_second = 1000",
        ));
    }
    text.push_str(&options.extra);
    if let Some(token) = options.token {
        env.insert("UNIFI_DNS_SYNC_WEB_TOKEN".into(), token.into());
    }
    let path = dir.path().join("unifi-dns-sync.toml");
    std::fs::write(&path, &text).unwrap();
    let config = config::load_str(&text, Some(&path), &env)
        .unwrap_or_else(|e| panic!("config: {e}\n{text}"));
    let store = Store::open(&db.display().to_string())
        .await
        .expect("store opens");
    let app = App::build(config, store, false, false).expect("app builds");
    let state = app.state.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        app.run(Some(listener), stop)
            .await
            .expect("the daemon runs");
    });
    TestApp {
        base,
        sim,
        state,
        http: reqwest::Client::new(),
        dir,
        shutdown,
        task: Some(task),
    }
}

#[allow(dead_code)]
impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits (bounded) until `/readyz` answers 200: the first cycle has finished.
    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = self.http.get(self.url("/readyz")).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "the daemon did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (bounded) until `n` cycles have finished in total.
    pub async fn wait_cycles(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let runs = self.state.store().last_runs(100).await.unwrap();
            if runs
                .iter()
                .filter(|r| r.finished_at.is_some() && !r.dry_run)
                .count()
                >= n
            {
                return;
            }
            assert!(Instant::now() < deadline, "{n} cycles did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the daemon and waits for it (the loop records its run, the server closes).
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("the daemon stops")
                .unwrap();
        }
    }

    pub fn metrics(&self) -> Arc<unifi_dns_sync::metrics::Metrics> {
        self.state.metrics.clone()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
