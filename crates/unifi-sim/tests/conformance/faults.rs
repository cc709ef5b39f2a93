//! Injected faults, each driven once through the control endpoints over HTTP and once through
//! the Rust API (`Via::Http`, `Via::Rust`).

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use unifi_sim::{
    ConsoleSpec, DEFAULT_SITE_UUID, DownMode, FaultConfig, FaultKind, FaultRule, Scenario, SiteSpec,
};

use crate::support::*;

/// The io::ErrorKind at the root of a reqwest error, if any.
fn io_kind(error: &reqwest::Error) -> Option<ErrorKind> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = cause.source();
    }
    None
}

fn down(mode: DownMode) -> FaultConfig {
    FaultConfig {
        down: Some(mode),
        ..FaultConfig::default()
    }
}

fn rule_only(rule: FaultRule) -> FaultConfig {
    FaultConfig {
        rules: vec![rule],
        ..FaultConfig::default()
    }
}

#[tokio::test]
async fn down_refuse_refuses_connections_then_comes_back_on_the_same_port() {
    for via in BOTH {
        let (sim, api, _site) = start_hq().await;
        let info = sim.info("hq");
        let api = api.with_client(unpooled_client(&info));
        api.get("/v1/info").await.expect(200);
        via.set_faults(&sim, "hq", &down(DownMode::Refuse)).await;
        let error = api
            .try_send(Method::GET, "/v1/info", None)
            .await
            .expect_err("a console that is down refuses connections");
        assert!(error.is_connect(), "{via:?}: {error:?}");
        // Over HTTP the control call returns after the port is closed. The Rust API only
        // signals the console's task, so a connection made in the same instant may still
        // land in the closing port's backlog and be reset rather than refused.
        let expected: &[ErrorKind] = match via {
            Via::Http => &[ErrorKind::ConnectionRefused],
            Via::Rust => &[ErrorKind::ConnectionRefused, ErrorKind::ConnectionReset],
        };
        assert!(
            io_kind(&error).is_some_and(|kind| expected.contains(&kind)),
            "{via:?}: {error:?}"
        );
        // Still refused a moment later (the port stays closed).
        let error = api
            .try_send(Method::GET, "/v1/sites", None)
            .await
            .expect_err("still down");
        assert_eq!(io_kind(&error), Some(ErrorKind::ConnectionRefused));

        via.clear(&sim, "hq").await;
        let resp = eventually("the console comes back", || async {
            api.try_send(Method::GET, "/v1/info", None).await.ok()
        })
        .await;
        assert!(resp.contract.is_ok());
        assert_eq!(resp.status, 200, "{via:?}");
        assert_eq!(sim.info("hq").base_url, info.base_url, "same port");
    }
}

#[tokio::test]
async fn down_hang_leaves_requests_unanswered_until_cleared() {
    for via in BOTH {
        let (sim, api, _site) = start_hq().await;
        let info = sim.info("hq");
        let api = api.with_client(unpooled_client(&info));
        api.get("/v1/info").await.expect(200);
        via.set_faults(&sim, "hq", &down(DownMode::Hang)).await;
        let impatient = api.with_timeout(Duration::from_millis(300));
        let started = Instant::now();
        let error = impatient
            .try_send(Method::GET, "/v1/info", None)
            .await
            .expect_err("a hanging console never answers");
        assert!(error.is_timeout(), "{via:?}: {error:?}");
        assert!(started.elapsed() >= Duration::from_millis(300));

        // A patient request made while hanging is answered once the console is back.
        let patient = api.clone();
        let waiting = tokio::spawn(async move { patient.get("/v1/sites").await.status });
        tokio::time::sleep(Duration::from_millis(50)).await;
        via.clear(&sim, "hq").await;
        // (A guard against a regression hanging the suite, not a timing assertion.)
        let answered = tokio::time::timeout(Duration::from_secs(20), waiting)
            .await
            .unwrap_or_else(|_| panic!("{via:?}: the held request was never answered"));
        assert_eq!(answered.expect("joined"), 200, "{via:?}");
        api.get("/v1/info").await.expect(200);
    }
}

#[tokio::test]
async fn going_down_cuts_open_keep_alive_connections() {
    for mode in [DownMode::Refuse, DownMode::Hang] {
        for via in BOTH {
            let (sim, api, _site) = start_hq().await;
            // One pooled HTTP/2 connection, opened while the console is up.
            api.get("/v1/info").await.expect(200);
            via.set_faults(&sim, "hq", &down(mode)).await;
            let outcome = api
                .with_timeout(Duration::from_millis(300))
                .try_send(Method::GET, "/v1/info", None)
                .await;
            assert!(
                outcome.is_err(),
                "{mode:?} via {via:?}: a console that is down answered {outcome:?}"
            );
            via.clear(&sim, "hq").await;
            let patient = api.with_timeout(Duration::from_secs(5));
            let resp = eventually("the console comes back", || async {
                patient.try_send(Method::GET, "/v1/info", None).await.ok()
            })
            .await;
            assert!(resp.contract.is_ok(), "{:?}", resp.contract);
            assert_eq!(resp.status, 200, "{mode:?} via {via:?}");
        }
    }
}

#[tokio::test]
async fn latency_delays_every_api_request() {
    for via in BOTH {
        let (sim, api, site) = start_hq().await;
        via.set_faults(
            &sim,
            "hq",
            &FaultConfig {
                latency_ms: 120,
                ..FaultConfig::default()
            },
        )
        .await;
        for path in ["/v1/info".to_owned(), policies(site)] {
            let resp = api.get(&path).await;
            assert_eq!(resp.status, 200);
            assert!(
                resp.elapsed >= Duration::from_millis(120),
                "{via:?} {path}: {:?}",
                resp.elapsed
            );
        }
        via.clear(&sim, "hq").await;
        api.get("/v1/info").await.expect(200);
    }
}

#[tokio::test]
async fn a_status_fault_answers_503_with_the_envelope() {
    for via in BOTH {
        let (sim, api, site) = start_hq().await;
        via.add_rule(&sim, "hq", FaultRule::status(503).rate(1.0))
            .await;
        for path in ["/v1/info".to_owned(), sites(), policies(site)] {
            api.get(&path)
                .await
                .expect_error(503, "api.internal-error", "Injected server error");
        }
        // Without `apply`, the write does not happen.
        api.post(&policies(site), &a_record("a.example.com", "10.0.0.1", 0))
            .await
            .expect_code(503, "api.internal-error");
        assert!(
            sim.console("hq")
                .policies("default")
                .expect("site")
                .is_empty()
        );
        via.clear(&sim, "hq").await;
        assert_eq!(api.get(&policies(site)).await.expect(200)["totalCount"], 0);
    }
}

#[tokio::test]
async fn skip_and_times_fail_only_page_two_of_a_paged_read() {
    for via in BOTH {
        let mut spec = SiteSpec::new("default");
        for i in 0..60 {
            spec = spec.policy(a_record(&format!("h{i:02}.example.com"), "10.0.0.1", 60));
        }
        let sim =
            TestSim::start(Scenario::new().console(ConsoleSpec::new("hq", HQ_KEY).site(spec)))
                .await;
        let api = sim.api("hq");
        let site = DEFAULT_SITE_UUID;
        let rule = match via {
            Via::Http => FaultRule::status(503).on("GET", "/v1/sites/*/dns/policies"),
            Via::Rust => FaultRule::status(503).on("get", "/v1/sites/{siteId}/dns/policies"),
        }
        .skip(1)
        .times(1);
        via.add_rule(&sim, "hq", rule).await;
        // Other endpoints and methods do not match.
        api.get(&sites()).await.expect(200);
        api.get(&policy(site, uuid::Uuid::new_v4()))
            .await
            .expect_code(404, "api.entity.not-found");
        let page1 = api.get(&format!("{}?limit=25", policies(site))).await;
        assert_eq!(page1.expect(200)["count"], 25, "{via:?}");
        api.get(&format!("{}?offset=25&limit=25", policies(site)))
            .await
            .expect_code(503, "api.internal-error");
        // The retry of page 2 and page 3 succeed: the rule fired its one time.
        assert_eq!(
            api.get(&format!("{}?offset=25&limit=25", policies(site)))
                .await
                .expect(200)["count"],
            25
        );
        assert_eq!(
            api.get(&format!("{}?offset=50&limit=25", policies(site)))
                .await
                .expect(200)["count"],
            10
        );
        let faults = sim.console("hq").faults();
        assert_eq!((faults.rules[0].matched, faults.rules[0].fired), (4, 1));
        let (_, over_http) = sim.control.get("/__sim/consoles/hq/faults").await;
        assert_eq!(over_http["rules"][0]["matched"], 4);
        assert_eq!(over_http["rules"][0]["fired"], 1);
    }
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    for via in BOTH {
        let (sim, api, site) = start_hq().await;
        via.add_rule(
            &sim,
            "hq",
            FaultRule::rate_limit(7).on("POST", "/v1/sites/*/dns/policies"),
        )
        .await;
        let resp = api
            .post(&policies(site), &a_record("a.example.com", "10.0.0.1", 0))
            .await;
        resp.expect_error(429, "api.rate-limit.exceeded", "Rate limit exceeded");
        assert_eq!(
            resp.headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("7"),
            "{via:?}"
        );
        api.get(&policies(site)).await.expect(200);
    }
    // retry_after defaults to 1 second.
    let (sim, api, _site) = start_hq().await;
    Via::Http
        .add_rule(&sim, "hq", FaultRule::new(FaultKind::RateLimit))
        .await;
    let resp = api.get("/v1/info").await;
    assert_eq!(resp.status, 429);
    assert_eq!(
        resp.headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
}

#[tokio::test]
async fn a_timeout_fault_answers_504_after_the_hold() {
    for via in BOTH {
        let (sim, api, _site) = start_hq().await;
        via.add_rule(&sim, "hq", FaultRule::timeout(150).on("GET", "/v1/sites"))
            .await;
        let resp = api.get(&sites()).await;
        resp.expect_error(504, "api.internal-error", "Injected timeout");
        assert!(
            resp.elapsed >= Duration::from_millis(150),
            "{via:?}: {:?}",
            resp.elapsed
        );
        api.get("/v1/info").await.expect(200);
    }
}

#[tokio::test]
async fn a_request_the_client_abandons_is_counted_with_status_0() {
    let (sim, api, _site) = start_hq().await;
    Via::Rust
        .add_rule(
            &sim,
            "hq",
            FaultRule::new(FaultKind::Timeout).on("GET", "/v1/info"),
        )
        .await;
    // The default hold (60 s) outlasts the client, which gives up once the console holds it.
    let client = api.clone();
    let request = tokio::spawn(async move { client.try_send(Method::GET, "/v1/info", None).await });
    let console = sim.console("hq");
    eventually("the console holds the request", || async {
        (console.faults().rules[0].fired == 1).then_some(())
    })
    .await;
    request.abort();
    assert!(request.await.is_err_and(|e| e.is_cancelled()));
    eventually("the abandoned request is counted", || async {
        (console
            .counters()
            .rows()
            .iter()
            .any(|r| r.method == "GET" && r.path == "/v1/info" && r.status == 0 && r.count == 1))
        .then_some(())
    })
    .await;
    // A client with a timeout gives up the same way.
    let error = api
        .with_timeout(Duration::from_millis(200))
        .try_send(Method::GET, "/v1/info", None)
        .await
        .expect_err("timed out");
    assert!(error.is_timeout(), "{error:?}");
}

#[tokio::test]
async fn truncate_sends_half_of_a_200_body() {
    for via in BOTH {
        let (sim, api, site) = start_hq().await;
        api.create(site, &a_record("a.example.com", "10.0.0.1", 0))
            .await;
        let full = api.get(&policies(site)).await.body;
        via.add_rule(
            &sim,
            "hq",
            FaultRule::new(FaultKind::Truncate).on("GET", "/v1/sites/{siteId}/dns/policies"),
        )
        .await;
        let resp = api
            .try_send(Method::GET, &policies(site), None)
            .await
            .expect("a response");
        assert_eq!(resp.status, 200);
        assert!(serde_json::from_slice::<serde_json::Value>(&resp.body).is_err());
        assert_eq!(resp.body, full[..full.len() / 2], "{via:?}");
        let problem = resp
            .contract
            .expect_err("a truncated body breaks the contract");
        assert!(
            problem.contains("not JSON") || problem.contains("JSON"),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn malformed_replaces_the_body_with_something_that_is_not_json() {
    for via in BOTH {
        let (sim, api, site) = start_hq().await;
        via.add_rule(
            &sim,
            "hq",
            FaultRule::new(FaultKind::Malformed).on("GET", "/v1/sites"),
        )
        .await;
        let resp = api
            .try_send(Method::GET, &sites(), None)
            .await
            .expect("a response");
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        assert!(serde_json::from_slice::<serde_json::Value>(&resp.body).is_err());
        assert!(resp.contract.is_err(), "{via:?}");
        // The request itself ran: a malformed answer to a POST still creates the policy.
        via.add_rule(
            &sim,
            "hq",
            FaultRule::new(FaultKind::Malformed).on("POST", "/v1/sites/*/dns/policies"),
        )
        .await;
        let resp = api
            .try_send(
                Method::POST,
                &policies(site),
                Some(
                    a_record("m.example.com", "10.0.0.1", 0)
                        .to_string()
                        .into_bytes(),
                ),
            )
            .await
            .expect("a response");
        assert_eq!(resp.status, 201);
        assert!(resp.contract.is_err());
        assert_eq!(
            sim.console("hq").policies("default").expect("site").len(),
            1
        );
    }
}

#[tokio::test]
async fn an_applied_500_loses_the_response_but_not_the_write() {
    for via in BOTH {
        let (sim, api, site) = start_hq().await;
        via.add_rule(
            &sim,
            "hq",
            FaultRule::status(500)
                .on("POST", "/v1/sites/*/dns/policies")
                .applied()
                .times(1),
        )
        .await;
        let body = a_record("lost.example.com", "10.0.0.1", 0);
        api.post(&policies(site), &body).await.expect_error(
            500,
            "api.internal-error",
            "Injected server error",
        );
        let state = sim.control.state("hq").await;
        let stored = &state["sites"][0]["policies"];
        assert_eq!(stored.as_array().expect("policies").len(), 1, "{via:?}");
        assert_eq!(stored[0]["domain"], "lost.example.com");
        // The client's retry now meets its own earlier write.
        api.post(&policies(site), &body)
            .await
            .expect_code(400, "api.dns.policy.validation.record-already-exists");
    }
}

#[tokio::test]
async fn a_seeded_rate_fires_on_some_but_not_all_requests_reproducibly() {
    async fn outcomes(via: Via) -> Vec<u16> {
        let sim = TestSim::start(Scenario {
            seed: Some(7),
            ..Scenario::new().console(hq())
        })
        .await;
        via.add_rule(
            &sim,
            "hq",
            FaultRule::status(503).on("GET", "/v1/info").rate(0.3),
        )
        .await;
        let api = sim.api("hq");
        let mut statuses = Vec::new();
        for _ in 0..200 {
            statuses.push(api.get("/v1/info").await.status);
        }
        let fired = statuses.iter().filter(|s| **s == 503).count();
        assert!(fired > 0 && fired < 200, "{via:?}: {fired} of 200");
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 200 - fired);
        let rule = &sim.console("hq").faults().rules[0];
        assert_eq!((rule.matched, rule.fired), (200, fired as u64));
        statuses
    }
    let first = outcomes(Via::Http).await;
    let second = outcomes(Via::Rust).await;
    assert_eq!(first, second, "the same seed gives the same sequence");
}

#[tokio::test]
async fn invalid_fault_configurations_are_refused() {
    let (sim, api, _site) = start_hq().await;
    let cases = [
        (
            json!({"rules": [{"kind": "status", "status": 404}]}),
            "rules[0]: status must be a 5xx code, got 404",
        ),
        (
            json!({"rules": [{"kind": "status"}, {"kind": "status", "rate": 1.5}]}),
            "rules[1]: rate must be between 0 and 1, got 1.5",
        ),
    ];
    for (body, message) in cases {
        let (status, error) = sim.control.put("/__sim/consoles/hq/faults", &body).await;
        assert_eq!((status, &error["message"]), (400, &json!(message)));
        assert_eq!(error["code"], "api.request.error");
    }
    for body in [
        json!({"downn": "hang"}),
        json!({"down": "sideways"}),
        json!({"rules": [{"kind": "explode"}]}),
        json!({"rules": [{"kind": "status", "sttus": 500}]}),
        json!({"latency_ms": -5}),
    ] {
        let (status, error) = sim.control.put("/__sim/consoles/hq/faults", &body).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Invalid control request body: ")),
            "{error}"
        );
    }
    let (status, error) = sim
        .control
        .post(
            "/__sim/consoles/hq/faults/rules",
            &json!({"kind": "status", "rate": -0.1}),
        )
        .await;
    assert_eq!(
        (status, &error["message"]),
        (
            400,
            &json!("rules[0]: rate must be between 0 and 1, got -0.1")
        )
    );
    // The Rust API refuses the same way, and nothing was installed.
    let console = sim.console("hq");
    assert_eq!(
        console.add_fault(FaultRule::status(200)),
        Err("rules[0]: status must be a 5xx code, got 200".to_owned())
    );
    assert_eq!(console.faults(), FaultConfig::default());
    api.get("/v1/info").await.expect(200);
}

#[tokio::test]
async fn faults_from_the_scenario_apply_from_the_start_and_come_back_on_reset() {
    let mut spec = hq();
    spec.faults = rule_only(FaultRule::status(502).on("GET", "/v1/info"));
    let sim = TestSim::start(Scenario::new().console(spec)).await;
    let api = sim.api("hq");
    api.get("/v1/info")
        .await
        .expect_code(502, "api.internal-error");
    Via::Http.clear(&sim, "hq").await;
    api.get("/v1/info").await.expect(200);
    let (status, _) = sim.control.post_empty("/__sim/reset").await;
    assert_eq!(status, 204);
    api.get("/v1/info")
        .await
        .expect_code(502, "api.internal-error");
}
