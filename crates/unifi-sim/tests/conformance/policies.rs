//! The happy paths: info, sites, the DNS policy CRUD cycle for all seven types, and clients.

use serde_json::{Value, json};
use unifi_sim::{ClientKind, ClientSpec, ConsoleSpec, DEFAULT_SITE_UUID, Scenario, SiteSpec};
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn info_reports_the_configured_application_version() {
    let sim = TestSim::start(
        Scenario::new()
            .console(hq())
            .console(ConsoleSpec::new("older", "k2").version("10.3.7")),
    )
    .await;
    let body = sim.api("hq").get("/v1/info").await.expect(200);
    assert_eq!(body, json!({"applicationVersion": "10.5.66"}));
    let body = sim.api("older").get("/v1/info").await.expect(200);
    assert_eq!(body, json!({"applicationVersion": "10.3.7"}));
}

#[tokio::test]
async fn sites_list_every_site_with_id_internal_reference_and_name() {
    let lab = Uuid::new_v4();
    let sim = TestSim::start(
        Scenario::new().console(
            hq().site(SiteSpec::new("lab").id(lab).name("Lab"))
                .site(SiteSpec::new("branch")),
        ),
    )
    .await;
    let page = sim.api("hq").get(&sites()).await.expect(200);
    assert_eq!(page["totalCount"], 3);
    assert_eq!(
        page["data"],
        json!([
            {"id": DEFAULT_SITE_UUID.to_string(), "internalReference": "default", "name": "Head office"},
            {"id": lab.to_string(), "internalReference": "lab", "name": "Lab"},
            {"id": sim.site("hq", "branch").to_string(), "internalReference": "branch", "name": "Branch"},
        ])
    );
    assert_eq!(keys(&page["data"][0]), ["id", "internalReference", "name"]);
}

#[tokio::test]
async fn create_answers_201_with_a_random_id_user_defined_metadata_and_field_order() {
    let (_sim, api, site) = start_hq().await;
    let body = a_record("nas.example.com", "10.0.0.10", 300);
    let resp = api.post(&policies(site), &body).await;
    let created = resp.expect(201);
    let id = assert_v4(&created["id"]);
    assert_eq!(
        created,
        json!({"type": "A_RECORD", "id": id.to_string(), "enabled": true,
               "metadata": {"origin": "USER_DEFINED"}, "domain": "nas.example.com",
               "ipv4Address": "10.0.0.10", "ttlSeconds": 300})
    );
    assert_eq!(
        resp.keys(),
        [
            "type",
            "id",
            "enabled",
            "metadata",
            "domain",
            "ipv4Address",
            "ttlSeconds"
        ]
    );
    // A second policy gets another random id.
    let other = api
        .create(site, &a_record("nas.example.com", "10.0.0.11", 300))
        .await;
    assert_ne!(assert_v4(&other["id"]), id);
    // GET by id returns the stored policy, identical to the creation response.
    let fetched = api.get(&policy(site, id)).await;
    assert_eq!(fetched.expect(200), created);
    assert_eq!(fetched.keys(), resp.keys());
}

#[tokio::test]
async fn every_policy_type_is_created_read_and_listed_with_its_fields() {
    let (_sim, api, site) = start_hq().await;
    let mut ids = Vec::new();
    for body in one_of_each_type() {
        let resp = api.post(&policies(site), &body).await;
        let created = resp.expect(201);
        let id = assert_v4(&created["id"]);
        // The response is the request plus id and metadata, in that order.
        let mut expected = serde_json::Map::new();
        expected.insert("type".into(), body["type"].clone());
        expected.insert("id".into(), json!(id.to_string()));
        expected.insert("enabled".into(), json!(true));
        expected.insert("metadata".into(), json!({"origin": "USER_DEFINED"}));
        for (k, v) in body.as_object().expect("object") {
            if k != "type" && k != "enabled" {
                expected.insert(k.clone(), v.clone());
            }
        }
        let expected = Value::Object(expected);
        assert_eq!(created, expected, "{}", body["type"]);
        assert_eq!(
            &resp.keys()[..5],
            ["type", "id", "enabled", "metadata", "domain"]
        );
        assert_eq!(api.get(&policy(site, id)).await.expect(200), expected);
        ids.push(id.to_string());
    }
    let page = api.get(&policies(site)).await.expect(200);
    assert_eq!(page["totalCount"], 7);
    let listed: Vec<&str> = page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert_eq!(listed, ids, "listed in creation order");
    let types: Vec<&str> = page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| p["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        types,
        [
            "A_RECORD",
            "AAAA_RECORD",
            "CNAME_RECORD",
            "MX_RECORD",
            "TXT_RECORD",
            "SRV_RECORD",
            "FORWARD_DOMAIN"
        ]
    );
}

#[tokio::test]
async fn disabled_policies_are_stored_and_returned() {
    let (_sim, api, site) = start_hq().await;
    let mut body = txt_record("off.example.com", "disabled");
    body["enabled"] = json!(false);
    let created = api.create(site, &body).await;
    assert_eq!(created["enabled"], false);
    let id = created["id"].as_str().expect("id");
    assert_eq!(
        api.get(&policy(site, id)).await.expect(200)["enabled"],
        false
    );
}

#[tokio::test]
async fn put_replaces_the_whole_policy_in_place() {
    let (_sim, api, site) = start_hq().await;
    let created = api
        .create(
            site,
            &srv_record("sip.example.com", "pbx.example.com", 5060, 10, 5),
        )
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let replacement = json!({"type": "SRV_RECORD", "enabled": false, "domain": "voip.example.com",
        "serverDomain": "pbx2.example.com", "service": "_sips", "protocol": "_tls",
        "port": 5061, "priority": 20, "weight": 0});
    let resp = api.put(&policy(site, &id), &replacement).await;
    let updated = resp.expect(200);
    assert_eq!(
        updated,
        json!({"type": "SRV_RECORD", "id": id, "enabled": false,
               "metadata": {"origin": "USER_DEFINED"}, "domain": "voip.example.com",
               "serverDomain": "pbx2.example.com", "service": "_sips", "protocol": "_tls",
               "port": 5061, "priority": 20, "weight": 0})
    );
    assert_eq!(api.get(&policy(site, &id)).await.expect(200), updated);
    let page = api.get(&policies(site)).await.expect(200);
    assert_eq!(page["totalCount"], 1, "updated in place, not added");
    assert_eq!(page["data"][0], updated);

    // PUT of an identical body is accepted (the policy does not duplicate itself).
    assert_eq!(
        api.put(&policy(site, &id), &replacement).await.expect(200),
        updated
    );
    // A full replacement needs every required field: a partial body is refused.
    api.put(
        &policy(site, &id),
        &json!({"type": "SRV_RECORD", "enabled": true, "domain": "x.example.com"}),
    )
    .await
    .expect_error(400, "api.request.error", "serverDomain must not be null");
}

#[tokio::test]
async fn delete_answers_200_with_an_empty_body_and_the_policy_is_gone() {
    let (_sim, api, site) = start_hq().await;
    let created = api
        .create(site, &a_record("gone.example.com", "10.0.0.1", 60))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let resp = api.delete(&policy(site, &id)).await;
    assert_eq!(resp.status, 200);
    assert!(resp.body.is_empty(), "{:?}", resp.body);
    let message = format!("DNS policy '{id}' not found");
    api.get(&policy(site, &id))
        .await
        .expect_error(404, "api.entity.not-found", &message);
    api.delete(&policy(site, &id))
        .await
        .expect_error(404, "api.entity.not-found", &message);
    api.put(
        &policy(site, &id),
        &a_record("gone.example.com", "10.0.0.1", 60),
    )
    .await
    .expect_error(404, "api.entity.not-found", &message);
    assert_eq!(api.get(&policies(site)).await.expect(200)["totalCount"], 0);
}

#[tokio::test]
async fn seeded_policies_are_served_with_their_ids() {
    let fixed = Uuid::new_v4();
    let mut seeded = a_record("seed.example.com", "10.0.0.1", 0);
    seeded["id"] = json!(fixed.to_string());
    seeded.as_object_mut().expect("object").remove("enabled");
    let sim = TestSim::start(
        Scenario::new()
            .console(ConsoleSpec::new("hq", HQ_KEY).site(SiteSpec::new("default").policy(seeded))),
    )
    .await;
    let api = sim.api("hq");
    let body = api.get(&policy(DEFAULT_SITE_UUID, fixed)).await.expect(200);
    assert_eq!(body["id"], fixed.to_string());
    assert_eq!(
        body["enabled"], true,
        "enabled defaults to true in scenarios"
    );
}

fn client_scenario() -> Scenario {
    let vpn = ClientSpec {
        kind: ClientKind::Vpn,
        id: None,
        name: Some("road-warrior".into()),
        mac: None,
        ip: Some("192.168.200.2".into()),
        connected_at: None,
        guest_authorized: None,
    };
    let guest = ClientSpec {
        guest_authorized: Some(true),
        ..ClientSpec::wireless("visitor-phone", "AA-BB-CC-00-01-09", "10.1.0.90")
    };
    let no_ip = ClientSpec::new(
        ClientKind::Wireless,
        Some("no-lease"),
        "aa:bb:cc:00:01:0a",
        None,
    );
    Scenario::new().console(
        ConsoleSpec::new("hq", HQ_KEY).site(default_site().client(vpn).client(guest).client(no_ip)),
    )
}

#[tokio::test]
async fn clients_are_listed_and_fetched_by_id_with_captured_shapes() {
    let sim = TestSim::start(client_scenario()).await;
    let api = sim.api("hq");
    let site = DEFAULT_SITE_UUID;
    let page = api.get(&clients(site)).await.expect(200);
    assert_eq!(page["totalCount"], 6);
    let data = page["data"].as_array().expect("data").clone();
    let by_mac = |mac: &str| {
        data.iter()
            .find(|c| c["macAddress"] == mac)
            .unwrap_or_else(|| panic!("client {mac}"))
            .clone()
    };

    let printer = by_mac("aa:bb:cc:00:01:01");
    assert_eq!(printer["type"], "WIRED");
    assert_eq!(printer["name"], "Office Printer");
    assert_eq!(printer["ipAddress"], "10.1.0.50");
    assert_eq!(printer["access"], json!({"type": "DEFAULT"}));
    Uuid::parse_str(printer["uplinkDeviceId"].as_str().expect("uplink")).expect("uuid");
    time::OffsetDateTime::parse(
        printer["connectedAt"].as_str().expect("connectedAt"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    assert_eq!(
        keys(&printer),
        [
            "type",
            "id",
            "name",
            "connectedAt",
            "ipAddress",
            "macAddress",
            "uplinkDeviceId",
            "access"
        ]
    );

    // A client the console has not identified has no `name` key at all.
    let unnamed = by_mac("aa:bb:cc:00:01:03");
    assert!(unnamed.get("name").is_none(), "{unnamed}");
    let detail = api
        .get(&client(site, unnamed["id"].as_str().expect("id")))
        .await
        .expect(200);
    assert!(detail.get("name").is_none(), "{detail}");
    assert_eq!(detail, unnamed, "details equal the list item");

    // MACs are printed lower-case with colons; guests carry their authorization.
    let guest = by_mac("aa:bb:cc:00:01:09");
    assert_eq!(
        guest["access"],
        json!({"type": "GUEST", "authorized": true})
    );
    // No lease yet: no ipAddress key.
    assert!(by_mac("aa:bb:cc:00:01:0a").get("ipAddress").is_none());

    // VPN clients have neither macAddress nor uplinkDeviceId.
    let vpn = data
        .iter()
        .find(|c| c["type"] == "VPN")
        .expect("vpn client")
        .clone();
    assert!(vpn.get("macAddress").is_none() && vpn.get("uplinkDeviceId").is_none());
    assert_eq!(
        api.get(&client(site, vpn["id"].as_str().expect("id")))
            .await
            .expect(200),
        vpn
    );

    // Every listed client can be fetched by id.
    for item in &data {
        let id = item["id"].as_str().expect("id");
        assert_eq!(&api.get(&client(site, id)).await.expect(200), item);
    }
    let unknown = Uuid::new_v4();
    api.get(&client(site, unknown)).await.expect_error(
        404,
        "api.entity.not-found",
        &format!("Client '{unknown}' not found"),
    );
}

#[tokio::test]
async fn client_ids_are_stable_name_based_uuids() {
    let first = TestSim::start(client_scenario()).await;
    let second = TestSim::start(client_scenario()).await;
    let ids = |sim: &TestSim| {
        let api = sim.api("hq");
        async move {
            api.get(&clients(DEFAULT_SITE_UUID)).await.expect(200)["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|c| c["id"].as_str().expect("id").to_owned())
                .collect::<Vec<_>>()
        }
    };
    let a = ids(&first).await;
    assert_eq!(a, ids(&second).await, "same MACs, same ids across runs");
    for id in &a {
        assert_eq!(Uuid::parse_str(id).expect("uuid").get_version_num(), 5);
    }
}
