//! The JSON API, metrics and health endpoints, against the whole daemon (`spawn_app`) and
//! simulated consoles; plus the API document (`docs/api/openapi.json`) and the metrics document
//! (`docs/metrics.md`) checked against what the listener serves.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use unifi_sim::{DownMode, Scenario, SiteSpec};

use crate::support::*;

// ---------------------------------------------------------------------------------------------
// Helpers

/// One HTTP answer of the daemon.
struct Answer {
    status: u16,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    body: String,
    json: Value,
}

impl Answer {
    /// The answer is `status` with a JSON body; returns the body.
    fn expect(&self, status: u16, what: &str) -> &Value {
        assert_eq!(self.status, status, "{what}: {}", self.body);
        assert!(
            self.content_type.starts_with("application/json"),
            "{what}: content type {:?}",
            self.content_type
        );
        &self.json
    }

    /// The answer is a JSON error with `status` whose message contains every one of `words`.
    fn expect_error(&self, status: u16, words: &[&str], what: &str) {
        let body = self.expect(status, what);
        let message = body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no `error` in {}", self.body));
        for w in words {
            assert!(message.contains(w), "{what}: {message:?} lacks {w:?}");
        }
        assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{what}: {body}");
    }
}

async fn call(app: &TestApp, method: Method, path: &str, auth: Option<&str>) -> Answer {
    let mut request = app.http.request(method, app.url(path));
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.expect("the daemon answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.text().await.unwrap();
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        headers,
        body,
        json,
    }
}

async fn get(app: &TestApp, path: &str) -> Answer {
    call(app, Method::GET, path, None).await
}

/// GET that must answer 200 with JSON.
async fn ok(app: &TestApp, path: &str) -> Value {
    get(app, path).await.expect(200, path).clone()
}

async fn post_sync(app: &TestApp, query: &str, auth: Option<&str>) -> Answer {
    call(app, Method::POST, &format!("/api/v1/sync{query}"), auth).await
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

fn a(domain: &str, ip: &str) -> Value {
    json!({"type": "A_RECORD", "enabled": true, "domain": domain, "ipv4Address": ip, "ttlSeconds": 300})
}

fn cname(domain: &str, target: &str) -> Value {
    json!({"type": "CNAME_RECORD", "enabled": true, "domain": domain, "targetDomain": target, "ttlSeconds": 0})
}

/// Polls `/api/v1/status` (bounded) until `pred` holds; returns that status.
async fn wait_status(app: &TestApp, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = ok(app, "/api/v1/status").await;
        if pred(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (bounded) until `n` cycles have finished and the loop is idle again: the run is
/// recorded a moment before the loop refreshes the metrics and releases the engine.
async fn settle(app: &TestApp, n: usize) {
    app.wait_cycles(n).await;
    wait_status(app, "the loop is idle", |s| s["running"] == false).await;
}

fn find<'a>(items: &'a Value, key: &str, value: &str) -> &'a Value {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .find(|i| i[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {items}"))
}

fn names(records: &Value) -> Vec<String> {
    records["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["type"].as_str().unwrap(),
                r["name"].as_str().unwrap(),
                r["value"].as_str().unwrap()
            )
        })
        .collect()
}

/// The state of a record on a site in a record answer.
fn state_on<'a>(record: &'a Value, site: &str) -> &'a Value {
    find(&record["sites"], "site", site)
}

fn policy_id(app: &TestApp, console: &str, site: &str, domain: &str) -> uuid::Uuid {
    app.sim
        .console(console)
        .unwrap()
        .policies(site)
        .unwrap()
        .iter()
        .find(|p| p["domain"] == domain)
        .unwrap_or_else(|| panic!("{console}/{site} has no {domain}"))["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn fingerprint(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))[..12].to_owned()
}

/// Four consoles: `hq` and `branch` publish records (and both have `nas.hq.example`, a
/// conflict), `old` runs Network 9.5.21 (no DNS policies), and `shop` receives only
/// `*.branch.example` and has a second site `lab` that is not managed.
fn network() -> (Scenario, Options) {
    let scenario = Scenario::new()
        .console(
            console("hq").site(
                SiteSpec::new("default")
                    .policy(a("nas.hq.example", "10.0.0.10"))
                    .policy(a("printer.hq.example", "10.0.0.20"))
                    .policy(cname("www.hq.example", "nas.hq.example")),
            ),
        )
        .console(
            console("branch").site(
                SiteSpec::new("default")
                    .policy(a("nas.hq.example", "10.9.9.9"))
                    .policy(a("cam.branch.example", "10.1.0.5")),
            ),
        )
        .console(
            console("old")
                .version("9.5.21")
                .site(SiteSpec::new("default")),
        )
        .console(
            console("shop")
                .site(SiteSpec::new("default"))
                .site(SiteSpec::new("lab")),
        );
    // `extra` follows the last [[controller]] table (shop): its first line belongs to it.
    let options = Options {
        extra: "exclude_sites = [\"lab\"]\n\n[[site]]\nmatch = \"shop/default\"\ndomains = [\"*.branch.example\"]\n".into(),
        ..Options::default()
    };
    (scenario, options)
}

async fn spawn_network() -> TestApp {
    let (scenario, options) = network();
    let app = spawn_app(scenario, options).await;
    app.wait_ready().await;
    app
}

// ---------------------------------------------------------------------------------------------
// Health

#[tokio::test]
async fn readyz_is_503_until_the_first_cycle_finishes_and_healthz_is_ok() {
    // The console holds every request until it is released: the first cycle cannot finish.
    let mut hq =
        console("hq").site(SiteSpec::new("default").policy(a("nas.hq.example", "10.0.0.10")));
    hq.faults.down = Some(DownMode::Hang);
    let app = spawn_app(
        Scenario::new()
            .console(hq)
            .console(console("branch").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;

    let ready = get(&app, "/readyz").await;
    let body = ready.expect(503, "readyz before the first cycle");
    assert_eq!(body["status"], "not ready");
    assert!(body["error"].as_str().unwrap().contains("cycle"), "{body}");
    let health = get(&app, "/healthz").await;
    assert_eq!(health.expect(200, "healthz")["status"], "ok");

    let status = wait_status(&app, "the first cycle runs", |s| {
        s["running"] == true && s["last_run"].is_object()
    })
    .await;
    assert_eq!(status["ready"], false);
    // The run in progress is the last run, not finished yet.
    assert_eq!(status["last_run"]["finished_at"], Value::Null);
    assert_eq!(status["last_run"]["outcome"], Value::Null);
    // No plan can be computed while the cycle runs, and none is cached yet.
    get(&app, "/api/v1/plan")
        .await
        .expect_error(409, &["running"], "plan during the first cycle");
    assert_eq!(get(&app, "/readyz").await.status, 503);

    app.sim.console("hq").unwrap().set_down(None);
    app.wait_ready().await;
    let ready = get(&app, "/readyz").await;
    assert_eq!(ready.expect(200, "readyz after")["status"], "ready");
    assert_eq!(ok(&app, "/api/v1/status").await["ready"], true);
    let health = get(&app, "/healthz").await;
    assert_eq!(health.expect(200, "healthz after")["status"], "ok");
    app.stop().await;
}

#[tokio::test]
async fn shutdown_stops_both_the_loop_and_the_listener() {
    let app = spawn_app(
        Scenario::new()
            .console(
                console("hq")
                    .site(SiteSpec::new("default").policy(a("nas.hq.example", "10.0.0.10"))),
            )
            .console(console("branch").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;
    app.wait_ready().await;
    let healthz = app.url("/healthz");
    let store = app.state.store().clone();
    assert_eq!(get(&app, "/healthz").await.status, 200);
    // `stop` returns once the loop has returned and the server task has ended.
    app.stop().await;
    let fresh = reqwest::Client::new();
    let after = fresh.get(&healthz).send().await;
    assert!(
        after.as_ref().is_err_and(|e| e.is_connect()),
        "the listener still answers after shutdown: {after:?}"
    );
    let runs = store.last_runs(100).await.unwrap();
    assert!(!runs.is_empty());
    assert!(
        runs.iter().all(|r| r.finished_at.is_some()),
        "every run is recorded as finished: {runs:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Status, controllers, sites

#[tokio::test]
async fn status_controllers_and_sites_describe_consoles_sites_and_the_last_run() {
    let app = spawn_network().await;
    let status = ok(&app, "/api/v1/status").await;
    assert_eq!(status["ready"], true);
    assert_eq!(status["running"], false);
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["sync"]["mode"], "sync");
    assert_eq!(status["sync"]["interval_seconds"], 3600);
    assert_eq!(status["records"], 5);
    assert_eq!(status["records_by_type"], json!({"A": 4, "CNAME": 1}));
    assert_eq!(status["insecure_tls"], json!([]));

    // Controllers, in configuration order, with the key's fingerprint and never the key.
    let controllers = status["controllers"].as_array().unwrap();
    let order: Vec<&str> = controllers
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["hq", "branch", "old", "shop"]);
    for c in app.sim.consoles() {
        let view = find(&status["controllers"], "name", c.name());
        assert_eq!(view["url"], c.info().base_url.as_str());
        assert_eq!(view["key_fingerprint"], fingerprint(c.api_key()));
        assert_eq!(view["reachable"], true, "{view}");
        assert_eq!(view["last_error"], Value::Null);
        assert!(view["last_contact"].is_string());
        assert_eq!(view["tls"], "fingerprint");
        assert_eq!(view["insecure_tls"], false);
        assert_eq!(view["configured"], true);
    }
    assert_eq!(
        find(&status["controllers"], "name", "old")["version"],
        "9.5.21"
    );
    assert!(find(&status["controllers"], "name", "hq")["version"].is_string());

    // Sites: the managed ones and the one excluded.
    let labels: BTreeSet<&str> = status["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["site"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        BTreeSet::from([
            "hq/default",
            "branch/default",
            "old/default",
            "shop/default",
            "shop/lab"
        ])
    );
    let lab = find(&status["sites"], "site", "shop/lab");
    assert_eq!(
        (lab["managed"].clone(), lab["removed"].clone()),
        (json!(false), json!(false))
    );
    let branch = find(&status["sites"], "site", "branch/default");
    assert_eq!(branch["managed"], true);
    assert_eq!(branch["controller"], "branch");
    assert_eq!(branch["internal_reference"], "default");
    assert_eq!(branch["name"], "Default");
    assert_eq!(branch["uuid"], unifi_sim::DEFAULT_SITE_UUID.to_string());
    assert_eq!(branch["last_read_complete"], true);
    assert!(branch["last_synced"].is_string());
    assert_eq!(branch["dns_policies"], true);
    assert_eq!(branch["copies"], 2, "printer and www from hq: {branch}");
    assert_eq!(branch["pending"], 0);
    assert!(
        branch["conflicts"].as_i64().unwrap() >= 1,
        "nas.hq.example: {branch}"
    );
    assert_eq!(branch["withheld_deletes"], 0);
    assert!(branch["id"].is_i64());
    assert_eq!(
        find(&status["sites"], "site", "old/default")["dns_policies"],
        false
    );
    assert_eq!(
        find(&status["sites"], "site", "shop/default")["copies"],
        1,
        "cam only"
    );
    assert_eq!(
        find(&status["sites"], "site", "hq/default")["copies"],
        1,
        "cam only"
    );
    assert_eq!(
        status["conflicts"].as_i64().unwrap(),
        status["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["conflicts"].as_i64().unwrap())
            .sum::<i64>()
    );

    let run = &status["last_run"];
    assert_eq!(run["trigger"], "schedule");
    assert_eq!(run["outcome"], "success", "{run}");
    assert_eq!(run["dry_run"], false);
    assert!(run["finished_at"].is_string());
    assert_eq!(
        run["counts"]["created"], 4,
        "printer, www → branch; cam → hq, shop: {run}"
    );

    // The list endpoints give the same shapes.
    let controllers = ok(&app, "/api/v1/controllers").await;
    assert_eq!(controllers["controllers"], status["controllers"]);
    let sites = ok(&app, "/api/v1/sites").await;
    assert_eq!(sites["sites"], status["sites"]);

    // Strict parameters and JSON 405.
    get(&app, "/api/v1/status?verbose=1").await.expect_error(
        400,
        &["verbose"],
        "unknown parameter",
    );
    let wrong = call(&app, Method::POST, "/api/v1/status", Some(&bearer())).await;
    wrong.expect_error(405, &["GET"], "POST status");
    assert_eq!(wrong.headers["allow"], "GET, HEAD");
    get(&app, "/api/v1/nothing-here")
        .await
        .expect_error(404, &[], "unknown endpoint");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Records

#[tokio::test]
async fn records_show_origins_and_the_state_on_every_site_with_filters_and_paging() {
    let app = spawn_network().await;
    let all = ok(&app, "/api/v1/records").await;
    assert_eq!(all["total"], 5);
    assert_eq!(
        (all["offset"].clone(), all["limit"].clone()),
        (json!(0), json!(100))
    );
    assert_eq!(
        names(&all),
        [
            "A cam.branch.example 10.1.0.5",
            "A nas.hq.example 10.0.0.10",
            "A nas.hq.example 10.9.9.9",
            "A printer.hq.example 10.0.0.20",
            "CNAME www.hq.example nas.hq.example",
        ]
    );
    let printer = find(&all["records"], "name", "printer.hq.example");
    assert_eq!(printer["ttl"], 300);
    assert_eq!(printer["enabled"], true);
    assert_eq!(printer["id"].as_str().unwrap().len(), 64);
    let origins = printer["origins"].as_array().unwrap();
    assert_eq!(origins.len(), 1);
    assert_eq!(origins[0]["site"], "hq/default");
    assert_eq!(origins[0]["kind"], "POLICY");
    assert_eq!(
        origins[0]["source_id"],
        policy_id(&app, "hq", "default", "printer.hq.example").to_string()
    );
    // One entry per managed site; the unmanaged lab is not there.
    let sites: BTreeSet<&str> = printer["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["site"].as_str().unwrap())
        .collect();
    assert_eq!(
        sites,
        BTreeSet::from([
            "hq/default",
            "branch/default",
            "old/default",
            "shop/default"
        ])
    );
    assert_eq!(state_on(printer, "hq/default")["state"], "origin");
    let copy = state_on(printer, "branch/default");
    assert_eq!(
        (copy["state"].clone(), copy["wanted"].clone()),
        (json!("present"), json!(true))
    );
    assert_eq!(
        copy["policy_id"],
        policy_id(&app, "branch", "default", "printer.hq.example").to_string()
    );
    assert!(copy["copy_created_at"].is_string());
    let old = state_on(printer, "old/default");
    assert_eq!(
        (old["state"].clone(), old["wanted"].clone()),
        (json!("unsupported"), json!(true))
    );
    let shop = state_on(printer, "shop/default");
    assert_eq!(
        (shop["state"].clone(), shop["wanted"].clone()),
        (json!("not_wanted"), json!(false))
    );
    assert_eq!(shop["policy_id"], Value::Null);

    // The conflict: each side keeps its own nas.hq.example.
    let hq_nas = find(&all["records"], "value", "10.0.0.10");
    let on_branch = state_on(hq_nas, "branch/default");
    assert_eq!(on_branch["state"], "conflict", "{on_branch}");
    assert!(
        ["shadowed", "competing-origin"].contains(&on_branch["reason"].as_str().unwrap()),
        "{on_branch}"
    );
    assert!(on_branch["since"].is_string());
    assert!(on_branch["detail"].is_string());
    let cam = find(&all["records"], "name", "cam.branch.example");
    assert_eq!(state_on(cam, "shop/default")["state"], "present");
    assert_eq!(state_on(cam, "hq/default")["state"], "present");
    assert_eq!(state_on(cam, "branch/default")["state"], "origin");

    // Filters.
    let by = |q: &'static str| {
        let app = &app;
        async move { ok(app, &format!("/api/v1/records?{q}")).await }
    };
    assert_eq!(
        names(&by("type=CNAME").await),
        ["CNAME www.hq.example nas.hq.example"]
    );
    assert_eq!(
        by("type=cname_record").await["total"],
        1,
        "the API's spelling"
    );
    assert_eq!(
        names(&by("domain=*.branch.example").await),
        ["A cam.branch.example 10.1.0.5"]
    );
    assert_eq!(
        by("domain=NAS.hq.example").await["total"],
        2,
        "case-insensitive"
    );
    assert_eq!(by("domain=*.hq.example&type=A").await["total"], 3);
    assert_eq!(
        names(&by("site=shop/default").await),
        ["A cam.branch.example 10.1.0.5"]
    );
    assert_eq!(by("site=branch/default").await["total"], 5);
    assert_eq!(
        by("site=hq/Default").await["total"],
        5,
        "the site's name works too"
    );
    assert_eq!(
        by("site=shop/lab").await["total"],
        0,
        "a known site that is not managed"
    );
    assert_eq!(
        by("site=&domain=").await["total"],
        5,
        "empty values count as absent"
    );

    // Bad values name the parameter.
    for (query, word) in [
        ("site=nope/x", "nope/x"),
        ("type=BOGUS", "type"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("sort=name", "sort"),
        ("limit=1&limit=2", "limit"),
    ] {
        get(&app, &format!("/api/v1/records?{query}"))
            .await
            .expect_error(400, &[word], query);
    }

    // Paging: pages of 2 add up to the whole list, in order, with the same total.
    let mut paged = vec![];
    for offset in [0, 2, 4] {
        let page = by_page(&app, 2, offset).await;
        assert_eq!(page["total"], 5);
        assert_eq!(
            (page["offset"].clone(), page["limit"].clone()),
            (json!(offset), json!(2))
        );
        paged.extend(names(&page));
    }
    assert_eq!(paged, names(&all));
    let past = by_page(&app, 2, 10).await;
    assert_eq!(
        (past["total"].clone(), past["records"].clone()),
        (json!(5), json!([]))
    );
    app.stop().await;
}

async fn by_page(app: &TestApp, limit: u32, offset: u32) -> Value {
    ok(
        app,
        &format!("/api/v1/records?limit={limit}&offset={offset}"),
    )
    .await
}

#[tokio::test]
async fn one_record_has_its_fields_origins_site_states_and_events() {
    let app = spawn_network().await;
    let all = ok(&app, "/api/v1/records").await;
    let id = find(&all["records"], "name", "printer.hq.example")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let record = ok(&app, &format!("/api/v1/records/{id}")).await;
    assert_eq!(record["id"], id.as_str());
    assert_eq!(record["type"], "A");
    assert_eq!(record["name"], "printer.hq.example");
    assert_eq!(record["value"], "10.0.0.20");
    assert_eq!(record["ttl"], 300);
    assert_eq!(record["raw"]["domain"], "printer.hq.example");
    assert!(record["raw"].get("id").is_none() && record["raw"].get("metadata").is_none());
    assert_eq!(record["origins"][0]["site"], "hq/default");
    assert_eq!(record["sites"].as_array().unwrap().len(), 4);
    assert_eq!(state_on(&record, "branch/default")["state"], "present");
    assert_eq!(record["more_events"], false);
    let events = record["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["status"], "CREATED");
    assert_eq!(events[0]["site_label"], "branch/default");
    assert_eq!(events[0]["record_id"], id.as_str());
    // The list's entry is the same record.
    let listed = find(&all["records"], "id", &id);
    for key in [
        "type",
        "name",
        "value",
        "ttl",
        "enabled",
        "origins",
        "sites",
        "first_seen",
    ] {
        assert_eq!(listed[key], record[key], "{key}");
    }

    // An edit at the origin shows up as an update, newest first.
    app.sim
        .console("hq")
        .unwrap()
        .update_policy(
            "default",
            policy_id(&app, "hq", "default", "printer.hq.example"),
            &json!({"type": "A_RECORD", "enabled": true, "domain": "printer.hq.example", "ipv4Address": "10.0.0.20", "ttlSeconds": 900}),
        )
        .unwrap();
    assert_eq!(post_sync(&app, "", Some(&bearer())).await.status, 202);
    settle(&app, 2).await;
    let record = ok(&app, &format!("/api/v1/records/{}", id.to_uppercase())).await;
    assert_eq!(record["ttl"], 900, "ids are case-insensitive");
    let statuses: Vec<&str> = record["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["UPDATED", "CREATED"]);

    let missing = "0".repeat(64);
    get(&app, &format!("/api/v1/records/{missing}"))
        .await
        .expect_error(404, &[&missing], "unknown record");
    get(&app, "/api/v1/records/not-an-id")
        .await
        .expect_error(404, &["not-an-id"], "malformed id");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Events and runs

#[tokio::test]
async fn events_take_the_history_filters_and_page_with_before() {
    let app = spawn_network().await;
    let all = ok(&app, "/api/v1/events?limit=1000").await;
    let events = all["events"].as_array().unwrap().clone();
    assert_eq!(all["next_before"], Value::Null);
    assert_eq!(all["limit"], 1000);
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let created: Vec<String> = events
        .iter()
        .filter(|e| e["status"] == "CREATED")
        .map(|e| {
            format!(
                "{} {}",
                e["site_label"].as_str().unwrap(),
                e["name"].as_str().unwrap()
            )
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        created,
        [
            "branch/default printer.hq.example",
            "branch/default www.hq.example",
            "hq/default cam.branch.example",
            "shop/default cam.branch.example",
        ]
    );
    assert!(
        events.iter().any(|e| e["status"] == "SKIPPED"),
        "the conflict is recorded"
    );
    let e = &events[0];
    for key in [
        "id",
        "run_id",
        "at",
        "status",
        "site_id",
        "site_label",
        "record_id",
        "type",
        "name",
        "value",
        "reason",
        "code",
        "detail",
    ] {
        assert!(e.get(key).is_some(), "event lacks {key}: {e}");
    }

    // Default limit as `history`.
    assert_eq!(ok(&app, "/api/v1/events").await["limit"], 50);

    // Filters.
    let count = |q: &'static str| {
        let app = &app;
        async move {
            ok(app, &format!("/api/v1/events?{q}")).await["events"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count("status=CREATED").await, 4);
    assert_eq!(count("status=created").await, 4, "any case");
    assert_eq!(count("status=DELETED").await, 0);
    assert_eq!(count("site=shop/default").await, 1);
    assert_eq!(count("site=shop/default&status=SKIPPED").await, 0);
    assert_eq!(count("domain=cam.*").await, 2);
    assert_eq!(count("domain=*.hq.example&status=CREATED").await, 2);
    assert_eq!(count("since=1h").await, events.len());
    assert_eq!(
        count("since=2999-01-01T00:00:00Z").await,
        0,
        "an RFC 3339 time"
    );
    let run_id = events[0]["run_id"].as_i64().unwrap();
    assert_eq!(
        ok(&app, &format!("/api/v1/events?run={run_id}&limit=1000")).await["events"]
            .as_array()
            .unwrap()
            .len(),
        events.iter().filter(|e| e["run_id"] == run_id).count()
    );
    let cam_id = events
        .iter()
        .find(|e| e["name"] == "cam.branch.example")
        .unwrap()["record_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let of_cam = ok(&app, &format!("/api/v1/events?record={cam_id}")).await;
    assert!(
        of_cam["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["record_id"] == cam_id.as_str())
    );
    assert_eq!(of_cam["events"].as_array().unwrap().len(), 2);

    // Keyset paging: pages of 1 give every event once, in order.
    let mut paged = vec![];
    let mut path = "/api/v1/events?limit=1".to_owned();
    loop {
        let page = ok(&app, &path).await;
        let page_events = page["events"].as_array().unwrap();
        assert!(page_events.len() <= 1);
        paged.extend(page_events.iter().map(|e| e["id"].as_i64().unwrap()));
        match page["next_before"].as_i64() {
            Some(before) => {
                assert_eq!(Some(before), paged.last().copied());
                path = format!("/api/v1/events?limit=1&before={before}");
            }
            None => break,
        }
        assert!(paged.len() <= ids.len(), "paging does not end");
    }
    assert_eq!(paged, ids);
    // Paging with a site filter spanning several sites (every `default`).
    let mut paged = vec![];
    let mut path = "/api/v1/events?site=default&limit=2".to_owned();
    loop {
        let page = ok(&app, &path).await;
        paged.extend(
            page["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap()),
        );
        match page["next_before"].as_i64() {
            Some(before) => path = format!("/api/v1/events?site=default&limit=2&before={before}"),
            None => break,
        }
        assert!(paged.len() <= ids.len(), "paging does not end");
    }
    let of_defaults: Vec<i64> = events
        .iter()
        .filter(|e| {
            e["site_label"]
                .as_str()
                .is_some_and(|l| l.ends_with("/default"))
        })
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(paged, of_defaults);

    for (query, word) in [
        ("since=yesterday", "since"),
        ("status=DONE", "status"),
        ("site=nowhere/default", "nowhere/default"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("before=abc", "before"),
        ("before=0", "before"),
        ("run=x", "run"),
        ("type=A", "type"),
    ] {
        get(&app, &format!("/api/v1/events?{query}"))
            .await
            .expect_error(400, &[word], query);
    }
    app.stop().await;
}

#[tokio::test]
async fn runs_list_recent_runs_newest_first_with_counts() {
    let app = spawn_network().await;
    assert_eq!(post_sync(&app, "", Some(&bearer())).await.status, 202);
    settle(&app, 2).await;
    let runs = ok(&app, "/api/v1/runs").await;
    let list = runs["runs"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{runs}");
    assert!(list[0]["id"].as_i64() > list[1]["id"].as_i64());
    assert_eq!(list[0]["trigger"], "manual");
    assert_eq!(list[1]["trigger"], "schedule");
    assert_eq!(list[1]["counts"]["created"], 4);
    assert_eq!(list[0]["counts"]["created"], 0, "nothing changed");
    for r in list {
        assert_eq!(r["outcome"], "success");
        assert_eq!(r["dry_run"], false);
        assert_eq!(r["error"], Value::Null);
        assert!(r["started_at"].is_string() && r["finished_at"].is_string());
    }
    let one = ok(&app, "/api/v1/runs?limit=1").await;
    assert_eq!(one["runs"].as_array().unwrap().len(), 1);
    assert_eq!(one["runs"][0], list[0]);
    for query in ["limit=0", "limit=501", "limit=-3", "since=1h"] {
        let word = query.split('=').next().unwrap();
        get(&app, &format!("/api/v1/runs?{query}"))
            .await
            .expect_error(400, &[word], query);
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Plan

#[tokio::test]
async fn plan_lists_actions_conflicts_and_unread_sites_without_writing() {
    let app = spawn_app(
        Scenario::new()
            .console(
                console("hq").site(
                    SiteSpec::new("default")
                        .policy(a("printer.hq.example", "10.0.0.20"))
                        .policy(a("old.hq.example", "10.0.0.30")),
                ),
            )
            .console(console("branch").site(SiteSpec::new("default")))
            .console(console("shop").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;
    app.wait_ready().await;
    let hq = app.sim.console("hq").unwrap();
    let branch = app.sim.console("branch").unwrap();
    // A new record, a TTL edit, a deletion, a conflicting native, and a console down.
    hq.create_policy("default", &a("new.hq.example", "10.0.0.40"))
        .unwrap();
    hq.update_policy(
        "default",
        policy_id(&app, "hq", "default", "printer.hq.example"),
        &json!({"type": "A_RECORD", "enabled": false, "domain": "printer.hq.example", "ipv4Address": "10.0.0.20", "ttlSeconds": 600}),
    )
    .unwrap();
    hq.delete_policy(
        "default",
        policy_id(&app, "hq", "default", "old.hq.example"),
    )
    .unwrap();
    branch
        .create_policy("default", &a("new.hq.example", "10.7.7.7"))
        .unwrap();
    app.sim
        .console("shop")
        .unwrap()
        .set_down(Some(DownMode::Refuse));
    let runs_before = ok(&app, "/api/v1/runs").await["runs"]
        .as_array()
        .unwrap()
        .len();
    for c in app.sim.consoles() {
        c.reset_counters();
    }

    let plan = ok(&app, "/api/v1/plan").await;
    assert_eq!(plan["computed_now"], true);
    assert!(plan["computed_at"].is_string());
    assert_eq!(plan["partial"], true);
    let unread = plan["unread_sites"].as_array().unwrap();
    assert_eq!(unread.len(), 1, "{plan}");
    assert_eq!(unread[0]["site"], "shop/default");
    assert!(unread[0]["error"].is_string());
    assert_eq!(plan["controllers_failed"][0]["controller"], "shop");

    let on_branch = find(&plan["sites"], "site", "branch/default");
    let actions: Vec<String> = on_branch["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {} {} {}",
                a["action"].as_str().unwrap(),
                a["type"].as_str().unwrap(),
                a["name"].as_str().unwrap(),
                a["value"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "delete A old.hq.example 10.0.0.30",
            "update A printer.hq.example 10.0.0.20"
        ],
        "{on_branch}"
    );
    let update = &on_branch["actions"][1];
    assert_eq!(update["ttl"], 600);
    assert_eq!(update["enabled"], false);
    assert_eq!(update["from"], "hq/default");
    assert_eq!(
        update["policy_id"],
        policy_id(&app, "branch", "default", "printer.hq.example").to_string()
    );
    let delete = &on_branch["actions"][0];
    assert_eq!(
        (delete["from"].clone(), delete["ttl"].clone()),
        (Value::Null, json!(300))
    );
    assert!(delete["policy_id"].is_string());
    assert_eq!(on_branch["withheld"], json!([]));
    let conflict = find(&on_branch["conflicts"], "name", "new.hq.example");
    assert_eq!(conflict["value"], "10.0.0.40");
    assert!(["shadowed", "competing-origin"].contains(&conflict["reason"].as_str().unwrap()));
    assert!(conflict["detail"].is_string());
    assert_eq!(conflict["record_id"].as_str().unwrap().len(), 64);
    assert!(plan["changes"].as_u64().unwrap() >= 2);
    assert!(plan["conflicts"].as_u64().unwrap() >= 1);
    assert_eq!(plan["withheld"], 0);

    // Nothing was written, not even a run row: looking at the plan is not a sync.
    for c in app.sim.consoles() {
        assert_eq!(c.counters().writes(), 0, "{} was written to", c.name());
    }
    let runs = ok(&app, "/api/v1/runs").await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), runs_before);
    assert_eq!(runs["runs"][0]["dry_run"], false);
    let status = ok(&app, "/api/v1/status").await;
    assert_eq!(status["last_run"]["id"], runs["runs"][0]["id"]);

    // Cached for a while.
    let again = ok(&app, "/api/v1/plan").await;
    assert_eq!(again["computed_now"], false);
    assert_eq!(again["computed_at"], plan["computed_at"]);
    get(&app, "/api/v1/plan?fresh=1")
        .await
        .expect_error(400, &["fresh"], "unknown parameter");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// POST /api/v1/sync

#[tokio::test]
async fn post_sync_is_forbidden_without_a_configured_token() {
    let app = spawn_app(
        Scenario::new()
            .console(console("hq").site(SiteSpec::new("default")))
            .console(console("branch").site(SiteSpec::new("default"))),
        Options {
            token: None,
            ..Options::default()
        },
    )
    .await;
    app.wait_ready().await;
    for auth in [None, Some(bearer().as_str()), Some("Bearer anything")] {
        post_sync(&app, "", auth).await.expect_error(
            403,
            &[
                "token_env",
                "UNIFI_DNS_SYNC_WEB_TOKEN",
                "token_file",
                "Authorization: Bearer",
            ],
            "no token configured",
        );
    }
    assert_eq!(
        app.state.store().last_runs(10).await.unwrap().len(),
        1,
        "no cycle ran"
    );
    app.stop().await;
}

#[tokio::test]
async fn post_sync_needs_the_right_bearer_token_and_starts_a_cycle() {
    let app = spawn_app(
        Scenario::new()
            .console(
                console("hq")
                    .site(SiteSpec::new("default").policy(a("nas.hq.example", "10.0.0.10"))),
            )
            .console(console("branch").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;
    app.wait_ready().await;
    let wrong_token = format!("Bearer {TOKEN}x");
    let basic = format!("Basic {TOKEN}");
    for auth in [
        None,
        Some("Bearer"),
        Some("Bearer "),
        Some(wrong_token.as_str()),
        Some(basic.as_str()),
        Some(TOKEN),
    ] {
        let answer = post_sync(&app, "", auth).await;
        answer.expect_error(401, &["Authorization: Bearer"], &format!("auth {auth:?}"));
        assert_eq!(answer.headers["www-authenticate"], "Bearer");
    }
    // Authentication comes before reading the query.
    post_sync(&app, "?force=maybe", None)
        .await
        .expect_error(401, &[], "bad query, no token");
    post_sync(&app, "?force=maybe", Some(&bearer()))
        .await
        .expect_error(400, &["force"], "bad force");

    // A change at a console, then the right token: a new cycle runs and propagates it.
    app.sim
        .console("hq")
        .unwrap()
        .create_policy("default", &a("new.hq.example", "10.0.0.50"))
        .unwrap();
    let accepted = post_sync(&app, "", Some(&bearer())).await;
    assert_eq!(
        accepted.expect(202, "right token"),
        &json!({"status": "accepted", "force": false})
    );
    settle(&app, 2).await;
    let runs = ok(&app, "/api/v1/runs").await;
    assert_eq!(runs["runs"][0]["trigger"], "manual");
    assert_eq!(runs["runs"][0]["counts"]["created"], 1);
    assert!(
        app.sim
            .console("branch")
            .unwrap()
            .policies("default")
            .unwrap()
            .iter()
            .any(|p| p["domain"] == "new.hq.example")
    );
    let wrong_method = get(&app, "/api/v1/sync").await;
    wrong_method.expect_error(405, &["POST"], "GET sync");
    assert_eq!(wrong_method.headers["allow"], "POST");
    app.stop().await;
}

#[tokio::test]
async fn force_applies_the_deletes_the_threshold_withholds() {
    let mut hq = SiteSpec::new("default");
    for i in 0..12 {
        hq = hq.policy(a(
            &format!("r{i:02}.hq.example"),
            &format!("10.0.1.{}", i + 1),
        ));
    }
    let app = spawn_app(
        Scenario::new()
            .console(console("hq").site(hq))
            .console(console("branch").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;
    app.wait_ready().await;
    let branch_site = |status: &Value| find(&status["sites"], "site", "branch/default").clone();
    assert_eq!(branch_site(&ok(&app, "/api/v1/status").await)["copies"], 12);

    // Most origins go at once: 9 of 12 copies would go, over 30 % of ≥ 10 copies.
    let hq_console = app.sim.console("hq").unwrap();
    for i in 0..9 {
        let id = policy_id(&app, "hq", "default", &format!("r{i:02}.hq.example"));
        hq_console.delete_policy("default", id).unwrap();
    }
    assert_eq!(post_sync(&app, "", Some(&bearer())).await.status, 202);
    settle(&app, 2).await;
    let status = ok(&app, "/api/v1/status").await;
    let branch = branch_site(&status);
    assert_eq!(
        (branch["copies"].clone(), branch["withheld_deletes"].clone()),
        (json!(12), json!(9))
    );
    assert_eq!(status["withheld_deletes"], 9);
    assert_eq!(status["last_run"]["counts"]["withheld"], 9);
    assert_eq!(status["last_run"]["counts"]["deleted"], 0);
    assert_eq!(
        app.sim
            .console("branch")
            .unwrap()
            .policies("default")
            .unwrap()
            .len(),
        12
    );
    let threshold = ok(&app, "/api/v1/events?status=SKIPPED&site=branch/default").await;
    assert!(
        threshold["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "threshold"),
        "{threshold}"
    );
    // The records without origins are still on branch, no longer wanted there.
    let records = ok(&app, "/api/v1/records?site=branch/default").await;
    assert_eq!(records["total"], 12);
    let r00 = find(&records["records"], "name", "r00.hq.example");
    assert_eq!(r00["origins"], json!([]));
    let on_branch = state_on(r00, "branch/default");
    assert_eq!(
        (on_branch["state"].clone(), on_branch["wanted"].clone()),
        (json!("present"), json!(false))
    );
    // The plan shows them as withheld deletes.
    let plan = ok(&app, "/api/v1/plan").await;
    let plan_branch = find(&plan["sites"], "site", "branch/default");
    assert_eq!(plan_branch["actions"], json!([]));
    let withheld = plan_branch["withheld"].as_array().unwrap();
    assert_eq!(withheld.len(), 9);
    assert!(
        withheld
            .iter()
            .all(|w| w["action"] == "delete" && w["policy_id"].is_string())
    );
    assert_eq!(plan["withheld"], 9);
    let metrics = get(&app, "/metrics").await.body;
    assert!(
        metrics
            .contains("unifi_dns_sync_withheld_deletes{controller=\"branch\",site=\"default\"} 9"),
        "{metrics}"
    );

    // Forced: the deletes are applied, once.
    let accepted = post_sync(&app, "?force=true", Some(&bearer())).await;
    assert_eq!(accepted.expect(202, "force")["force"], true);
    settle(&app, 3).await;
    let status = ok(&app, "/api/v1/status").await;
    let branch = branch_site(&status);
    assert_eq!(
        (branch["copies"].clone(), branch["withheld_deletes"].clone()),
        (json!(3), json!(0))
    );
    assert_eq!(status["last_run"]["counts"]["deleted"], 9);
    assert_eq!(status["last_run"]["trigger"], "manual");
    assert_eq!(
        app.sim
            .console("branch")
            .unwrap()
            .policies("default")
            .unwrap()
            .len(),
        3
    );
    let deleted = ok(&app, "/api/v1/events?status=DELETED&site=branch/default").await;
    assert_eq!(deleted["events"].as_array().unwrap().len(), 9);
    assert_eq!(ok(&app, "/api/v1/records").await["total"], 3);
    app.stop().await;
}

#[tokio::test]
async fn a_second_sync_while_a_cycle_runs_is_409_and_so_is_a_plan_before_any() {
    let app = spawn_app(
        Scenario::new()
            .console(
                console("hq")
                    .site(SiteSpec::new("default").policy(a("nas.hq.example", "10.0.0.10"))),
            )
            .console(console("branch").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;
    app.wait_ready().await;
    // Every request to hq now takes 2 s (below the 3 s timeout): the next cycle is slow.
    let hq = app.sim.console("hq").unwrap();
    hq.set_latency_ms(2000);
    let first = ok(&app, "/api/v1/status").await["last_run"]["id"].clone();
    assert_eq!(post_sync(&app, "", Some(&bearer())).await.status, 202);
    wait_status(&app, "the requested cycle runs", |s| {
        s["running"] == true && s["last_run"]["id"] != first
    })
    .await;
    post_sync(&app, "", Some(&bearer()))
        .await
        .expect_error(409, &["running"], "second sync");
    post_sync(&app, "?force=true", Some(&bearer()))
        .await
        .expect_error(409, &["running"], "second forced sync");
    get(&app, "/api/v1/plan").await.expect_error(
        409,
        &["running"],
        "plan while running, none cached",
    );
    // Reading endpoints and pages keep answering during the cycle (they read the database).
    assert_eq!(ok(&app, "/api/v1/records").await["total"], 1);
    for page in ["/", "/matrix", "/history"] {
        let answer = app.http.get(app.url(page)).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{page} during a cycle");
    }
    assert_eq!(
        ok(&app, "/api/v1/status").await["running"],
        true,
        "still the same cycle"
    );
    assert_eq!(
        ok(&app, "/api/v1/runs?limit=1").await["runs"][0]["finished_at"],
        Value::Null
    );

    hq.set_latency_ms(0);
    settle(&app, 2).await;
    let plan = ok(&app, "/api/v1/plan").await;
    assert_eq!(
        (plan["computed_now"].clone(), plan["changes"].clone()),
        (json!(true), json!(0))
    );
    assert_eq!(post_sync(&app, "", Some(&bearer())).await.status, 202);
    settle(&app, 3).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Metrics

/// One sample of the exposition.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// `# TYPE` lines (family → type) and samples.
fn parse_exposition(text: &str) -> (BTreeMap<String, String>, Vec<Sample>) {
    let mut types = BTreeMap::new();
    let mut samples = vec![];
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "two TYPE lines for {name}"
            );
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), BTreeMap::new()),
            Some((name, rest)) => {
                let inner = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("bad labels in {line:?}"));
                let mut labels = BTreeMap::new();
                let mut chars = inner.chars().peekable();
                while chars.peek().is_some() {
                    let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
                    assert_eq!(chars.next(), Some('"'), "{line:?}");
                    let mut value = String::new();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => value.push(chars.next().unwrap()),
                            '"' => break,
                            c => value.push(c),
                        }
                    }
                    if chars.peek() == Some(&',') {
                        chars.next();
                    }
                    labels.insert(key, value);
                }
                (name.to_owned(), labels)
            }
        };
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    (types, samples)
}

/// Every metric of SPEC §7 (and the withheld-deletes gauge): name, type, label names.
const METRICS: &[(&str, &str, &[&str])] = &[
    ("unifi_dns_sync_cycles_total", "counter", &["outcome"]),
    ("unifi_dns_sync_cycle_duration_seconds", "histogram", &[]),
    (
        "unifi_dns_sync_last_success_timestamp_seconds",
        "gauge",
        &[],
    ),
    (
        "unifi_dns_sync_changes_total",
        "counter",
        &["controller", "site", "action"],
    ),
    ("unifi_dns_sync_records", "gauge", &["type"]),
    ("unifi_dns_sync_copies", "gauge", &["controller", "site"]),
    ("unifi_dns_sync_conflicts", "gauge", &["controller", "site"]),
    (
        "unifi_dns_sync_withheld_deletes",
        "gauge",
        &["controller", "site"],
    ),
    (
        "unifi_dns_sync_site_read_ok",
        "gauge",
        &["controller", "site"],
    ),
    (
        "unifi_dns_sync_api_requests_total",
        "counter",
        &["controller", "method", "status"],
    ),
    (
        "unifi_dns_sync_api_request_duration_seconds",
        "histogram",
        &["controller"],
    ),
];

fn value_of(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && s.labels.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

#[tokio::test]
async fn metrics_have_every_family_with_its_type_and_labels_after_a_busy_cycle() {
    let app = spawn_app(
        Scenario::new()
            .console(
                console("hq").site(
                    SiteSpec::new("default")
                        .policy(a("nas.hq.example", "10.0.0.10"))
                        .policy(a("printer.hq.example", "10.0.0.20"))
                        .policy(a("old.hq.example", "10.0.0.30")),
                ),
            )
            .console(
                console("branch")
                    .site(SiteSpec::new("default").policy(a("nas.hq.example", "10.9.9.9"))),
            )
            .console(console("shop").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;
    // Before any cycle: the families are declared, with no samples yet.
    let early = get(&app, "/metrics").await;
    assert_eq!(early.status, 200);
    assert!(
        early
            .body
            .contains("# TYPE unifi_dns_sync_cycles_total counter")
    );
    app.wait_ready().await;

    // Cycle 2 updates (a TTL edit) and deletes (a deletion) on branch, while shop is down.
    let hq = app.sim.console("hq").unwrap();
    hq.update_policy(
        "default",
        policy_id(&app, "hq", "default", "printer.hq.example"),
        &json!({"type": "A_RECORD", "enabled": true, "domain": "printer.hq.example", "ipv4Address": "10.0.0.20", "ttlSeconds": 600}),
    )
    .unwrap();
    hq.delete_policy(
        "default",
        policy_id(&app, "hq", "default", "old.hq.example"),
    )
    .unwrap();
    app.sim
        .console("shop")
        .unwrap()
        .set_down(Some(DownMode::Refuse));
    assert_eq!(post_sync(&app, "", Some(&bearer())).await.status, 202);
    settle(&app, 2).await;
    // The gauges are refreshed right after the run is recorded: poll for the second cycle.
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        let answer = get(&app, "/metrics").await;
        if answer
            .body
            .contains("unifi_dns_sync_cycles_total{outcome=\"partial\"} 1")
        {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "the second cycle is not in the metrics: {}",
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(answer.status, 200);
    assert!(
        answer.content_type.starts_with("text/plain"),
        "{}",
        answer.content_type
    );
    assert!(
        answer.content_type.contains("version=0.0.4"),
        "{}",
        answer.content_type
    );
    let text = answer.body;
    let (types, samples) = parse_exposition(&text);

    // Every sample belongs to a declared family; every family has its type and label names.
    for s in &samples {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                s.name
                    .strip_suffix(suffix)
                    .filter(|f| types.get(*f).map(String::as_str) == Some("histogram"))
            })
            .unwrap_or(&s.name);
        assert!(types.contains_key(family), "{} has no # TYPE", s.name);
    }
    for (name, kind, labels) in METRICS {
        assert_eq!(
            types.get(*name).map(String::as_str),
            Some(*kind),
            "# TYPE of {name}"
        );
        let expected: BTreeSet<&str> = labels.iter().copied().collect();
        let series: Vec<&Sample> = samples
            .iter()
            .filter(|s| {
                s.name == *name
                    || (*kind == "histogram"
                        && [
                            format!("{name}_bucket"),
                            format!("{name}_sum"),
                            format!("{name}_count"),
                        ]
                        .contains(&s.name))
            })
            .collect();
        assert!(!series.is_empty(), "{name} has no samples:\n{text}");
        for s in series {
            let mut got: BTreeSet<&str> = s.labels.keys().map(String::as_str).collect();
            if s.name.ends_with("_bucket") {
                assert!(got.remove("le"), "{s:?}");
            }
            assert_eq!(got, expected, "labels of {s:?}");
        }
    }
    let v = |name: &str, labels: &[(&str, &str)]| value_of(&samples, name, labels);
    let site = |c: &'static str| [("controller", c), ("site", "default")];

    assert_eq!(
        v("unifi_dns_sync_cycles_total", &[("outcome", "success")]),
        Some(1.0)
    );
    assert_eq!(
        v("unifi_dns_sync_cycles_total", &[("outcome", "partial")]),
        Some(1.0)
    );
    assert_eq!(
        v("unifi_dns_sync_cycle_duration_seconds_count", &[]),
        Some(2.0)
    );
    assert_eq!(
        v(
            "unifi_dns_sync_cycle_duration_seconds_bucket",
            &[("le", "+Inf")]
        ),
        Some(2.0)
    );
    assert!(v("unifi_dns_sync_cycle_duration_seconds_sum", &[]).is_some());
    let last_success =
        v("unifi_dns_sync_last_success_timestamp_seconds", &[]).expect("the first cycle succeeded");
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    assert!(
        last_success <= now && last_success > now - 3600.0,
        "{last_success}"
    );

    let change = |c: &'static str, action: &'static str| {
        v(
            "unifi_dns_sync_changes_total",
            &[("controller", c), ("site", "default"), ("action", action)],
        )
    };
    assert_eq!(change("branch", "created"), Some(2.0), "printer and old");
    assert_eq!(
        change("shop", "created"),
        Some(3.0),
        "printer, old and one nas"
    );
    assert_eq!(change("branch", "updated"), Some(1.0), "printer's TTL");
    assert_eq!(change("branch", "deleted"), Some(1.0), "old");
    assert_eq!(change("shop", "updated"), None, "shop could not be read");
    assert!(
        samples
            .iter()
            .any(|s| s.name == "unifi_dns_sync_changes_total" && s.labels["action"] == "skipped"),
        "the conflict is counted as skipped:\n{text}"
    );

    assert_eq!(v("unifi_dns_sync_site_read_ok", &site("hq")), Some(1.0));
    assert_eq!(v("unifi_dns_sync_site_read_ok", &site("branch")), Some(1.0));
    assert_eq!(v("unifi_dns_sync_site_read_ok", &site("shop")), Some(0.0));
    assert_eq!(
        v("unifi_dns_sync_copies", &site("branch")),
        Some(1.0),
        "printer"
    );
    assert_eq!(
        v("unifi_dns_sync_copies", &site("shop")),
        Some(3.0),
        "unchanged while unread"
    );
    assert!(v("unifi_dns_sync_conflicts", &site("branch")).unwrap() >= 1.0);
    assert_eq!(
        v("unifi_dns_sync_withheld_deletes", &site("branch")),
        Some(0.0)
    );
    // The gauges agree with the API.
    let status = ok(&app, "/api/v1/status").await;
    for (t, n) in status["records_by_type"].as_object().unwrap() {
        assert_eq!(
            v("unifi_dns_sync_records", &[("type", t)]),
            n.as_f64(),
            "records of type {t}"
        );
    }
    for s in status["sites"].as_array().unwrap() {
        let labels = [
            ("controller", s["controller"].as_str().unwrap()),
            ("site", s["internal_reference"].as_str().unwrap()),
        ];
        assert_eq!(
            v("unifi_dns_sync_copies", &labels),
            s["copies"].as_f64(),
            "{s}"
        );
        assert_eq!(
            v("unifi_dns_sync_conflicts", &labels),
            s["conflicts"].as_f64(),
            "{s}"
        );
    }

    let requests = |c: &'static str, m: &'static str, st: &'static str| {
        v(
            "unifi_dns_sync_api_requests_total",
            &[("controller", c), ("method", m), ("status", st)],
        )
    };
    assert!(
        requests("hq", "GET", "200").unwrap() >= 6.0,
        "info, sites, policies × 2 cycles"
    );
    assert_eq!(requests("branch", "POST", "201"), Some(2.0));
    assert_eq!(requests("branch", "PUT", "200"), Some(1.0));
    assert_eq!(requests("branch", "DELETE", "200"), Some(1.0));
    assert!(
        requests("shop", "GET", "error").unwrap() >= 1.0,
        "refused connections:\n{text}"
    );
    for c in ["hq", "branch", "shop"] {
        let count = v(
            "unifi_dns_sync_api_request_duration_seconds_count",
            &[("controller", c)],
        )
        .unwrap();
        let total: f64 = samples
            .iter()
            .filter(|s| {
                s.name == "unifi_dns_sync_api_requests_total" && s.labels["controller"] == c
            })
            .map(|s| s.value)
            .sum();
        assert_eq!(count, total, "{c}: one duration per request");
        assert_eq!(
            v(
                "unifi_dns_sync_api_request_duration_seconds_bucket",
                &[("controller", c), ("le", "+Inf")]
            ),
            Some(count)
        );
    }

    // docs/metrics.md describes every family the listener serves, with its type and labels.
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/metrics.md"
    ))
    .unwrap();
    for (name, kind) in &types {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("docs/metrics.md has no row for {name}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(cells[2], kind, "docs/metrics.md: type of {name}");
        let (_, _, labels) = METRICS.iter().find(|(n, _, _)| n == name).unwrap();
        for l in *labels {
            assert!(
                cells[3].contains(&format!("`{l}`")),
                "docs/metrics.md: {name} lacks label {l}"
            );
        }
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The API document

/// Every route of the listener outside the dashboard pages.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/status"),
    ("GET", "/api/v1/controllers"),
    ("GET", "/api/v1/sites"),
    ("GET", "/api/v1/records"),
    ("GET", "/api/v1/records/{id}"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/runs"),
    ("GET", "/api/v1/plan"),
    ("POST", "/api/v1/sync"),
];

fn load_document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api/openapi.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Follows `$ref`s and merges `allOf` members into one schema.
fn normalize(doc: &Value, schema: &Value) -> Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unsupported $ref {r}"));
        let target = doc["components"]["schemas"]
            .get(name)
            .unwrap_or_else(|| panic!("no schema {name}"));
        return normalize(doc, target);
    }
    let Some(all) = schema.get("allOf").and_then(Value::as_array) else {
        return schema.clone();
    };
    let mut properties = serde_json::Map::new();
    let mut required = vec![];
    for member in all {
        let member = normalize(doc, member);
        if let Some(p) = member.get("properties").and_then(Value::as_object) {
            properties.extend(p.clone());
        }
        if let Some(r) = member.get("required").and_then(Value::as_array) {
            required.extend(r.clone());
        }
    }
    json!({"type": "object", "properties": properties, "required": required})
}

/// A small JSON Schema check (type, enum, required, properties, additionalProperties, items,
/// oneOf, allOf, $ref): enough for the document's schemas. A field the answer has and the
/// schema does not describe is an error too.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = normalize(doc, schema);
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|o| {
                let mut e = vec![];
                check(doc, o, value, at, &mut e);
                e.is_empty()
            })
            .count();
        if matching != 1 {
            errors.push(format!(
                "{at}: {matching} of the oneOf schemas match {value}"
            ));
        }
    }
    if let Some(t) = schema.get("type") {
        let allowed: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if !(allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"))) {
            errors.push(format!("{at}: {actual} where the document says {t}"));
            return;
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {values:?}"));
    }
    match value {
        Value::Object(map) => {
            for r in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let r = r.as_str().unwrap();
                if !map.contains_key(r) {
                    errors.push(format!("{at}: required field `{r}` is missing"));
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (key, v) in map {
                let at = format!("{at}.{key}");
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(s), _) => check(doc, s, v, &at, errors),
                    (None, Some(s)) if s.is_object() => check(doc, s, v, &at, errors),
                    (None, None) if properties.is_none() => {}
                    (None, _) => {
                        errors.push(format!("{at}: the document does not describe this field"))
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(doc, s, item, &format!("{at}[{i}]"), errors);
                }
            }
        }
        _ => {}
    }
}

/// A value for a documented query parameter that the running app accepts.
fn sample_value(name: &str, record_id: &str) -> String {
    match name {
        "site" => "hq/default".into(),
        "domain" => "*.example".into(),
        "type" => "A".into(),
        "limit" => "5".into(),
        "offset" => "0".into(),
        "since" => "1h".into(),
        "status" => "CREATED".into(),
        "before" => "1000000".into(),
        "record" => record_id.into(),
        "run" => "1".into(),
        "force" => "true".into(),
        other => panic!("no sample value for the documented parameter `{other}`"),
    }
}

#[tokio::test]
async fn the_api_document_describes_every_route_and_what_it_answers() {
    let doc = load_document();
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
        Some(true)
    );
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        documented, routes,
        "documented operations vs the router's routes"
    );

    let app = spawn_network().await;
    let record_id = ok(&app, "/api/v1/records").await["records"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut errors = vec![];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let url = path.replace("{id}", &record_id);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // POST without a token: authentication answers, so nothing runs.
            let answer = call(&app, method.clone(), &url, None).await;
            assert!(
                ![404, 405].contains(&answer.status),
                "{method} {url} is documented but answers {}",
                answer.status
            );
            let status = answer.status.to_string();
            let response = op["responses"]
                .get(&status)
                .unwrap_or_else(|| panic!("{method} {path}: answer {status} is not documented"));
            let content = response["content"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path} {status}: no content"));
            let (media, media_doc) = content.iter().next().unwrap();
            let documented_type = media.split(';').next().unwrap();
            assert!(
                answer.content_type.starts_with(documented_type),
                "{method} {path}: {} vs the documented {media}",
                answer.content_type
            );
            if documented_type == "application/json" {
                check(
                    &doc,
                    &media_doc["schema"],
                    &answer.json,
                    &format!("{method} {path} {status}"),
                    &mut errors,
                );
            }
            // Every documented parameter is accepted, together.
            let params: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .map(|p| {
                    let name = p["name"].as_str().unwrap();
                    format!("{name}={}", sample_value(name, &record_id))
                })
                .collect();
            if !params.is_empty() && method == Method::GET {
                let with = format!("{url}?{}", params.join("&"));
                let answer = get(&app, &with).await;
                let body = answer.expect(200, &with);
                check(
                    &doc,
                    &op["responses"]["200"]["content"]["application/json"]["schema"],
                    body,
                    &with,
                    &mut errors,
                );
            }
            // An undocumented parameter is refused, with the documented error shape.
            if method == Method::GET && path.starts_with("/api/") {
                let answer = get(&app, &format!("{url}?undocumented=1")).await;
                answer.expect_error(400, &["undocumented"], path);
                check(
                    &doc,
                    &op["responses"]["400"]["content"]["application/json"]["schema"],
                    &answer.json,
                    path,
                    &mut errors,
                );
            }
        }
    }
    // The answers the loop above did not reach.
    let not_found = get(&app, &format!("/api/v1/records/{}", "f".repeat(64))).await;
    check(
        &doc,
        &doc["paths"]["/api/v1/records/{id}"]["get"]["responses"]["404"]["content"]["application/json"]
            ["schema"],
        &not_found.json,
        "404",
        &mut errors,
    );
    assert_eq!(not_found.status, 404);
    let accepted = post_sync(&app, "", Some(&bearer())).await;
    assert_eq!(accepted.status, 202);
    check(
        &doc,
        &doc["paths"]["/api/v1/sync"]["post"]["responses"]["202"]["content"]["application/json"]["schema"],
        &accepted.json,
        "202",
        &mut errors,
    );
    settle(&app, 2).await;
    let plan = ok(&app, "/api/v1/plan").await;
    check(
        &doc,
        &json!({"$ref": "#/components/schemas/Plan"}),
        &plan,
        "plan",
        &mut errors,
    );
    assert!(
        errors.is_empty(),
        "answers differ from the document:\n{}",
        errors.join("\n")
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Secrets

#[tokio::test]
async fn no_answer_carries_an_api_key_or_the_token() {
    let (scenario, options) = network();
    let app = spawn_app(scenario, options).await;
    app.wait_ready().await;
    // A failing console, so that error messages are in the answers too.
    app.sim
        .console("branch")
        .unwrap()
        .set_down(Some(DownMode::Refuse));
    assert_eq!(post_sync(&app, "", Some(&bearer())).await.status, 202);
    settle(&app, 2).await;
    let status = ok(&app, "/api/v1/status").await;
    assert!(
        find(&status["controllers"], "name", "branch")["last_error"].is_string(),
        "{status}"
    );
    let record_id = ok(&app, "/api/v1/records").await["records"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut secrets: Vec<String> = app
        .sim
        .consoles()
        .iter()
        .map(|c| c.api_key().to_owned())
        .collect();
    secrets.push(TOKEN.to_owned());
    let mut bodies = vec![];
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/status",
        "/api/v1/controllers",
        "/api/v1/sites",
        "/api/v1/records",
        &format!("/api/v1/records/{record_id}"),
        "/api/v1/events?limit=1000",
        "/api/v1/runs",
        "/api/v1/plan",
        "/api/v1/records?site=nope/nope",
        "/api/v1/nothing",
    ] {
        bodies.push((path.to_owned(), get(&app, path).await.body));
    }
    for auth in [None, Some(format!("Bearer {TOKEN}x"))] {
        bodies.push((
            "POST sync".into(),
            post_sync(&app, "", auth.as_deref()).await.body,
        ));
    }
    bodies.push((
        "POST sync ok".into(),
        post_sync(&app, "?force=maybe", Some(&bearer())).await.body,
    ));
    for (what, body) in &bodies {
        assert!(!body.is_empty(), "{what}");
        for secret in &secrets {
            assert!(
                !body.contains(secret.as_str()),
                "{what} contains a secret: {body}"
            );
        }
    }
    // What is shown instead: the fingerprint.
    let hq = app.sim.console("hq").unwrap();
    assert_eq!(
        find(&status["controllers"], "name", "hq")["key_fingerprint"],
        fingerprint(hq.api_key())
    );
    app.stop().await;
}
