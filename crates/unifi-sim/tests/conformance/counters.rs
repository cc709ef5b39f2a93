//! Request counters: by method, path template and status; writes; concurrency of writes per
//! console and per site; resetting counters and the whole simulator.

use serde_json::{Value, json};
use tokio::task::JoinSet;
use unifi_sim::{ConsoleSpec, FaultConfig, FaultRule, Scenario, SiteSpec};

use crate::support::*;

const LIST: &str = "/v1/sites/{siteId}/dns/policies";
const ONE: &str = "/v1/sites/{siteId}/dns/policies/{dnsPolicyId}";

fn row(method: &str, path: &str, status: u16, count: u64) -> Value {
    json!({"method": method, "path": path, "status": status, "count": count})
}

#[tokio::test]
async fn requests_are_counted_by_method_path_template_and_status() {
    let (sim, api, site) = start_hq().await;
    api.get("/v1/info").await.expect(200);
    api.get("/v1/info").await.expect(200);
    api.get(&sites()).await.expect(200);
    api.get(&policies(site)).await.expect(200);
    let body = a_record("a.example.com", "10.0.0.1", 0);
    let created = api.create(site, &body).await;
    api.post(&policies(site), &body).await.expect(400);
    let id = created["id"].as_str().expect("id");
    api.get(&policy(site, id)).await.expect(200);
    api.put(&policy(site, id), &a_record("a.example.com", "10.0.0.2", 0))
        .await
        .expect(200);
    assert_eq!(api.delete(&policy(site, id)).await.status, 200);
    api.get(&policy(site, id)).await.expect(404);
    api.with_key(None).get(&sites()).await.expect(401);
    api.get(&clients(site)).await.expect(200);
    api.get("/v1/nowhere").await.expect(404);

    let counters = sim.control.counters("hq").await;
    assert_eq!(
        counters["requests"],
        json!([
            row("DELETE", ONE, 200, 1),
            row("GET", "/v1/info", 200, 2),
            row("GET", "/v1/sites", 200, 1),
            row("GET", "/v1/sites", 401, 1),
            row("GET", "/v1/sites/{siteId}/clients", 200, 1),
            row("GET", LIST, 200, 1),
            row("GET", ONE, 200, 1),
            row("GET", ONE, 404, 1),
            row("GET", "other", 404, 1),
            row("POST", LIST, 201, 1),
            row("POST", LIST, 400, 1),
            row("PUT", ONE, 200, 1),
        ])
    );
    assert_eq!(counters["total"], 13);
    assert_eq!(counters["writes"], 4, "POST ×2, PUT, DELETE");
    assert_eq!(counters["maxConcurrentWrites"], 1);
    assert_eq!(
        counters["maxConcurrentWritesBySite"],
        json!({ site.to_string(): 1 })
    );
    // The Rust API agrees.
    let rust = sim.console("hq").counters();
    assert_eq!(rust.total(), 13);
    assert_eq!(rust.writes(), 4);
    assert_eq!(rust.count("POST", LIST), 2);
    assert_eq!(rust.count("GET", "/v1/info"), 2);
    assert_eq!(rust.to_json(), counters);
    // All consoles at once.
    let (status, all) = sim.control.get("/__sim/counters").await;
    assert_eq!(status, 200);
    assert_eq!(all, json!({"consoles": {"hq": counters}}));
}

#[tokio::test]
async fn concurrent_writes_are_tracked_per_console_and_per_site() {
    let sim = TestSim::start(Scenario::new().console(hq().site(SiteSpec::new("lab")))).await;
    let api = sim.api("hq");
    let default = sim.site("hq", "default");
    let lab = sim.site("hq", "lab");
    sim.console("hq").set_latency_ms(100);
    let mut writes = JoinSet::new();
    for i in 0..8 {
        let api = api.clone();
        let site = if i % 2 == 0 { default } else { lab };
        writes.spawn(async move {
            api.post(
                &policies(site),
                &a_record(&format!("c{i}.example.com"), "10.0.0.1", 0),
            )
            .await
            .status
        });
    }
    while let Some(status) = writes.join_next().await {
        assert_eq!(status.expect("joined"), 201);
    }
    let counters = sim.console("hq").counters();
    assert!(counters.max_concurrent_writes() >= 2, "{counters:?}");
    let by_site = counters.max_concurrent_writes_by_site();
    assert!(by_site[&default.to_string()] >= 1 && by_site[&lab.to_string()] >= 1);
    assert_eq!(by_site.len(), 2);
    assert_eq!(counters.writes(), 8);
    let over_http = sim.control.counters("hq").await;
    assert_eq!(
        over_http["maxConcurrentWrites"],
        counters.max_concurrent_writes()
    );
}

#[tokio::test]
async fn sequential_writes_have_a_concurrency_of_one() {
    let (sim, api, site) = start_hq().await;
    sim.console("hq").set_latency_ms(20);
    for i in 0..4 {
        api.create(site, &a_record(&format!("s{i}.example.com"), "10.0.0.1", 0))
            .await;
    }
    let counters = sim.control.counters("hq").await;
    assert_eq!(counters["writes"], 4);
    assert_eq!(counters["maxConcurrentWrites"], 1);
    assert_eq!(
        counters["maxConcurrentWritesBySite"],
        json!({ site.to_string(): 1 })
    );
    // Reads never count as writes.
    api.get(&policies(site)).await.expect(200);
    assert_eq!(sim.control.counters("hq").await["writes"], 4);
}

#[tokio::test]
async fn resetting_counters_zeroes_them() {
    let sim = TestSim::start(
        Scenario::new()
            .console(hq())
            .console(ConsoleSpec::new("branch", "branch-key").site(SiteSpec::new("default"))),
    )
    .await;
    let (hq, branch) = (sim.api("hq"), sim.api("branch"));
    let site = sim.site("hq", "default");
    hq.create(site, &a_record("a.example.com", "10.0.0.1", 0))
        .await;
    branch.get("/v1/info").await.expect(200);
    let (status, body) = sim.control.post_empty("/__sim/counters/reset").await;
    assert_eq!((status, body), (204, Value::Null));
    let zero = json!({"requests": [], "total": 0, "writes": 0, "maxConcurrentWrites": 0,
                      "maxConcurrentWritesBySite": {}});
    assert_eq!(sim.control.counters("hq").await, zero);
    assert_eq!(sim.control.counters("branch").await, zero);
    // Data is untouched by a counters reset.
    assert_eq!(hq.get(&policies(site)).await.expect(200)["totalCount"], 1);
    assert_eq!(sim.control.counters("hq").await["total"], 1);
    // The Rust API resets one console.
    sim.console("hq").reset_counters();
    assert_eq!(sim.console("hq").counters().total(), 0);
}

#[tokio::test]
async fn reset_restores_the_scenario_data_faults_and_counters() {
    let mut spec = hq().site(SiteSpec::new("lab"));
    spec.sites[0]
        .policies
        .push(a_record("seed.example.com", "10.0.0.1", 60));
    spec.faults = FaultConfig {
        latency_ms: 5,
        ..FaultConfig::default()
    };
    let sim = TestSim::start(Scenario::new().console(spec)).await;
    let api = sim.api("hq");
    let site = sim.site("hq", "default");
    let (_, initial) = sim.control.get("/__sim/state").await;
    let seeded_id = initial["consoles"][0]["sites"][0]["policies"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Change everything a test can change.
    api.create(site, &a_record("new.example.com", "10.0.0.2", 0))
        .await;
    assert_eq!(api.delete(&policy(site, &seeded_id)).await.status, 200);
    let (status, _) = sim
        .control
        .post(
            "/__sim/consoles/hq/sites",
            &json!({"internal_reference": "extra"}),
        )
        .await;
    assert_eq!(status, 201);
    sim.control.delete("/__sim/consoles/hq/sites/lab").await;
    sim.control
        .post(
            "/__sim/consoles/hq/sites/default/clients",
            &json!({"type": "WIRED", "name": "laptop", "mac": "aa:bb:cc:99:99:99", "ip": "10.1.0.99"}),
        )
        .await;
    Via::Http
        .add_rule(&sim, "hq", FaultRule::status(500).on("GET", "/v1/info"))
        .await;
    assert_ne!(sim.control.get("/__sim/state").await.1, initial);

    let (status, body) = sim.control.post_empty("/__sim/reset").await;
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(sim.control.get("/__sim/state").await.1, initial);
    let faults = sim.console("hq").faults();
    assert_eq!((faults.latency_ms, faults.rules.len()), (5, 0));
    assert_eq!(sim.control.counters("hq").await["total"], 0);
    let seeded = api.get(&policy(site, &seeded_id)).await.expect(200);
    assert_eq!(seeded["domain"], "seed.example.com");
    // The Rust API does the same for one console.
    api.create(site, &a_record("again.example.com", "10.0.0.3", 0))
        .await;
    sim.console("hq").reset();
    assert_eq!(
        sim.console("hq").policies("default").expect("site").len(),
        1
    );
}
