//! `fingerprint URL`, `db backup FILE`, `db prune`.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fingerprint_prints_the_certificate_fingerprint_of_a_console() {
    let world = World::start(two_consoles()).await;
    let info = world.console("hq").info();
    let run = run_bin(
        world.dir.path(),
        &strings(&["fingerprint", &info.base_url]),
        &Default::default(),
    )
    .await;
    run.ok().stderr_has("tls = { fingerprint = ");
    assert_eq!(run.stdout, format!("{}\n", info.cert_fingerprint.unwrap()));

    let plain = info.base_url.replace("https://", "http://");
    run_bin(
        world.dir.path(),
        &strings(&["fingerprint", &plain]),
        &Default::default(),
    )
    .await
    .code(1)
    .stderr_has("https://");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_backup_is_readable_and_never_overwrites() {
    let world = World::start(two_consoles()).await;
    world.cli(&["sync"]).await.ok();
    let backup = world.dir.path().join("backup.db");
    let backup_arg = backup.display().to_string();
    world
        .cli(&["db", "backup", &backup_arg])
        .await
        .ok()
        .stdout_has(&backup_arg);
    assert!(backup.is_file());

    let original = world.cli(&["status", "--output", "json"]).await.ok().json();
    let copy = world
        .cli(&["--database", &backup_arg, "status", "--output", "json"])
        .await
        .ok()
        .json();
    assert_eq!(copy["sites"], original["sites"]);
    assert_eq!(copy["records"], 4);
    assert_eq!(copy["last_run"], original["last_run"]);
    let records = world
        .cli(&["--database", &backup_arg, "records", "--output", "json"])
        .await
        .ok()
        .json();
    assert_eq!(records.as_array().unwrap().len(), 4);

    let before = std::fs::read(&backup).unwrap();
    world
        .cli(&["db", "backup", &backup_arg])
        .await
        .code(1)
        .stderr_has(&backup_arg)
        .stderr_has("already exists");
    assert_eq!(std::fs::read(&backup).unwrap(), before, "not overwritten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_prune_removes_events() {
    let world = World::start(two_consoles()).await;
    world.cli(&["sync"]).await.ok();
    let events = world
        .cli(&["history", "--output", "json"])
        .await
        .ok()
        .json();
    assert_eq!(events.as_array().unwrap().len(), 8);

    world
        .cli(&["db", "prune", "--older-than", "1x"])
        .await
        .code(1)
        .stderr_has("--older-than");
    world
        .cli(&["db", "prune", "--older-than", "0s"])
        .await
        .ok()
        .stdout_has("Pruned 8 events");
    let events = world
        .cli(&["history", "--output", "json"])
        .await
        .ok()
        .json();
    assert_eq!(events, serde_json::json!([]));
    world.cli(&["history"]).await.ok().stdout_has("No events.");
    // Records and copies are not history: they stay.
    let records = world
        .cli(&["records", "--output", "json"])
        .await
        .ok()
        .json();
    assert_eq!(records.as_array().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_commands_on_a_missing_database_say_so() {
    let world = World::start(two_consoles()).await;
    for command in [&["status"][..], &["records"], &["history"]] {
        let run = world.cli(command).await;
        run.code(1)
            .stderr_has(&world.db_path().display().to_string())
            .stderr_has("does not exist");
    }
    assert!(
        !world.db_path().exists(),
        "a read-only command creates nothing"
    );
}
