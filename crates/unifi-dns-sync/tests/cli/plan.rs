//! `plan` and `run --once --dry-run`: discovery and the plan, nothing written to any console nor
//! to records, origins or copies; `--detailed-exitcode`.

use unifi_sim::DownMode;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_lists_creates_and_detailed_exitcode_says_whether_there_are_changes() {
    let world = World::start(two_consoles()).await;
    let plan = world.cli(&["plan"]).await;
    plan.ok().stdout_has("8 changes planned.");
    let creates: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("+ create "))
        .collect();
    assert_eq!(creates.len(), 8, "{plan:?}");
    plan.stdout_has("+ create A nas.hq.example 10.1.0.10  (from hq/default)")
        .stdout_has("+ create CNAME files.hq.example nas.hq.example  (from hq/default)")
        .stdout_has("+ create A printer.branch.example 10.3.0.20  (from branch/default)");

    world.cli(&["plan", "--detailed-exitcode"]).await.code(2);
    let json = world.cli(&["plan", "--output", "json"]).await.ok().json();
    assert_eq!(json["changes"], 8, "{json:#}");
    assert_eq!(json["partial"], false);
    assert_eq!(
        world.total_writes(),
        0,
        "plan writes nothing to any console"
    );

    world.cli(&["sync"]).await.ok();
    world
        .cli(&["plan", "--detailed-exitcode"])
        .await
        .ok()
        .stdout_has("No changes.");
    world.cli(&["plan"]).await.ok().stdout_has("No changes.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_dry_run_write_nothing_to_consoles_records_origins_or_copies() {
    let world = World::start(two_consoles()).await;
    world.cli(&["sync"]).await.ok();
    // Changes at the origins: one new record, one deleted.
    world.person_creates("hq", "default", &a("new.hq.example", "10.1.0.99"));
    world.person_deletes("branch", "default", "A printer.branch.example 10.3.0.20");
    let records_before = world
        .cli(&["records", "--output", "json"])
        .await
        .ok()
        .json();
    let history_before = world
        .cli(&["history", "--output", "json"])
        .await
        .ok()
        .json();
    let consoles_before = world.snapshot();
    world.reset_counters();

    let plan = world.cli(&["plan", "--detailed-exitcode"]).await;
    plan.code(2)
        .stdout_has("+ create A new.hq.example 10.1.0.99")
        .stdout_has("- delete A printer.branch.example 10.3.0.20")
        .stdout_has("4 changes planned.");
    world.cli(&["run", "--once", "--dry-run"]).await.ok();

    assert_eq!(
        world.writes().values().sum::<u64>(),
        0,
        "no console was written: {:?}",
        world.writes()
    );
    assert_eq!(world.snapshot(), consoles_before);
    let records_after = world
        .cli(&["records", "--output", "json"])
        .await
        .ok()
        .json();
    assert_eq!(
        records_after, records_before,
        "plan and --dry-run leave records, origins and copies alone"
    );
    let history_after = world
        .cli(&["history", "--output", "json"])
        .await
        .ok()
        .json();
    assert_eq!(history_after, history_before, "no sync events either");

    // The same plan is still there to apply.
    world
        .cli(&["sync"])
        .await
        .ok()
        .stdout_has("2 created, 0 updated, 2 deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_detailed_exitcode_is_3_when_a_console_is_down() {
    let world = World::start(two_consoles()).await;
    world.cli(&["sync"]).await.ok();
    world.person_creates("hq", "default", &a("new.hq.example", "10.1.0.99"));
    world.console("branch").set_down(Some(DownMode::Refuse));
    world.reset_counters();
    let plan = world.cli(&["plan", "--detailed-exitcode"]).await;
    plan.code(3)
        .stdout_has("branch/default: not read, nothing planned")
        .stdout_has("+ create A new.hq.example 10.1.0.99");
    // Without --detailed-exitcode a partial read is still exit 3.
    world.cli(&["plan"]).await.code(3);
    let json = world
        .cli(&["plan", "--output", "json"])
        .await
        .code(3)
        .json();
    assert_eq!(json["partial"], true);
    assert_eq!(
        json["unread_sites"][0]["site"], "branch/default",
        "{json:#}"
    );
    assert_eq!(world.total_writes(), 0);
}

/// A console that cannot be reached on the very first cycle: its sites are not in the database
/// yet, but they still could not be read, so the plan is partial.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_on_a_new_database_is_partial_when_a_console_is_down() {
    let world = World::start(two_consoles()).await;
    world.console("branch").set_down(Some(DownMode::Refuse));
    world.cli(&["plan", "--detailed-exitcode"]).await.code(3);
    world
        .cli(&["sync"])
        .await
        .code(3)
        .stdout_has("sync partial");
}
