//! Consoles that fail: down, slow, a 5xx in the middle of a paged read, and a create whose
//! answer is lost. No origin is removed and no copy deleted because of a failed read (safety
//! rule 2), the failure is visible in the report and the store, and the next healthy cycle
//! converges. A lost create answer leaves no duplicate and no orphan (rule 5).

use unifi_dns_sync_store::{CopyState, EventStatus, StoredRecord, SyncedCopy};
use unifi_sim::{DownMode, FaultRule, Scenario, SiteSpec};

use crate::support::*;

fn scenario() -> Scenario {
    let mut lists = SiteSpec::new("lists");
    for i in 0..210 {
        lists = lists.policy(a(
            &format!("h{i:03}.lists.example"),
            &format!("10.50.{}.{}", i / 200, i % 200 + 1),
        ));
    }
    Scenario::new()
        .console(
            console("hq").site(SiteSpec::new("default").policy(a("nas.hq.example", "10.1.0.10"))),
        )
        .console(
            console("branch")
                .site(SiteSpec::new("default").policy(a("printer.branch.example", "10.3.0.20")))
                .site(lists),
        )
        .console(console("shop").site(SiteSpec::new("default")))
}

async fn records(engine: &unifi_dns_sync::engine::Engine) -> Vec<StoredRecord> {
    let mut r = engine.store().records_with_origins().await.unwrap();
    r.sort_by(|a, b| a.record.id.cmp(&b.record.id));
    r
}

async fn copies(engine: &unifi_dns_sync::engine::Engine) -> Vec<SyncedCopy> {
    let mut c = engine.store().all_copies().await.unwrap();
    c.sort_by(|a, b| (a.site_id, &a.record_id).cmp(&(b.site_id, &b.record_id)));
    c
}

/// Cycle 1 on a healthy world; then `break_it` runs, hq publishes a new record and the branch
/// deletes its printer (a complete read would withdraw it everywhere). The broken cycle must
/// change nothing about branch's sites; the healthy one after it converges.
async fn branch_fails(world: World, break_it: impl FnOnce(&World), heal: impl FnOnce(&World)) {
    let engine = world.engine().await;
    let first = cycle(&engine).await;
    assert!(!first.is_partial(), "{:?}", first.sites);
    let before_records = records(&engine).await;
    let before_copies = copies(&engine).await;
    let printer = "A printer.branch.example 10.3.0.20";
    assert!(
        world
            .domains("shop", "default")
            .contains(&printer.to_string())
    );

    break_it(&world);
    let printer_id = world.policy_id("branch", "default", printer);
    world.person_deletes("branch", "default", &printer_id);
    world.person_creates("hq", "default", &a("new.hq.example", "10.1.0.11"));
    let report = cycle(&engine).await;
    assert!(report.is_partial(), "{:?}", report.sites);
    assert_eq!(report.counts.deleted, 0, "no copy is deleted");
    let branch = report
        .sites
        .iter()
        .find(|s| s.label == "branch/default")
        .expect("branch/default is reported");
    assert!(!branch.complete);
    assert!(branch.error.is_some(), "{branch:?}");
    let stored = site(&engine, "branch/default").await;
    assert!(!stored.last_read_complete);
    assert!(stored.last_error.is_some());
    // The controller's row keeps what the last good contact learnt, next to the error.
    let controllers = engine.store().controllers().await.unwrap();
    let branch_row = controllers.iter().find(|c| c.name == "branch").unwrap();
    assert!(branch_row.last_error.is_some());
    assert!(
        branch_row.app_version.is_some() && branch_row.last_contact.is_some(),
        "{branch_row:?}"
    );
    // Nothing about the branch's records changed: its origins stay, its copies stay.
    let after_records = records(&engine).await;
    let branch_records = |rs: &[StoredRecord]| -> Vec<StoredRecord> {
        rs.iter()
            .filter(|r| r.record.name.ends_with("branch.example"))
            .cloned()
            .collect()
    };
    assert_eq!(
        branch_records(&after_records),
        branch_records(&before_records)
    );
    let after_copies = copies(&engine).await;
    for c in &before_copies {
        assert!(after_copies.contains(c), "registry row {c:?} is kept");
    }
    assert!(
        world
            .domains("shop", "default")
            .contains(&printer.to_string())
    );
    assert!(
        world
            .domains("hq", "default")
            .contains(&printer.to_string())
    );
    // The healthy sites went on: the new record reached the shop.
    assert!(
        world
            .domains("shop", "default")
            .contains(&"A new.hq.example 10.1.0.11".to_string())
    );

    heal(&world);
    let healed = cycle(&engine).await;
    assert!(!healed.is_partial(), "{:?}", healed.sites);
    let stored = site(&engine, "branch/default").await;
    assert!(stored.last_read_complete);
    assert_eq!(stored.last_error, None);
    for (c, s) in [("hq", "default"), ("shop", "default")] {
        assert!(
            !world.domains(c, s).contains(&printer.to_string()),
            "{c}/{s}: the printer deleted at its origin is withdrawn now"
        );
    }
    assert!(
        world
            .domains("branch", "default")
            .contains(&"A new.hq.example 10.1.0.11".to_string())
    );
    world.reset_counters();
    let quiet = cycle(&engine).await;
    assert!(!quiet.is_partial());
    assert_eq!(world.total_writes(), 0);
}

#[tokio::test]
async fn a_console_that_refuses_connections_changes_nothing_until_it_is_back() {
    let world = World::start(scenario()).await;
    branch_fails(
        world,
        |w| w.console("branch").set_down(Some(DownMode::Refuse)),
        |w| w.console("branch").set_down(None),
    )
    .await;
}

#[tokio::test]
async fn a_console_slower_than_the_timeout_changes_nothing_until_it_is_fast_again() {
    let mut world = World::start(scenario()).await;
    world
        .controller_extra
        .insert("branch".into(), "timeout = \"1s\"".into());
    branch_fails(
        world,
        |w| w.console("branch").set_latency_ms(1500),
        |w| w.console("branch").set_latency_ms(0),
    )
    .await;
}

#[tokio::test]
async fn a_5xx_on_page_two_of_a_policy_list_leaves_that_site_as_it_was() {
    let world = World::start(scenario()).await;
    let engine = world.engine().await;
    cycle(&engine).await;
    let lists = site(&engine, "branch/lists").await;
    assert_eq!(world.policies("branch", "lists").len(), 210 + 2);
    let before_records = records(&engine).await;
    let before_copies = copies(&engine).await;
    let gone = "A h005.lists.example 10.50.0.6";
    assert!(world.domains("shop", "default").contains(&gone.to_string()));

    let id = world.policy_id("branch", "lists", gone);
    world.person_deletes("branch", "lists", &id);
    // And a copy on the failing site drifts: it must not be repaired from a partial read.
    let nas = world.policy_id("branch", "lists", "A nas.hq.example 10.1.0.10");
    world.person_edits(
        "branch",
        "lists",
        &nas,
        &a_ttl("nas.hq.example", "10.1.0.10", 7),
    );
    // Page 1 of branch/lists passes, page 2 and its retries fail. (unifi-sim matches a rule's
    // glob against the full request path, although its docs say "relative to
    // /proxy/network/integration": one of these two rules fires, whichever way it is read.)
    for path in [
        format!("/v1/sites/{}/dns/policies", lists.uuid),
        format!(
            "/proxy/network/integration/v1/sites/{}/dns/policies",
            lists.uuid
        ),
    ] {
        world
            .console("branch")
            .add_fault(FaultRule::status(500).on("GET", &path).skip(1))
            .unwrap();
    }
    world.reset_counters();
    let report = cycle(&engine).await;
    assert!(report.is_partial());
    let summary = report
        .sites
        .iter()
        .find(|s| s.label == "branch/lists")
        .unwrap();
    assert!(!summary.complete);
    assert!(
        summary.error.as_deref().is_some_and(|e| e.contains("500")),
        "{summary:?}"
    );
    assert!(
        world
            .console("branch")
            .counters()
            .count("GET", "/v1/sites/{siteId}/dns/policies")
            >= 3,
        "page 1 of lists, its page 2 (with retries), and branch/default"
    );
    assert_eq!(report.counts.deleted, 0);
    assert_eq!(
        world.console("branch").counters().writes(),
        0,
        "nothing is written to the site whose read failed"
    );
    assert_eq!(world.total_writes(), 0);
    assert_eq!(records(&engine).await, before_records, "no origin removed");
    assert_eq!(copies(&engine).await, before_copies);
    let stored = site(&engine, "branch/lists").await;
    assert!(!stored.last_read_complete);
    assert!(
        stored
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("500"))
    );
    assert!(world.domains("shop", "default").contains(&gone.to_string()));

    world.console("branch").clear_faults();
    let healed = cycle(&engine).await;
    assert!(!healed.is_partial(), "{:?}", healed.sites);
    assert_eq!(
        healed.counts.deleted, 3,
        "hq, branch/default and shop lose the copy"
    );
    assert_eq!(healed.counts.updated, 1, "the drifted copy is repaired");
    assert!(!world.domains("shop", "default").contains(&gone.to_string()));
    assert_eq!(
        describe_full(&world.policy("branch", "lists", "A nas.hq.example 10.1.0.10")),
        "A nas.hq.example 10.1.0.10 ttl=300"
    );
    assert!(site(&engine, "branch/lists").await.last_read_complete);
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_adopted_by_the_next_cycle() {
    let mut world = World::start(
        Scenario::new()
            .console(
                console("hq")
                    .site(SiteSpec::new("default").policy(a("nas.hq.example", "10.1.0.10"))),
            )
            .console(console("branch").site(SiteSpec::new("default"))),
    )
    .await;
    world
        .controller_extra
        .insert("branch".into(), "timeout = \"1s\"".into());
    // The console creates the policy, then holds the answer past the client's timeout.
    world
        .console("branch")
        .add_fault(
            FaultRule::timeout(1500)
                .on("POST", "/v1/sites/{siteId}/dns/policies")
                .applied()
                .times(1),
        )
        .unwrap();
    let engine = world.engine().await;
    let record = unifi_dns_sync_store::record_id("A", "nas.hq.example", "10.1.0.10");
    let branch = site_after_first_cycle(&engine).await;

    let rows = engine.store().copies_of_site(branch.id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].record_id, record);
    assert_eq!(rows[0].state, CopyState::Pending);
    assert_eq!(rows[0].policy_id, None);
    let failed: Vec<_> = events(&engine)
        .await
        .into_iter()
        .filter(|e| e.status == EventStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", event_lines(&failed));
    assert_eq!(failed[0].site_label.as_deref(), Some("branch/default"));
    assert!(
        events(&engine)
            .await
            .iter()
            .all(|e| e.status != EventStatus::Created),
        "the create is not reported as done"
    );
    // The console did create it.
    let live = world.policy_id("branch", "default", "A nas.hq.example 10.1.0.10");

    // (The held POST may still be counted by the simulator when its hold ends, so this cycle's
    // writes are checked through the plan, not the request counters.)
    let report = cycle(&engine).await;
    assert!(!report.is_partial(), "{:?}", report.sites);
    assert_eq!(report.counts.planned, 0, "adopted, not created again");
    assert_eq!(
        report.counts.created + report.counts.failed + report.counts.skipped,
        0
    );
    assert_eq!(
        world.domains("branch", "default"),
        ["A nas.hq.example 10.1.0.10"],
        "no duplicate"
    );
    let rows = engine.store().copies_of_site(branch.id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, CopyState::Active);
    assert_eq!(rows[0].policy_id.as_deref(), Some(live.as_str()));
    let record_row = engine.store().record(&record).await.unwrap().unwrap();
    assert_eq!(
        record_row.origins.len(),
        1,
        "the adopted copy is not an origin"
    );

    // The adopted copy is ours like any other: an edit at the origin updates it in place.
    let origin = world.policy_id("hq", "default", "A nas.hq.example 10.1.0.10");
    world.person_edits("hq", "default", &origin, &a("nas.hq.example", "10.1.0.99"));
    world.reset_counters();
    let report = cycle(&engine).await;
    assert_eq!(
        (
            report.counts.updated,
            report.counts.created,
            report.counts.deleted
        ),
        (1, 0, 0),
        "{:?}",
        report.counts
    );
    assert_eq!(
        world.policy_id("branch", "default", "A nas.hq.example 10.1.0.99"),
        live
    );
    // And a deletion at the origin deletes it.
    world.person_deletes("hq", "default", &origin);
    cycle(&engine).await;
    assert!(world.domains("branch", "default").is_empty());
    assert!(engine.store().all_copies().await.unwrap().is_empty());
}

async fn site_after_first_cycle(
    engine: &unifi_dns_sync::engine::Engine,
) -> unifi_dns_sync_store::Site {
    let report = cycle(engine).await;
    assert!(report.is_partial(), "a failed write makes the run partial");
    assert_eq!(report.counts.failed, 1);
    assert_eq!(report.counts.created, 0);
    site(engine, "branch/default").await
}

#[tokio::test]
async fn a_controller_that_cannot_be_read_at_all_makes_the_cycle_partial() {
    // Neither console was ever read, so the database knows none of their sites.
    let scenario = Scenario::new()
        .console(
            console("hq").site(SiteSpec::new("default").policy(a("nas.hq.example", "10.1.0.10"))),
        )
        .console(console("refused").site(SiteSpec::new("default")))
        .console(console("down").site(SiteSpec::new("default")));
    let mut world = World::start(scenario).await;
    world
        .env
        .insert("TEST_KEY_REFUSED".into(), "not-the-right-key".into());
    world.console("down").set_down(Some(DownMode::Refuse));
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert!(
        report.is_partial(),
        "two of three controllers could not be read: {:?}",
        report.sites
    );
    let mut failed: Vec<&str> = report
        .controllers_failed
        .iter()
        .map(|c| c.controller.as_str())
        .collect();
    failed.sort();
    assert_eq!(failed, ["down", "refused"]);
    assert!(
        report
            .controllers_failed
            .iter()
            .all(|c| !c.error.is_empty()),
        "{:?}",
        report.controllers_failed
    );
    let run = engine
        .store()
        .run(report.run_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.outcome, Some(unifi_dns_sync_store::RunOutcome::Partial));
    assert!(run.error.is_some(), "{run:?}");
    let controllers = engine.store().controllers().await.unwrap();
    for name in ["down", "refused"] {
        let c = controllers.iter().find(|c| c.name == name).unwrap();
        assert!(c.last_error.is_some(), "{c:?}");
    }

    world.console("down").set_down(None);
    world.env.insert(
        "TEST_KEY_REFUSED".into(),
        world.console("refused").api_key().to_owned(),
    );
    drop(engine);
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert!(!report.is_partial(), "{:?}", report.controllers_failed);
    assert!(report.controllers_failed.is_empty());
    assert_eq!(
        world.domains("down", "default"),
        ["A nas.hq.example 10.1.0.10"]
    );
    assert!(
        engine
            .store()
            .controllers()
            .await
            .unwrap()
            .iter()
            .all(|c| c.last_error.is_none())
    );
}
