//! A console that is down: `sync` exits 3 and says which site was not read, `status` shows the
//! error, nothing of that console is withdrawn, and the next `sync` converges.

use unifi_sim::DownMode;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_down_makes_sync_partial_and_the_next_sync_converges() {
    let world = World::start(two_consoles()).await;
    world.cli(&["sync"]).await.ok();
    world.person_creates("hq", "default", &a("new.hq.example", "10.1.0.99"));
    world.console("branch").set_down(Some(DownMode::Refuse));

    let sync = world.cli(&["sync"]).await;
    sync.code(3)
        .stdout_has("sync partial: 1 created")
        .stdout_has("branch/default: not read");
    // The reachable sites got the new record; branch's record was not withdrawn (rule 2).
    assert!(
        world
            .domains("hq", "lab")
            .contains(&"A new.hq.example 10.1.0.99".to_owned())
    );
    for site in ["default", "lab"] {
        assert!(
            world
                .domains("hq", site)
                .contains(&"A printer.branch.example 10.3.0.20".to_owned()),
            "hq/{site}: {:?}",
            world.domains("hq", site)
        );
    }

    let status = world.cli(&["status", "--output", "json"]).await.ok().json();
    let branch = status_site(&status, "branch/default");
    let error = branch["last_error"]
        .as_str()
        .unwrap_or_else(|| panic!("{branch}"));
    assert!(error.contains("branch"), "{error}");
    assert!(status_site(&status, "hq/lab")["last_error"].is_null());
    assert_eq!(status["last_run"]["outcome"], "partial", "{status:#}");
    let controller = status["controllers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "branch")
        .unwrap();
    assert!(controller["last_error"].is_string(), "{controller}");
    let text = world.cli(&["status"]).await.ok().stdout.clone();
    let row = text
        .lines()
        .find(|l| l.starts_with("branch/default"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains("cannot connect"), "{row}");

    world.console("branch").set_down(None);
    world
        .cli(&["sync"])
        .await
        .ok()
        .stdout_has("sync success: 1 created, 0 updated, 0 deleted, 0 skipped, 0 failed");
    assert_converged(&world, &["A new.hq.example 10.1.0.99"]);
    let status = world.cli(&["status", "--output", "json"]).await.ok().json();
    for (console, site) in SITES {
        let s = status_site(&status, &format!("{console}/{site}"));
        assert!(s["last_error"].is_null(), "{s}");
    }
    world.reset_counters();
    world.cli(&["sync"]).await.ok().stdout_has("0 created");
    assert_eq!(world.total_writes(), 0);
}
