//! `run`: the daemon's cycles, the database lock against a second writer, SIGTERM; `run --once`.

use std::time::Duration;

use serde_json::Value;
use unifi_dns_sync_store::Store;
use unifi_sim::DownMode;

use crate::support::*;

/// Hang detection only: how long a child may take to do what is asked.
const DEADLINE: Duration = Duration::from_secs(60);

async fn status_json(world: &World) -> Option<Value> {
    let run = world.cli(&["status", "--output", "json"]).await;
    (run.code == 0).then(|| run.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_cycles_refuses_a_second_writer_and_stops_cleanly_on_sigterm() {
    let world = World::start(two_consoles()).await;
    world.write_config(&world.config_with_sync("interval = \"1s\""));
    let mut daemon = world.spawn(&["run"], "daemon");

    // Two scheduled cycles have finished.
    poll("two finished cycles of the daemon", DEADLINE, || async {
        let status = status_json(&world).await?;
        let run = &status["last_run"];
        (run["id"].as_i64()? >= 2 && run["finished_at"].is_string()).then_some(())
    })
    .await;
    assert_converged(&world, &[]);
    let status = status_json(&world).await.unwrap();
    assert_eq!(status["last_run"]["trigger"], "schedule", "{status:#}");

    // A second writer is refused; read-only commands work beside the daemon.
    world
        .cli(&["sync"])
        .await
        .code(1)
        .stderr_has("another unifi-dns-sync");
    world.cli(&["status"]).await.ok();
    world.cli(&["records", "--output", "json"]).await.ok();
    world.cli(&["history", "--limit", "1"]).await.ok();

    // Slow consoles, so that SIGTERM lands while a cycle is in flight.
    for c in world.sim.consoles() {
        c.set_latency_ms(150);
    }
    world.person_creates("hq", "default", &a("new.hq.example", "10.1.0.99"));
    poll("a cycle in flight", DEADLINE, || async {
        let status = status_json(&world).await?;
        status["last_run"]["finished_at"].is_null().then_some(())
    })
    .await;
    daemon.sigterm().await;
    let exit = daemon
        .wait(DEADLINE)
        .await
        .unwrap_or_else(|| panic!("the daemon did not stop: {}", world.read_log("daemon")));
    assert_eq!(exit.code(), Some(0), "{}", world.read_log("daemon"));

    // Every run row is finished: none is left "running".
    let store = Store::open_read_only(&world.db_path().display().to_string())
        .await
        .expect("database opens");
    let runs = store.last_runs(1000).await.expect("runs");
    assert!(runs.len() >= 3, "{runs:?}");
    for run in &runs {
        assert!(
            run.finished_at.is_some() && run.outcome.is_some(),
            "run left unfinished: {run:?}"
        );
    }
    drop(store);

    // The lock is released; the next cycle converges without duplicates.
    for c in world.sim.consoles() {
        c.set_latency_ms(0);
    }
    world.cli(&["sync"]).await.ok();
    assert_converged(&world, &["A new.hq.example 10.1.0.99"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_exits_0_and_3_when_partial() {
    let world = World::start(two_consoles()).await;
    world.cli(&["run", "--once"]).await.ok();
    assert_converged(&world, &[]);
    let status = world.cli(&["status", "--output", "json"]).await.ok().json();
    assert_eq!(status["last_run"]["outcome"], "success", "{status:#}");
    assert_eq!(status["last_run"]["trigger"], "schedule", "{status:#}");

    world.console("branch").set_down(Some(DownMode::Refuse));
    world.cli(&["run", "--once"]).await.code(3);
    let status = world.cli(&["status", "--output", "json"]).await.ok().json();
    assert_eq!(status["last_run"]["outcome"], "partial", "{status:#}");
}
