//! Retries: GETs on 5xx, 429 (honouring Retry-After), refused connections and timeouts; writes
//! only when they certainly did not take effect.

use std::time::{Duration, Instant};

use unifi_client::{Client, ClientError, DnsPolicyBody, PolicyData, RetryPolicy, Settings};
use unifi_sim::{DownMode, FaultRule};

use crate::support::{POLICIES, Recorder, info, settings, start_one};

fn a(domain: &str) -> DnsPolicyBody {
    DnsPolicyBody {
        enabled: true,
        domain: domain.into(),
        data: PolicyData::A {
            ipv4_address: "10.0.0.1".into(),
            ttl_seconds: 300,
        },
    }
}

#[tokio::test]
async fn a_get_answered_503_twice_then_succeeds() {
    let sim = start_one().await;
    let hq = sim.console("hq").unwrap();
    let site = hq.site_id("default").unwrap().to_string();
    hq.add_fault(FaultRule::status(503).on("GET", POLICIES).times(2))
        .unwrap();
    let recorder = Recorder::default();
    let client = recorder.attach(Client::new(settings(&info(&sim, "hq"))).unwrap());
    assert_eq!(client.dns_policies(&site).await.unwrap().len(), 0);
    assert_eq!(hq.counters().count("GET", POLICIES), 3);
    let statuses: Vec<Option<u16>> = recorder.all().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(200)]);
}

#[tokio::test]
async fn a_get_gives_up_after_max_retries() {
    let sim = start_one().await;
    let hq = sim.console("hq").unwrap();
    hq.add_fault(FaultRule::status(502).on("GET", "/v1/info"))
        .unwrap();
    let client = Client::new(settings(&info(&sim, "hq"))).unwrap();
    let err = client.info().await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(
        hq.counters().count("GET", "/v1/info"),
        4,
        "1 + max_retries 3"
    );
}

#[tokio::test]
async fn retry_after_is_honoured_and_capped() {
    let sim = start_one().await;
    let hq = sim.console("hq").unwrap();
    let info = info(&sim, "hq");
    let patient = Settings {
        retry: RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(5),
        },
        ..settings(&info)
    };
    hq.add_fault(FaultRule::rate_limit(1).on("GET", "/v1/info").times(1))
        .unwrap();
    let started = Instant::now();
    Client::new(patient).unwrap().info().await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(950),
        "waited only {waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    assert_eq!(hq.counters().count("GET", "/v1/info"), 2);

    // Retry-After beyond max_delay (100 ms here) is capped.
    hq.add_fault(FaultRule::rate_limit(30).on("GET", "/v1/info").times(1))
        .unwrap();
    let started = Instant::now();
    Client::new(settings(&info)).unwrap().info().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_post_answered_500_is_not_retried() {
    let sim = start_one().await;
    let hq = sim.console("hq").unwrap();
    let site = hq.site_id("default").unwrap().to_string();
    hq.add_fault(FaultRule::status(500).on("POST", POLICIES).times(1))
        .unwrap();
    let client = Client::new(settings(&info(&sim, "hq"))).unwrap();
    let err = client
        .create_dns_policy(&site, &a("five.example.com"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(err.effect_unknown() && !err.is_refusal());
    assert_eq!(hq.counters().count("POST", POLICIES), 1);
}

#[tokio::test]
async fn a_post_answered_429_is_retried() {
    let sim = start_one().await;
    let hq = sim.console("hq").unwrap();
    let site = hq.site_id("default").unwrap().to_string();
    hq.add_fault(FaultRule::rate_limit(1).on("POST", POLICIES).times(1))
        .unwrap();
    let client = Client::new(settings(&info(&sim, "hq"))).unwrap();
    client
        .create_dns_policy(&site, &a("busy.example.com"))
        .await
        .unwrap();
    assert_eq!(hq.counters().count("POST", POLICIES), 2);
    assert_eq!(hq.policies("default").unwrap().len(), 1);
}

#[tokio::test]
async fn a_post_that_times_out_after_taking_effect_is_not_retried() {
    let sim = start_one().await;
    let hq = sim.console("hq").unwrap();
    let site = hq.site_id("default").unwrap().to_string();
    hq.add_fault(
        FaultRule::timeout(2_000)
            .on("POST", POLICIES)
            .applied()
            .times(1),
    )
    .unwrap();
    let recorder = Recorder::default();
    let client = recorder.attach(
        Client::new(Settings {
            timeout: Duration::from_millis(400),
            ..settings(&info(&sim, "hq"))
        })
        .unwrap(),
    );
    let started = Instant::now();
    let err = client
        .create_dns_policy(&site, &a("slow.example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Timeout { .. }), "{err:?}");
    assert!(err.effect_unknown());
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("controller 'hq': POST "), "{err}");
    // One attempt only (a retry would have answered 400 record-already-exists instead).
    assert_eq!(recorder.count("POST", POLICIES), 1);
    assert_eq!(recorder.all()[0].status, None);
    let stored = hq.policies("default").unwrap();
    assert_eq!(stored.len(), 1, "the write took effect");
    assert_eq!(stored[0]["domain"], "slow.example.com");
}

#[tokio::test]
async fn a_console_refusing_connections_is_a_connect_error() {
    let sim = start_one().await;
    let hq = sim.console("hq").unwrap();
    let site = hq.site_id("default").unwrap().to_string();
    let recorder = Recorder::default();
    let client = recorder.attach(Client::new(settings(&info(&sim, "hq"))).unwrap());
    client.info().await.unwrap();
    hq.set_down(Some(DownMode::Refuse));
    tokio::time::sleep(Duration::from_millis(50)).await;

    let err = client.info().await.unwrap_err();
    assert!(
        matches!(err, ClientError::Connect { tls: false, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("cannot connect"), "{err}");
    assert_eq!(
        recorder.count("GET", "/v1/info"),
        1 + 1 + 3,
        "the first call, then 1 + max_retries"
    );

    // A refused write was never sent: it is retried and its effect is known (none).
    let err = client
        .create_dns_policy(&site, &a("down.example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Connect { .. }) && !err.effect_unknown(),
        "{err:?}"
    );
    assert_eq!(recorder.count("POST", POLICIES), 4);

    // Back up: works again.
    hq.set_down(None);
    client
        .create_dns_policy(&site, &a("up.example.com"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_hanging_console_times_out_within_the_timeout() {
    let sim = start_one().await;
    let hq = sim.console("hq").unwrap();
    hq.set_down(Some(DownMode::Hang));
    let timeout = Duration::from_millis(300);
    let base = Settings {
        timeout,
        ..settings(&info(&sim, "hq"))
    };
    let once = Client::new(Settings {
        retry: RetryPolicy {
            max_retries: 0,
            ..base.retry
        },
        ..base.clone()
    })
    .unwrap();
    let started = Instant::now();
    let err = once.info().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, ClientError::Timeout { .. }), "{err:?}");
    assert!(
        elapsed >= timeout && elapsed < timeout + Duration::from_millis(700),
        "{elapsed:?}"
    );

    // With retries, each attempt gets the timeout again.
    let recorder = Recorder::default();
    let retrying = recorder.attach(
        Client::new(Settings {
            retry: RetryPolicy {
                max_retries: 2,
                ..base.retry
            },
            ..base
        })
        .unwrap(),
    );
    assert!(matches!(
        retrying.info().await,
        Err(ClientError::Timeout { .. })
    ));
    assert_eq!(recorder.count("GET", "/v1/info"), 3);
}
