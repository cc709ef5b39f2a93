//! The `filter` query parameter on the three list endpoints: every function, `and`/`or`/`not`,
//! quoting, `like` wildcards, filtering before paging, and the refusals.

use serde_json::{Value, json};
use time::macros::datetime;
use unifi_sim::{ClientKind, ClientSpec, ConsoleSpec, DEFAULT_SITE_UUID, Scenario, SiteSpec};
use uuid::Uuid;

use crate::support::*;

const INVALID_FILTER: &str = "api.request.invalid-filter";

/// The `key` of every item the filtered list returns, checking that `totalCount` counts the
/// matches.
async fn matching(api: &Api, path: &str, expression: &str, key: &str) -> Vec<String> {
    let page = api
        .get(&format!("{path}{}&limit=200", filter(expression)))
        .await
        .expect(200);
    let data = page["data"].as_array().expect("data");
    assert_eq!(
        page["totalCount"].as_u64(),
        Some(data.len() as u64),
        "{expression}"
    );
    data.iter()
        .map(|item| match &item[key] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

#[track_caller]
fn assert_same(mut got: Vec<String>, expected: &[&str], expression: &str) {
    got.sort();
    let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(got, expected, "{expression}");
}

async fn rejected(api: &Api, path: &str, expression: &str) -> String {
    let body = api
        .get(&format!("{path}{}", filter(expression)))
        .await
        .expect_code(400, INVALID_FILTER);
    body["message"].as_str().expect("message").to_owned()
}

// ---------------------------------------------------------------------------------------------
// Sites

#[tokio::test]
async fn sites_filter_on_id_internal_reference_and_name() {
    let lab = Uuid::new_v4();
    let sim = TestSim::start(
        Scenario::new().console(
            ConsoleSpec::new("hq", HQ_KEY)
                .site(SiteSpec::new("default").name("Head office"))
                .site(SiteSpec::new("lab").id(lab).name("Lab"))
                .site(SiteSpec::new("pub").name("O'Brien's Pub")),
        ),
    )
    .await;
    let api = sim.api("hq");
    let path = sites();
    let d = DEFAULT_SITE_UUID;
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("internalReference.eq('default')".into(), vec!["default"]),
        ("internalReference.ne('default')".into(), vec!["lab", "pub"]),
        ("name.eq('O''Brien''s Pub')".into(), vec!["pub"]),
        (
            "name.in('Lab', 'Head office')".into(),
            vec!["lab", "default"],
        ),
        ("name.notIn(['Lab'])".into(), vec!["default", "pub"]),
        (format!("id.eq({lab})"), vec!["lab"]),
        (
            format!("id.eq({})", lab.to_string().to_uppercase()),
            vec!["lab"],
        ),
        (format!("id.ne({lab})"), vec!["default", "pub"]),
        (format!("id.in({lab}, {d})"), vec!["lab", "default"]),
        (format!("id.notIn([{lab}, {d}])"), vec!["pub"]),
        (
            "or(name.eq('Lab'), internalReference.eq('pub'))".into(),
            vec!["lab", "pub"],
        ),
        (
            "and(internalReference.ne('lab'), not(name.eq('Head office')))".into(),
            vec!["pub"],
        ),
        ("name.eq('lab')".into(), vec![]),
        (" internalReference . eq ( 'lab' ) ".into(), vec!["lab"]),
    ];
    for (expression, expected) in cases {
        let got = matching(&api, &path, &expression, "internalReference").await;
        assert_same(got, &expected, &expression);
    }
    // Not filterable on sites: other properties, and functions the table does not allow.
    assert_eq!(
        rejected(&api, &path, "name.like('L*')").await,
        "Invalid filter at position 5: function 'like' is not allowed on property 'name' of type STRING (allowed: eq, ne, in, notIn)"
    );
    assert_eq!(
        rejected(&api, &path, "macAddress.eq('x')").await,
        "Invalid filter at position 0: unknown property 'macAddress' (known properties: id, internalReference, name)"
    );
    rejected(&api, &path, "name.isNull()").await;
    rejected(&api, &path, "id.gt(88f7af54-98f8-306a-a1c7-c9349722b1f6)").await;
    // A UUID property takes an unquoted UUID literal.
    rejected(&api, &path, &format!("id.eq('{lab}')")).await;
}

// ---------------------------------------------------------------------------------------------
// DNS policies

fn policy_scenario() -> Scenario {
    let mut disabled = a_record("api.example.com", "10.0.0.3", 3600);
    disabled["enabled"] = json!(false);
    let site = SiteSpec::new("default")
        .policy(a_record("www.example.com", "10.0.0.1", 60))
        .policy(a_record("www.example.com", "10.0.0.2", 300))
        .policy(disabled)
        .policy(a_record("wwwxexample.com", "10.0.0.9", 60))
        .policy(aaaa_record("www6.example.com", "fd00::1", 60))
        .policy(cname_record("docs.example.com", "www.example.com", 0))
        .policy(mx_record("example.com", "mail.example.com", 10))
        .policy(mx_record("example.com", "mail2.example.com", 20))
        .policy(txt_record("example.com", "it's here"))
        .policy(srv_record("example.com", "pbx.example.com", 5060, 10, 5))
        .policy(forward_domain("corp.example", "10.0.0.53"));
    Scenario::new().console(ConsoleSpec::new("hq", HQ_KEY).site(site))
}

#[tokio::test]
async fn dns_policies_filter_on_every_property_and_function() {
    let sim = TestSim::start(policy_scenario()).await;
    let api = sim.api("hq");
    let path = policies(DEFAULT_SITE_UUID);
    let all = api.read_all(&path, 200).await;
    assert_eq!(all.len(), 11);
    let api_id = all
        .iter()
        .find(|p| p["domain"] == "api.example.com")
        .expect("api")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // (expression, the `domain`s of the matches; duplicates for round robin)
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            "type.eq('A_RECORD')".into(),
            vec!["www.example.com", "www.example.com", "api.example.com", "wwwxexample.com"],
        ),
        (
            "type.in('MX_RECORD', 'TXT_RECORD')".into(),
            vec!["example.com", "example.com", "example.com"],
        ),
        ("type.in(['SRV_RECORD'])".into(), vec!["example.com"]),
        (
            "type.notIn('A_RECORD', 'MX_RECORD', 'TXT_RECORD', 'SRV_RECORD')".into(),
            vec!["www6.example.com", "docs.example.com", "corp.example"],
        ),
        (
            "type.ne('MX_RECORD')".into(),
            vec![
                "www.example.com",
                "www.example.com",
                "api.example.com",
                "wwwxexample.com",
                "www6.example.com",
                "docs.example.com",
                "example.com",
                "example.com",
                "corp.example",
            ],
        ),
        (format!("id.eq({api_id})"), vec!["api.example.com"]),
        (format!("id.in([{api_id}])"), vec!["api.example.com"]),
        ("enabled.eq(false)".into(), vec!["api.example.com"]),
        ("enabled.ne(true)".into(), vec!["api.example.com"]),
        (
            "domain.eq('www.example.com')".into(),
            vec!["www.example.com", "www.example.com"],
        ),
        ("domain.eq('WWW.example.com')".into(), vec![]),
        (
            "domain.in('corp.example', 'docs.example.com')".into(),
            vec!["corp.example", "docs.example.com"],
        ),
        // `*` is any run, `.` exactly one character (so it also matches the "x").
        (
            "domain.like('*.example.com')".into(),
            vec![
                "www.example.com",
                "www.example.com",
                "api.example.com",
                "wwwxexample.com",
                "www6.example.com",
                "docs.example.com",
            ],
        ),
        (
            "domain.like('*\\.example\\.com')".into(),
            vec![
                "www.example.com",
                "www.example.com",
                "api.example.com",
                "www6.example.com",
                "docs.example.com",
            ],
        ),
        (
            "domain.like('www.example.com')".into(),
            vec!["www.example.com", "www.example.com", "wwwxexample.com"],
        ),
        ("domain.like('www6.example.co.')".into(), vec!["www6.example.com"]),
        ("domain.like('www.')".into(), vec![]),
        ("domain.like('corp*')".into(), vec!["corp.example"]),
        ("domain.like('%example.com')".into(), vec![]),
        (
            "ipv4Address.like('10.0.0.*')".into(),
            vec!["www.example.com", "www.example.com", "api.example.com", "wwwxexample.com"],
        ),
        ("ipv6Address.eq('fd00::1')".into(), vec!["www6.example.com"]),
        ("targetDomain.eq('www.example.com')".into(), vec!["docs.example.com"]),
        (
            "mailServerDomain.like('mail*')".into(),
            vec!["example.com", "example.com"],
        ),
        ("text.eq('it''s here')".into(), vec!["example.com"]),
        ("serverDomain.eq('pbx.example.com')".into(), vec!["example.com"]),
        ("ipAddress.eq('10.0.0.53')".into(), vec!["corp.example"]),
        ("service.eq('_sip')".into(), vec!["example.com"]),
        ("protocol.in('_tcp', '_udp')".into(), vec!["example.com"]),
        ("ttlSeconds.eq(60)".into(), vec!["www.example.com", "wwwxexample.com", "www6.example.com"]),
        ("ttlSeconds.gt(60)".into(), vec!["www.example.com", "api.example.com"]),
        (
            "ttlSeconds.ge(60)".into(),
            vec![
                "www.example.com",
                "www.example.com",
                "api.example.com",
                "wwwxexample.com",
                "www6.example.com",
            ],
        ),
        ("ttlSeconds.lt(60)".into(), vec!["docs.example.com"]),
        (
            "ttlSeconds.le(60)".into(),
            vec!["www.example.com", "wwwxexample.com", "www6.example.com", "docs.example.com"],
        ),
        ("ttlSeconds.in(0, 3600)".into(), vec!["docs.example.com", "api.example.com"]),
        // Policies without a TTL are "not in" any set of TTLs.
        (
            "ttlSeconds.notIn(60, 300, 3600)".into(),
            vec![
                "docs.example.com",
                "example.com",
                "example.com",
                "example.com",
                "example.com",
                "corp.example",
            ],
        ),
        ("priority.ge(20)".into(), vec!["example.com"]),
        ("and(priority.ge(10), priority.lt(20))".into(), vec!["example.com", "example.com"]),
        ("port.eq(5060)".into(), vec!["example.com"]),
        ("weight.le(5)".into(), vec!["example.com"]),
        (
            "and(type.eq('A_RECORD'), enabled.eq(true), ttlSeconds.eq(60))".into(),
            vec!["www.example.com", "wwwxexample.com"],
        ),
        (
            "or(type.eq('CNAME_RECORD'), type.eq('FORWARD_DOMAIN'))".into(),
            vec!["docs.example.com", "corp.example"],
        ),
        (
            "not(domain.like('*example.com'))".into(),
            vec!["corp.example"],
        ),
        (
            "and(or(type.eq('A_RECORD'), type.eq('AAAA_RECORD')), not(enabled.eq(false)), not(domain.eq('wwwxexample.com')))".into(),
            vec!["www.example.com", "www.example.com", "www6.example.com"],
        ),
    ];
    for (expression, expected) in cases {
        let got = matching(&api, &path, &expression, "domain").await;
        assert_same(got, &expected, &expression);
    }
}

#[tokio::test]
async fn dns_policy_filters_outside_the_table_are_refused() {
    let sim = TestSim::start(policy_scenario()).await;
    let api = sim.api("hq");
    let path = policies(DEFAULT_SITE_UUID);
    assert_eq!(
        rejected(&api, &path, "domain.gt('a')").await,
        "Invalid filter at position 7: function 'gt' is not allowed on property 'domain' of type STRING (allowed: eq, ne, in, notIn, like)"
    );
    assert_eq!(
        rejected(&api, &path, "metadata.origin.eq('USER_DEFINED')").await,
        "Invalid filter at position 0: unknown property 'metadata.origin' (known properties: type, id, enabled, domain, ipv4Address, ipv6Address, targetDomain, mailServerDomain, text, serverDomain, ipAddress, ttlSeconds, priority, port, weight, service, protocol)"
    );
    for expression in [
        "service.like('_s*')",
        "type.like('A*')",
        "enabled.gt(false)",
        "enabled.in(true)",
        "ttlSeconds.like('6*')",
        "domain.isNull()",
        "ttlSeconds.isNotNull()",
        "ttlSeconds.eq('60')",
        "type.eq(A_RECORD)",
        "enabled.eq('false')",
        "domain.eq(1)",
        "priority.eq(1.5)",
        "id.eq(42)",
        "domain.contains('x')",
    ] {
        rejected(&api, &path, expression).await;
    }
}

#[tokio::test]
async fn the_filter_applies_before_paging() {
    let mut site = SiteSpec::new("default");
    for i in 0..60 {
        let ttl = if i % 2 == 0 { 60 } else { 300 };
        site = site.policy(a_record(&format!("h{i:02}.example.com"), "10.0.0.1", ttl));
    }
    let sim =
        TestSim::start(Scenario::new().console(ConsoleSpec::new("hq", HQ_KEY).site(site))).await;
    let api = sim.api("hq");
    let path = policies(DEFAULT_SITE_UUID);
    let f = filter("ttlSeconds.eq(60)");
    let page = api.get(&format!("{path}{f}&limit=10")).await.expect(200);
    assert_eq!(
        (&page["count"], &page["totalCount"], &page["limit"]),
        (&json!(10), &json!(30), &json!(10))
    );
    let last = api
        .get(&format!("{path}{f}&offset=25&limit=10"))
        .await
        .expect(200);
    assert_eq!(
        (&last["count"], &last["totalCount"]),
        (&json!(5), &json!(30))
    );
    let default_page = api.get(&format!("{path}{f}")).await.expect(200);
    assert_eq!(default_page["count"], 25);
    let everything = api.read_all(&format!("{path}{f}"), 7).await;
    assert_eq!(everything.len(), 30);
    assert!(everything.iter().all(|p| p["ttlSeconds"] == 60));
    let none = api
        .get(&format!("{path}{}", filter("ttlSeconds.gt(300)")))
        .await
        .expect(200);
    assert_eq!(
        none,
        json!({"offset": 0, "limit": 25, "count": 0, "totalCount": 0, "data": []})
    );
}

// ---------------------------------------------------------------------------------------------
// Clients

fn client_scenario() -> Scenario {
    let at = |day: u8| {
        datetime!(2026-01-01 10:00 UTC)
            .replace_day(day)
            .expect("a day")
    };
    let guest = |name: &str, mac: &str, authorized: bool, day: u8| ClientSpec {
        guest_authorized: Some(authorized),
        ..ClientSpec::wireless(name, mac, "10.1.0.80").connected_at(at(day))
    };
    let vpn = ClientSpec {
        kind: ClientKind::Vpn,
        id: None,
        name: Some("road-warrior".into()),
        mac: None,
        ip: Some("192.168.200.2".into()),
        connected_at: Some(at(7)),
        guest_authorized: None,
    };
    let site = SiteSpec::new("default")
        .client(ClientSpec::wired("printer", "aa:bb:cc:00:00:01", "10.1.0.50").connected_at(at(1)))
        .client(ClientSpec::wireless("ipad", "aa:bb:cc:00:00:02", "10.1.0.51").connected_at(at(2)))
        .client(
            ClientSpec::new(
                ClientKind::Wired,
                None,
                "aa:bb:cc:00:00:03",
                Some("10.1.0.52"),
            )
            .connected_at(at(3)),
        )
        .client(guest("guest-ok", "aa:bb:cc:00:00:04", true, 4))
        .client(guest("guest-wait", "aa:bb:cc:00:00:05", false, 5))
        .client(
            ClientSpec::new(
                ClientKind::Wireless,
                Some("no-lease"),
                "aa:bb:cc:00:00:06",
                None,
            )
            .connected_at(at(6)),
        )
        .client(vpn);
    Scenario::new().console(ConsoleSpec::new("hq", HQ_KEY).site(site))
}

#[tokio::test]
async fn clients_filter_on_every_property_and_function() {
    let sim = TestSim::start(client_scenario()).await;
    let api = sim.api("hq");
    let path = clients(DEFAULT_SITE_UUID);
    let all = api.read_all(&path, 200).await;
    assert_eq!(all.len(), 7);
    let ipad_id = all.iter().find(|c| c["name"] == "ipad").expect("ipad")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Clients are identified here by IP (unique except the guests) or by MAC.
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("type.eq('WIRED')".into(), vec!["01", "03"]),
        ("type.ne('WIRELESS')".into(), vec!["01", "03", "vpn"]),
        ("type.in('VPN', 'TELEPORT')".into(), vec!["vpn"]),
        (
            "type.notIn(['WIRED', 'VPN'])".into(),
            vec!["02", "04", "05", "06"],
        ),
        (format!("id.eq({ipad_id})"), vec!["02"]),
        (
            format!("id.notIn({ipad_id})"),
            vec!["01", "03", "04", "05", "06", "vpn"],
        ),
        ("macAddress.eq('aa:bb:cc:00:00:03')".into(), vec!["03"]),
        (
            "macAddress.in('aa:bb:cc:00:00:01', 'aa:bb:cc:00:00:09')".into(),
            vec!["01"],
        ),
        ("macAddress.isNull()".into(), vec!["vpn"]),
        (
            "macAddress.isNotNull()".into(),
            vec!["01", "02", "03", "04", "05", "06"],
        ),
        ("ipAddress.isNull()".into(), vec!["06"]),
        (
            "ipAddress.isNotNull()".into(),
            vec!["01", "02", "03", "04", "05", "vpn"],
        ),
        ("ipAddress.eq('10.1.0.80')".into(), vec!["04", "05"]),
        (
            "ipAddress.ne('10.1.0.80')".into(),
            vec!["01", "02", "03", "06", "vpn"],
        ),
        (
            "connectedAt.gt(2026-01-05T10:00:00Z)".into(),
            vec!["06", "vpn"],
        ),
        (
            "connectedAt.ge(2026-01-05T10:00:00Z)".into(),
            vec!["05", "06", "vpn"],
        ),
        ("connectedAt.lt(2026-01-02)".into(), vec!["01"]),
        (
            "connectedAt.le(2026-01-02T12:00:00+02:00)".into(),
            vec!["01", "02"],
        ),
        ("connectedAt.eq(2026-01-03T10:00:00Z)".into(), vec!["03"]),
        ("connectedAt.isNull()".into(), vec![]),
        ("access.type.eq('GUEST')".into(), vec!["04", "05"]),
        (
            "access.type.ne('GUEST')".into(),
            vec!["01", "02", "03", "06", "vpn"],
        ),
        ("access.authorized.eq(true)".into(), vec!["04"]),
        (
            "access.authorized.ne(true)".into(),
            vec!["01", "02", "03", "05", "06", "vpn"],
        ),
        ("access.authorized.isNotNull()".into(), vec!["04", "05"]),
        (
            "access.authorized.isNull()".into(),
            vec!["01", "02", "03", "06", "vpn"],
        ),
        (
            "and(access.type.eq('GUEST'), not(access.authorized.eq(true)))".into(),
            vec!["05"],
        ),
        (
            "or(type.eq('VPN'), ipAddress.isNull(), macAddress.eq('aa:bb:cc:00:00:01'))".into(),
            vec!["vpn", "06", "01"],
        ),
    ];
    for (expression, expected) in cases {
        let page = api
            .get(&format!("{path}{}", filter(&expression)))
            .await
            .expect(200);
        let data = page["data"].as_array().expect("data");
        assert_eq!(page["totalCount"].as_u64(), Some(data.len() as u64));
        let got: Vec<String> = data
            .iter()
            .map(|c| match c["macAddress"].as_str() {
                Some(mac) => mac.rsplit(':').next().expect("octet").to_owned(),
                None => "vpn".to_owned(),
            })
            .collect();
        assert_same(got, &expected, &expression);
    }
}

#[tokio::test]
async fn client_filters_outside_the_table_are_refused() {
    let sim = TestSim::start(client_scenario()).await;
    let api = sim.api("hq");
    let path = clients(DEFAULT_SITE_UUID);
    // `name` is not filterable on clients.
    assert_eq!(
        rejected(&api, &path, "name.eq('printer')").await,
        "Invalid filter at position 0: unknown property 'name' (known properties: id, type, macAddress, ipAddress, connectedAt, access.type, access.authorized)"
    );
    for expression in [
        "macAddress.like('aa*')",
        "ipAddress.gt('10.0.0.1')",
        "type.isNull()",
        "access.authorized.gt(true)",
        "connectedAt.eq('2026-01-01')",
        "connectedAt.eq(2026-13-01)",
        "uplinkDeviceId.eq(88f7af54-98f8-306a-a1c7-c9349722b1f6)",
    ] {
        rejected(&api, &path, expression).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Syntax

#[tokio::test]
async fn syntax_errors_are_400_invalid_filter_with_a_position() {
    let (_sim, api, site) = start_hq().await;
    let cases = [
        (
            "and(type.eq('A_RECORD'))",
            "Invalid filter at position 0: 'and' takes at least 2 operands, got 1",
        ),
        (
            "and(type.eq('A_RECORD')",
            "Invalid filter at position 23: unbalanced parentheses: missing ')' to close the '(' of 'and' at position 3",
        ),
        (
            "and(type.eq('A_RECORD'), enabled.eq(true)",
            "Invalid filter at position 41: unbalanced parentheses: missing ')' to close the '(' of 'and' at position 3",
        ),
        (
            "type.eq('A_RECORD'))",
            "Invalid filter at position 19: unbalanced parentheses: unexpected ')' after the end of the expression",
        ),
        (
            "not(type.eq('A_RECORD'), enabled.eq(true))",
            "Invalid filter at position 0: 'not' takes exactly 1 operand, got 2",
        ),
        (
            "type.equals('A_RECORD')",
            "Invalid filter at position 5: unknown function 'equals' (allowed on property 'type': eq, ne, in, notIn)",
        ),
        (
            "xor(type.eq('A'), type.eq('B'))",
            "Invalid filter at position 0: unknown operator 'xor' (expected 'and', 'or', 'not' or '<property>.<function>(...)')",
        ),
        ("   ", "Invalid filter: filter must not be empty"),
    ];
    for (expression, message) in cases {
        api.get(&format!("{}{}", policies(site), filter(expression)))
            .await
            .expect_error(400, INVALID_FILTER, message);
    }
    for expression in [
        "type.eq('A_RECORD'",
        "type.eq('unterminated)",
        "type.eq()",
        "type.in()",
        "type",
        "type.",
        "(type.eq('A_RECORD'))",
        "type.eq('A_RECORD') and enabled.eq(true)",
        "enabled.eq(TRUE)",
        "domain.eq(\"x\")",
    ] {
        let message = rejected(&api, &policies(site), expression).await;
        assert!(
            message.starts_with("Invalid filter at position "),
            "{expression}: {message}"
        );
    }
    // Every list endpoint refuses the same way.
    for path in [sites(), clients(site)] {
        rejected(&api, &path, "and(").await;
    }
    let too_long = format!("domain.eq('{}')", "x".repeat(5000));
    assert_eq!(
        rejected(&api, &policies(site), &too_long).await,
        "Invalid filter: filter is too long (more than 4096 characters)"
    );
}
