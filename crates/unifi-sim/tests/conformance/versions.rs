//! What a console serves depends on its Network version: no DNS policies before 10.1.68, no
//! `metadata` and a longer A/AAAA TTL ceiling in 10.1.68.

use serde_json::json;
use unifi_sim::{ConsoleSpec, DEFAULT_SITE_UUID, Scenario, SiteSpec};
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn a_9_5_21_console_has_no_dns_policies_but_sites_and_clients_work() {
    let sim = TestSim::start(
        Scenario::new().console(
            ConsoleSpec::new("legacy", "legacy-key")
                .version("9.5.21")
                .site(default_site()),
        ),
    )
    .await;
    let api = sim.api("legacy");
    assert_eq!(api.contract.version(), "9.5.21");
    let site = DEFAULT_SITE_UUID;
    assert_eq!(
        api.get("/v1/info").await.expect(200),
        json!({"applicationVersion": "9.5.21"})
    );
    assert_eq!(api.get(&sites()).await.expect(200)["totalCount"], 1);
    let page = api.get(&clients(site)).await.expect(200);
    assert_eq!(page["totalCount"], 3);
    let id = page["data"][0]["id"].as_str().expect("id").to_owned();
    api.get(&client(site, &id)).await.expect(200);

    let id = Uuid::new_v4();
    let cases = [
        (reqwest::Method::GET, policies(site), None),
        (
            reqwest::Method::POST,
            policies(site),
            Some(a_record("a.example.com", "10.0.0.1", 0)),
        ),
        (reqwest::Method::GET, policy(site, id), None),
        (
            reqwest::Method::PUT,
            policy(site, id),
            Some(a_record("a.example.com", "10.0.0.1", 0)),
        ),
        (reqwest::Method::DELETE, policy(site, id), None),
    ];
    for (method, path, body) in cases {
        let resp = api
            .send(
                method.clone(),
                &path,
                body.map(|b| b.to_string().into_bytes()),
            )
            .await;
        // The 404 envelope, checked against the error schema of 10.5.66 by `send`.
        assert!(resp.contract.is_ok());
        resp.expect_error(
            404,
            "api.entity.not-found",
            &format!("No endpoint {method} /integration{path}"),
        );
    }
    // The key is still checked first.
    api.with_key(None)
        .get(&policies(site))
        .await
        .expect_code(401, "api.authentication.missing-credentials");
}

#[tokio::test]
async fn a_10_1_68_console_sends_no_metadata_and_allows_a_ttl_up_to_604800() {
    let sim = TestSim::start(
        Scenario::new().console(
            ConsoleSpec::new("early", "early-key")
                .version("10.1.68")
                .site(SiteSpec::new("default")),
        ),
    )
    .await;
    let api = sim.api("early");
    assert_eq!(api.contract.version(), "10.1.68");
    let site = DEFAULT_SITE_UUID;
    let resp = api
        .post(
            &policies(site),
            &a_record("a.example.com", "10.0.0.1", 604_800),
        )
        .await;
    let created = resp.expect(201);
    assert!(created.get("metadata").is_none(), "{created}");
    assert_eq!(
        resp.keys(),
        [
            "type",
            "id",
            "enabled",
            "domain",
            "ipv4Address",
            "ttlSeconds"
        ]
    );
    // The same body breaks the current document, which requires metadata.
    assert!(
        CURRENT
            .check_response("createDnsPolicy", 201, &resp.body)
            .is_err()
    );
    api.create(site, &aaaa_record("a.example.com", "fd00::1", 604_800))
        .await;
    api.post(
        &policies(site),
        &a_record("b.example.com", "10.0.0.1", 604_801),
    )
    .await
    .expect_error(
        400,
        "api.request.error",
        "ttlSeconds must be between 0 and 604800",
    );
    for item in api.get(&policies(site)).await.expect(200)["data"]
        .as_array()
        .expect("data")
    {
        assert!(item.get("metadata").is_none(), "{item}");
    }
    let id = created["id"].as_str().expect("id");
    assert!(
        api.get(&policy(site, id))
            .await
            .expect(200)
            .get("metadata")
            .is_none()
    );
    assert!(
        api.put(&policy(site, id), &a_record("a.example.com", "10.0.0.2", 1))
            .await
            .expect(200)
            .get("metadata")
            .is_none()
    );
}

#[tokio::test]
async fn a_10_1_78_console_has_metadata_and_the_86400_ceiling() {
    let sim = TestSim::start(
        Scenario::new().console(
            ConsoleSpec::new("c", "k")
                .version("10.1.78")
                .site(SiteSpec::new("default")),
        ),
    )
    .await;
    let api = sim.api("c");
    let created = api
        .create(
            DEFAULT_SITE_UUID,
            &a_record("a.example.com", "10.0.0.1", 86_400),
        )
        .await;
    assert_eq!(created["metadata"], json!({"origin": "USER_DEFINED"}));
    api.post(
        &policies(DEFAULT_SITE_UUID),
        &a_record("b.example.com", "10.0.0.1", 86_401),
    )
    .await
    .expect_error(
        400,
        "api.request.error",
        "ttlSeconds must be between 0 and 86400",
    );
}
