//! `--dry-run` and `plan` (SPEC §5.6 rule 4): discovery and the plan, nothing written to any
//! console nor to records, origins or copies, while the report's plan lists what would change.

use unifi_dns_sync::engine::{CycleOptions, CycleReport, Engine};
use unifi_dns_sync_store::{Conflict, StoredRecord, SyncedCopy, Trigger};
use unifi_sim::{Scenario, SiteSpec};

use crate::support::*;

fn scenario() -> Scenario {
    Scenario::new()
        .console(
            console("hq").site(
                SiteSpec::new("default")
                    .policy(a("nas.hq.example", "10.1.0.10"))
                    .policy(a("gone.hq.example", "10.1.0.11"))
                    .policy(a("moves.hq.example", "10.1.0.12")),
            ),
        )
        .console(
            console("branch").site(SiteSpec::new("default").policy(a("www.example", "10.3.0.1"))),
        )
        .console(
            console("shop").site(SiteSpec::new("default").policy(a("www.example", "10.4.0.1"))),
        )
}

type Db = (Vec<StoredRecord>, Vec<SyncedCopy>, Vec<Conflict>, usize);

async fn db(engine: &Engine) -> Db {
    let store = engine.store();
    let mut records = store.records_with_origins().await.unwrap();
    records.sort_by(|a, b| a.record.id.cmp(&b.record.id));
    let mut copies = store.all_copies().await.unwrap();
    copies.sort_by(|a, b| (a.site_id, &a.record_id).cmp(&(b.site_id, &b.record_id)));
    let mut conflicts = store.all_conflicts().await.unwrap();
    conflicts.sort_by(|a, b| (a.site_id, &a.record_id).cmp(&(b.site_id, &b.record_id)));
    (records, copies, conflicts, events(engine).await.len())
}

/// Changes a person makes after the first cycle: a delete, a value change, a new record and a
/// copy deleted by hand — one delete, two in-place updates, four creates once applied.
fn change(world: &World) {
    let id = world.policy_id("hq", "default", "A gone.hq.example 10.1.0.11");
    world.person_deletes("hq", "default", &id);
    let id = world.policy_id("hq", "default", "A moves.hq.example 10.1.0.12");
    world.person_edits("hq", "default", &id, &a("moves.hq.example", "10.1.0.13"));
    world.person_creates("hq", "default", &a("new.hq.example", "10.1.0.14"));
    let id = world.policy_id("shop", "default", "A nas.hq.example 10.1.0.10");
    world.person_deletes("shop", "default", &id);
}

fn planned(report: &CycleReport) -> Vec<String> {
    let mut out: Vec<String> = report
        .plan
        .sites
        .iter()
        .flat_map(|s| {
            s.actions
                .iter()
                .map(move |a| format!("{} {} {}", report.labels[&s.site_id], a.verb(), a.record()))
        })
        .collect();
    out.sort();
    out
}

const EXPECTED: [&str; 7] = [
    "branch/default create A new.hq.example 10.1.0.14",
    "branch/default delete A gone.hq.example 10.1.0.11",
    "branch/default update A moves.hq.example 10.1.0.13",
    "shop/default create A nas.hq.example 10.1.0.10",
    "shop/default create A new.hq.example 10.1.0.14",
    "shop/default delete A gone.hq.example 10.1.0.11",
    "shop/default update A moves.hq.example 10.1.0.13",
];

/// Runs `dry` against the changed world and checks that it wrote nothing and planned
/// [`EXPECTED`]; then applies with `engine` and checks the plan was what happened.
async fn writes_nothing_but_plans(
    world: &World,
    engine: &Engine,
    dry: &Engine,
    options: CycleOptions,
) {
    change(world);
    let before_db = db(engine).await;
    let before_consoles = world.snapshot();
    world.reset_counters();
    let report = cycle_with(dry, options).await;
    assert!(report.dry_run);
    assert_eq!(world.total_writes(), 0, "no write reaches any console");
    assert_eq!(world.snapshot(), before_consoles);
    assert_eq!(
        db(engine).await,
        before_db,
        "no record, origin, copy, conflict or event"
    );
    assert_eq!(planned(&report), EXPECTED);
    assert_eq!(report.counts.planned, 7);
    assert_eq!(
        (
            report.counts.created,
            report.counts.updated,
            report.counts.deleted
        ),
        (0, 0, 0),
        "nothing was done"
    );

    let applied = cycle(engine).await;
    assert_eq!(
        planned(&applied),
        EXPECTED,
        "the dry run planned exactly this"
    );
    assert_eq!(
        (
            applied.counts.created,
            applied.counts.updated,
            applied.counts.deleted
        ),
        (3, 2, 2)
    );
    world.reset_counters();
    cycle(engine).await;
    assert_eq!(world.total_writes(), 0);
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_plans_everything() {
    let world = World::start(scenario()).await;
    let engine = world.engine().await;
    cycle(&engine).await;
    writes_nothing_but_plans(
        &world,
        &engine,
        &engine,
        CycleOptions::new(Trigger::Cli).dry_run(true),
    )
    .await;
}

#[tokio::test]
async fn a_dry_run_on_a_new_database_writes_nothing() {
    let world = World::start(scenario()).await;
    let engine = world.engine().await;
    let before = db(&engine).await;
    let report = cycle_with(&engine, CycleOptions::new(Trigger::Cli).dry_run(true)).await;
    assert_eq!(world.total_writes(), 0);
    assert_eq!(db(&engine).await, before);
    assert!(
        engine.store().sites().await.unwrap().is_empty(),
        "not even the sites"
    );
    assert_eq!(report.sites.len(), 3);
    // 3 hq records to 2 sites; the two www records compete (the branch's is older by site id).
    assert_eq!(report.counts.planned, 3 * 2 + 1, "{:?}", planned(&report));
    assert!(
        planned(&report).iter().all(|p| p.contains(" create ")),
        "{:?}",
        planned(&report)
    );
}

#[tokio::test]
async fn plan_on_a_read_only_store_writes_nothing_even_without_dry_run() {
    let world = World::start(scenario()).await;
    let engine = world.engine().await; // the daemon: it holds the lock
    cycle(&engine).await;
    let plan = world.read_only_engine().await;
    assert!(plan.store().is_read_only());
    // A caller that forgot `dry_run(true)`: a read-only store must still never write.
    writes_nothing_but_plans(&world, &engine, &plan, CycleOptions::new(Trigger::Cli)).await;
    change_again_and_plan_read_only(&world, &plan).await;
}

async fn change_again_and_plan_read_only(world: &World, plan: &Engine) {
    let id = world.policy_id("hq", "default", "A new.hq.example 10.1.0.14");
    world.person_deletes("hq", "default", &id);
    world.reset_counters();
    let report = cycle_with(plan, CycleOptions::new(Trigger::Cli).dry_run(true)).await;
    assert_eq!(report.run_id, None, "no run row on a read-only store");
    assert_eq!(world.total_writes(), 0);
    assert_eq!(
        planned(&report),
        [
            "branch/default delete A new.hq.example 10.1.0.14",
            "shop/default delete A new.hq.example 10.1.0.14",
        ]
    );
}
