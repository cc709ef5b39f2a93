//! Config errors: exit 1, and stderr says what failed and where (file, line, key, variable),
//! never a key's value.

use crate::support::*;

/// The 1-based line of the first line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in\n{text}"))
        + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_key_names_the_file_the_line_and_the_key() {
    let world = World::start(two_consoles()).await;
    let text = world.config_with_sync("intervall = \"2m\"");
    world.write_config(&text);
    let line = line_of(&text, "intervall");
    let path = world.config_path().display().to_string();
    for command in [&["sync"][..], &["status"], &["run", "--once"]] {
        let run = world.cli(command).await;
        run.code(1)
            .stderr_has(&format!("{path}:{line}"))
            .stderr_has("intervall");
        assert!(run.stdout.is_empty(), "{run:?}");
    }
    assert_eq!(world.total_writes(), 0);
    assert!(
        !world.db_path().exists(),
        "nothing ran, no database created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_duration_names_the_key_and_the_value() {
    let world = World::start(two_consoles()).await;
    let text = world.config_with_sync("interval = \"soon\"");
    world.write_config(&text);
    let line = line_of(&text, "interval");
    world
        .cli(&["sync"])
        .await
        .code(1)
        .stderr_has(&format!("{}:{line}", world.config_path().display()))
        .stderr_has("sync.interval")
        .stderr_has("soon");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_api_key_variable_names_the_controller_and_the_variable() {
    let world = World::start(two_consoles()).await;
    let run = world.cli_env(&["sync"], &[("TEST_KEY_BRANCH", None)]).await;
    run.code(1)
        .stderr_has("branch")
        .stderr_has("TEST_KEY_BRANCH")
        .stderr_has("api_key_env");
    assert!(!run.all().contains(HQ_KEY), "{run:?}");
    assert!(!run.all().contains(BRANCH_KEY), "{run:?}");
    assert_eq!(world.total_writes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_config_file_is_an_error_naming_it() {
    let world = World::start(two_consoles()).await;
    let missing = world.dir.path().join("nope.toml");
    let args = strings(&["--config", &missing.display().to_string(), "sync"]);
    let run = run_bin(world.dir.path(), &args, &world.env).await;
    run.code(1)
        .stderr_has(&missing.display().to_string())
        .stderr_has("does not exist");
}
