//! The deletion threshold (SPEC §5.7) and the `upsert-only` / `create-only` modes (§5.4).

use unifi_dns_sync::engine::CycleOptions;
use unifi_dns_sync_store::{EventStatus, Trigger};
use unifi_sim::{Scenario, SiteSpec};

use crate::support::*;

fn scenario(n: usize) -> Scenario {
    let mut hq = SiteSpec::new("default");
    for i in 0..n {
        hq = hq.policy(a(&format!("r{i}.hq.example"), &format!("10.1.0.{}", i + 1)));
    }
    Scenario::new()
        .console(console("hq").site(hq))
        .console(console("branch").site(SiteSpec::new("default")))
        .console(console("shop").site(SiteSpec::new("default")))
}

#[tokio::test]
async fn a_mass_delete_is_withheld_until_forced() {
    let mut world = World::start(scenario(6)).await;
    world.sync_extra = "max_delete_fraction = 0.3\nthreshold_min_copies = 4\n".into();
    let engine = world.engine().await;
    cycle(&engine).await;
    assert_eq!(world.domains("branch", "default").len(), 6);

    // Half the records go at once, and one new one arrives.
    for i in 0..3 {
        let what = format!("A r{i}.hq.example 10.1.0.{}", i + 1);
        let id = world.policy_id("hq", "default", &what);
        world.person_deletes("hq", "default", &id);
    }
    world.person_creates("hq", "default", &a("new.hq.example", "10.1.0.99"));
    let mark = last_event_id(&engine).await;
    world.reset_counters();
    let report = cycle(&engine).await;
    assert_eq!(report.counts.withheld, 6, "3 on each target");
    assert_eq!(report.counts.deleted, 0);
    assert_eq!(report.counts.created, 2, "creates go on");
    assert!(!report.is_partial(), "withholding is not a failure");
    for (c, s) in [("branch", "default"), ("shop", "default")] {
        assert_eq!(world.domains(c, s).len(), 7, "{c}/{s}");
        let stored = site(&engine, &format!("{c}/{s}")).await;
        assert_eq!(stored.withheld_deletes, 3);
        assert_eq!(report.plan.site(stored.id).unwrap().withheld.len(), 3);
    }
    assert_eq!(
        world
            .console("branch")
            .counters()
            .count("DELETE", "/v1/sites/{siteId}/dns/policies/{dnsPolicyId}"),
        0
    );
    let new = events_after(&engine, mark).await;
    let threshold: Vec<_> = new
        .iter()
        .filter(|e| e.reason.as_deref() == Some("threshold"))
        .collect();
    assert_eq!(threshold.len(), 2, "{:?}", event_lines(&new));
    assert!(threshold.iter().all(|e| e.status == EventStatus::Skipped
        && e.detail.as_deref().is_some_and(|d| d.contains('3'))));

    // Nothing new while it stays withheld.
    let mark = last_event_id(&engine).await;
    world.reset_counters();
    let report = cycle(&engine).await;
    assert_eq!(report.counts.withheld, 6);
    assert_eq!(world.total_writes(), 0);
    assert!(events_after(&engine, mark).await.is_empty());

    // Forced: applied once.
    let report = cycle_with(&engine, CycleOptions::new(Trigger::Cli).force(true)).await;
    assert_eq!(report.counts.deleted, 6);
    assert_eq!(report.counts.withheld, 0);
    for (c, s) in [("branch", "default"), ("shop", "default")] {
        assert_eq!(world.domains(c, s).len(), 4, "{c}/{s}");
        assert_eq!(site(&engine, &format!("{c}/{s}")).await.withheld_deletes, 0);
    }
    world.reset_counters();
    let report = cycle(&engine).await;
    assert_eq!((report.counts.withheld, world.total_writes()), (0, 0));
}

#[tokio::test]
async fn a_small_delete_is_not_withheld() {
    let mut world = World::start(scenario(6)).await;
    world.sync_extra = "max_delete_fraction = 0.3\nthreshold_min_copies = 4\n".into();
    let engine = world.engine().await;
    cycle(&engine).await;
    let id = world.policy_id("hq", "default", "A r0.hq.example 10.1.0.1");
    world.person_deletes("hq", "default", &id);
    let report = cycle(&engine).await;
    assert_eq!((report.counts.deleted, report.counts.withheld), (2, 0));
}

#[tokio::test]
async fn upsert_only_creates_and_updates_but_never_deletes() {
    let mut world = World::start(scenario(3)).await;
    world.sync_extra = "mode = \"upsert-only\"\n".into();
    let engine = world.engine().await;
    cycle(&engine).await;
    let r0 = world.policy_id("hq", "default", "A r0.hq.example 10.1.0.1");
    let r1 = world.policy_id("hq", "default", "A r1.hq.example 10.1.0.2");
    let copy_r1 = world.policy_id("branch", "default", "A r1.hq.example 10.1.0.2");
    let copy_r2 = world.policy_id("branch", "default", "A r2.hq.example 10.1.0.3");
    world.person_deletes("hq", "default", &r0);
    world.person_edits("hq", "default", &r1, &a("r1.hq.example", "10.1.0.20"));
    world.person_edits(
        "branch",
        "default",
        &copy_r2,
        &a_ttl("r2.hq.example", "10.1.0.3", 9),
    );
    world.reset_counters();
    let report = cycle(&engine).await;
    assert_eq!(report.counts.deleted, 0);
    assert_eq!(report.counts.updated, 3, "two value moves, one repair");
    assert_eq!(
        world.domains("branch", "default"),
        [
            "A r0.hq.example 10.1.0.1",
            "A r1.hq.example 10.1.0.20",
            "A r2.hq.example 10.1.0.3"
        ],
        "the deleted record's copy stays"
    );
    assert_eq!(
        world.policy_id("branch", "default", "A r1.hq.example 10.1.0.20"),
        copy_r1
    );
    assert_eq!(
        describe_full(&world.policy("branch", "default", "A r2.hq.example 10.1.0.3")),
        "A r2.hq.example 10.1.0.3 ttl=300"
    );
    world.reset_counters();
    let report = cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
    assert_eq!(report.counts.planned, 0);
}

#[tokio::test]
async fn create_only_never_updates_nor_deletes() {
    let mut world = World::start(scenario(3)).await;
    world.sync_extra = "mode = \"create-only\"\n".into();
    let engine = world.engine().await;
    cycle(&engine).await;
    let r0 = world.policy_id("hq", "default", "A r0.hq.example 10.1.0.1");
    let r1 = world.policy_id("hq", "default", "A r1.hq.example 10.1.0.2");
    let copy_r2 = world.policy_id("branch", "default", "A r2.hq.example 10.1.0.3");
    let copy_r0 = world.policy_id("shop", "default", "A r0.hq.example 10.1.0.1");
    world.person_deletes("hq", "default", &r0);
    world.person_edits("hq", "default", &r1, &a("r1.hq.example", "10.1.0.20"));
    world.person_edits(
        "branch",
        "default",
        &copy_r2,
        &a_ttl("r2.hq.example", "10.1.0.3", 9),
    );
    world.person_deletes("shop", "default", &copy_r0);
    world.reset_counters();
    let report = cycle(&engine).await;
    assert_eq!(
        (
            report.counts.created,
            report.counts.updated,
            report.counts.deleted
        ),
        (2, 0, 0),
        "only the new value is created, on each target"
    );
    assert_eq!(
        world
            .console("branch")
            .counters()
            .count("POST", "/v1/sites/{siteId}/dns/policies"),
        1
    );
    assert_eq!(
        world.domains("branch", "default"),
        [
            "A r0.hq.example 10.1.0.1",
            "A r1.hq.example 10.1.0.2",
            "A r1.hq.example 10.1.0.20",
            "A r2.hq.example 10.1.0.3"
        ]
    );
    assert_eq!(
        describe_full(&world.policy("branch", "default", "A r2.hq.example 10.1.0.3")),
        "A r2.hq.example 10.1.0.3 ttl=9",
        "drift is not repaired"
    );
    assert!(
        !world
            .domains("shop", "default")
            .contains(&"A r0.hq.example 10.1.0.1".to_string()),
        "a copy deleted by hand is not re-created once its record is gone"
    );
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
}
