//! Listeners: each console on its own port (HTTPS or HTTP) and one loopback control listener.
//!
//! A console's accept loop is hand-written rather than `axum::serve` because faults reach below
//! HTTP: "down, refusing" closes the listening socket (clients get connection refused) and
//! re-binds the same port when the console comes back; "down, hanging" accepts connections and
//! answers nothing until the console comes back; going down also cuts open keep-alive connections,
//! as a rebooting console would.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::console::{Console, ConsoleInfo};
use crate::faults::DownMode;
use crate::scenario::Scenario;
use crate::tls;

/// Running simulated consoles. Dropping it (or [`Simulator::shutdown`]) stops them.
pub struct Simulator {
    consoles: Vec<Arc<Console>>,
    control_url: String,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Simulator {
    /// Starts every console of the scenario and the control listener.
    pub async fn start(scenario: &Scenario) -> Result<Simulator, String> {
        scenario.validate()?;
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let control_listener = TcpListener::bind(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            scenario.control.port,
        ))
        .await
        .map_err(|e| {
            format!(
                "cannot bind the control listener on 127.0.0.1:{}: {e}",
                scenario.control.port
            )
        })?;
        let control_url = format!(
            "http://{}",
            control_listener.local_addr().map_err(|e| e.to_string())?
        );
        let seed = scenario.seed.unwrap_or_else(|| fastrand::u64(..));
        let mut consoles = Vec::new();
        for (i, spec) in scenario.consoles.iter().enumerate() {
            let state = spec
                .build_state()
                .map_err(|e| format!("console '{}': {e}", spec.name))?;
            let console = Console::new(
                spec.name.clone(),
                spec.api_key.clone(),
                spec.app_version()?,
                state,
                spec.faults.clone(),
                seed.wrapping_add(i as u64),
            );
            let bind = SocketAddr::new(
                spec.bind.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                spec.port,
            );
            let listener = TcpListener::bind(bind)
                .await
                .map_err(|e| format!("console '{}': cannot listen on {bind}: {e}", spec.name))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let certificate = if spec.tls {
                Some(tls::generate()?)
            } else {
                None
            };
            let scheme = if spec.tls { "https" } else { "http" };
            let host = if addr.ip().is_unspecified() {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
            } else {
                addr
            };
            let _ = console.info.set(ConsoleInfo {
                name: spec.name.clone(),
                base_url: format!("{scheme}://{host}"),
                api_key: spec.api_key.clone(),
                version: console.version().to_string(),
                cert_fingerprint: certificate.as_ref().map(|c| c.fingerprint.clone()),
                cert_pem: certificate.as_ref().map(|c| c.pem.clone()),
                control_url: control_url.clone(),
            });
            let acceptor = certificate.map(|c| c.acceptor);
            tasks.spawn(serve_console(
                console.clone(),
                listener,
                addr,
                acceptor,
                shutdown.clone(),
                tasks.clone(),
            ));
            consoles.push(console);
        }
        let control = crate::control::router(consoles.clone());
        let stop = shutdown.clone();
        tasks.spawn(async move {
            let _ = axum::serve(control_listener, control)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        });
        Ok(Simulator {
            consoles,
            control_url,
            shutdown,
            tasks,
        })
    }

    pub fn consoles(&self) -> &[Arc<Console>] {
        &self.consoles
    }

    /// The console with this name.
    pub fn console(&self, name: &str) -> Option<Arc<Console>> {
        self.consoles.iter().find(|c| c.name() == name).cloned()
    }

    pub fn infos(&self) -> Vec<ConsoleInfo> {
        self.consoles.iter().map(|c| c.info()).collect()
    }

    pub fn control_url(&self) -> &str {
        &self.control_url
    }

    /// Stops every listener and connection and waits for them to finish.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn serve_console(
    console: Arc<Console>,
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) {
    let router = crate::api::router(console.clone());
    let mut changes = console.fault_changes();
    let mut listener = Some(listener);
    // Cancelled when the console goes down, to cut the connections that are open.
    let mut connections = shutdown.child_token();
    loop {
        let down = console.down();
        if down == Some(DownMode::Refuse) {
            listener = None;
        } else if listener.is_none() {
            match rebind(addr, &shutdown).await {
                Some(l) => listener = Some(l),
                None => return,
            }
        }
        let accept = async {
            match &listener {
                Some(l) => l.accept().await,
                None => std::future::pending().await,
            }
        };
        // Biased: a fault change is handled before a connection that arrived with it, so a
        // connection accepted after going down is never served with the old token.
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => return,
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                if console.down().is_some() {
                    connections.cancel();
                    connections = shutdown.child_token();
                }
            }
            accepted = accept => {
                let Ok((stream, _peer)) = accepted else { continue };
                tasks.spawn(serve_connection(console.clone(), stream, tls.clone(), router.clone(), connections.clone()));
            }
        }
    }
}

/// Re-binds the console's port after a "refuse" outage (retrying while the OS releases it).
async fn rebind(addr: SocketAddr, shutdown: &CancellationToken) -> Option<TcpListener> {
    loop {
        match TcpListener::bind(addr).await {
            Ok(l) => return Some(l),
            Err(e) => {
                tracing::debug!("re-binding {addr}: {e}");
                tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
        }
    }
}

async fn serve_connection(
    console: Arc<Console>,
    stream: TcpStream,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    cancel: CancellationToken,
) {
    // Subscribed before looking, so a change in between is not missed.
    let mut changes = console.fault_changes();
    loop {
        match console.down() {
            None => break,
            // Accepted just as the port was closing: cut, as the closing port would.
            Some(DownMode::Refuse) => return,
            // Accept, then say nothing until the console comes back (then serve the
            // connection) or it is cut.
            Some(DownMode::Hang) => {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    changed = changes.changed() => if changed.is_err() { return },
                }
            }
        }
    }
    let service = TowerToHyperService::new(router);
    let builder = auto::Builder::new(TokioExecutor::new());
    match tls {
        Some(acceptor) => {
            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
            let stream = tokio::select! {
                _ = cancel.cancelled() => return,
                s = handshake => match s {
                    Ok(Ok(s)) => s,
                    _ => return,
                },
            };
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = conn => {}
            }
        }
        None => {
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = conn => {}
            }
        }
    }
}
