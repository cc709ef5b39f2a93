//! `demo`: simulated consoles, a temporary database and the daemon in one process.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Daemon, command, strings};

const DEADLINE: Duration = Duration::from_secs(60);

async fn get_json(http: &reqwest::Client, url: &str) -> Option<Value> {
    http.get(url).send().await.ok()?.json().await.ok()
}

#[tokio::test]
async fn demo_serves_the_dashboard_with_records_propagating_and_stops_on_sigterm() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.out");
    let child = command(
        dir.path(),
        &strings(&["demo", "--listen", "127.0.0.1:0"]),
        &BTreeMap::new(),
    )
    .stdout(std::fs::File::create(&out).unwrap())
    .stderr(std::fs::File::create(dir.path().join("demo.err")).unwrap())
    .spawn()
    .expect("the binary starts");
    let mut daemon = Daemon::new(child);

    // The dashboard URL is printed first.
    let start = Instant::now();
    let base = loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if let Some(url) = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Dashboard:"))
            .map(|u| u.trim().to_owned())
        {
            break url;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "no dashboard URL printed:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    // Within a minute, records have been copied between the simulated sites.
    let http = reqwest::Client::new();
    let records = loop {
        if let Some(r) = get_json(&http, &format!("{base}api/v1/records?limit=1000")).await {
            let copied = r["records"].as_array().into_iter().flatten().any(|rec| {
                rec["sites"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|s| s["state"] == "present")
            });
            if copied {
                break r;
            }
        }
        assert!(
            start.elapsed() < DEADLINE,
            "no record was copied within a minute"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let names: Vec<&str> = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"nas.hq.example"), "{names:?}");
    assert!(names.contains(&"printer.branch.example"), "{names:?}");

    // The old console is flagged as lacking DNS policies.
    let sites = get_json(&http, &format!("{base}api/v1/sites"))
        .await
        .expect("sites");
    let warehouse = sites["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"] == "warehouse/default")
        .expect("warehouse site");
    assert_eq!(warehouse["dns_policies"], Value::Bool(false), "{warehouse}");
    let overview = http.get(&base).send().await.unwrap().text().await.unwrap();
    assert!(
        overview.contains("warehouse"),
        "the overview lists the old console"
    );

    daemon.sigterm().await;
    let status = daemon
        .wait(Duration::from_secs(30))
        .await
        .expect("demo stops after SIGTERM");
    assert!(status.success(), "demo exit status {status}");
}
