//! Which sites publish and receive what: `exclude_same_controller`, `[[site]]` publish, receive
//! and domain filters (SPEC §5.2), and a console too old for DNS policies (§9).

use unifi_dns_sync_store::EventStatus;
use unifi_sim::{ClientSpec, Scenario, SiteSpec};

use crate::support::*;

#[tokio::test]
async fn exclude_same_controller_keeps_records_off_their_own_controllers_other_sites() {
    let scenario = Scenario::new()
        .console(
            console("hq")
                .site(SiteSpec::new("default").policy(a("a.hq.example", "10.1.0.1")))
                .site(SiteSpec::new("lab").policy(a("b.lab.example", "10.2.0.1"))),
        )
        .console(
            console("branch")
                .site(SiteSpec::new("default").policy(a("c.branch.example", "10.3.0.1")))
                .site(SiteSpec::new("annex")),
        );
    let mut world = World::start(scenario).await;
    world.sync_extra = "exclude_same_controller = true\n".into();
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert!(!report.is_partial());
    assert_eq!(
        world.domains("hq", "default"),
        ["A a.hq.example 10.1.0.1", "A c.branch.example 10.3.0.1"]
    );
    assert_eq!(
        world.domains("hq", "lab"),
        ["A b.lab.example 10.2.0.1", "A c.branch.example 10.3.0.1"]
    );
    assert_eq!(
        world.domains("branch", "default"),
        [
            "A a.hq.example 10.1.0.1",
            "A b.lab.example 10.2.0.1",
            "A c.branch.example 10.3.0.1"
        ]
    );
    assert_eq!(
        world.domains("branch", "annex"),
        ["A a.hq.example 10.1.0.1", "A b.lab.example 10.2.0.1"]
    );
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
}

fn filtered() -> Scenario {
    Scenario::new()
        .console(
            console("hq")
                .site(
                    SiteSpec::new("default")
                        .policy(a("a.corp.example", "10.1.0.1"))
                        .policy(a("x.home.example", "10.1.0.2")),
                )
                .site(SiteSpec::new("lab").policy(a("lab.corp.example", "10.2.0.1"))),
        )
        .console(
            console("branch").site(
                SiteSpec::new("default")
                    .policy(a("b.corp.example", "10.3.0.1"))
                    .policy(a("secret.corp.example", "10.3.0.2")),
            ),
        )
        .console(
            console("shop")
                .site(SiteSpec::new("default").policy(a("shop.home.example", "10.4.0.1")))
                .site(SiteSpec::new("guest").policy(a("guest.corp.example", "10.5.0.1"))),
        )
}

const FILTERS: &str = r#"
[[site]]
match = "hq/lab"
publish = false

[[site]]
match = "branch/default"
exclude_domains = ["secret.*"]

[[site]]
match = "shop/Default"
domains = ["*.corp.example"]

[[site]]
match = "shop/guest"
receive = false
"#;

#[tokio::test]
async fn site_filters_decide_what_each_site_publishes_and_receives() {
    let mut world = World::start(filtered()).await;
    world.extra = FILTERS.into();
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert!(!report.is_partial());
    assert_eq!(
        world.domains("hq", "default"),
        [
            "A a.corp.example 10.1.0.1",
            "A b.corp.example 10.3.0.1",
            "A guest.corp.example 10.5.0.1",
            "A x.home.example 10.1.0.2",
        ],
        "nothing from a site that does not publish, nor names its origin filters out"
    );
    assert_eq!(
        world.domains("hq", "lab"),
        [
            "A a.corp.example 10.1.0.1",
            "A b.corp.example 10.3.0.1",
            "A guest.corp.example 10.5.0.1",
            "A lab.corp.example 10.2.0.1",
            "A x.home.example 10.1.0.2",
        ],
        "a site that does not publish still receives"
    );
    assert_eq!(
        world.domains("branch", "default"),
        [
            "A a.corp.example 10.1.0.1",
            "A b.corp.example 10.3.0.1",
            "A guest.corp.example 10.5.0.1",
            "A secret.corp.example 10.3.0.2",
            "A x.home.example 10.1.0.2",
        ]
    );
    assert_eq!(
        world.domains("shop", "default"),
        [
            "A a.corp.example 10.1.0.1",
            "A b.corp.example 10.3.0.1",
            "A guest.corp.example 10.5.0.1",
            "A shop.home.example 10.4.0.1",
        ],
        "only names under its domains, both ways"
    );
    assert_eq!(
        world.domains("shop", "guest"),
        ["A guest.corp.example 10.5.0.1"],
        "a site that does not receive gets nothing, but publishes"
    );
    let names: Vec<String> = engine
        .store()
        .records_with_origins()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.record.name)
        .collect();
    assert!(!names.contains(&"secret.corp.example".to_string()));
    assert!(!names.contains(&"shop.home.example".to_string()));
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);

    // The operator stops hq/lab from receiving: its copies are withdrawn (and only them).
    drop(engine);
    world.extra = FILTERS.replace(
        "match = \"hq/lab\"\npublish = false",
        "match = \"hq/lab\"\npublish = false\nreceive = false",
    );
    let engine = world.engine().await;
    let before = world.snapshot();
    let mark = last_event_id(&engine).await;
    let report = cycle(&engine).await;
    assert_eq!(report.counts.deleted, 4);
    assert_eq!(world.domains("hq", "lab"), ["A lab.corp.example 10.2.0.1"]);
    let mut after = world.snapshot();
    let mut expected = before.clone();
    after.remove("hq/lab");
    expected.remove("hq/lab");
    assert_eq!(after, expected, "no other site changed");
    let new = events_after(&engine, mark).await;
    assert!(
        new.iter()
            .all(|e| e.status == EventStatus::Deleted && e.site_label.as_deref() == Some("hq/lab"))
    );
}

#[tokio::test]
async fn a_console_without_dns_policies_receives_nothing_and_does_not_fail_the_cycle() {
    let scenario = Scenario::new()
        .console(
            console("hq").site(SiteSpec::new("default").policy(a("nas.hq.example", "10.1.0.10"))),
        )
        .console(
            console("old")
                .version("9.5.21")
                .site(SiteSpec::new("default").client(ClientSpec::wired(
                    "Legacy Box",
                    "aa:bb:cc:00:09:01",
                    "10.9.0.5",
                )))
                .site(SiteSpec::new("annex")),
        )
        .console(console("branch").site(SiteSpec::new("default")));
    let mut world = World::start(scenario).await;
    world.sync_extra =
        "[sync.clients]\nenabled = true\ndomain = \"{site}.{controller}.lan\"\n".into();
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert!(!report.is_partial(), "{:?}", report.sites);
    assert_eq!(report.counts.failed, 0);
    for label in ["old/default", "old/annex"] {
        let s = report.sites.iter().find(|s| s.label == label).unwrap();
        assert_eq!(s.dns_policies, Some(false), "{s:?}");
        assert_eq!(s.error, None);
        assert_eq!(site(&engine, label).await.policy_support, Some(false));
    }
    let hq = report
        .sites
        .iter()
        .find(|s| s.label == "hq/default")
        .unwrap();
    assert_eq!(hq.dns_policies, Some(true));
    let old = world.console("old").counters();
    assert_eq!(old.writes(), 0, "nothing is sent to it");
    assert_eq!(old.count("GET", "/v1/sites/{siteId}/dns/policies"), 0);
    // Its client names are still published to the others.
    assert_eq!(
        world.domains("branch", "default"),
        [
            "A legacy-box.default.old.lan 10.9.0.5",
            "A nas.hq.example 10.1.0.10"
        ]
    );
    assert_eq!(
        world.domains("hq", "default"),
        [
            "A legacy-box.default.old.lan 10.9.0.5",
            "A nas.hq.example 10.1.0.10"
        ]
    );
    world.reset_counters();
    let again = cycle(&engine).await;
    assert!(!again.is_partial());
    assert_eq!(world.total_writes(), 0);
}

#[tokio::test]
async fn a_site_removed_from_its_console_stops_publishing_until_it_is_back() {
    let scenario = Scenario::new()
        .console(
            console("hq")
                .site(SiteSpec::new("default"))
                .site(SiteSpec::new("lab").policy(a("ci.lab.example", "10.2.0.5"))),
        )
        .console(console("branch").site(SiteSpec::new("default")));
    let world = World::start(scenario).await;
    let engine = world.engine().await;
    cycle(&engine).await;
    assert_eq!(
        world.domains("branch", "default"),
        ["A ci.lab.example 10.2.0.5"]
    );
    let lab = site(&engine, "hq/lab").await;

    world.console("hq").remove_site("lab").unwrap();
    let report = cycle(&engine).await;
    assert!(!report.is_partial(), "{:?}", report.sites);
    assert!(report.sites.iter().all(|s| s.label != "hq/lab"));
    assert!(site(&engine, "hq/lab").await.removed_at.is_some());
    assert!(
        world.domains("branch", "default").is_empty(),
        "the records of a site that is gone are withdrawn"
    );
    assert!(world.domains("hq", "default").is_empty());

    world
        .console("hq")
        .add_site(
            &SiteSpec::new("lab")
                .id(lab.uuid.parse().unwrap())
                .policy(a("ci.lab.example", "10.2.0.5")),
        )
        .unwrap();
    cycle(&engine).await;
    let back = site(&engine, "hq/lab").await;
    assert_eq!((back.id, back.removed_at), (lab.id, None));
    assert_eq!(
        world.domains("branch", "default"),
        ["A ci.lab.example 10.2.0.5"]
    );
}
