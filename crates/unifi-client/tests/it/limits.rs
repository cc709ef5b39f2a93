//! Per-controller limits: parallel writes and the request rate, as the console sees them.

use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use unifi_client::{Client, DnsPolicyBody, PolicyData, Settings};

use crate::support::{POLICIES, Recorder, info, settings, start_one, unique};

/// Runs 10 creates at once with this many parallel writes; returns the console's peak.
async fn peak_concurrent_writes(max_parallel_writes: usize) -> u64 {
    let sim = start_one().await;
    let hq = sim.console("hq").unwrap();
    hq.set_latency_ms(50);
    let site = hq.site_id("default").unwrap().to_string();
    let client = Client::new(Settings {
        max_parallel_writes,
        ..settings(&info(&sim, "hq"))
    })
    .unwrap();
    let mut tasks = JoinSet::new();
    for i in 0..10 {
        let client = client.clone();
        let site = site.clone();
        let body = DnsPolicyBody {
            enabled: true,
            domain: format!("w{i}-{}.example.com", unique()),
            data: PolicyData::A {
                ipv4_address: format!("10.0.0.{}", i + 1),
                ttl_seconds: 60,
            },
        };
        tasks.spawn(async move { client.create_dns_policy(&site, &body).await });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    assert_eq!(hq.policies("default").unwrap().len(), 10);
    assert_eq!(hq.counters().count("POST", POLICIES), 10);
    hq.counters().max_concurrent_writes()
}

#[tokio::test]
async fn one_write_at_a_time() {
    assert_eq!(peak_concurrent_writes(1).await, 1);
}

#[tokio::test]
async fn three_writes_at_a_time() {
    let peak = peak_concurrent_writes(3).await;
    assert!(peak > 1 && peak <= 3, "peak {peak}");
}

#[tokio::test]
async fn requests_are_spaced_by_the_rate_limit() {
    let sim = start_one().await;
    let recorder = Recorder::default();
    let client = recorder.attach(
        Client::new(Settings {
            requests_per_second: 20.0,
            ..settings(&info(&sim, "hq"))
        })
        .unwrap(),
    );
    let started = Instant::now();
    for _ in 0..5 {
        client.info().await.unwrap();
    }
    // Five starts 50 ms apart: at least 200 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(195),
        "{:?}",
        started.elapsed()
    );
    let records = recorder.all();
    assert_eq!(records.len(), 5);
    assert!(records.iter().all(|r| r.controller == "hq"
        && r.method == "GET"
        && r.path_template == "/v1/info"
        && r.status == Some(200)));
}
