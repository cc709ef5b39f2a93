//! Typed errors: a refused key, the three refusals, old consoles, deletes of missing ids,
//! unreadable answers, and invalid ids — each naming the controller and the request, never
//! the key.

use serde_json::json;
use unifi_client::{Client, ClientError, DeleteOutcome, DnsPolicyBody, PolicyData, Settings};
use unifi_sim::{ClientSpec, ConsoleSpec, FaultKind, FaultRule, Scenario, SiteSpec};

use crate::support::{POLICIES, a_record, client, info, settings, start, start_one};

fn a(domain: &str, ip: &str) -> DnsPolicyBody {
    DnsPolicyBody {
        enabled: true,
        domain: domain.into(),
        data: PolicyData::A {
            ipv4_address: ip.into(),
            ttl_seconds: 300,
        },
    }
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_never_printed() {
    let sim = start_one().await;
    let info = info(&sim, "hq");
    let wrong = "wrong-KEY-9f8e7d6c5b4a";
    let client = Client::new(Settings {
        api_key: wrong.into(),
        ..settings(&info)
    })
    .unwrap();
    let err = client.info().await.unwrap_err();
    assert!(
        matches!(err, ClientError::Api { status: 401, .. }),
        "{err:?}"
    );
    assert!(err.is_unauthorized() && !err.is_refusal() && !err.effect_unknown());
    for text in [err.to_string(), format!("{err:?}"), format!("{client:?}")] {
        assert!(!text.contains(wrong), "{text}");
        assert!(!text.contains(&info.api_key), "{text}");
    }
    let text = err.to_string();
    assert!(
        text.starts_with("controller 'hq': GET /proxy/network/integration/v1/info: HTTP 401"),
        "{text}"
    );
    // The list calls see the same.
    let site = sim
        .console("hq")
        .unwrap()
        .site_id("default")
        .unwrap()
        .to_string();
    assert!(
        client
            .dns_policies(&site)
            .await
            .unwrap_err()
            .is_unauthorized()
    );
}

#[tokio::test]
async fn the_three_refusals_are_refusals() {
    let site = SiteSpec::new("default")
        .local_domain("hq.lan")
        .client(ClientSpec::wired(
            "printer",
            "aa:bb:cc:00:00:01",
            "10.0.0.9",
        ));
    let sim = start(Scenario::new().console(ConsoleSpec::new("hq", "hq-key").site(site))).await;
    let site = sim
        .console("hq")
        .unwrap()
        .site_id("default")
        .unwrap()
        .to_string();
    let client = client(&info(&sim, "hq"));

    client
        .create_dns_policy(&site, &a("nas.example.com", "10.0.0.1"))
        .await
        .unwrap();
    let duplicate = client
        .create_dns_policy(&site, &a("nas.example.com", "10.0.0.1"))
        .await
        .unwrap_err();
    assert_eq!(
        duplicate.code(),
        Some("api.dns.policy.validation.record-already-exists")
    );

    let cname = DnsPolicyBody {
        enabled: true,
        domain: "nas.example.com".into(),
        data: PolicyData::Cname {
            target_domain: "other.example.com".into(),
            ttl_seconds: 0,
        },
    };
    let overlap = client.create_dns_policy(&site, &cname).await.unwrap_err();
    assert_eq!(
        overlap.code(),
        Some("api.dns.policy.validation.cname-alias-overlap")
    );

    let local = client
        .create_dns_policy(&site, &a("printer.hq.lan", "10.0.0.2"))
        .await
        .unwrap_err();
    assert_eq!(
        local.code(),
        Some("api.dns.policy.validation.overlap-with-local-dns")
    );

    for err in [duplicate, overlap, local] {
        assert!(err.is_refusal(), "{err:?}");
        assert!(!err.effect_unknown() && !err.is_unauthorized());
        assert_eq!(err.status(), Some(400));
        let text = err.to_string();
        assert!(
            text.contains("controller 'hq': POST /proxy/network/integration/v1/sites/"),
            "{text}"
        );
    }

    // Other 400s are not refusals.
    let bad_ip = client
        .create_dns_policy(&site, &a("x.example.com", "10.0.0.300"))
        .await
        .unwrap_err();
    assert_eq!(bad_ip.status(), Some(400));
    assert!(!bad_ip.is_refusal());
    assert!(
        bad_ip
            .to_string()
            .contains("ipv4Address must be valid IP format"),
        "{bad_ip}"
    );
}

#[tokio::test]
async fn an_old_console_has_no_dns_policies() {
    let sim = start(
        Scenario::new().console(
            ConsoleSpec::new("old", "old-key")
                .version("9.5.21")
                .site(SiteSpec::new("default")),
        ),
    )
    .await;
    let client = client(&info(&sim, "old"));
    let app = client.info().await.unwrap();
    assert_eq!(app.application_version, "9.5.21");
    assert!(!app.supports_dns_policies());
    let sites = client.sites().await.unwrap();
    let err = client.dns_policies(&sites[0].id).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(err.to_string().contains("controller 'old'"), "{err}");
}

#[tokio::test]
async fn deletes_of_missing_policies_are_already_gone() {
    let sim = start_one().await;
    let site = sim
        .console("hq")
        .unwrap()
        .site_id("default")
        .unwrap()
        .to_string();
    let client = client(&info(&sim, "hq"));
    let policy = client
        .create_dns_policy(&site, &a("gone.example.com", "10.0.0.1"))
        .await
        .unwrap();
    assert_eq!(
        client.delete_dns_policy(&site, &policy.id).await.unwrap(),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        client.delete_dns_policy(&site, &policy.id).await.unwrap(),
        DeleteOutcome::AlreadyGone
    );
    let random = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        client.delete_dns_policy(&site, &random).await.unwrap(),
        DeleteOutcome::AlreadyGone
    );
    // Updating a missing policy is a plain 404.
    let err = client
        .update_dns_policy(&site, &random, &a("x.example.com", "10.0.0.1"))
        .await
        .unwrap_err();
    assert!(err.is_not_found() && !err.effect_unknown());
}

#[tokio::test]
async fn ids_that_are_not_uuid_like_are_refused_before_sending() {
    let sim = start_one().await;
    let client = client(&info(&sim, "hq"));
    for bad in ["", "..", "a/b", "x?y", "default site"] {
        let err = client.dns_policies(bad).await.unwrap_err();
        assert!(
            matches!(err, ClientError::InvalidInput { .. }),
            "{bad}: {err:?}"
        );
        let err = client.delete_dns_policy("abc", bad).await.unwrap_err();
        assert!(
            matches!(err, ClientError::InvalidInput { .. }),
            "{bad}: {err:?}"
        );
    }
    assert_eq!(sim.console("hq").unwrap().counters().total(), 0);
}

#[tokio::test]
async fn unreadable_answers_are_decode_errors() {
    let sim = start_one().await;
    let hq = sim.console("hq").unwrap();
    let site = hq.site_id("default").unwrap().to_string();
    let client = client(&info(&sim, "hq"));

    hq.add_fault(
        FaultRule::new(FaultKind::Malformed)
            .on("GET", POLICIES)
            .times(1),
    )
    .unwrap();
    let err = client.dns_policies(&site).await.unwrap_err();
    assert!(matches!(err, ClientError::Decode { .. }), "{err:?}");
    assert!(!err.effect_unknown(), "a read has no effect");
    let text = err.to_string();
    assert!(
        text.contains("controller 'hq': GET ") && text.contains("not valid JSON"),
        "{text}"
    );
    assert_eq!(
        hq.counters().count("GET", POLICIES),
        1,
        "an invalid body is not retried"
    );

    // A create whose answer is cut short took effect: its outcome is unknown to the client.
    hq.add_fault(
        FaultRule::new(FaultKind::Truncate)
            .on("POST", POLICIES)
            .times(1),
    )
    .unwrap();
    let err = client
        .create_dns_policy(&site, &a("cut.example.com", "10.0.0.7"))
        .await
        .unwrap_err();
    assert!(err.effect_unknown(), "{err:?}");
    let stored = hq.policies("default").unwrap();
    assert!(
        stored
            .iter()
            .any(|p| p["domain"] == json!("cut.example.com"))
    );
    // And the simulator would refuse a retry as a duplicate, which the next read settles.
    assert!(
        hq.create_policy("default", &a_record("cut.example.com", "10.0.0.7"))
            .is_err()
    );
}
