//! API keys never leave the process (SPEC §3): not in the database file or its WAL, not in the
//! sync events, not in the cycle report, not in the logs — also when a console is unreachable
//! and when a key is refused.

use std::io::Write;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use unifi_sim::{DownMode, Scenario, SiteSpec};

use crate::support::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn api_keys_appear_nowhere_even_when_consoles_fail() {
    let scenario = Scenario::new()
        .console(
            console("hq").site(SiteSpec::new("default").policy(a("nas.hq.example", "10.1.0.10"))),
        )
        .console(console("down").site(SiteSpec::new("default").policy(a("d.example", "10.2.0.1"))))
        .console(console("refused").site(SiteSpec::new("default")))
        .console(console("branch").site(SiteSpec::new("default")));
    let mut world = World::start(scenario).await;
    let wrong = "refused-WRONG-api-key-9f8e7d6c5b4a".to_string();
    world.env.insert("TEST_KEY_REFUSED".into(), wrong.clone());
    let mut secrets: Vec<String> = world
        .sim
        .consoles()
        .iter()
        .map(|c| c.api_key().to_owned())
        .collect();
    secrets.push(wrong.clone());
    let engine = world.engine().await;
    // One healthy cycle first, so the down console's site is known and its records are copied.
    cycle(&engine).await;
    world.console("down").set_down(Some(DownMode::Refuse));

    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let report = {
        let _guard = tracing::subscriber::set_default(subscriber);
        cycle(&engine).await
    };
    assert!(report.is_partial());
    let refused = report.sites.iter().find(|s| s.label == "refused/default");
    let down = report
        .sites
        .iter()
        .find(|s| s.label == "down/default")
        .unwrap();
    assert!(down.error.is_some());
    let controllers = engine.store().controllers().await.unwrap();
    let refused_state = controllers.iter().find(|c| c.name == "refused").unwrap();
    assert!(
        refused_state.last_error.is_some(),
        "the refused key is reported: {refused_state:?} {refused:?}"
    );

    let logs = logs.0.lock().unwrap().clone();
    assert!(
        contains(&logs, "down") && contains(&logs, "refused"),
        "the failures are logged:\n{}",
        String::from_utf8_lossy(&logs)
    );
    let debug = format!("{report:?}");
    let json = serde_json::to_string(&report).unwrap();
    let events = serde_json::to_string(&events(&engine).await).unwrap();
    let state = serde_json::to_string(&controllers).unwrap();
    let sites = serde_json::to_string(&engine.store().sites().await.unwrap()).unwrap();
    let runs = serde_json::to_string(&engine.store().last_runs(10).await.unwrap()).unwrap();
    let config = format!("{:?}", engine.config());
    drop(engine);
    let db = std::fs::read(world.db_path()).unwrap();
    let wal = std::fs::read(world.dir.path().join("dns_sync.db-wal")).unwrap_or_default();
    for secret in &secrets {
        for (what, text) in [
            ("the database file", db.as_slice()),
            ("the WAL", wal.as_slice()),
            ("the logs", logs.as_slice()),
            ("the report (Debug)", debug.as_bytes()),
            ("the report (JSON)", json.as_bytes()),
            ("the events", events.as_bytes()),
            ("the controllers", state.as_bytes()),
            ("the sites", sites.as_bytes()),
            ("the runs", runs.as_bytes()),
            ("the config (Debug)", config.as_bytes()),
        ] {
            assert!(!contains(text, secret), "{what} contains the key {secret}");
        }
    }
    // Only the fingerprint is stored.
    for c in &controllers {
        let key = if c.name == "refused" {
            wrong.clone()
        } else {
            world.console(&c.name).api_key().to_owned()
        };
        let fp = hex::encode(Sha256::digest(key.as_bytes()))[..12].to_string();
        assert_eq!(
            c.key_fingerprint.as_deref(),
            Some(fp.as_str()),
            "{}",
            c.name
        );
    }
}
