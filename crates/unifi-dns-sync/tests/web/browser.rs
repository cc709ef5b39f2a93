//! The dashboard in a real headless Chromium (Debian's `/usr/bin/chromium`; CI installs the
//! `chromium` package): the daemon runs against three simulated consoles, records propagate,
//! and the test asserts on the DOM the browser built — what a person sees — and on a
//! screenshot of the overview.
//!
//! `UPDATE_SCREENSHOT=1 cargo test -p unifi-dns-sync --test web browser` also copies the
//! overview's screenshot to `docs/dashboard.png`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use unifi_dns_sync_store::record_id;
use unifi_sim::{ClientSpec, Scenario, SiteSpec};

use crate::support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
/// A browser that has not finished by then is hung: it is killed and the test fails.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

fn a(domain: &str, ip: &str) -> Value {
    json!({"type": "A_RECORD", "domain": domain, "ipv4Address": ip, "ttlSeconds": 300})
}

fn chromium() -> &'static str {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the browser tests need Debian's `chromium` package \
         (`apt-get install chromium`; CI installs it)"
    );
    CHROMIUM
}

/// Runs headless Chromium with `args` plus a fresh profile, kills it (its whole process group)
/// if it does not finish within [`BROWSER_TIMEOUT`], and returns its stdout.
async fn run_chromium(args: Vec<String>) -> String {
    let program = chromium();
    tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir().unwrap();
        let mut command = Command::new(program);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program}: {e}"));
        // Drain both pipes while waiting: a DOM dump is larger than a pipe's buffer.
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let deadline = Instant::now() + BROWSER_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                // Kill the browser and every helper process it started (its process group).
                let _ = Command::new("kill")
                    .args(["-KILL", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "chromium did not finish within {BROWSER_TIMEOUT:?} (args {args:?}); it was killed.\nstderr:\n{}",
                    err.join().unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let stdout = out.join().unwrap();
        let stderr = err.join().unwrap();
        assert!(
            status.success(),
            "chromium {args:?} failed ({status}):\n{stderr}"
        );
        stdout
    })
    .await
    .unwrap()
}

/// The DOM Chromium built for `url`.
async fn dom(url: String) -> String {
    let dom = run_chromium(vec!["--dump-dom".into(), url.clone()]).await;
    assert!(
        dom.contains("</html>") && dom.contains("unifi-dns-sync"),
        "no dashboard DOM for {url}:\n{dom}"
    );
    dom
}

/// Screenshot of `url` at `width`×`height`; returns the PNG bytes.
async fn screenshot(url: String, width: u32, height: u32, file: &Path) -> Vec<u8> {
    run_chromium(vec![
        format!("--screenshot={}", file.display()),
        format!("--window-size={width},{height}"),
        "--hide-scrollbars".into(),
        url,
    ])
    .await;
    std::fs::read(file).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", file.display()))
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.len() > 24 && png.starts_with(b"\x89PNG\r\n\x1a\n") && &png[12..16] == b"IHDR",
        "not a PNG"
    );
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// The `<tr>` after `marker` whose text contains `key`.
fn row<'a>(dom: &'a str, marker: &str, key: &str) -> &'a str {
    let start = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in the DOM:\n{dom}"));
    let table = &dom[start..];
    let table = &table[..table.find("</table>").unwrap_or(table.len())];
    table
        .split("<tr")
        .find(|r| r.contains(key))
        .unwrap_or_else(|| panic!("no row with {key:?} after {marker:?}:\n{table}"))
}

/// Three consoles whose records propagate in the first cycle; one name competes.
fn scenario() -> Scenario {
    Scenario::new()
        .console(
            console("hq").site(
                SiteSpec::new("default")
                    .name("Head office")
                    .policy(a("nas.hq.example", "10.1.0.10"))
                    .policy(a("vpn.hq.example", "10.1.0.1"))
                    .policy(json!({"type": "CNAME_RECORD", "domain": "files.hq.example", "targetDomain": "nas.hq.example", "ttlSeconds": 0}))
                    .policy(json!({"type": "TXT_RECORD", "domain": "note.hq.example", "text": "<script>alert(1)</script>"}))
                    .policy(a("printer.example", "10.1.0.50")),
            ),
        )
        .console(
            console("branch").site(
                SiteSpec::new("default")
                    .name("Branch office")
                    .policy(a("cctv.branch.example", "10.3.0.30"))
                    .policy(a("printer.example", "10.3.0.50"))
                    .client(ClientSpec::wired("Front desk", "aa:bb:cc:00:03:01", "10.3.0.101")),
            ),
        )
        .console(
            console("shop").site(
                SiteSpec::new("default")
                    .name("Shop")
                    .policy(a("till.shop.example", "10.4.0.10")),
            ),
        )
}

#[tokio::test]
async fn a_person_sees_origins_copies_and_events_in_a_real_browser() {
    chromium();
    let app = spawn_app(
        scenario(),
        Options {
            sync_extra: "[sync.clients]\nenabled = true\n".into(),
            ..Options::default()
        },
    )
    .await;
    app.wait_ready().await;

    // Overview: controllers and sites with their health, the last run.
    let page = dom(app.url("/")).await;
    for needle in [
        "Head office",
        "Branch office",
        "hq/default",
        "shop/default",
        "reachable",
        "Last runs",
        "success",
    ] {
        assert!(page.contains(needle), "overview: no {needle:?}");
    }

    // A record page: its origin site, and its state on another site.
    let nas = record_id("A", "nas.hq.example", "10.1.0.10");
    let page = dom(app.url(&format!("/records/{nas}"))).await;
    let origin = row(&page, "id=\"origins\"", "hq/default");
    assert!(
        origin.contains("Head office") && origin.contains("POLICY"),
        "{origin}"
    );
    let copy = row(&page, "class=\"states\"", "<strong>branch/default</strong>");
    assert!(
        copy.contains(">copied<") && copy.contains("copied from hq/default"),
        "{copy}"
    );
    let event = row(&page, "class=\"events\"", "shop/default");
    assert!(event.contains("CREATED"), "{event}");

    // The matrix: one row per record, one cell per site.
    let page = dom(app.url("/matrix")).await;
    let cctv = row(&page, "class=\"matrix\"", "cctv.branch.example");
    assert_eq!(cctv.matches(">origin<").count(), 1, "{cctv}");
    assert_eq!(cctv.matches(">copied<").count(), 2, "{cctv}");
    let client = row(&page, "class=\"matrix\"", "front-desk.default.home.arpa");
    assert!(
        client.contains(">origin<"),
        "client names are records too: {client}"
    );
    let printer = row(&page, "class=\"matrix\"", "10.3.0.50");
    assert!(
        printer.contains(">conflict<"),
        "the losing value is a conflict: {printer}"
    );

    // History: event rows as the browser shows them, and a filter applied through the URL.
    let page = dom(app.url("/history?site=shop%2Fdefault&status=CREATED")).await;
    let event = row(&page, "class=\"events\"", "cctv.branch.example");
    assert!(
        event.contains("CREATED") && event.contains("shop/default"),
        "{event}"
    );
    assert!(!page.contains(">hq/default</a></td>"), "only shop's events");

    // A value holding markup is text in the DOM, never an element.
    let note = record_id("TXT", "note.hq.example", "<script>alert(1)</script>");
    let page = dom(app.url(&format!("/records/{note}"))).await;
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(!page.to_ascii_lowercase().contains("<script"));
    app.stop().await;
}

#[tokio::test]
async fn the_overview_screenshot_is_a_real_dashboard_on_a_desktop_and_a_phone() {
    chromium();
    let app = spawn_app(
        scenario(),
        Options {
            sync_extra: "[sync.clients]\nenabled = true\n".into(),
            ..Options::default()
        },
    )
    .await;
    app.wait_ready().await;
    let dir = tempfile::tempdir().unwrap();

    let file = dir.path().join("overview.png");
    let png = screenshot(app.url("/"), 1280, 900, &file).await;
    assert_eq!(png_size(&png), (1280, 900));
    // A blank or unstyled page compresses to far less; a rendered dashboard is tens of KB.
    assert!(
        (20_000..5_000_000).contains(&png.len()),
        "implausible screenshot size {} bytes",
        png.len()
    );
    if std::env::var("UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        let docs: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "..", "docs"]
            .iter()
            .collect();
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::copy(&file, docs.join("dashboard.png")).unwrap();
    }

    // A phone: the same page at 390 px wide still renders (tables scroll inside themselves).
    let file = dir.path().join("overview-phone.png");
    let png = screenshot(app.url("/"), 390, 844, &file).await;
    assert_eq!(png_size(&png), (390, 844));
    assert!(png.len() > 10_000, "implausible phone screenshot");
    if std::env::var("UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        let _ = std::fs::copy(&file, std::env::temp_dir().join("dashboard-phone.png"));
    }
    app.stop().await;
}
