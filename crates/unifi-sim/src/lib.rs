//! `unifi-sim`: simulated UniFi Network consoles that speak the Integration API exactly as real
//! consoles do, for tests, benchmarks and the product's `demo` command.
//!
//! - [`scenario`] describes consoles, sites, DNS policies and clients (TOML or Rust).
//! - [`Simulator::start`] serves each console on its own port (HTTPS with a self-signed
//!   certificate, or HTTP) plus a loopback control listener ([`control`]).
//! - [`api`] is the Integration API: pagination, `filter` ([`filter`]), strict request
//!   validation ([`policy`]), the site rules ([`state`]) and the error envelope ([`error`]).
//! - [`faults`] and [`counters`] let tests break a console and see what a client asked of it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! use unifi_sim::{ConsoleSpec, Scenario, SiteSpec, Simulator};
//! let scenario = Scenario::new().console(ConsoleSpec::new("hq", "secret").site(SiteSpec::new("default")));
//! let sim = Simulator::start(&scenario).await?;
//! let hq = sim.console("hq").expect("started");
//! println!("{} {}", hq.base_url(), hq.api_key());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod api;
mod clock;
pub mod console;
pub mod control;
pub mod counters;
pub mod error;
pub mod faults;
pub mod filter;
pub mod policy;
pub mod scenario;
mod server;
pub mod state;
mod tls;
pub mod version;

pub use console::{Console, ConsoleInfo};
pub use counters::Counters;
pub use error::ApiError;
pub use faults::{DownMode, FaultConfig, FaultKind, FaultRule};
pub use scenario::{ClientSpec, ConsoleSpec, Scenario, SiteSpec};
pub use server::Simulator;
pub use state::{ClientKind, DEFAULT_SITE_UUID};
pub use tls::fingerprint as certificate_fingerprint;
pub use version::AppVersion;
