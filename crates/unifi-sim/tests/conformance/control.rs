//! The control endpoints (`/__sim/…`): state, policies and clients changed "in the console's UI"
//! with the API's validation, sites added and removed, and refusals in the API's envelope.

use serde_json::{Value, json};
use unifi_sim::{ClientSpec, ConsoleSpec, DEFAULT_SITE_UUID, Scenario, SiteSpec};
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn state_lists_every_console_with_sites_policies_and_clients() {
    let mut spec = hq();
    spec.sites[0]
        .policies
        .push(a_record("nas.example.com", "10.0.0.1", 60));
    let sim = TestSim::start(
        Scenario::new()
            .console(spec)
            .console(ConsoleSpec::new("legacy", "k").version("9.5.21")),
    )
    .await;
    let (status, state) = sim.control.get("/__sim/state").await;
    assert_eq!(status, 200);
    assert_eq!(keys(&state), ["consoles"]);
    let consoles = state["consoles"].as_array().expect("consoles");
    assert_eq!(consoles.len(), 2);
    let hq = &consoles[0];
    assert_eq!(keys(hq), ["sites", "name", "version", "baseUrl"]);
    assert_eq!(
        (&hq["name"], &hq["version"], &hq["baseUrl"]),
        (
            &json!("hq"),
            &json!("10.5.66"),
            &json!(sim.info("hq").base_url)
        )
    );
    let site = &hq["sites"][0];
    assert_eq!(
        keys(site),
        [
            "id",
            "internalReference",
            "name",
            "localDomain",
            "policies",
            "clients"
        ]
    );
    assert_eq!(
        (
            &site["id"],
            &site["internalReference"],
            &site["name"],
            &site["localDomain"]
        ),
        (
            &json!(DEFAULT_SITE_UUID.to_string()),
            &json!("default"),
            &json!("Head office"),
            &json!("hq.lan")
        )
    );
    // Policies and clients appear exactly as the API serves them.
    let api = sim.api("hq");
    assert_eq!(
        site["policies"],
        api.get(&policies(DEFAULT_SITE_UUID)).await.expect(200)["data"]
    );
    assert_eq!(
        site["clients"],
        api.get(&clients(DEFAULT_SITE_UUID)).await.expect(200)["data"]
    );
    assert_eq!(consoles[1]["name"], "legacy");
    assert_eq!(consoles[1]["sites"], json!([]));
    // One console alone.
    assert_eq!(sim.control.state("hq").await, *hq);
}

#[tokio::test]
async fn policies_are_created_edited_and_deleted_by_site_uuid_reference_or_name() {
    let (sim, api, site) = start_hq().await;
    for (i, selector) in [site.to_string(), "default".into(), "Head office".into()]
        .iter()
        .enumerate()
    {
        let path = format!(
            "/__sim/consoles/hq/sites/{}/policies",
            selector.replace(' ', "%20")
        );
        let domain = format!("ui{i}.example.com");
        let (status, created) = sim
            .control
            .post(&path, &a_record(&domain, "10.0.0.1", 60))
            .await;
        assert_eq!(status, 201, "{selector}: {created}");
        let id = assert_v4(&created["id"]);
        assert_eq!(created["metadata"], json!({"origin": "USER_DEFINED"}));
        // Visible through the API, as the console's own change.
        assert_eq!(api.get(&policy(site, id)).await.expect(200), created);

        let (status, edited) = sim
            .control
            .put(&format!("{path}/{id}"), &a_record(&domain, "10.0.0.2", 120))
            .await;
        assert_eq!(status, 200, "{edited}");
        assert_eq!(
            (&edited["id"], &edited["ipv4Address"]),
            (&json!(id.to_string()), &json!("10.0.0.2"))
        );
        assert_eq!(api.get(&policy(site, id)).await.expect(200), edited);

        let (status, removed) = sim.control.delete(&format!("{path}/{id}")).await;
        assert_eq!((status, &removed), (200, &edited));
        api.get(&policy(site, id))
            .await
            .expect_code(404, "api.entity.not-found");
    }
}

#[tokio::test]
async fn control_writes_are_validated_like_the_api() {
    let (sim, api, site) = start_hq().await;
    let path = "/__sim/consoles/hq/sites/default/policies";
    let body = a_record("dup.example.com", "10.0.0.1", 60);
    api.create(site, &body).await;
    // A duplicate of a policy created through the API is refused with the API's code.
    let (status, error) = sim.control.post(path, &body).await;
    assert_eq!(status, 400);
    assert_eq!(
        (&error["code"], &error["message"]),
        (
            &json!("api.dns.policy.validation.record-already-exists"),
            &json!("DNS policy with the same type and properties already exists")
        )
    );
    assert_eq!(error["requestPath"], path);
    let cases = [
        (
            json!({"type": "A_RECORD", "enabled": true, "domain": "x.example.com", "ipv4Address": "10.0.0.1", "ttlSeconds": 1, "metadata": {}}),
            "api.request.unknown-property",
            "Unknown request body property '$.metadata'",
        ),
        (
            json!({"type": "A_RECORD", "enabled": true, "domain": "x.example.com", "ipv4Address": "10.0.0.1"}),
            "api.request.error",
            "ttlSeconds must not be null",
        ),
        (
            a_record("office-printer.hq.lan", "10.0.0.1", 0),
            "api.dns.policy.validation.overlap-with-local-dns",
            "DNS policy for 'office-printer.hq.lan' overlaps with a local DNS record of this network",
        ),
        (
            cname_record("dup.example.com", "x.example.com", 0),
            "api.dns.policy.validation.cname-alias-overlap",
            "DNS policy for 'dup.example.com' overlaps with a CNAME alias: a CNAME must be the only DNS policy of its name",
        ),
    ];
    for (body, code, message) in cases {
        let (status, error) = sim.control.post(path, &body).await;
        assert_eq!(
            (status, &error["code"], &error["message"]),
            (400, &json!(code), &json!(message))
        );
    }
    // Malformed bodies, unknown sites and bad ids.
    let (status, error) = sim.control.send(reqwest::Method::POST, path, None).await;
    assert_eq!(status, 400);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Invalid control request body: ")),
        "{error}"
    );
    let (status, error) = sim
        .control
        .post("/__sim/consoles/hq/sites/nope/policies", &body)
        .await;
    assert_eq!(
        (status, &error["code"], &error["message"]),
        (
            404,
            &json!("api.entity.not-found"),
            &json!("Site 'nope' not found on console 'hq'")
        )
    );
    let (status, error) = sim.control.delete(&format!("{path}/not-a-uuid")).await;
    assert_eq!(
        (status, &error["message"]),
        (
            400,
            &json!("Invalid DNS policy id 'not-a-uuid': expected a UUID")
        )
    );
    let unknown = Uuid::new_v4();
    let (status, error) = sim.control.delete(&format!("{path}/{unknown}")).await;
    assert_eq!(
        (status, &error["message"]),
        (404, &json!(format!("DNS policy '{unknown}' not found")))
    );
    assert_eq!(api.get(&policies(site)).await.expect(200)["totalCount"], 1);
}

#[tokio::test]
async fn the_rust_api_changes_data_with_the_same_validation() {
    let (sim, api, site) = start_hq().await;
    let console = sim.console("hq");
    let body = a_record("rust.example.com", "10.0.0.1", 60);
    let created = console
        .create_policy("Head office", &body)
        .expect("created");
    assert_eq!(
        api.get(&policy(site, created["id"].as_str().expect("id")))
            .await
            .expect(200),
        created
    );
    let error = console
        .create_policy("default", &body)
        .expect_err("duplicate");
    assert_eq!(
        (error.status.as_u16(), error.code, error.message.as_str()),
        (
            400,
            "api.dns.policy.validation.record-already-exists",
            "DNS policy with the same type and properties already exists"
        )
    );
    let id = Uuid::parse_str(created["id"].as_str().expect("id")).expect("uuid");
    let edited = console
        .update_policy(
            &site.to_string(),
            id,
            &a_record("rust.example.com", "10.0.0.2", 60),
        )
        .expect("edited");
    assert_eq!(edited["ipv4Address"], "10.0.0.2");
    assert_eq!(
        console.delete_policy("default", id).expect("deleted").id,
        id
    );
    assert_eq!(
        console.policies("default").expect("site"),
        Vec::<Value>::new()
    );
    assert_eq!(
        console
            .site_id("nope")
            .expect_err("unknown")
            .status
            .as_u16(),
        404
    );
    // Clients too: connecting one makes its name a local DNS name.
    console
        .connect_client(
            "default",
            &ClientSpec::wired("Build Box", "aa:bb:cc:00:07:01", "10.1.0.70"),
        )
        .expect("connected");
    api.post(
        &policies(site),
        &a_record("build-box.hq.lan", "10.0.0.1", 0),
    )
    .await
    .expect_code(400, "api.dns.policy.validation.overlap-with-local-dns");
    console
        .disconnect_client("default", "AA:BB:CC:00:07:01")
        .expect("disconnected");
    api.create(site, &a_record("build-box.hq.lan", "10.0.0.1", 0))
        .await;
}

#[tokio::test]
async fn clients_connect_update_and_disconnect_by_mac_or_id() {
    let (sim, api, site) = start_hq().await;
    let path = "/__sim/consoles/hq/sites/Head%20office/clients";
    let (status, connected) = sim
        .control
        .post(
            path,
            &json!({"type": "WIRELESS", "name": "New Laptop", "mac": "AA-BB-CC-00-09-01", "ip": "10.1.0.99"}),
        )
        .await;
    assert_eq!(status, 201, "{connected}");
    assert_eq!(connected["macAddress"], "aa:bb:cc:00:09:01");
    assert_eq!(connected["type"], "WIRELESS");
    let id = connected["id"].as_str().expect("id").to_owned();
    assert_eq!(api.get(&client(site, &id)).await.expect(200), connected);
    assert_eq!(api.get(&clients(site)).await.expect(200)["totalCount"], 4);
    // Its name is now answered by the console's local DNS.
    api.post(
        &policies(site),
        &a_record("new-laptop.hq.lan", "10.0.0.1", 0),
    )
    .await
    .expect_code(400, "api.dns.policy.validation.overlap-with-local-dns");

    // The same MAC again updates the client (a rename, a new lease) rather than adding one;
    // the site may be named by its internalReference or UUID as well.
    let (status, renamed) = sim
        .control
        .post(
            "/__sim/consoles/hq/sites/default/clients",
            &json!({"type": "WIRELESS", "name": "Old Laptop", "mac": "aa:bb:cc:00:09:01", "ip": "10.1.0.98"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        (&renamed["id"], &renamed["name"]),
        (&json!(id), &json!("Old Laptop"))
    );
    assert_eq!(api.get(&clients(site)).await.expect(200)["totalCount"], 4);
    api.create(site, &a_record("new-laptop.hq.lan", "10.0.0.1", 0))
        .await;

    // Disconnect by MAC (any case), then by id.
    let (status, gone) = sim
        .control
        .delete(&format!(
            "/__sim/consoles/hq/sites/{site}/clients/AA:BB:CC:00:09:01"
        ))
        .await;
    assert_eq!((status, &gone["id"]), (200, &json!(id)));
    api.get(&client(site, &id))
        .await
        .expect_code(404, "api.entity.not-found");
    let printer = api
        .read_all(&clients(site), 200)
        .await
        .into_iter()
        .find(|c| c["name"] == "Office Printer")
        .expect("printer");
    let printer_id = printer["id"].as_str().expect("id");
    let (status, _) = sim.control.delete(&format!("{path}/{printer_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(api.get(&clients(site)).await.expect(200)["totalCount"], 2);
    let (status, error) = sim.control.delete(&format!("{path}/{printer_id}")).await;
    assert_eq!(
        (status, &error["message"]),
        (404, &json!(format!("Client '{printer_id}' not found")))
    );
    // Bad client bodies.
    for (body, message) in [
        (
            json!({"name": "x", "mac": "nope"}),
            "mac 'nope' is not a MAC address",
        ),
        (
            json!({"type": "WIRED", "name": "x"}),
            "WIRED clients need a mac",
        ),
        (
            json!({"mac": "aa:bb:cc:00:09:02", "ip": "10.1.0.999"}),
            "ip '10.1.0.999' is not an IP address",
        ),
    ] {
        let (status, error) = sim.control.post(path, &body).await;
        assert_eq!(
            (status, &error["message"]),
            (400, &json!(message)),
            "{body}"
        );
    }
    let (status, _) = sim
        .control
        .post(path, &json!({"mac": "aa:bb:cc:00:09:03", "colour": "red"}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn sites_are_added_and_removed() {
    let (sim, api, _site) = start_hq().await;
    let (status, added) = sim
        .control
        .post(
            "/__sim/consoles/hq/sites",
            &json!({"internal_reference": "branch2", "name": "Branch 2", "local_domain": "b2.lan",
                    "policy": [a_record("b2.example.com", "10.2.0.1", 60)],
                    "client": [{"name": "kiosk", "mac": "aa:bb:cc:00:0b:01", "ip": "10.2.0.9"}]}),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(keys(&added), ["id", "internalReference", "name"]);
    assert_eq!(
        (&added["internalReference"], &added["name"]),
        (&json!("branch2"), &json!("Branch 2"))
    );
    let id = Uuid::parse_str(added["id"].as_str().expect("id")).expect("uuid");
    let listed = api.get(&sites()).await.expect(200);
    assert_eq!(listed["totalCount"], 2);
    assert_eq!(listed["data"][1], added);
    assert_eq!(api.get(&policies(id)).await.expect(200)["totalCount"], 1);
    assert_eq!(api.get(&clients(id)).await.expect(200)["totalCount"], 1);
    api.post(&policies(id), &a_record("kiosk.b2.lan", "10.0.0.1", 0))
        .await
        .expect_code(400, "api.dns.policy.validation.overlap-with-local-dns");

    // Refusals: duplicates, invalid seed policies, unknown fields.
    let (status, error) = sim
        .control
        .post(
            "/__sim/consoles/hq/sites",
            &json!({"internal_reference": "branch2"}),
        )
        .await;
    assert_eq!(
        (status, &error["message"]),
        (
            400,
            &json!("a site with internalReference 'branch2' already exists")
        )
    );
    // A second `default` would have the well-known default site UUID again.
    let (status, error) = sim
        .control
        .post(
            "/__sim/consoles/hq/sites",
            &json!({"internal_reference": "default"}),
        )
        .await;
    assert_eq!(
        (status, &error["message"]),
        (
            400,
            &json!(format!("a site with id {DEFAULT_SITE_UUID} already exists"))
        )
    );
    let (status, error) = sim
        .control
        .post(
            "/__sim/consoles/hq/sites",
            &json!({"internal_reference": "x", "policy": [{"type": "MX_RECORD", "domain": "x.example", "mailServerDomain": "m.example", "priority": 1, "ttlSeconds": 5}]}),
        )
        .await;
    assert_eq!(
        (status, &error["message"]),
        (
            400,
            &json!("policy[0]: Unknown request body property '$.ttlSeconds'")
        )
    );
    let (status, _) = sim
        .control
        .post(
            "/__sim/consoles/hq/sites",
            &json!({"internal_reference": "y", "colour": "red"}),
        )
        .await;
    assert_eq!(status, 400);

    // Removing it by name: the API no longer knows it.
    let (status, removed) = sim
        .control
        .delete("/__sim/consoles/hq/sites/Branch%202")
        .await;
    assert_eq!((status, &removed), (200, &added));
    assert_eq!(api.get(&sites()).await.expect(200)["totalCount"], 1);
    api.get(&policies(id)).await.expect_error(
        404,
        "api.entity.not-found",
        &format!("Site '{id}' not found"),
    );
    let (status, _) = sim.control.delete("/__sim/consoles/hq/sites/branch2").await;
    assert_eq!(status, 404);
    // The Rust API adds and removes sites too.
    let console = sim.console("hq");
    let fixed = Uuid::new_v4();
    console
        .add_site(&SiteSpec::new("rusty").id(fixed))
        .expect("added");
    assert_eq!(api.get(&policies(fixed)).await.expect(200)["totalCount"], 0);
    console.remove_site("rusty").expect("removed");
    api.get(&policies(fixed))
        .await
        .expect_code(404, "api.entity.not-found");
}

#[tokio::test]
async fn an_unknown_console_or_control_path_is_404() {
    let (sim, _api, _site) = start_hq().await;
    let a = a_record("a.example.com", "10.0.0.1", 0);
    let paths: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (
            reqwest::Method::GET,
            "/__sim/consoles/nope/state".into(),
            None,
        ),
        (
            reqwest::Method::GET,
            "/__sim/consoles/nope/counters".into(),
            None,
        ),
        (
            reqwest::Method::GET,
            "/__sim/consoles/nope/faults".into(),
            None,
        ),
        (
            reqwest::Method::PUT,
            "/__sim/consoles/nope/faults".into(),
            Some(json!({})),
        ),
        (
            reqwest::Method::DELETE,
            "/__sim/consoles/nope/faults".into(),
            None,
        ),
        (
            reqwest::Method::POST,
            "/__sim/consoles/nope/faults/rules".into(),
            Some(json!({"kind": "status"})),
        ),
        (
            reqwest::Method::POST,
            "/__sim/consoles/nope/sites".into(),
            Some(json!({"internal_reference": "x"})),
        ),
        (
            reqwest::Method::DELETE,
            "/__sim/consoles/nope/sites/default".into(),
            None,
        ),
        (
            reqwest::Method::POST,
            "/__sim/consoles/nope/sites/default/policies".into(),
            Some(a.clone()),
        ),
        (
            reqwest::Method::PUT,
            format!(
                "/__sim/consoles/nope/sites/default/policies/{}",
                Uuid::new_v4()
            ),
            Some(a),
        ),
        (
            reqwest::Method::DELETE,
            format!(
                "/__sim/consoles/nope/sites/default/policies/{}",
                Uuid::new_v4()
            ),
            None,
        ),
        (
            reqwest::Method::POST,
            "/__sim/consoles/nope/sites/default/clients".into(),
            Some(json!({"mac": "aa:bb:cc:00:00:01"})),
        ),
        (
            reqwest::Method::DELETE,
            "/__sim/consoles/nope/sites/default/clients/x".into(),
            None,
        ),
    ];
    for (method, path, body) in paths {
        let (status, error) = sim.control.send(method.clone(), &path, body.as_ref()).await;
        assert_eq!(
            (status, &error["code"], &error["message"]),
            (
                404,
                &json!("api.entity.not-found"),
                &json!("No console named 'nope'")
            ),
            "{method} {path}"
        );
        assert_eq!(error["requestPath"], path);
    }
    let (status, error) = sim.control.get("/__sim/nothing").await;
    assert_eq!(
        (status, &error["message"]),
        (404, &json!("No such control endpoint"))
    );
    // Control endpoints are not served on the console's port.
    let api = sim.api("hq");
    api.get("/__sim/state")
        .await
        .expect_code(404, "api.entity.not-found");
}

#[tokio::test]
async fn faults_are_read_back_over_http() {
    let (sim, _api, _site) = start_hq().await;
    let (status, faults) = sim.control.get("/__sim/consoles/hq/faults").await;
    assert_eq!(
        (status, &faults),
        (200, &json!({"down": null, "latency_ms": 0, "rules": []}))
    );
    let (status, faults) = sim
        .control
        .post(
            "/__sim/consoles/hq/faults/rules",
            &json!({"kind": "rate_limit", "retry_after": 3, "methods": ["GET"], "path": "/v1/sites"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        faults,
        json!({"down": null, "latency_ms": 0, "rules": [{"kind": "rate_limit", "retry_after": 3,
               "rate": 1.0, "methods": ["GET"], "path": "/v1/sites", "skip": 0, "times": null,
               "apply": false, "matched": 0, "fired": 0}]})
    );
    let (status, replaced) = sim
        .control
        .put(
            "/__sim/consoles/hq/faults",
            &json!({"down": "hang", "latency_ms": 5}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        replaced,
        json!({"down": "hang", "latency_ms": 5, "rules": []})
    );
    assert_eq!(
        sim.console("hq").faults().down,
        Some(unifi_sim::DownMode::Hang)
    );
}
