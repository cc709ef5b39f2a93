//! `sync`, then the read-only views of what it did: `status`, `records`, `history`.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::*;

fn key_fingerprint(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))[..12].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_copies_every_record_and_a_second_sync_creates_nothing() {
    let world = World::start(two_consoles()).await;
    world
        .cli(&["sync"])
        .await
        .ok()
        .stdout_has("sync success: 8 created, 0 updated, 0 deleted, 0 skipped, 0 failed");
    assert_converged(&world, &[]);

    world.reset_counters();
    world
        .cli(&["sync"])
        .await
        .ok()
        .stdout_has("sync success: 0 created, 0 updated, 0 deleted, 0 skipped, 0 failed");
    assert_eq!(world.total_writes(), 0, "a second sync writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_controllers_sites_and_the_last_run() {
    let world = World::start(two_consoles()).await;
    world.cli(&["sync"]).await.ok();
    let status = world.cli(&["status", "--output", "json"]).await.ok().json();

    let controllers: BTreeMap<String, &Value> = status["controllers"]
        .as_array()
        .expect("controllers")
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_owned(), c))
        .collect();
    assert_eq!(
        controllers.keys().collect::<Vec<_>>(),
        ["branch", "hq"],
        "{status:#}"
    );
    for (name, key) in [("hq", HQ_KEY), ("branch", BRANCH_KEY)] {
        let c = controllers[name];
        assert_eq!(c["app_version"], world.console(name).version().to_string());
        assert_eq!(c["key_fingerprint"], key_fingerprint(key), "{name}");
        assert_eq!(c["url"], world.console(name).base_url());
        assert!(c["last_contact"].is_string(), "{c}");
        assert!(c["last_error"].is_null(), "{c}");
    }

    // Copies received: 4 records minus the site's own.
    for (label, copies) in [("hq/default", 2), ("hq/lab", 3), ("branch/default", 3)] {
        let s = status_site(&status, label);
        assert!(s["last_synced"].is_string(), "{label}: {s}");
        assert_eq!(s["copies"], copies, "{label}: {s}");
        assert_eq!(s["pending"], 0, "{label}: {s}");
        assert!(s["last_error"].is_null(), "{label}: {s}");
        assert_eq!(s["dns_policies"], true, "{label}: {s}");
    }
    assert_eq!(status["records"], 4);
    let run = &status["last_run"];
    assert_eq!(run["outcome"], "success", "{run}");
    assert_eq!(run["trigger"], "cli", "{run}");
    assert!(run["finished_at"].is_string(), "{run}");
    assert_eq!(run["counts"]["created"], 8, "{run}");

    let text = world.cli(&["status"]).await.ok().stdout.clone();
    for needle in [
        "hq/default",
        "hq/lab",
        "branch/default",
        &key_fingerprint(HQ_KEY),
        "Last run:",
        "Records: 4",
    ] {
        assert!(text.contains(needle), "status lacks {needle:?}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_show_origins_and_copy_state_per_site_with_filters() {
    let world = World::start(two_consoles()).await;
    // branch/default receives nothing, so `--site branch/default` has something to leave out.
    world.write_config(&format!(
        "{}\n[[site]]\nmatch = \"branch/default\"\nreceive = false\n",
        world.config_text()
    ));
    world.cli(&["sync"]).await.ok().stdout_has("5 created");

    let records = world
        .cli(&["records", "--output", "json"])
        .await
        .ok()
        .json();
    let mut names: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "ci.lab.example",
            "files.hq.example",
            "nas.hq.example",
            "printer.branch.example"
        ]
    );
    let nas = record(&records, "nas.hq.example");
    assert_eq!(nas["type"], "A");
    assert_eq!(nas["value"], "10.1.0.10");
    assert_eq!(nas["ttl"], 300);
    let origins: Vec<&Value> = nas["origins"].as_array().unwrap().iter().collect();
    assert_eq!(origins.len(), 1, "{nas:#}");
    assert_eq!(origins[0]["site"], "hq/default");
    assert_eq!(origins[0]["kind"], "POLICY");
    assert_eq!(
        copy_states(nas),
        BTreeMap::from([("hq/lab".to_owned(), "present".to_owned())]),
        "{nas:#}"
    );
    let printer = record(&records, "printer.branch.example");
    assert_eq!(printer["origins"][0]["site"], "branch/default");
    assert_eq!(
        copy_states(printer),
        BTreeMap::from([
            ("hq/default".to_owned(), "present".to_owned()),
            ("hq/lab".to_owned(), "present".to_owned()),
        ])
    );

    let branch = world
        .cli(&["records", "--site", "branch/default", "--output", "json"])
        .await
        .ok()
        .json();
    let names: Vec<&str> = branch
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["printer.branch.example"], "{branch:#}");

    let text = world
        .cli(&["records", "--site", "hq/default"])
        .await
        .ok()
        .stdout
        .clone();
    assert!(text.contains("A nas.hq.example 10.1.0.10"), "{text}");
    assert!(text.contains("origins: hq/default"), "{text}");
    assert!(text.contains("hq/lab present"), "{text}");

    let hq = world
        .cli(&["records", "--domain", "*.hq.example", "--output", "json"])
        .await
        .ok()
        .json();
    let mut names: Vec<&str> = hq
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["files.hq.example", "nas.hq.example"]);

    world
        .cli(&["records", "--site", "nowhere/default"])
        .await
        .code(1)
        .stderr_has("--site nowhere/default");
}

fn event_ids(events: &Value) -> Vec<i64> {
    events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_newest_first_and_filters() {
    let world = World::start(two_consoles()).await;
    world.cli(&["sync"]).await.ok();
    // Deleting the printer at its only origin withdraws its 2 copies: newer events.
    world.person_deletes("branch", "default", "A printer.branch.example 10.3.0.20");
    world.cli(&["sync"]).await.ok().stdout_has("2 deleted");

    let all = world
        .cli(&["history", "--output", "json"])
        .await
        .ok()
        .json();
    let ids = event_ids(&all);
    assert_eq!(ids.len(), 10, "{all:#}");
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let statuses: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses[..2], ["DELETED", "DELETED"], "{all:#}");
    assert!(statuses[2..].iter().all(|s| *s == "CREATED"), "{all:#}");

    let created = world
        .cli(&["history", "--status", "CREATED", "--output", "json"])
        .await
        .ok()
        .json();
    assert_eq!(event_ids(&created).len(), 8);
    assert!(
        created
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] == "CREATED")
    );
    let deleted = world
        .cli(&["history", "--status", "DELETED", "--output", "json"])
        .await
        .ok()
        .json();
    assert_eq!(event_ids(&deleted), ids[..2]);

    let lab = world
        .cli(&["history", "--site", "hq/lab", "--output", "json"])
        .await
        .ok()
        .json();
    // nas, files, printer created; printer deleted.
    assert_eq!(event_ids(&lab).len(), 4, "{lab:#}");
    assert!(
        lab.as_array()
            .unwrap()
            .iter()
            .all(|e| e["site_label"] == "hq/lab")
    );

    let hq_names = world
        .cli(&["history", "--domain", "*.hq.example", "--output", "json"])
        .await
        .ok()
        .json();
    assert_eq!(event_ids(&hq_names).len(), 4, "{hq_names:#}");
    assert!(hq_names.as_array().unwrap().iter().all(|e| {
        e["name"]
            .as_str()
            .is_some_and(|n| n.ends_with(".hq.example"))
    }));

    let recent = world
        .cli(&["history", "--since", "1h", "--output", "json"])
        .await
        .ok()
        .json();
    assert_eq!(event_ids(&recent), ids);

    let two = world
        .cli(&["history", "--limit", "2", "--output", "json"])
        .await
        .ok()
        .json();
    assert_eq!(event_ids(&two), ids[..2]);

    let text = world
        .cli(&["history", "--limit", "2"])
        .await
        .ok()
        .stdout
        .clone();
    assert!(text.contains("DELETED"), "{text}");
    assert!(
        text.contains("A printer.branch.example 10.3.0.20"),
        "{text}"
    );

    world
        .cli(&["history", "--status", "BOGUS"])
        .await
        .code(1)
        .stderr_has("--status")
        .stderr_has("BOGUS");
    world
        .cli(&["history", "--since", "yesterday"])
        .await
        .code(1)
        .stderr_has("--since")
        .stderr_has("yesterday");
}
