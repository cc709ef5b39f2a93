//! The earlier Python tool's `controllers.json` and `DB_PATH`.

use std::collections::BTreeMap;

use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controllers_json_with_db_path_syncs_and_warns_about_insecure_tls() {
    let world = World::start(two_consoles()).await;
    let entries: Vec<_> = world
        .sim
        .consoles()
        .iter()
        .map(|c| {
            json!({
                "host": c.base_url().trim_start_matches("https://"),
                "api_key": c.api_key(),
                "site": "default",
                "verify_ssl": false,
            })
        })
        .collect();
    let file = world.dir.path().join("controllers.json");
    std::fs::write(&file, serde_json::to_string_pretty(&entries).unwrap()).unwrap();
    let db = world.dir.path().join("legacy.db");
    let env = BTreeMap::from([("DB_PATH".to_owned(), db.display().to_string())]);
    let config = file.display().to_string();
    let cli = async |args: &[&str]| {
        let mut all = strings(&["--config", &config]);
        all.extend(strings(args));
        run_bin(world.dir.path(), &all, &env).await
    };

    let run = cli(&["sync"]).await;
    // The sites named by `site` exchange their records: hq/default's two, branch/default's one.
    run.ok()
        .stdout_has("sync success: 3 created")
        .stderr_has("insecure");
    assert!(db.is_file(), "DB_PATH is where the database went");
    assert!(!world.db_path().exists());
    let mut want = vec![
        "A nas.hq.example 10.1.0.10",
        "A printer.branch.example 10.3.0.20",
        "CNAME files.hq.example nas.hq.example",
    ];
    want.sort();
    assert_eq!(world.domains("hq", "default"), want);
    assert_eq!(world.domains("branch", "default"), want);
    assert_eq!(
        world.domains("hq", "lab"),
        ["A ci.lab.example 10.2.0.5"],
        "site = \"default\": hq/lab is not managed"
    );

    let status = cli(&["status", "--output", "json"]).await.ok().json();
    assert_eq!(
        status["insecure_tls"].as_array().unwrap().len(),
        2,
        "{status:#}"
    );
    assert_eq!(status["last_run"]["outcome"], "success");
    world.reset_counters();
    cli(&["sync"]).await.ok().stdout_has("0 created");
    assert_eq!(world.total_writes(), 0);

    for run in [&run] {
        for key in [HQ_KEY, BRANCH_KEY] {
            assert!(!run.all().contains(key), "{run:?}");
        }
    }
}
