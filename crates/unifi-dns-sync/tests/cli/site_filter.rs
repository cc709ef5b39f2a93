//! `sync --site S`: applies to that site only; an unknown site is refused before anything runs.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_site_applies_to_that_site_only() {
    let world = World::start(two_consoles()).await;
    let before = world.snapshot();
    world
        .cli(&["sync", "--site", "hq/lab"])
        .await
        .ok()
        .stdout_has("sync success: 3 created");
    let mut lab: Vec<String> = NATIVE.iter().map(|s| (*s).to_owned()).collect();
    lab.sort();
    assert_eq!(world.domains("hq", "lab"), lab);
    assert_eq!(
        world.domains("hq", "default"),
        before["hq/default"],
        "hq/default is not written"
    );
    assert_eq!(
        world.domains("branch", "default"),
        before["branch/default"],
        "branch/default is not written"
    );
    assert_eq!(world.writes()["branch"], 0);
    assert_eq!(world.writes()["hq"], 3);

    // The rest follows with a full sync.
    world.cli(&["sync"]).await.ok().stdout_has("5 created");
    assert_converged(&world, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_with_an_unknown_site_is_refused() {
    let world = World::start(two_consoles()).await;
    for selector in ["nowhere/default", "hq/nowhere", "nowhere"] {
        world
            .cli(&["sync", "--site", selector])
            .await
            .code(1)
            .stderr_has(&format!("--site {selector}"));
    }
    assert_eq!(world.total_writes(), 0, "nothing was written");
    // Also once the sites are in the database: refused before any write.
    world.cli(&["sync"]).await.ok();
    world.reset_counters();
    world
        .cli(&["sync", "--site", "branch/lab"])
        .await
        .code(1)
        .stderr_has("--site branch/lab")
        .stderr_has("branch/default");
    assert_eq!(world.total_writes(), 0, "nothing was written");
}
