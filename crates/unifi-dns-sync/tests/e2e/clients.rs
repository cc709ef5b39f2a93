//! DNS names for connected clients (SPEC §5.1): labels, suffix templates, duplicates, retention
//! after a client leaves, address changes, and a client that would shadow its site's own policy.

use time::macros::datetime;
use unifi_dns_sync_store::{EventStatus, OriginKind};
use unifi_sim::{ClientKind, ClientSpec, Scenario, SiteSpec};

use crate::support::*;

fn scenario() -> Scenario {
    Scenario::new()
        .console(
            console("hq")
                .site(
                    SiteSpec::new("default")
                        .policy(a("nas.default.hq.home.arpa", "10.1.0.10"))
                        .client(ClientSpec::wired(
                            "Office Printer",
                            "aa:bb:cc:00:00:01",
                            "10.1.0.20",
                        ))
                        .client(ClientSpec::wireless(
                            "NAS Box",
                            "aa:bb:cc:00:00:02",
                            "10.1.0.21",
                        ))
                        // Same label "laptop": the most recently connected wins.
                        .client(
                            ClientSpec::wireless("Laptop", "aa:bb:cc:00:00:03", "10.1.0.30")
                                .connected_at(datetime!(2025-01-01 10:00 UTC)),
                        )
                        .client(
                            ClientSpec::wired("laptop!", "aa:bb:cc:00:00:04", "10.1.0.31")
                                .connected_at(datetime!(2025-01-01 11:00 UTC)),
                        )
                        // Its name is the site's own policy's: not published.
                        .client(ClientSpec::wired("NAS", "aa:bb:cc:00:00:05", "10.1.0.99"))
                        // Not a type that is published, no name, no address.
                        .client(ClientSpec::new(
                            ClientKind::Vpn,
                            Some("road-warrior"),
                            "aa:bb:cc:00:00:06",
                            Some("10.1.0.40"),
                        ))
                        .client(ClientSpec::new(
                            ClientKind::Wired,
                            None,
                            "aa:bb:cc:00:00:07",
                            Some("10.1.0.41"),
                        ))
                        .client(ClientSpec::new(
                            ClientKind::Wired,
                            Some("no-address"),
                            "aa:bb:cc:00:00:08",
                            None,
                        )),
                )
                .site(SiteSpec::new("lab").client(ClientSpec::wired(
                    "Scope",
                    "aa:bb:cc:00:01:01",
                    "10.2.0.5",
                ))),
        )
        .console(
            console("branch").site(SiteSpec::new("default").client(ClientSpec::wireless(
                "Cam 1",
                "aa:bb:cc:00:02:01",
                "10.3.0.5",
            ))),
        )
        .console(console("shop").site(SiteSpec::new("default")))
}

async fn world() -> World {
    let mut world = World::start(scenario()).await;
    world.sync_extra = "[sync.clients]\nenabled = true\ndomain = \"{site}.{controller}.home.arpa\"\nretention = \"1h\"\n".into();
    world.extra = "\n[[site]]\nmatch = \"hq/lab\"\nclients_domain = \"lab.corp.example\"\n".into();
    world
}

const ALL: [&str; 6] = [
    "A cam-1.default.branch.home.arpa 10.3.0.5",
    "A laptop.default.hq.home.arpa 10.1.0.31",
    "A nas-box.default.hq.home.arpa 10.1.0.21",
    "A nas.default.hq.home.arpa 10.1.0.10",
    "A office-printer.default.hq.home.arpa 10.1.0.20",
    "A scope.lab.corp.example 10.2.0.5",
];

#[tokio::test]
async fn client_names_are_published_with_their_site_suffix() {
    let world = world().await;
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert!(!report.is_partial(), "{:?}", report.sites);
    assert_eq!(world.domains("shop", "default"), ALL);
    let without = |own: &[&str]| -> Vec<String> {
        ALL.iter()
            .filter(|r| !own.contains(r))
            .map(|r| r.to_string())
            .collect()
    };
    assert_eq!(
        world.domains("hq", "default"),
        without(&[
            "A laptop.default.hq.home.arpa 10.1.0.31",
            "A nas-box.default.hq.home.arpa 10.1.0.21",
            "A office-printer.default.hq.home.arpa 10.1.0.20",
        ]),
        "client names are answered by the site itself; only its policy is there"
    );
    assert_eq!(
        world.domains("hq", "lab"),
        without(&["A scope.lab.corp.example 10.2.0.5"])
    );
    assert_eq!(
        world.domains("branch", "default"),
        without(&["A cam-1.default.branch.home.arpa 10.3.0.5"])
    );
    for p in world.policies("shop", "default") {
        assert_eq!(describe_full(&p).rsplit(' ').next(), Some("ttl=300"), "{p}");
    }

    // The duplicate label is reported with the client that lost it.
    let hq = report
        .sites
        .iter()
        .find(|s| s.label == "hq/default")
        .unwrap();
    assert!(
        hq.warnings
            .iter()
            .any(|w| w.contains("laptop.default.hq.home.arpa") && w.contains("aa:bb:cc:00:00:03")),
        "{:?}",
        hq.warnings
    );
    // Client origins are keyed by MAC.
    let printer =
        unifi_dns_sync_store::record_id("A", "office-printer.default.hq.home.arpa", "10.1.0.20");
    let stored = engine.store().record(&printer).await.unwrap().unwrap();
    assert_eq!(stored.origins.len(), 1);
    assert_eq!(stored.origins[0].kind, OriginKind::Client);
    assert_eq!(stored.origins[0].source_id, "aa:bb:cc:00:00:01");

    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
}

#[tokio::test]
async fn a_client_whose_address_changes_moves_its_copies_in_place() {
    let world = world().await;
    let engine = world.engine().await;
    cycle(&engine).await;
    let old = "A office-printer.default.hq.home.arpa 10.1.0.20";
    let targets = [("hq", "lab"), ("branch", "default"), ("shop", "default")];
    let ids: Vec<String> = targets
        .iter()
        .map(|(c, s)| world.policy_id(c, s, old))
        .collect();
    world
        .console("hq")
        .connect_client(
            "default",
            &ClientSpec::wired("Office Printer", "aa:bb:cc:00:00:01", "10.1.0.22"),
        )
        .unwrap();
    let report = cycle(&engine).await;
    assert_eq!(
        (
            report.counts.updated,
            report.counts.created,
            report.counts.deleted
        ),
        (3, 0, 0)
    );
    let new = "A office-printer.default.hq.home.arpa 10.1.0.22";
    let now: Vec<String> = targets
        .iter()
        .map(|(c, s)| world.policy_id(c, s, new))
        .collect();
    assert_eq!(now, ids, "same policy ids");
    let old_id =
        unifi_dns_sync_store::record_id("A", "office-printer.default.hq.home.arpa", "10.1.0.20");
    assert!(
        engine.store().record(&old_id).await.unwrap().is_none(),
        "the old address's origin went at once"
    );
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
}

#[tokio::test]
async fn a_client_that_leaves_keeps_its_name_for_the_retention_then_loses_it_everywhere() {
    let world = world().await;
    let engine = world.engine().await;
    cycle(&engine).await;
    let gone = "A nas-box.default.hq.home.arpa 10.1.0.21";
    world
        .console("hq")
        .disconnect_client("default", "aa:bb:cc:00:00:02")
        .unwrap();
    for step in [0, 30, 25] {
        world.advance(time::Duration::minutes(step));
        world.reset_counters();
        let report = cycle(&engine).await;
        assert_eq!(report.counts.deleted, 0, "+{step} min");
        assert_eq!(world.total_writes(), 0);
        assert!(world.domains("shop", "default").contains(&gone.to_string()));
    }
    let mark = last_event_id(&engine).await;
    world.advance(time::Duration::minutes(10));
    let report = cycle(&engine).await;
    assert_eq!(report.counts.deleted, 3);
    for (c, s) in [
        ("hq", "default"),
        ("hq", "lab"),
        ("branch", "default"),
        ("shop", "default"),
    ] {
        assert!(!world.domains(c, s).contains(&gone.to_string()), "{c}/{s}");
    }
    let new = events_after(&engine, mark).await;
    assert!(
        new.len() == 3
            && new.iter().all(|e| e.status == EventStatus::Deleted
                && e.name.as_deref() == Some("nas-box.default.hq.home.arpa")),
        "{:?}",
        event_lines(&new)
    );
    // The others that stayed connected are all still there.
    assert_eq!(world.domains("shop", "default").len(), ALL.len() - 1);

    // It comes back: published again.
    world
        .console("hq")
        .connect_client(
            "default",
            &ClientSpec::wireless("NAS Box", "aa:bb:cc:00:00:02", "10.1.0.21"),
        )
        .unwrap();
    cycle(&engine).await;
    assert_eq!(world.domains("shop", "default"), ALL);
}

#[tokio::test]
async fn a_client_name_never_shadows_its_sites_own_policy() {
    let world = world().await;
    let engine = world.engine().await;
    cycle(&engine).await;
    for (c, s) in [("hq", "lab"), ("branch", "default"), ("shop", "default")] {
        let domains = world.domains(c, s);
        assert!(
            domains.contains(&"A nas.default.hq.home.arpa 10.1.0.10".to_string())
                && !domains.iter().any(|d| d.contains("10.1.0.99")),
            "{c}/{s}: {domains:?}"
        );
    }
    let client_record =
        unifi_dns_sync_store::record_id("A", "nas.default.hq.home.arpa", "10.1.0.99");
    assert!(
        engine
            .store()
            .record(&client_record)
            .await
            .unwrap()
            .is_none()
    );

    // The policy goes: the client's name takes over.
    let id = world.policy_id("hq", "default", "A nas.default.hq.home.arpa 10.1.0.10");
    world.person_deletes("hq", "default", &id);
    cycle(&engine).await;
    assert!(
        world
            .domains("shop", "default")
            .contains(&"A nas.default.hq.home.arpa 10.1.0.99".to_string())
    );
    assert!(
        !world
            .domains("shop", "default")
            .contains(&"A nas.default.hq.home.arpa 10.1.0.10".to_string())
    );
}

#[tokio::test]
async fn a_name_taken_over_by_another_client_or_a_policy_moves_at_once() {
    let scenario = Scenario::new()
        .console(
            console("hq").site(
                SiteSpec::new("default")
                    .client(
                        ClientSpec::wired("Laptop", "aa:bb:cc:00:00:03", "10.1.0.30")
                            .connected_at(datetime!(2025-01-01 10:00 UTC)),
                    )
                    .client(ClientSpec::wired("Phone", "aa:bb:cc:00:00:04", "10.1.0.40"))
                    .client(ClientSpec::wired(
                        "Tablet",
                        "aa:bb:cc:00:00:05",
                        "10.1.0.50",
                    )),
            ),
        )
        .console(console("shop").site(SiteSpec::new("default")));
    let mut world = World::start(scenario).await;
    world.sync_extra =
        "[sync.clients]\nenabled = true\ndomain = \"{site}.lan\"\nretention = \"1h\"\n".into();
    let engine = world.engine().await;
    cycle(&engine).await;
    let laptop = world.policy_id("shop", "default", "A laptop.default.lan 10.1.0.30");
    let hq = world.console("hq");

    // A more recently connected client takes the label while the first one stays connected.
    hq.connect_client(
        "default",
        &ClientSpec::wired("laptop", "aa:bb:cc:00:00:13", "10.1.0.31")
            .connected_at(datetime!(2025-01-01 11:00 UTC)),
    )
    .unwrap();
    // Another client leaves, and a new one takes its name while it is still retained.
    hq.disconnect_client("default", "aa:bb:cc:00:00:04")
        .unwrap();
    hq.connect_client(
        "default",
        &ClientSpec::wired("Phone", "aa:bb:cc:00:00:14", "10.1.0.41"),
    )
    .unwrap();
    // A person gives a third client's name to a policy.
    world.person_creates("hq", "default", &a("tablet.default.lan", "10.1.0.99"));
    let report = cycle(&engine).await;
    let hq_summary = report
        .sites
        .iter()
        .find(|s| s.label == "hq/default")
        .unwrap();
    assert!(
        hq_summary
            .warnings
            .iter()
            .any(|w| w.contains("laptop.default.lan")),
        "{:?}",
        hq_summary.warnings
    );
    assert_eq!(
        world.domains("shop", "default"),
        [
            "A laptop.default.lan 10.1.0.31",
            "A phone.default.lan 10.1.0.41",
            "A tablet.default.lan 10.1.0.99",
        ],
        "one address per name: the new holder's"
    );
    assert_eq!(
        world.policy_id("shop", "default", "A laptop.default.lan 10.1.0.31"),
        laptop,
        "moved in place"
    );
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
}
