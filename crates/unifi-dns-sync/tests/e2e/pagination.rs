//! Lists longer than a page: more than 25 and more than 200 policies on a site, more than 200
//! sites on a console. Everything propagates, and a no-op cycle reads each page exactly once.

use unifi_sim::{Scenario, SiteSpec};

use crate::support::*;

const SITES_LIST: &str = "/v1/sites";
const POLICIES: &str = "/v1/sites/{siteId}/dns/policies";

fn scenario() -> Scenario {
    let mut big_default = SiteSpec::new("default");
    for i in 0..250 {
        big_default = big_default.policy(a(
            &format!("host-{i:03}.big.example"),
            &format!("10.10.{}.{}", i / 200, i % 200 + 1),
        ));
    }
    let mut small = SiteSpec::new("small");
    for i in 0..30 {
        small = small.policy(a(
            &format!("cam-{i:02}.small.example"),
            &format!("10.20.0.{}", i + 1),
        ));
    }
    let mut many = console("many").site(SiteSpec::new("default"));
    for i in 1..=200 {
        let mut s = SiteSpec::new(&format!("s{i:03}"));
        if i == 200 {
            s = s.policy(a("edge.many.example", "10.30.0.1"));
        }
        many = many.site(s);
    }
    Scenario::new()
        .console(
            console("big")
                .site(big_default)
                .site(small)
                .site(SiteSpec::new("mid")),
        )
        .console(many)
}

#[tokio::test]
async fn long_lists_and_many_sites_propagate_and_a_no_op_cycle_reads_each_page_once() {
    let mut world = World::start(scenario()).await;
    // The many small sites only take their own console's names; big/small only publishes.
    world.extra = "\n[[site]]\nmatch = \"many/*\"\ndomains = [\"*.many.example\"]\n\n[[site]]\nmatch = \"big/small\"\nreceive = false\n".into();
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert!(!report.is_partial(), "{:?}", report.sites);
    assert_eq!(report.sites.len(), 3 + 201);
    assert_eq!(report.counts.created, 31 + 281 + 200);
    assert_eq!(report.counts.failed, 0);

    assert_eq!(world.policies("big", "default").len(), 250 + 30 + 1);
    assert_eq!(world.policies("big", "mid").len(), 281);
    assert_eq!(world.policies("big", "small").len(), 30);
    let mut mid = world.domains("big", "mid");
    let mut default = world.domains("big", "default");
    mid.sort();
    default.sort();
    assert_eq!(mid, default, "big/mid holds every record");
    for site in world.console("many").state().sites {
        assert_eq!(
            world.domains("many", &site.internal_reference),
            ["A edge.many.example 10.30.0.1"],
            "many/{}",
            site.internal_reference
        );
    }
    assert_eq!(engine.store().all_copies().await.unwrap().len(), 512);

    world.reset_counters();
    let again = cycle(&engine).await;
    assert!(!again.is_partial());
    assert_eq!(again.counts.planned, 0);
    assert_eq!(world.total_writes(), 0, "a no-op cycle writes nothing");
    let big = world.console("big").counters();
    assert_eq!(big.count("GET", SITES_LIST), 1, "3 sites: one page");
    assert_eq!(
        big.count("GET", POLICIES),
        2 + 1 + 2,
        "281 policies: 2 pages of 200; 30 policies: one page"
    );
    let many = world.console("many").counters();
    assert_eq!(many.count("GET", SITES_LIST), 2, "201 sites: two pages");
    assert_eq!(many.count("GET", POLICIES), 201, "one page per site");
    for c in [&big, &many] {
        assert_eq!(c.count("GET", "/v1/info"), 1);
        assert_eq!(
            c.total(),
            c.count("GET", "/v1/info") + c.count("GET", SITES_LIST) + c.count("GET", POLICIES),
            "no other request: {:?}",
            c.rows()
        );
    }
}
