//! Conflicts (SPEC §5.3): shadowed by a native, competing origins (CNAME against A in both
//! directions), and the console's refusals. A conflict is a SKIPPED event when it starts and one
//! when it ends, never one per cycle, and never a CREATED copy. Safety rule 1: a person's policy
//! is never updated or deleted, even when it looks like one of ours.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use unifi_dns_sync::engine::{CycleOptions, Engine, Progress};
use unifi_dns_sync_store::{Event, EventStatus, Trigger};
use unifi_sim::{ClientSpec, Scenario, SiteSpec};

use crate::support::*;

const OVERLAP: &str = "api.dns.policy.validation.overlap-with-local-dns";
const CNAME_OVERLAP: &str = "api.dns.policy.validation.cname-alias-overlap";
const EXISTS: &str = "api.dns.policy.validation.record-already-exists";

/// Runs `action` once, when the cycle reaches its apply step: a person acting in the console
/// right after the engine read it.
struct BetweenReadAndApply(Mutex<Option<Box<dyn FnOnce() + Send>>>);

impl Progress for BetweenReadAndApply {
    fn phase(&self, name: &str, _total: u64) {
        if name == "applying"
            && let Some(action) = self.0.lock().unwrap().take()
        {
            action();
        }
    }

    fn advance(&self, _message: &str) {}
}

async fn cycle_racing(engine: &Engine, action: impl FnOnce() + Send + 'static) {
    let mut options = CycleOptions::new(Trigger::Cli);
    options.progress = Some(Arc::new(BetweenReadAndApply(Mutex::new(Some(Box::new(
        action,
    ))))));
    let report = cycle_with(engine, options).await;
    assert!(
        !report.is_partial(),
        "a conflict is not a failure: {:?}",
        report.sites
    );
}

fn three_consoles(hq: SiteSpec, branch: SiteSpec) -> Scenario {
    Scenario::new()
        .console(console("hq").site(hq))
        .console(console("branch").site(branch))
        .console(console("shop").site(SiteSpec::new("default")))
}

fn skipped(events: &[Event]) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| e.status == EventStatus::Skipped)
        .collect()
}

/// Two more cycles with nothing changed add no event and write nothing.
async fn quiet_twice(world: &World, engine: &Engine) {
    for _ in 0..2 {
        let mark = last_event_id(engine).await;
        world.reset_counters();
        let report = cycle(engine).await;
        assert!(!report.is_partial());
        let new = events_after(engine, mark).await;
        assert!(new.is_empty(), "no new event: {:?}", event_lines(&new));
        assert_eq!(world.total_writes(), 0);
    }
}

#[tokio::test]
async fn a_native_shadows_a_copy_until_it_is_gone_and_the_conflict_is_logged_once() {
    let mut world = World::start(three_consoles(
        SiteSpec::new("default").policy(a("nas.example", "10.0.0.1")),
        SiteSpec::new("default").policy(a("nas.example", "10.9.9.9")),
    ))
    .await;
    // The branch keeps its own answer for the name to itself.
    world.extra = "\n[[site]]\nmatch = \"branch/default\"\npublish = false\n".into();
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert_eq!(report.counts.conflicts_opened, 1);
    assert_eq!(
        world.domains("branch", "default"),
        ["A nas.example 10.9.9.9"]
    );
    assert_eq!(world.domains("shop", "default"), ["A nas.example 10.0.0.1"]);
    let all = events(&engine).await;
    let conflicts = skipped(&all);
    assert_eq!(conflicts.len(), 1, "{:?}", event_lines(&all));
    assert_eq!(conflicts[0].site_label.as_deref(), Some("branch/default"));
    assert_eq!(conflicts[0].reason.as_deref(), Some("shadowed"));
    assert_eq!(conflicts[0].value.as_deref(), Some("10.0.0.1"));
    assert!(all.iter().all(|e| !(e.status == EventStatus::Created
        && e.site_label.as_deref() == Some("branch/default"))));
    let branch = site(&engine, "branch/default").await;
    assert_eq!(
        engine
            .store()
            .open_conflicts(branch.id)
            .await
            .unwrap()
            .len(),
        1
    );
    quiet_twice(&world, &engine).await;

    // The branch's own record goes: the conflict ends, the copy arrives.
    let id = world.policy_id("branch", "default", "A nas.example 10.9.9.9");
    world.person_deletes("branch", "default", &id);
    let mark = last_event_id(&engine).await;
    let report = cycle(&engine).await;
    assert_eq!(report.counts.conflicts_closed, 1);
    assert_eq!(
        world.domains("branch", "default"),
        ["A nas.example 10.0.0.1"]
    );
    let new = events_after(&engine, mark).await;
    assert_eq!(
        event_lines(&new),
        [
            "CREATED branch/default nas.example 10.0.0.1 -",
            "SKIPPED branch/default nas.example 10.0.0.1 conflict-resolved"
        ]
    );
    assert!(
        engine
            .store()
            .open_conflicts(branch.id)
            .await
            .unwrap()
            .is_empty()
    );
    quiet_twice(&world, &engine).await;
}

#[tokio::test]
async fn competing_origins_the_best_priority_wins_and_losers_are_conflicts() {
    let mut world = World::start(three_consoles(
        SiteSpec::new("default").policy(a("www.example", "10.0.0.1")),
        SiteSpec::new("default").policy(a("www.example", "10.0.0.2")),
    ))
    .await;
    world
        .controller_extra
        .insert("hq".into(), "priority = 10".into());
    let engine = world.engine().await;
    cycle(&engine).await;
    assert_eq!(world.domains("shop", "default"), ["A www.example 10.0.0.1"]);
    assert_eq!(world.domains("hq", "default"), ["A www.example 10.0.0.1"]);
    assert_eq!(
        world.domains("branch", "default"),
        ["A www.example 10.0.0.2"]
    );
    let mut lines = event_lines(&events(&engine).await);
    lines.sort();
    assert_eq!(
        lines,
        [
            "CREATED shop/default www.example 10.0.0.1 -",
            "SKIPPED branch/default www.example 10.0.0.1 shadowed",
            "SKIPPED hq/default www.example 10.0.0.2 competing-origin",
            "SKIPPED shop/default www.example 10.0.0.2 competing-origin",
        ]
    );
    quiet_twice(&world, &engine).await;

    // The loser's origin deletes it: both competing conflicts end, and the branch takes the
    // winner's copy.
    let id = world.policy_id("branch", "default", "A www.example 10.0.0.2");
    world.person_deletes("branch", "default", &id);
    let mark = last_event_id(&engine).await;
    cycle(&engine).await;
    let mut lines = event_lines(&events_after(&engine, mark).await);
    lines.sort();
    assert_eq!(
        lines,
        [
            "CREATED branch/default www.example 10.0.0.1 -",
            "SKIPPED branch/default www.example 10.0.0.1 conflict-resolved",
            "SKIPPED hq/default www.example 10.0.0.2 conflict-resolved",
            "SKIPPED shop/default www.example 10.0.0.2 conflict-resolved",
        ]
    );
    for (c, s) in [
        ("hq", "default"),
        ("branch", "default"),
        ("shop", "default"),
    ] {
        assert_eq!(world.domains(c, s), ["A www.example 10.0.0.1"], "{c}/{s}");
    }
    quiet_twice(&world, &engine).await;
}

/// hq publishes `A app.example`, branch `CNAME app.example`; `hq_priority` decides who wins.
async fn cname_against_a(hq_priority: i64) -> (World, Engine) {
    let mut world = World::start(three_consoles(
        SiteSpec::new("default").policy(a("app.example", "10.0.0.1")),
        SiteSpec::new("default").policy(cname("app.example", "web.example")),
    ))
    .await;
    world
        .controller_extra
        .insert("hq".into(), format!("priority = {hq_priority}"));
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert!(!report.is_partial());
    assert_eq!(report.counts.failed, 0);
    (world, engine)
}

#[tokio::test]
async fn an_a_record_beats_a_cname_of_the_same_name_and_a_native_cname_shadows_it() {
    let (world, engine) = cname_against_a(10).await;
    assert_eq!(world.domains("shop", "default"), ["A app.example 10.0.0.1"]);
    assert_eq!(world.domains("hq", "default"), ["A app.example 10.0.0.1"]);
    assert_eq!(
        world.domains("branch", "default"),
        ["CNAME app.example web.example"],
        "the branch's native CNAME keeps the name"
    );
    let mut lines = event_lines(&events(&engine).await);
    lines.sort();
    assert_eq!(
        lines,
        [
            "CREATED shop/default app.example 10.0.0.1 -",
            "SKIPPED branch/default app.example 10.0.0.1 shadowed",
            "SKIPPED hq/default app.example web.example competing-origin",
            "SKIPPED shop/default app.example web.example competing-origin",
        ]
    );
    quiet_twice(&world, &engine).await;
}

#[tokio::test]
async fn a_cname_beats_an_a_record_of_the_same_name_and_a_native_a_shadows_it() {
    let (world, engine) = cname_against_a(200).await;
    assert_eq!(
        world.domains("shop", "default"),
        ["CNAME app.example web.example"]
    );
    assert_eq!(world.domains("hq", "default"), ["A app.example 10.0.0.1"]);
    assert_eq!(
        world.domains("branch", "default"),
        ["CNAME app.example web.example"]
    );
    let mut lines = event_lines(&events(&engine).await);
    lines.sort();
    assert_eq!(
        lines,
        [
            "CREATED shop/default app.example web.example -",
            "SKIPPED branch/default app.example 10.0.0.1 competing-origin",
            "SKIPPED hq/default app.example web.example shadowed",
            "SKIPPED shop/default app.example 10.0.0.1 competing-origin",
        ]
    );
    quiet_twice(&world, &engine).await;

    // The CNAME goes: the A record takes the name everywhere, in the same cycle.
    let id = world.policy_id("branch", "default", "CNAME app.example web.example");
    world.person_deletes("branch", "default", &id);
    let report = cycle(&engine).await;
    assert_eq!(
        report.counts.failed, 0,
        "the CNAME copy is deleted before the A is created"
    );
    assert_eq!(report.counts.skipped, 0);
    for (c, s) in [
        ("hq", "default"),
        ("branch", "default"),
        ("shop", "default"),
    ] {
        assert_eq!(world.domains(c, s), ["A app.example 10.0.0.1"], "{c}/{s}");
    }
    let branch = site(&engine, "branch/default").await;
    let hq = site(&engine, "hq/default").await;
    assert!(
        engine
            .store()
            .open_conflicts(branch.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        engine
            .store()
            .open_conflicts(hq.id)
            .await
            .unwrap()
            .is_empty()
    );
    quiet_twice(&world, &engine).await;
}

#[tokio::test]
async fn overlap_with_local_dns_is_a_skipped_conflict_logged_once_and_retried_later() {
    let world = World::start(three_consoles(
        SiteSpec::new("default").policy(a("printer.branch.lan", "10.3.0.9")),
        SiteSpec::new("default")
            .local_domain("branch.lan")
            .client(ClientSpec::wired(
                "Printer",
                "aa:bb:cc:00:00:01",
                "10.3.0.20",
            )),
    ))
    .await;
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert!(!report.is_partial(), "a refusal is not a failure");
    assert_eq!(report.counts.failed, 0);
    assert_eq!(report.counts.skipped, 1);
    assert_eq!(
        world.domains("shop", "default"),
        ["A printer.branch.lan 10.3.0.9"]
    );
    assert!(world.domains("branch", "default").is_empty());
    let all = events(&engine).await;
    let refused: Vec<&Event> = all
        .iter()
        .filter(|e| e.site_label.as_deref() == Some("branch/default"))
        .collect();
    assert_eq!(refused.len(), 1, "{:?}", event_lines(&all));
    assert_eq!(refused[0].status, EventStatus::Skipped);
    assert_eq!(refused[0].code.as_deref(), Some(OVERLAP));
    let branch = site(&engine, "branch/default").await;
    assert!(
        engine
            .store()
            .copies_of_site(branch.id)
            .await
            .unwrap()
            .is_empty(),
        "no registry row is left for a refused create"
    );
    let open = engine.store().open_conflicts(branch.id).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].code.as_deref(), Some(OVERLAP));
    quiet_twice(&world, &engine).await;

    // The client leaves; once the refusal is old enough, the create is tried again.
    world
        .console("branch")
        .disconnect_client("default", "aa:bb:cc:00:00:01")
        .unwrap();
    world.advance(time::Duration::hours(7));
    let mark = last_event_id(&engine).await;
    cycle(&engine).await;
    assert_eq!(
        world.domains("branch", "default"),
        ["A printer.branch.lan 10.3.0.9"]
    );
    let new = events_after(&engine, mark).await;
    assert_eq!(
        event_lines(&new),
        [
            "CREATED branch/default printer.branch.lan 10.3.0.9 -",
            "SKIPPED branch/default printer.branch.lan 10.3.0.9 conflict-resolved"
        ]
    );
    quiet_twice(&world, &engine).await;
}

#[tokio::test]
async fn record_already_exists_from_a_person_racing_the_engine_is_skipped_not_created() {
    let world = World::start(three_consoles(
        SiteSpec::new("default").policy(a("nas.example", "10.0.0.1")),
        SiteSpec::new("default"),
    ))
    .await;
    let engine = world.engine().await;
    let branch_console = world.console("branch");
    let person: Arc<Mutex<Option<String>>> = Arc::default();
    let slot = person.clone();
    cycle_racing(&engine, move || {
        let made = branch_console
            .create_policy("default", &with_enabled(&a("nas.example", "10.0.0.1")))
            .unwrap();
        *slot.lock().unwrap() = made["id"].as_str().map(str::to_owned);
    })
    .await;
    let person = person.lock().unwrap().clone().unwrap();
    assert_eq!(
        world.domains("branch", "default"),
        ["A nas.example 10.0.0.1"]
    );
    assert_eq!(
        world.policy_id("branch", "default", "A nas.example 10.0.0.1"),
        person
    );
    let all = events(&engine).await;
    let on_branch: Vec<&Event> = all
        .iter()
        .filter(|e| e.site_label.as_deref() == Some("branch/default"))
        .collect();
    assert_eq!(on_branch.len(), 1, "{:?}", event_lines(&all));
    assert_eq!(on_branch[0].status, EventStatus::Skipped);
    assert_eq!(on_branch[0].code.as_deref(), Some(EXISTS));
    let branch = site(&engine, "branch/default").await;
    assert!(
        engine
            .store()
            .copies_of_site(branch.id)
            .await
            .unwrap()
            .is_empty()
    );

    // Next cycle: the person's policy is a native, so the branch is an origin and the conflict
    // is over; the person's policy is never adopted nor touched.
    let mark = last_event_id(&engine).await;
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
    assert_eq!(
        event_lines(&events_after(&engine, mark).await),
        ["SKIPPED branch/default nas.example 10.0.0.1 conflict-resolved"]
    );
    let record = unifi_dns_sync_store::record_id("A", "nas.example", "10.0.0.1");
    assert_eq!(
        engine
            .store()
            .record(&record)
            .await
            .unwrap()
            .unwrap()
            .origins
            .len(),
        2
    );
    assert!(
        engine
            .store()
            .copies_of_site(branch.id)
            .await
            .unwrap()
            .is_empty()
    );
    quiet_twice(&world, &engine).await;
    assert_eq!(
        world.policy_id("branch", "default", "A nas.example 10.0.0.1"),
        person
    );
}

#[tokio::test]
async fn cname_alias_overlap_from_a_person_racing_the_engine_is_skipped_not_created() {
    let world = World::start(three_consoles(
        SiteSpec::new("default").policy(a("alias.example", "10.0.0.1")),
        SiteSpec::new("default"),
    ))
    .await;
    let engine = world.engine().await;
    let branch_console = world.console("branch");
    cycle_racing(&engine, move || {
        branch_console
            .create_policy(
                "default",
                &with_enabled(&cname("alias.example", "elsewhere.example")),
            )
            .unwrap();
    })
    .await;
    assert_eq!(
        world.domains("branch", "default"),
        ["CNAME alias.example elsewhere.example"]
    );
    let all = events(&engine).await;
    assert_eq!(
        event_lines(&all)
            .into_iter()
            .filter(|l| l.contains("branch/default"))
            .collect::<Vec<_>>(),
        [
            "SKIPPED branch/default alias.example 10.0.0.1 api.dns.policy.validation.cname-alias-overlap"
        ]
    );
    assert!(all.iter().any(|e| e.code.as_deref() == Some(CNAME_OVERLAP)));

    // Next cycle the planner sees the person's CNAME itself: the conflict goes on as
    // "shadowed" (one event for the new reason), the CNAME competes and loses to the older A.
    // (The test clock stands still unless moved: without this, both origins would have the same
    // first_seen and the smaller site id, given in discovery order, would decide.)
    world.advance(time::Duration::minutes(5));
    let mark = last_event_id(&engine).await;
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
    let mut lines = event_lines(&events_after(&engine, mark).await);
    lines.sort();
    assert_eq!(
        lines,
        [
            "SKIPPED branch/default alias.example 10.0.0.1 shadowed",
            "SKIPPED hq/default alias.example elsewhere.example competing-origin",
            "SKIPPED shop/default alias.example elsewhere.example competing-origin",
        ]
    );
    quiet_twice(&world, &engine).await;
}

#[tokio::test]
async fn a_persons_policy_is_never_touched_even_when_it_looks_like_a_copy() {
    let world = World::start(three_consoles(
        SiteSpec::new("default").policy(a("nas.example", "10.0.0.1")),
        SiteSpec::new("default"),
    ))
    .await;
    let engine = world.engine().await;
    cycle(&engine).await;
    let origin = world.policy_id("hq", "default", "A nas.example 10.0.0.1");
    let branch_copy = world.policy_id("branch", "default", "A nas.example 10.0.0.1");
    let shop_copy = world.policy_id("shop", "default", "A nas.example 10.0.0.1");

    // The origin moves to a new address: our copies follow in place.
    world.person_edits("hq", "default", &origin, &a("nas.example", "10.0.0.2"));
    cycle(&engine).await;
    assert_eq!(
        world.policy_id("branch", "default", "A nas.example 10.0.0.2"),
        branch_copy
    );
    // On the branch a person re-creates the copy's former value; on the shop a person adds
    // another type under the same name; neither is ours.
    let persons_a = world.person_creates("branch", "default", &a("nas.example", "10.0.0.1"));
    let persons_aaaa = world.person_creates(
        "shop",
        "default",
        &json!({"type": "AAAA_RECORD", "domain": "nas.example", "ipv6Address": "fd00::1", "ttlSeconds": 300}),
    );
    let persons_bodies = |w: &World| -> (Value, Value) {
        (
            w.policy("branch", "default", "A nas.example 10.0.0.1"),
            w.policy("shop", "default", "AAAA nas.example fd00::1"),
        )
    };
    let before = persons_bodies(&world);
    world.reset_counters();
    cycle(&engine).await;
    // The branch's own record now wins there: our copy (10.0.0.2) goes, the person's stays.
    let branch_writes = world.console("branch").counters();
    assert_eq!(
        branch_writes.count("DELETE", "/v1/sites/{siteId}/dns/policies/{dnsPolicyId}"),
        1
    );
    assert_eq!(
        branch_writes.count("PUT", "/v1/sites/{siteId}/dns/policies/{dnsPolicyId}"),
        0
    );
    assert_eq!(
        branch_writes.writes(),
        2,
        "the DELETE of our copy and the POST of the shop's AAAA"
    );
    assert_eq!(
        world.domains("branch", "default"),
        ["A nas.example 10.0.0.1", "AAAA nas.example fd00::1"]
    );
    assert_eq!(
        world.policy_id("branch", "default", "A nas.example 10.0.0.1"),
        persons_a
    );
    assert_eq!(persons_bodies(&world), before);
    assert_eq!(
        world.policy_id("shop", "default", "A nas.example 10.0.0.2"),
        shop_copy,
        "the shop keeps its copy next to the person's AAAA"
    );
    assert_eq!(
        world.policy_id("shop", "default", "AAAA nas.example fd00::1"),
        persons_aaaa
    );

    // The record is deleted at its origin: our copies go, the persons' policies stay.
    let origin = world.policy_id("hq", "default", "A nas.example 10.0.0.2");
    world.person_deletes("hq", "default", &origin);
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(persons_bodies(&world), before);
    assert_eq!(world.console("branch").counters().writes(), 0);
    assert!(
        !world
            .domains("shop", "default")
            .contains(&"A nas.example 10.0.0.2".to_string())
    );
    // What is left is only the persons' records, published as natives now.
    for (c, s) in [
        ("hq", "default"),
        ("branch", "default"),
        ("shop", "default"),
    ] {
        assert_eq!(
            world.domains(c, s),
            ["A nas.example 10.0.0.1", "AAAA nas.example fd00::1"],
            "{c}/{s}"
        );
    }
    let copies = engine.store().all_copies().await.unwrap();
    assert!(
        copies
            .iter()
            .all(|c| c.policy_id.as_deref() != Some(persons_a.as_str())
                && c.policy_id.as_deref() != Some(persons_aaaa.as_str())),
        "a person's policy never enters the registry"
    );
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
}

#[tokio::test]
async fn a_copy_deleted_and_recreated_by_hand_becomes_the_persons_and_is_kept() {
    let world = World::start(three_consoles(
        SiteSpec::new("default").policy(a("nas.example", "10.0.0.1")),
        SiteSpec::new("default"),
    ))
    .await;
    let engine = world.engine().await;
    cycle(&engine).await;
    let what = "A nas.example 10.0.0.1";
    let ours = world.policy_id("shop", "default", what);
    world.person_deletes("shop", "default", &ours);
    let persons = world.person_creates("shop", "default", &a("nas.example", "10.0.0.1"));
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(
        world.total_writes(),
        0,
        "not re-created next to the person's"
    );
    let shop = site(&engine, "shop/default").await;
    assert!(
        engine
            .store()
            .copies_of_site(shop.id)
            .await
            .unwrap()
            .is_empty(),
        "the registry row of the vanished copy is forgotten, the person's is not adopted"
    );

    // Deleted at hq: the shop still publishes it, so hq gets it back as a copy; the person's
    // policy is never deleted.
    let origin = world.policy_id("hq", "default", what);
    world.person_deletes("hq", "default", &origin);
    cycle(&engine).await;
    assert_eq!(world.policy_id("shop", "default", what), persons);
    assert_eq!(world.domains("hq", "default"), [what]);
    assert_eq!(world.domains("branch", "default"), [what]);
}
