//! Secrets never appear in output, logs or the database; `--log-format json`; no progress bar
//! when stderr is not a terminal.

use serde_json::Value;

use crate::support::*;

const WRONG_KEY: &str = "wrong-Hj2k9secretValue-77c1e0f4b3a2";

/// Every non-empty line of `stderr` is a JSON object.
#[track_caller]
fn assert_json_lines(run: &Run) {
    for line in run.stderr.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {line:?}\n{run:?}"));
        assert!(v.is_object(), "{line}");
        assert!(v["level"].is_string() && v["message"].is_string(), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_appear_nowhere_in_output_logs_or_the_database() {
    let world = World::start(two_consoles()).await;
    let loud = ["-vv", "--log-format", "json"];
    let with =
        |args: &[&'static str]| -> Vec<&'static str> { loud.iter().chain(args).copied().collect() };
    let mut runs = vec![];
    runs.push(world.cli(&with(&["sync"])).await);
    runs.last().unwrap().ok();
    runs.push(world.cli(&with(&["check"])).await);
    runs.last().unwrap().ok();
    for args in [
        &["check", "--output", "json"][..],
        &["status"],
        &["status", "--output", "json"],
        &["history"],
        &["records", "--output", "json"],
        &["plan"],
        &["run", "--once"],
    ] {
        let run = world.cli(&with(args)).await;
        run.ok();
        runs.push(run);
    }
    // A wrong key: the console says 401, the run is partial, and the key is still not shown.
    for args in [&["sync"][..], &["check"], &["plan"]] {
        let run = world
            .cli_env(&with(args), &[("TEST_KEY_HQ", Some(WRONG_KEY))])
            .await;
        assert!(matches!(run.code, 1 | 3), "{run:?}");
        runs.push(run);
    }
    // A key that is not even set.
    let run = world
        .cli_env(&with(&["sync"]), &[("TEST_KEY_BRANCH", None)])
        .await;
    run.code(1);
    runs.push(run);

    for run in &runs {
        assert_json_lines(run);
        for key in [HQ_KEY, BRANCH_KEY, WRONG_KEY] {
            assert!(
                !run.all().contains(key),
                "key {key} in the output of {run:?}"
            );
        }
    }
    // Something was logged at all (the check above is not vacuous).
    assert!(runs[0].stderr.contains("\"DEBUG\""), "{:?}", runs[0]);

    let mut checked = 0;
    for entry in std::fs::read_dir(world.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("dns_sync.db") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for key in [HQ_KEY, BRANCH_KEY, WRONG_KEY] {
            assert!(
                !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
                "key {key} in {name}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 1, "the database files were found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_format_json_writes_one_object_per_stderr_line_even_for_errors() {
    let world = World::start(two_consoles()).await;
    let run = world.cli(&["--log-format", "json", "-v", "sync"]).await;
    run.ok().stdout_has("sync success");
    assert!(!run.stderr.is_empty(), "{run:?}");
    assert_json_lines(&run);

    // A failing command's error line is a JSON object too.
    let run = world
        .cli(&["--log-format", "json", "history", "--status", "BOGUS"])
        .await;
    run.code(1).stderr_has("--status");
    assert_json_lines(&run);
    let config_error = world
        .cli_env(&["--log-format", "json", "sync"], &[("TEST_KEY_HQ", None)])
        .await;
    config_error.code(1).stderr_has("TEST_KEY_HQ");
    assert_json_lines(&config_error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_on_a_pipe_draws_no_progress_bar() {
    let world = World::start(two_consoles()).await;
    for args in [&["sync"][..], &["sync"]] {
        let run = world.cli(args).await;
        run.ok();
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(!text.contains('\r'), "carriage return on {stream}: {run:?}");
            assert!(
                !text.contains('\u{1b}'),
                "escape sequence on {stream}: {run:?}"
            );
        }
        assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
    }
}
