use unifi_dns_sync_store::EventStatus;
use unifi_sim::{Scenario, SiteSpec};

use crate::support::*;

/// Three consoles, five sites.
fn five_sites() -> Scenario {
    Scenario::new()
        .console(
            console("hq")
                .site(
                    SiteSpec::new("default")
                        .policy(a("nas.hq.example", "10.1.0.10"))
                        .policy(cname("files.hq.example", "nas.hq.example")),
                )
                .site(SiteSpec::new("lab").policy(a("ci.lab.example", "10.2.0.5"))),
        )
        .console(
            console("branch")
                .site(SiteSpec::new("default").policy(a("printer.branch.example", "10.3.0.20"))),
        )
        .console(
            console("shop")
                .site(SiteSpec::new("default").policy(a("pos.shop.example", "10.4.0.2")))
                .site(SiteSpec::new("storage")),
        )
}

#[tokio::test]
async fn every_native_record_reaches_every_other_site_and_a_second_cycle_writes_nothing() {
    let world = World::start(five_sites()).await;
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert!(!report.is_partial(), "{:?}", report.sites);
    let all = [
        "A ci.lab.example 10.2.0.5",
        "A nas.hq.example 10.1.0.10",
        "A pos.shop.example 10.4.0.2",
        "A printer.branch.example 10.3.0.20",
        "CNAME files.hq.example nas.hq.example",
    ];
    for (console, site) in [
        ("hq", "default"),
        ("hq", "lab"),
        ("branch", "default"),
        ("shop", "default"),
        ("shop", "storage"),
    ] {
        assert_eq!(world.domains(console, site), all, "{console}/{site}");
    }
    assert_eq!(report.counts.created, 5 * 5 - 5);
    let created = events(&engine)
        .await
        .iter()
        .filter(|e| e.status == EventStatus::Created)
        .count();
    assert_eq!(created, 20);

    world.reset_counters();
    let again = cycle(&engine).await;
    assert_eq!(
        world.total_writes(),
        0,
        "a second cycle with nothing changed writes nothing"
    );
    assert_eq!(again.counts.planned, 0);
}
