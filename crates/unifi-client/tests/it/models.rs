//! Real response bodies parse; every policy type round-trips through a console; request bodies
//! carry exactly the request schema.

use serde_json::{Value, json};
use unifi_client::{
    AppInfo, ClientKind, ConnectedClient, DnsPolicy, DnsPolicyBody, ErrorBody, PolicyData,
    PolicyType, Site,
};
use unifi_sim::state::ClientKind as SimKind;
use unifi_sim::{ClientSpec, ConsoleSpec, Scenario, SiteSpec};

use crate::support::{client, info, start, start_one};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../unifi-sim/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn without_id_and_metadata(mut v: Value) -> Value {
    let map = v.as_object_mut().unwrap();
    map.shift_remove("id");
    map.shift_remove("metadata");
    v
}

#[test]
fn every_integration_response_fixture_parses() {
    let info = AppInfo::from_json(&fixture("integration-v1-info.json")).unwrap();
    assert_eq!(info.application_version, "10.2.105");
    assert!(info.supports_dns_policies());

    let sites = fixture("integration-v1-sites-list.json");
    let site = Site::from_json(&sites["data"][0]).unwrap();
    assert_eq!(
        (
            site.id.as_str(),
            site.internal_reference.as_str(),
            site.name.as_str()
        ),
        ("88f7af54-98f8-306a-a1c7-c9349722b1f6", "default", "Default")
    );

    let clients = fixture("integration-v1-clients-list.json");
    let parsed: Vec<ConnectedClient> = clients["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| ConnectedClient::from_json(c).unwrap())
        .collect();
    assert_eq!(parsed.len(), 4);
    assert_eq!(parsed[0].kind, ClientKind::Wired);
    assert_eq!(parsed[0].name.as_deref(), Some("hue-bridge-pro"));
    assert_eq!(parsed[0].mac_address.as_deref(), Some("c4:29:96:bb:6d:cc"));
    assert_eq!(parsed[1].kind, ClientKind::Wireless);
    assert_eq!(
        parsed[2].connected_at.map(|t| t.unix_timestamp()),
        Some(time::macros::datetime!(2026-08-20 04:14:55 UTC).unix_timestamp())
    );

    for name in [
        "integration-v1-dns-policy-get.json",
        "integration-v1-dns-policy-create-response-201.json",
    ] {
        let response = fixture(name);
        let policy = DnsPolicy::from_json(&response).unwrap();
        assert_eq!(policy.origin.as_deref(), Some("USER_DEFINED"));
        assert_eq!(policy.id, response["id"].as_str().unwrap());
        let body = policy.body().to_json();
        let expected = without_id_and_metadata(response.clone());
        assert_eq!(body, expected, "{name}");
        // Same field order as the console's own body, too.
        assert_eq!(body.to_string(), expected.to_string(), "{name}");
    }

    for (name, status, code, message) in [
        (
            "integration-v1-error-400-record-already-exists.json",
            400,
            Some("api.dns.policy.validation.record-already-exists"),
            "DNS policy with the same type and properties already exists",
        ),
        (
            "integration-v1-error-400-ttlseconds-null.json",
            400,
            Some("api.request.error"),
            "ttlSeconds must not be null",
        ),
        (
            "integration-v1-error-400-unknown-property-id.json",
            400,
            Some("api.request.unknown-property"),
            "Unknown request body property '$.id'",
        ),
        (
            "integration-v1-error-400-unknown-property-metadata.json",
            400,
            Some("api.request.unknown-property"),
            "Unknown request body property '$.metadata'",
        ),
        ("unifios-401-unauthorized.json", 401, None, "Unauthorized"),
    ] {
        let bytes = serde_json::to_vec(&fixture(name)).unwrap();
        let body = ErrorBody::parse(status, &bytes);
        assert_eq!(
            (body.code.as_deref(), body.message.as_str()),
            (code, message),
            "{name}"
        );
    }
}

#[test]
fn request_fixtures_round_trip_and_incomplete_ones_are_refused() {
    let request = fixture("integration-v1-dns-policy-create-request-a-record.json");
    let body = DnsPolicyBody::from_json(&request).unwrap();
    assert_eq!(body.to_json(), request);
    for name in [
        "integration-v1-dns-policy-create-request-missing-ttl.json",
        "integration-v1-dns-policy-update-request-with-id-rejected.json",
    ] {
        let err = DnsPolicyBody::from_json(&fixture(name)).unwrap_err();
        assert_eq!(err.field, "ttlSeconds", "{name}");
    }
}

fn every_type() -> Vec<DnsPolicyBody> {
    let body = |domain: &str, data| DnsPolicyBody {
        enabled: true,
        domain: domain.into(),
        data,
    };
    vec![
        body(
            "a.example.com",
            PolicyData::A {
                ipv4_address: "10.0.0.1".into(),
                ttl_seconds: 0,
            },
        ),
        body(
            "aaaa.example.com",
            PolicyData::Aaaa {
                ipv6_address: "fd00::1".into(),
                ttl_seconds: 86400,
            },
        ),
        body(
            "alias.example.com",
            PolicyData::Cname {
                target_domain: "a.example.com".into(),
                ttl_seconds: 3600,
            },
        ),
        body(
            "example.com",
            PolicyData::Mx {
                mail_server_domain: "mail.example.com".into(),
                priority: 10,
            },
        ),
        body(
            "example.com",
            PolicyData::Txt {
                text: "v=spf1 -all".into(),
            },
        ),
        body(
            "example.com",
            PolicyData::Srv {
                server_domain: "sip.example.com".into(),
                service: "_sip".into(),
                protocol: "_tcp".into(),
                port: 5060,
                priority: 10,
                weight: 5,
            },
        ),
        body(
            "corp.example",
            PolicyData::ForwardDomain {
                ip_address: "2001:db8::53".into(),
            },
        ),
        DnsPolicyBody {
            enabled: false,
            domain: "off.example.com".into(),
            data: PolicyData::A {
                ipv4_address: "10.0.0.2".into(),
                ttl_seconds: 1,
            },
        },
    ]
}

#[tokio::test]
async fn every_policy_type_round_trips_through_a_console() {
    let sim = start_one().await;
    let hq = sim.console("hq").unwrap();
    let site = hq.site_id("default").unwrap().to_string();
    let client = client(&info(&sim, "hq"));
    let mut created = Vec::new();
    for body in every_type() {
        let json = body.to_json();
        let map = json.as_object().unwrap();
        assert!(!map.contains_key("id") && !map.contains_key("metadata"));
        let ttl_type = body.data.policy_type().is_some_and(PolicyType::has_ttl);
        assert_eq!(map.contains_key("ttlSeconds"), ttl_type, "{json}");
        // The simulator refuses unknown properties and a missing ttlSeconds, so a 201 proves
        // the body is exactly the request schema.
        let policy = client.create_dns_policy(&site, &body).await.unwrap();
        assert_eq!(policy.body(), body);
        assert_eq!(policy.origin.as_deref(), Some("USER_DEFINED"));
        created.push(policy);
    }
    let listed = client.dns_policies(&site).await.unwrap();
    assert_eq!(listed, created);
    // body() of a live policy serialises to the console's own JSON minus id and metadata.
    let raw = hq.policies("default").unwrap();
    for (policy, raw) in listed.iter().zip(raw) {
        assert_eq!(
            policy.body().to_json().to_string(),
            without_id_and_metadata(raw).to_string()
        );
    }
    // Updates are full replacements with the same id.
    let first = &listed[0];
    let mut changed = first.body();
    changed.data = PolicyData::A {
        ipv4_address: "10.9.9.9".into(),
        ttl_seconds: 60,
    };
    let updated = client
        .update_dns_policy(&site, &first.id, &changed)
        .await
        .unwrap();
    assert_eq!(
        (updated.id.as_str(), updated.body()),
        (first.id.as_str(), changed)
    );
}

#[tokio::test]
async fn a_10_1_68_console_without_metadata_parses() {
    let site = SiteSpec::new("default").policy(json!({"type":"CNAME_RECORD","domain":"x.example","targetDomain":"y.example","ttlSeconds":0}));
    let sim =
        start(Scenario::new().console(ConsoleSpec::new("old", "k").version("10.1.68").site(site)))
            .await;
    let client = client(&info(&sim, "old"));
    assert!(client.info().await.unwrap().supports_dns_policies());
    let site = sim
        .console("old")
        .unwrap()
        .site_id("default")
        .unwrap()
        .to_string();
    let policies = client.dns_policies(&site).await.unwrap();
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].origin, None);
    assert_eq!(policies[0].data.ttl_seconds(), Some(0));
}

#[tokio::test]
async fn clients_without_a_name_are_read() {
    let mut vpn = ClientSpec::new(
        SimKind::Vpn,
        Some("road warrior"),
        "aa:bb:cc:00:00:09",
        Some("10.8.0.2"),
    );
    vpn.mac = None;
    let site = SiteSpec::new("default")
        .client(ClientSpec::new(
            SimKind::Wireless,
            None,
            "aa:bb:cc:00:00:01",
            Some("10.0.0.5"),
        ))
        .client(ClientSpec::wired(
            "printer",
            "aa:bb:cc:00:00:02",
            "10.0.0.6",
        ))
        .client(vpn);
    let sim = start(Scenario::new().console(ConsoleSpec::new("hq", "k").site(site))).await;
    let site = sim
        .console("hq")
        .unwrap()
        .site_id("default")
        .unwrap()
        .to_string();
    let clients = client(&info(&sim, "hq")).clients(&site).await.unwrap();
    assert_eq!(clients.len(), 3);
    let nameless = clients
        .iter()
        .find(|c| c.ip_address.as_deref() == Some("10.0.0.5"))
        .unwrap();
    assert_eq!(
        (nameless.kind.clone(), nameless.name.clone()),
        (ClientKind::Wireless, None)
    );
    assert_eq!(nameless.mac_address.as_deref(), Some("aa:bb:cc:00:00:01"));
    assert!(nameless.connected_at.is_some());
    let vpn = clients.iter().find(|c| c.kind == ClientKind::Vpn).unwrap();
    assert_eq!(
        (vpn.name.as_deref(), vpn.mac_address.as_deref()),
        (Some("road warrior"), None)
    );
}
