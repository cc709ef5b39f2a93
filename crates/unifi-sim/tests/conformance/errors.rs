//! Every refusal: authentication, strict body validation, the site rules, ids and paths. Each
//! body is the seven-field error envelope (the contract check of every response enforces it).

use serde_json::{Value, json};
use unifi_sim::{ConsoleSpec, Scenario, SiteSpec};
use uuid::Uuid;

use crate::support::*;

const UNKNOWN_PROPERTY: &str = "api.request.unknown-property";
const REQUEST_ERROR: &str = "api.request.error";
const ALREADY_EXISTS: &str = "api.dns.policy.validation.record-already-exists";
const ALREADY_EXISTS_MESSAGE: &str = "DNS policy with the same type and properties already exists";
const OVERLAP_LOCAL: &str = "api.dns.policy.validation.overlap-with-local-dns";
const CNAME_OVERLAP: &str = "api.dns.policy.validation.cname-alias-overlap";
const NOT_FOUND: &str = "api.entity.not-found";

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

fn without(mut body: Value, key: &str) -> Value {
    body.as_object_mut().expect("object").remove(key);
    body
}

#[tokio::test]
async fn a_request_without_a_key_is_401_missing_credentials() {
    let (_sim, api, site) = start_hq().await;
    let anonymous = api.with_key(None);
    for path in [
        "/v1/info".to_owned(),
        sites(),
        policies(site),
        clients(site),
        "/v1/nowhere".to_owned(),
    ] {
        let body = anonymous.get(&path).await.expect_error(
            401,
            "api.authentication.missing-credentials",
            "Missing credentials",
        );
        assert_eq!(body["requestPath"], format!("/integration{path}"));
    }
    anonymous
        .post(&policies(site), &a_record("a.example.com", "10.0.0.1", 0))
        .await
        .expect_code(401, "api.authentication.missing-credentials");
}

#[tokio::test]
async fn a_wrong_key_is_401() {
    let (_sim, api, site) = start_hq().await;
    for key in ["wrong", "", "HQ-SECRET-KEY"] {
        let wrong = api.with_key(Some(key));
        wrong.get(&sites()).await.expect_error(
            401,
            "api.authentication.invalid-credentials",
            "Invalid API key",
        );
        wrong
            .delete(&policy(site, Uuid::new_v4()))
            .await
            .expect_code(401, "api.authentication.invalid-credentials");
    }
}

#[tokio::test]
async fn the_key_header_name_is_case_insensitive() {
    let (sim, api, _site) = start_hq().await;
    let info = sim.info("hq");
    let resp = api
        .client
        .get(api.url("/v1/info"))
        .header("x-api-key", &info.api_key)
        .send()
        .await
        .expect("sent");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("body");
    check_contract(api.contract, "GET", "/v1/info", status, &body).expect("contract");
    assert_eq!(status, 200);
}

#[tokio::test]
async fn id_and_metadata_in_a_body_are_unknown_properties() {
    let (_sim, api, site) = start_hq().await;
    let body = a_record("a.example.com", "10.0.0.1", 60);
    let id_body = with(body.clone(), "id", json!(Uuid::new_v4().to_string()));
    let metadata_body = with(body.clone(), "metadata", json!({"origin": "USER_DEFINED"}));
    api.post(&policies(site), &id_body).await.expect_error(
        400,
        UNKNOWN_PROPERTY,
        "Unknown request body property '$.id'",
    );
    api.post(&policies(site), &metadata_body)
        .await
        .expect_error(
            400,
            UNKNOWN_PROPERTY,
            "Unknown request body property '$.metadata'",
        );
    // The same on PUT (a client echoing the GET body back).
    let created = api.create(site, &body).await;
    let path = policy(site, created["id"].as_str().expect("id"));
    api.put(&path, &created).await.expect_error(
        400,
        UNKNOWN_PROPERTY,
        "Unknown request body property '$.id'",
    );
    api.put(&path, &metadata_body).await.expect_error(
        400,
        UNKNOWN_PROPERTY,
        "Unknown request body property '$.metadata'",
    );
    api.post(&policies(site), &with(body, "comment", json!("x")))
        .await
        .expect_error(
            400,
            UNKNOWN_PROPERTY,
            "Unknown request body property '$.comment'",
        );
    assert_eq!(api.get(&policies(site)).await.expect(200)["totalCount"], 1);
}

#[tokio::test]
async fn ttl_on_types_without_a_ttl_is_an_unknown_property() {
    let (_sim, api, site) = start_hq().await;
    for body in [
        mx_record("example.com", "mail.example.com", 10),
        txt_record("example.com", "hello"),
        srv_record("example.com", "pbx.example.com", 5060, 10, 5),
        forward_domain("corp.example", "10.0.0.53"),
    ] {
        api.post(
            &policies(site),
            &with(body.clone(), "ttlSeconds", json!(300)),
        )
        .await
        .expect_error(
            400,
            UNKNOWN_PROPERTY,
            "Unknown request body property '$.ttlSeconds'",
        );
        // Without it, the same body is accepted.
        api.create(site, &body).await;
    }
}

#[tokio::test]
async fn a_missing_ttl_on_a_aaaa_and_cname_is_must_not_be_null() {
    let (_sim, api, site) = start_hq().await;
    for body in [
        a_record("a.example.com", "10.0.0.1", 0),
        aaaa_record("a.example.com", "fd00::1", 0),
        cname_record("c.example.com", "a.example.com", 0),
    ] {
        api.post(&policies(site), &without(body.clone(), "ttlSeconds"))
            .await
            .expect_error(400, REQUEST_ERROR, "ttlSeconds must not be null");
        api.post(&policies(site), &with(body, "ttlSeconds", Value::Null))
            .await
            .expect_error(400, REQUEST_ERROR, "ttlSeconds must not be null");
    }
}

#[tokio::test]
async fn missing_required_fields_and_wrong_json_types_are_refused() {
    let (_sim, api, site) = start_hq().await;
    let cases = [
        (
            without(mx_record("example.com", "m.example.com", 1), "priority"),
            "priority must not be null",
        ),
        (
            without(txt_record("example.com", "x"), "domain"),
            "domain must not be null",
        ),
        (
            without(txt_record("example.com", "x"), "enabled"),
            "enabled must not be null",
        ),
        (
            without(txt_record("example.com", "x"), "type"),
            "type must not be null",
        ),
        (
            with(
                srv_record("example.com", "s.example.com", 1, 1, 1),
                "port",
                json!("5060"),
            ),
            "Invalid value for property '$.port'",
        ),
        (
            with(txt_record("example.com", "x"), "enabled", json!("yes")),
            "Invalid value for property '$.enabled'",
        ),
        (
            with(
                a_record("a.example.com", "10.0.0.1", 1),
                "ttlSeconds",
                json!(1.5),
            ),
            "Invalid value for property '$.ttlSeconds'",
        ),
        (json!([1, 2]), "Request body must be a JSON object"),
    ];
    for (body, message) in cases {
        api.post(&policies(site), &body)
            .await
            .expect_error(400, REQUEST_ERROR, message);
    }
}

#[tokio::test]
async fn an_exact_duplicate_is_record_already_exists() {
    let (_sim, api, site) = start_hq().await;
    for body in one_of_each_type() {
        api.create(site, &body).await;
        api.post(&policies(site), &body).await.expect_error(
            400,
            ALREADY_EXISTS,
            ALREADY_EXISTS_MESSAGE,
        );
    }
    // TTL, enabled and the case of the name do not make a different record.
    let mut same = a_record("NAS.Example.com", "10.0.0.10", 5);
    same["enabled"] = json!(false);
    api.post(&policies(site), &same).await.expect_error(
        400,
        ALREADY_EXISTS,
        ALREADY_EXISTS_MESSAGE,
    );
    // PUT turning one policy into a copy of another is refused too.
    let other = api
        .create(site, &a_record("other.example.com", "10.0.0.99", 0))
        .await;
    api.put(
        &policy(site, other["id"].as_str().expect("id")),
        &a_record("nas.example.com", "10.0.0.10", 300),
    )
    .await
    .expect_error(400, ALREADY_EXISTS, ALREADY_EXISTS_MESSAGE);
    assert_eq!(api.get(&policies(site)).await.expect(200)["totalCount"], 8);
}

#[tokio::test]
async fn same_name_and_type_with_another_value_is_round_robin() {
    let (_sim, api, site) = start_hq().await;
    let first = api
        .create(site, &a_record("rr.example.com", "10.0.0.1", 60))
        .await;
    let second = api
        .create(site, &a_record("rr.example.com", "10.0.0.2", 60))
        .await;
    assert_ne!(first["id"], second["id"]);
    let txt1 = api.create(site, &txt_record("rr.example.com", "one")).await;
    let txt2 = api.create(site, &txt_record("rr.example.com", "two")).await;
    assert_ne!(txt1["id"], txt2["id"]);
    let page = api
        .get(&format!(
            "{}{}",
            policies(site),
            filter("domain.eq('rr.example.com')")
        ))
        .await
        .expect(200);
    assert_eq!(page["totalCount"], 4);
}

#[tokio::test]
async fn a_connected_client_name_under_the_local_domain_overlaps_with_local_dns() {
    let (_sim, api, site) = start_hq().await;
    // "Office Printer" is answered by UniFi itself as office-printer.hq.lan.
    for domain in [
        "office-printer.hq.lan",
        "Office-Printer.HQ.lan",
        "reception-ipad.hq.lan",
    ] {
        api.post(&policies(site), &a_record(domain, "10.0.0.1", 0))
            .await
            .expect_error(
                400,
                OVERLAP_LOCAL,
                &format!(
                    "DNS policy for '{}' overlaps with a local DNS record of this network",
                    domain.to_ascii_lowercase()
                ),
            );
    }
    api.post(&policies(site), &txt_record("office-printer.hq.lan", "x"))
        .await
        .expect_code(400, OVERLAP_LOCAL);
    // Other names under the local domain, and the client name elsewhere, are fine.
    api.create(site, &a_record("other.hq.lan", "10.0.0.1", 0))
        .await;
    api.create(site, &a_record("office-printer.example.com", "10.0.0.1", 0))
        .await;
}

#[tokio::test]
async fn a_cname_must_be_the_only_policy_of_its_name() {
    let (_sim, api, site) = start_hq().await;
    // A CNAME on a name that has any policy.
    for existing in [
        a_record("www.example.com", "10.0.0.1", 0),
        txt_record("txt.example.com", "x"),
        mx_record("mx.example.com", "mail.example.com", 1),
    ] {
        api.create(site, &existing).await;
        let name = existing["domain"].as_str().expect("domain");
        api.post(&policies(site), &cname_record(name, "target.example.com", 0))
            .await
            .expect_error(
                400,
                CNAME_OVERLAP,
                &format!(
                    "DNS policy for '{name}' overlaps with a CNAME alias: a CNAME must be the only DNS policy of its name"
                ),
            );
    }
    // Any policy on a name that has a CNAME, a second CNAME included.
    api.create(
        site,
        &cname_record("alias.example.com", "www.example.com", 0),
    )
    .await;
    for body in [
        a_record("alias.example.com", "10.0.0.1", 0),
        aaaa_record("ALIAS.example.com", "fd00::1", 0),
        txt_record("alias.example.com", "x"),
        srv_record("alias.example.com", "pbx.example.com", 1, 1, 1),
        forward_domain("alias.example.com", "10.0.0.53"),
        cname_record("alias.example.com", "other.example.com", 0),
    ] {
        api.post(&policies(site), &body)
            .await
            .expect_code(400, CNAME_OVERLAP);
    }
    // The exact same CNAME again is a duplicate first.
    api.post(
        &policies(site),
        &cname_record("alias.example.com", "www.example.com", 0),
    )
    .await
    .expect_code(400, ALREADY_EXISTS);
}

#[tokio::test]
async fn wildcard_cname_is_invalid_but_wildcard_a_is_accepted() {
    let (_sim, api, site) = start_hq().await;
    api.post(
        &policies(site),
        &cname_record("*.x.example.com", "a.example.com", 0),
    )
    .await
    .expect_error(400, REQUEST_ERROR, "domain must be valid domain");
    let created = api
        .create(site, &a_record("*.wild.example.com", "10.0.0.1", 0))
        .await;
    assert_eq!(created["domain"], "*.wild.example.com");
    // Single-label names are accepted, CNAME owners included.
    api.create(site, &cname_record("plex", "nas.example.com", 0))
        .await;
    for bad in ["a..b", "bad name.example.com", "x.*.example.com", "."] {
        api.post(&policies(site), &a_record(bad, "10.0.0.1", 0))
            .await
            .expect_error(400, REQUEST_ERROR, "domain must be valid domain");
    }
}

#[tokio::test]
async fn bad_ip_addresses_are_refused() {
    let (_sim, api, site) = start_hq().await;
    let cases = [
        (
            a_record("a.example.com", "10.0.0.300", 0),
            "ipv4Address must be valid IP format",
        ),
        (
            a_record("a.example.com", "fd00::1", 0),
            "ipv4Address must be valid IP format",
        ),
        (
            a_record("a.example.com", "", 0),
            "ipv4Address must be valid IP format",
        ),
        (
            aaaa_record("a.example.com", "fd00::zz", 0),
            "ipv6Address must be valid IP format",
        ),
        (
            aaaa_record("a.example.com", "10.0.0.1", 0),
            "ipv6Address must be valid IP format",
        ),
        (
            forward_domain("corp.example", "dns.google"),
            "ipAddress must be valid IP format",
        ),
    ];
    for (body, message) in cases {
        api.post(&policies(site), &body)
            .await
            .expect_error(400, REQUEST_ERROR, message);
    }
    api.create(site, &forward_domain("v4.corp.example", "10.0.0.53"))
        .await;
    api.create(site, &forward_domain("v6.corp.example", "2001:db8::53"))
        .await;
}

#[tokio::test]
async fn numbers_out_of_range_are_refused_and_bounds_accepted() {
    let (_sim, api, site) = start_hq().await;
    let refused = [
        (
            a_record("a.example.com", "10.0.0.1", 86_401),
            "ttlSeconds must be between 0 and 86400",
        ),
        (
            a_record("a.example.com", "10.0.0.1", -1),
            "ttlSeconds must be between 0 and 86400",
        ),
        (
            aaaa_record("a.example.com", "fd00::1", 604_800),
            "ttlSeconds must be between 0 and 86400",
        ),
        (
            cname_record("c.example.com", "a.example.com", 604_801),
            "ttlSeconds must be between 0 and 604800",
        ),
        (
            mx_record("example.com", "m.example.com", 65_536),
            "priority must be between 0 and 65535",
        ),
        (
            mx_record("example.com", "m.example.com", -1),
            "priority must be between 0 and 65535",
        ),
        (
            srv_record("example.com", "s.example.com", 65_536, 1, 1),
            "port must be between 0 and 65535",
        ),
        (
            srv_record("example.com", "s.example.com", 1, 65_536, 1),
            "priority must be between 0 and 65535",
        ),
        (
            srv_record("example.com", "s.example.com", 1, 1, -1),
            "weight must be between 0 and 65535",
        ),
        (
            srv_record("example.com", "s.example.com", 1, 1, 65_536),
            "weight must be between 0 and 65535",
        ),
    ];
    for (body, message) in refused {
        api.post(&policies(site), &body)
            .await
            .expect_error(400, REQUEST_ERROR, message);
    }
    for body in [
        a_record("a.example.com", "10.0.0.1", 86_400),
        a_record("b.example.com", "10.0.0.1", 0),
        aaaa_record("a.example.com", "fd00::1", 86_400),
        cname_record("c.example.com", "a.example.com", 604_800),
        mx_record("example.com", "m.example.com", 65_535),
        mx_record("example.com", "n.example.com", 0),
        srv_record("example.com", "s.example.com", 65_535, 65_535, 65_535),
        srv_record("example.com", "t.example.com", 0, 0, 0),
    ] {
        api.create(site, &body).await;
    }
}

#[tokio::test]
async fn too_long_domains_and_texts_are_refused() {
    let (_sim, api, site) = start_hq().await;
    // 63 + 1 + 63 = 127 characters: the longest domain; one more label character is too long.
    let longest = format!("{}.{}", "a".repeat(63), "b".repeat(63));
    let too_long = format!("{}.{}", "a".repeat(63), "b".repeat(64));
    assert_eq!((longest.len(), too_long.len()), (127, 128));
    api.create(site, &txt_record(&longest, "x")).await;
    api.post(&policies(site), &txt_record(&too_long, "x"))
        .await
        .expect_error(400, REQUEST_ERROR, "domain size must be between 1 and 127");
    api.post(&policies(site), &txt_record("", "x"))
        .await
        .expect_error(400, REQUEST_ERROR, "domain size must be between 1 and 127");
    let long_target = format!("{}.{}.example", "a".repeat(60), "b".repeat(60));
    api.post(
        &policies(site),
        &cname_record("c.example.com", &long_target, 0),
    )
    .await
    .expect_error(
        400,
        REQUEST_ERROR,
        "targetDomain size must be between 1 and 127",
    );
    // TXT: 1 to 1024 characters.
    api.create(site, &txt_record("t.example.com", &"x".repeat(1024)))
        .await;
    api.post(
        &policies(site),
        &txt_record("t.example.com", &"x".repeat(1025)),
    )
    .await
    .expect_error(400, REQUEST_ERROR, "text size must be between 1 and 1024");
    api.post(&policies(site), &txt_record("t.example.com", ""))
        .await
        .expect_error(400, REQUEST_ERROR, "text size must be between 1 and 1024");
}

#[tokio::test]
async fn txt_values_must_be_correctly_quoted() {
    let (_sim, api, site) = start_hq().await;
    api.post(&policies(site), &txt_record("t.example.com", "a,b"))
        .await
        .expect_error(
            400,
            REQUEST_ERROR,
            "text containing commas must be enclosed in double quotes (incorrectly quoted value)",
        );
    api.post(&policies(site), &txt_record("t.example.com", "say \"hi\""))
        .await
        .expect_error(
            400,
            REQUEST_ERROR,
            "text has an incorrectly quoted value: say \"hi\"",
        );
    api.create(site, &txt_record("t.example.com", "\"a,b\""))
        .await;
}

#[tokio::test]
async fn malformed_json_is_refused() {
    let (_sim, api, site) = start_hq().await;
    for raw in ["{\"type\":", "", "not json", "{\"type\":\"A_RECORD\",}"] {
        let body = api
            .post_raw(&policies(site), raw)
            .await
            .expect_code(400, REQUEST_ERROR);
        let message = body["message"].as_str().expect("message");
        assert!(
            message.starts_with("Malformed JSON request body: "),
            "{raw:?}: {message}"
        );
    }
    let created = api
        .create(site, &a_record("a.example.com", "10.0.0.1", 0))
        .await;
    let resp = api
        .send(
            reqwest::Method::PUT,
            &policy(site, created["id"].as_str().expect("id")),
            Some(b"{".to_vec()),
        )
        .await;
    resp.expect_code(400, REQUEST_ERROR);
}

#[tokio::test]
async fn an_unknown_type_is_unknown_type_id() {
    let (_sim, api, site) = start_hq().await;
    let valid =
        "A_RECORD, AAAA_RECORD, CNAME_RECORD, MX_RECORD, TXT_RECORD, SRV_RECORD, FORWARD_DOMAIN";
    for name in ["NS_RECORD", "a_record", "PTR"] {
        api.post(
            &policies(site),
            &json!({"type": name, "enabled": true, "domain": "x.example.com"}),
        )
        .await
        .expect_error(
            400,
            "api.request.unknown-type-id",
            &format!("Invalid $.type value '{name}' (valid values: {valid})"),
        );
    }
    api.post(&policies(site), &json!({"type": 1, "enabled": true}))
        .await
        .expect_error(400, REQUEST_ERROR, "Invalid value for property '$.type'");
}

#[tokio::test]
async fn unknown_site_and_policy_ids_are_404() {
    let (_sim, api, site) = start_hq().await;
    let nowhere = Uuid::new_v4();
    let site_message = format!("Site '{nowhere}' not found");
    for path in [
        policies(nowhere),
        clients(nowhere),
        client(nowhere, Uuid::new_v4()),
    ] {
        api.get(&path)
            .await
            .expect_error(404, NOT_FOUND, &site_message);
    }
    api.post(
        &policies(nowhere),
        &a_record("a.example.com", "10.0.0.1", 0),
    )
    .await
    .expect_error(404, NOT_FOUND, &site_message);
    let unknown = Uuid::new_v4();
    let policy_message = format!("DNS policy '{unknown}' not found");
    api.get(&policy(site, unknown))
        .await
        .expect_error(404, NOT_FOUND, &policy_message);
    api.put(
        &policy(site, unknown),
        &a_record("a.example.com", "10.0.0.1", 0),
    )
    .await
    .expect_error(404, NOT_FOUND, &policy_message);
    api.delete(&policy(site, unknown))
        .await
        .expect_error(404, NOT_FOUND, &policy_message);
}

#[tokio::test]
async fn ids_that_are_not_uuids_are_400() {
    let (_sim, api, site) = start_hq().await;
    // Sites are addressed by UUID, never by internalReference.
    for path in [
        "/v1/sites/default/dns/policies".to_owned(),
        "/v1/sites/default/clients".to_owned(),
    ] {
        api.get(&path).await.expect_error(
            400,
            REQUEST_ERROR,
            "Invalid site id 'default': expected a UUID",
        );
    }
    api.post(
        "/v1/sites/default/dns/policies",
        &a_record("a.example.com", "10.0.0.1", 0),
    )
    .await
    .expect_error(
        400,
        REQUEST_ERROR,
        "Invalid site id 'default': expected a UUID",
    );
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        api.send(method, &policy(site, "123"), None)
            .await
            .expect_error(
                400,
                REQUEST_ERROR,
                "Invalid DNS policy id '123': expected a UUID",
            );
    }
    api.put(
        &policy(site, "123"),
        &a_record("a.example.com", "10.0.0.1", 0),
    )
    .await
    .expect_error(
        400,
        REQUEST_ERROR,
        "Invalid DNS policy id '123': expected a UUID",
    );
    api.get(&client(site, "aa:bb:cc:00:01:01"))
        .await
        .expect_error(
            400,
            REQUEST_ERROR,
            "Invalid client id 'aa:bb:cc:00:01:01': expected a UUID",
        );
}

#[tokio::test]
async fn request_path_is_reported_without_the_unifi_os_prefix() {
    let (_sim, api, site) = start_hq().await;
    let body = api
        .post(&policies(site), &json!({"type": "A_RECORD"}))
        .await
        .expect_code(400, REQUEST_ERROR);
    assert_eq!(
        body["requestPath"],
        format!("/integration/v1/sites/{site}/dns/policies")
    );
    // The application's own path without /proxy/network is not what UniFi OS serves.
    let body = api.get("/integration/v1/sites").await.expect_error(
        404,
        NOT_FOUND,
        "No endpoint GET /integration/v1/sites",
    );
    assert_eq!(body["requestPath"], "/integration/v1/sites");
    api.get("/v1/nowhere").await.expect_error(
        404,
        NOT_FOUND,
        "No endpoint GET /integration/v1/nowhere",
    );
    api.get("/v2/sites").await.expect_code(404, NOT_FOUND);
}

#[tokio::test]
async fn unsupported_methods_are_answered_with_the_envelope() {
    let (_sim, api, site) = start_hq().await;
    let created = api
        .create(site, &a_record("a.example.com", "10.0.0.1", 0))
        .await;
    // There is no PATCH for DNS policies and no POST on a single policy.
    let path = policy(site, created["id"].as_str().expect("id"));
    let resp = api
        .send(reqwest::Method::PATCH, &path, Some(b"{}".to_vec()))
        .await;
    resp.expect_code(405, "api.request.method-not-allowed");
    api.post(&path, &json!({}))
        .await
        .expect_code(405, "api.request.method-not-allowed");
    api.send(reqwest::Method::DELETE, &sites(), None)
        .await
        .expect_code(405, "api.request.method-not-allowed");
}

#[tokio::test]
async fn every_error_envelope_has_the_seven_fields_in_order() {
    let (_sim, api, site) = start_hq().await;
    let errors = [
        api.with_key(None).get(&sites()).await,
        api.post(&policies(site), &json!({"type": "X"})).await,
        api.get(&policy(site, Uuid::new_v4())).await,
        api.get(&format!("{}?limit=201", sites())).await,
    ];
    let mut request_ids = Vec::new();
    for resp in &errors {
        assert!(resp.status >= 400);
        assert_eq!(
            resp.keys(),
            [
                "statusCode",
                "statusName",
                "code",
                "message",
                "timestamp",
                "requestPath",
                "requestId"
            ]
        );
        let body = resp.json();
        time::OffsetDateTime::parse(
            body["timestamp"].as_str().expect("timestamp"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("RFC 3339 timestamp");
        request_ids.push(Uuid::parse_str(body["requestId"].as_str().expect("id")).expect("uuid"));
        assert_eq!(
            resp.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
    }
    request_ids.sort();
    request_ids.dedup();
    assert_eq!(request_ids.len(), errors.len(), "every requestId is new");
}

#[tokio::test]
async fn a_scenario_the_console_would_refuse_does_not_start() {
    let bad = Scenario::new().console(
        ConsoleSpec::new("hq", HQ_KEY).site(
            SiteSpec::new("default")
                .policy(a_record("a.example.com", "10.0.0.1", 0))
                .policy(a_record("A.example.com", "10.0.0.1", 60)),
        ),
    );
    let error = match unifi_sim::Simulator::start(&bad).await {
        Ok(_) => panic!("a duplicate in the scenario must be refused"),
        Err(e) => e,
    };
    assert!(
        error.contains("console 'hq'")
            && error.contains("site[0] ('default')")
            && error.contains("policy[1]")
            && error.contains(ALREADY_EXISTS),
        "{error}"
    );
}
