//! The JSON API, metrics and health endpoints.

use crate::support::*;
use unifi_sim::{Scenario, SiteSpec};

#[tokio::test]
async fn readyz_turns_ready_after_the_first_cycle_and_healthz_is_ok() {
    let app = spawn_app(
        Scenario::new()
            .console(console("hq").site(SiteSpec::new("default")))
            .console(console("branch").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;
    app.wait_ready().await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    app.stop().await;
}
