//! `unifi-sim --scenario FILE`: serves the scenario's consoles until SIGINT/SIGTERM, after printing
//! one JSON line per console (`name`, `base_url`, `api_key`, `version`, certificate fingerprint,
//! `control_url`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use unifi_sim::{Scenario, Simulator};

#[derive(Parser)]
#[command(
    name = "unifi-sim",
    version,
    about = "Simulated UniFi Network consoles speaking the Integration API"
)]
struct Args {
    /// Scenario file (TOML) describing consoles, sites, DNS policies and clients.
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,
    /// Leave out the certificate PEM from the printed lines.
    #[arg(long)]
    no_pem: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let scenario = match Scenario::load(&args.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sim = match Simulator::start(&scenario).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    for mut info in sim.infos() {
        if args.no_pem {
            info.cert_pem = None;
        }
        match serde_json::to_string(&info) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("error: {e}"),
        }
    }
    eprintln!(
        "serving {} console(s); control endpoints at {}/__sim/; Ctrl-C stops",
        sim.consoles().len(),
        sim.control_url()
    );
    wait_for_signal().await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
