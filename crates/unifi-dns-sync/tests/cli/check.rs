//! `check`: ✓/✗ lines for the config and every controller, exit 0 when healthy, 1 with a clear
//! line for each problem; `--output json`.

use unifi_sim::{ConsoleSpec, Scenario, SiteSpec};

use crate::support::*;

/// A console's fingerprint with its last hex digit changed.
fn altered(fingerprint: &str) -> String {
    let mut s = fingerprint.to_owned();
    let last = s.pop().unwrap();
    s.push(if last == '0' { '1' } else { '0' });
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_on_a_healthy_setup() {
    let world = World::start(two_consoles()).await;
    let run = world.cli(&["check"]).await;
    run.ok()
        .stdout_has("controller hq (")
        .stdout_has("controller branch (")
        .stdout_has("✓ reachable, TLS trusted")
        .stdout_has("✓ API key accepted")
        .stdout_has("✓ Network 10.5.66: DNS policies supported")
        .stdout_has("✓ 2 sites found, 2 managed")
        .stdout_has("All checks passed.");
    assert!(!run.stdout.contains('✗'), "{run:?}");
    assert_eq!(world.total_writes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_output_json_has_one_entry_per_controller() {
    let world = World::start(two_consoles()).await;
    let json = world.cli(&["check", "--output", "json"]).await.ok().json();
    assert_eq!(json["ok"], true, "{json:#}");
    assert_eq!(json["valid"], true);
    assert!(
        json["config"]
            .as_str()
            .unwrap()
            .contains(&world.config_path().display().to_string())
    );
    assert!(json["warnings"].as_array().unwrap().is_empty(), "{json:#}");
    assert!(json["problems"].as_array().unwrap().is_empty(), "{json:#}");
    let controllers = json["controllers"].as_array().unwrap();
    assert_eq!(controllers.len(), 2);
    let hq = controllers.iter().find(|c| c["name"] == "hq").unwrap();
    assert_eq!(hq["url"], world.console("hq").base_url());
    assert_eq!(hq["reachable"], true);
    assert_eq!(hq["key_accepted"], true);
    assert_eq!(hq["version"], "10.5.66");
    assert_eq!(hq["dns_policies"], true);
    assert_eq!(hq["sites_found"].as_array().unwrap().len(), 2, "{hq}");
    assert_eq!(hq["sites_managed"].as_array().unwrap().len(), 2, "{hq}");
    assert!(hq["problems"].as_array().unwrap().is_empty(), "{hq}");
    assert_eq!(hq["key_fingerprint"].as_str().unwrap().len(), 12, "{hq}");
    assert!(
        hq["trust"].as_str().unwrap().contains("fingerprint"),
        "{hq}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_a_rejected_api_key() {
    let world = World::start(two_consoles()).await;
    let wrong = "wrong-Qz5v1secretValue-0a9b8c7d6e5f";
    let run = world
        .cli_env(&["check"], &[("TEST_KEY_HQ", Some(wrong))])
        .await;
    run.code(1)
        .stdout_has("✗ API key rejected")
        .stdout_has("401")
        .stdout_has("Some checks failed.");
    assert!(!run.all().contains(wrong), "{run:?}");
    // branch is still fine.
    assert!(run.stdout.contains("✓ API key accepted"), "{run:?}");
    let json = world
        .cli_env(
            &["check", "--output", "json"],
            &[("TEST_KEY_HQ", Some(wrong))],
        )
        .await
        .code(1)
        .json();
    let hq = json["controllers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "hq")
        .unwrap();
    assert_eq!(hq["key_accepted"], false, "{hq}");
    assert_eq!(json["ok"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_an_untrusted_certificate_and_suggests_fingerprint() {
    let world = World::start(two_consoles()).await;
    let pinned = world.console("hq").info().cert_fingerprint.unwrap();
    world.write_config(&world.config_text().replace(&pinned, &altered(&pinned)));
    let run = world.cli(&["check"]).await;
    run.code(1)
        .stdout_has("✗ reachable, TLS trusted")
        .stdout_has("not trusted")
        .stdout_has("unifi-dns-sync fingerprint");
    let hq_line = run
        .stdout
        .lines()
        .find(|l| l.contains("not trusted"))
        .unwrap();
    assert!(hq_line.contains("controller 'hq'"), "{hq_line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_an_unreachable_console() {
    let world = World::start(two_consoles()).await;
    let url = world.console("hq").base_url();
    let closed = format!("https://127.0.0.1:{}", closed_port());
    world.write_config(&world.config_text().replace(&url, &closed));
    let run = world.cli(&["check"]).await;
    run.code(1)
        .stdout_has(&format!("controller hq ({closed})"))
        .stdout_has("✗ reachable")
        .stdout_has("cannot be reached");
    let json = world
        .cli(&["check", "--output", "json"])
        .await
        .code(1)
        .json();
    let hq = json["controllers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "hq")
        .unwrap();
    assert_eq!(hq["reachable"], false, "{hq}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_a_console_without_dns_policies() {
    let scenario = Scenario::new().console(
        ConsoleSpec::new("old", HQ_KEY)
            .version("9.5.21")
            .site(SiteSpec::new("default")),
    );
    let world = World::start(scenario).await;
    let run = world.cli(&["check"]).await;
    run.code(1)
        .stdout_has("✓ API key accepted")
        .stdout_has("✗ Network 9.5.21: DNS policies NOT supported")
        .stdout_has("10.1.68");
    let json = world
        .cli(&["check", "--output", "json"])
        .await
        .code(1)
        .json();
    assert_eq!(json["controllers"][0]["dns_policies"], false, "{json:#}");
    assert_eq!(json["controllers"][0]["version"], "9.5.21");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_without_controllers_fails() {
    let world = World::start(Scenario::new()).await;
    world.write_config(&format!(
        "[database]\nurl = \"{}\"\n",
        world.db_path().display()
    ));
    world
        .cli(&["check"])
        .await
        .code(1)
        .stdout_has("✗ no controllers configured");
    let json = world
        .cli(&["check", "--output", "json"])
        .await
        .code(1)
        .json();
    assert_eq!(json["ok"], false);
    assert!(
        json["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("no controllers configured")),
        "{json:#}"
    );
    world
        .cli(&["sync"])
        .await
        .code(1)
        .stderr_has("no controllers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_with_an_invalid_config_lists_the_problems() {
    let world = World::start(two_consoles()).await;
    world.write_config(&world.config_with_sync("intervall = \"2m\""));
    world
        .cli(&["check"])
        .await
        .code(1)
        .stdout_has("✗ the configuration is not valid")
        .stdout_has("intervall");
    let json = world
        .cli(&["check", "--output", "json"])
        .await
        .code(1)
        .json();
    assert_eq!(json["valid"], false, "{json:#}");
    assert_eq!(json["ok"], false);
    assert!(
        json["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("intervall")),
        "{json:#}"
    );
}
