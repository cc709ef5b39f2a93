//! Dashboard pages over HTTP: every page answers `text/html` and shows what an operator needs
//! (sites, records, where each record is and why, events); filters and paging work; bad query
//! values get a 400 page naming the parameter and unknown ids a 404 page; user input is
//! escaped; no page carries an API key or the web token.

use reqwest::StatusCode;
use serde_json::{Value, json};
use unifi_dns_sync_store::record_id;
use unifi_sim::{ClientSpec, Scenario, SiteSpec};

use crate::support::*;

const XSS: &str = "<script>alert(1)</script>";
/// How askama escapes `XSS` in text and attributes.
const XSS_ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;";
const BRANCH_NAME: &str = "<b>Branch</b> office";
const BRANCH_ESCAPED: &str = "&#60;b&#62;Branch&#60;/b&#62; office";
const SKIP_CODE: &str = "api.dns.policy.validation.overlap-with-local-dns";

fn a(domain: &str, ip: &str) -> Value {
    json!({"type": "A_RECORD", "domain": domain, "ipv4Address": ip, "ttlSeconds": 300})
}

fn txt(domain: &str, text: &str) -> Value {
    json!({"type": "TXT_RECORD", "domain": domain, "text": text})
}

/// hq/default publishes a few records (one TXT holding a script tag); branch/default (whose
/// name holds markup) refuses `printer.branch.lan` because a client has that name;
/// shop/default filters out `*.internal.example`.
fn world() -> (Scenario, Options) {
    let scenario = Scenario::new()
        .console(
            console("hq").site(
                SiteSpec::new("default")
                    .name("Head office")
                    .policy(a("nas.hq.example", "10.1.0.10"))
                    .policy(txt("xss.hq.example", XSS))
                    .policy(a("shared.example", "10.0.0.1"))
                    .policy(a("printer.branch.lan", "10.3.0.9"))
                    .policy(a("db.internal.example", "10.1.0.40")),
            ),
        )
        .console(
            console("branch").site(
                SiteSpec::new("default")
                    .name(BRANCH_NAME)
                    .local_domain("branch.lan")
                    .policy(a("cctv.branch.example", "10.3.0.30"))
                    .client(ClientSpec::wired(
                        "Printer",
                        "aa:bb:cc:00:00:01",
                        "10.3.0.20",
                    )),
            ),
        )
        .console(console("shop").site(SiteSpec::new("default").name("Shop")));
    let options = Options {
        extra: "\n[[site]]\nmatch = \"shop/default\"\nexclude_domains = [\"*.internal.example\"]\n"
            .into(),
        ..Options::default()
    };
    (scenario, options)
}

struct Page {
    status: StatusCode,
    content_type: String,
    body: String,
}

async fn get(app: &TestApp, path: &str) -> Page {
    get_accepting(app, path, "text/html").await
}

async fn get_accepting(app: &TestApp, path: &str, accept: &str) -> Page {
    let r = app
        .http
        .get(app.url(path))
        .header("accept", accept)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = r.status();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Page {
        status,
        content_type,
        body: r.text().await.unwrap(),
    }
}

/// GET a page that must answer 200 with HTML.
async fn html(app: &TestApp, path: &str) -> String {
    let page = get(app, path).await;
    assert_eq!(page.status, 200, "GET {path}:\n{}", page.body);
    assert!(
        page.content_type.starts_with("text/html"),
        "GET {path}: content-type {}",
        page.content_type
    );
    assert_frame(path, &page.body);
    page.body
}

/// Every page is a complete document with the viewport tag, the stylesheet and the navigation
/// bar, and nothing the CSP would block (no inline script or style).
fn assert_frame(path: &str, body: &str) {
    for needle in [
        "<!DOCTYPE html>",
        r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#,
        r#"<link rel="stylesheet" href="/static/style.css">"#,
        r#"<nav aria-label="Main">"#,
        r#"href="/matrix""#,
        r#"href="/history""#,
        r#"href="/plan""#,
    ] {
        assert!(body.contains(needle), "GET {path}: no {needle:?}");
    }
    let lower = body.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "GET {path}: a script element");
    assert!(!lower.contains("style="), "GET {path}: an inline style");
    assert!(!lower.contains("<style"), "GET {path}: a style element");
}

async fn site_id(app: &TestApp, label: &str) -> i64 {
    app.state
        .store()
        .sites()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.label() == label)
        .unwrap_or_else(|| panic!("no site {label}"))
        .id
}

fn a_id(name: &str, ip: &str) -> String {
    record_id("A", name, ip)
}

/// The `<tr>…</tr>` of the table after `table_marker` whose text contains `key`.
fn row<'a>(body: &'a str, table_marker: &str, key: &str) -> &'a str {
    let start = body
        .find(table_marker)
        .unwrap_or_else(|| panic!("no {table_marker:?} in the page"));
    let table = &body[start..];
    let table = &table[..table.find("</table>").unwrap_or(table.len())];
    table
        .split("<tr")
        .find(|r| r.contains(key))
        .unwrap_or_else(|| panic!("no row with {key:?} in {table_marker:?}:\n{table}"))
}

/// The row of the record page's per-site table for the site labelled `site`.
fn state_row<'a>(body: &'a str, site: &str) -> &'a str {
    row(
        body,
        "class=\"states\"",
        &format!("<strong>{site}</strong>"),
    )
}

fn event_rows(body: &str) -> usize {
    body.matches("<tr id=\"event-").count()
}

/// Asks the daemon for a cycle through the API and waits until `total` cycles have finished.
async fn sync_now(app: &TestApp, total: usize) {
    let r = app
        .http
        .post(app.url("/api/v1/sync"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    app.wait_cycles(total).await;
}

#[tokio::test]
async fn every_page_answers_html_and_shows_what_it_must() {
    let (scenario, options) = world();
    let app = spawn_app(scenario, options).await;
    app.wait_ready().await;
    let hq = site_id(&app, "hq/default").await;
    let branch = site_id(&app, "branch/default").await;

    // Overview: controllers, sites with health, last runs.
    let body = html(&app, "/").await;
    for needle in [
        "Controllers",
        "hq/default",
        "branch/default",
        "shop/default",
        "Head office",
        "reachable",
        "10.5.66",
        "Last runs",
        "#1",
        "success",
        "complete",
    ] {
        assert!(body.contains(needle), "overview: no {needle:?}");
    }
    // The key fingerprint (sha256 of the key, 12 hex digits) identifies the key in use.
    let key = app.sim.console("hq").unwrap().api_key().to_owned();
    let fingerprint = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(key.as_bytes()))[..12].to_owned()
    };
    assert!(body.contains(&fingerprint), "overview: no key fingerprint");
    assert!(body.contains(&format!("href=\"/sites/{hq}\"")));

    // Site: settings, natives, copies, conflicts, events.
    let body = html(&app, &format!("/sites/{hq}")).await;
    for needle in [
        "hq/default",
        "Native records",
        "nas.hq.example",
        "POLICY",
        "Copies held",
        "cctv.branch.example",
        "Settings",
        "receive",
        "Recent events",
        "CREATED",
    ] {
        assert!(body.contains(needle), "site page: no {needle:?}");
    }
    assert!(
        row(&body, "id=\"copies\"", "cctv.branch.example").contains("branch/default"),
        "the copy names the site it was copied from"
    );
    let body = html(&app, &format!("/sites/{branch}")).await;
    let conflict = row(&body, "id=\"conflicts\"", "printer.branch.lan");
    assert!(conflict.contains(SKIP_CODE), "{conflict}");
    assert!(body.contains("branch/default"));

    // Record: data, origins, state per site, events.
    let nas = a_id("nas.hq.example", "10.1.0.10");
    let body = html(&app, &format!("/records/{nas}")).await;
    for needle in ["nas.hq.example", "10.1.0.10", "300 s", "Origins", "POLICY"] {
        assert!(body.contains(needle), "record page: no {needle:?}");
    }
    assert!(row(&body, "id=\"origins\"", "hq/default").contains("POLICY"));
    for site in ["branch/default", "shop/default"] {
        let r = state_row(&body, site);
        assert!(r.contains(">copied<"), "{site}: {r}");
    }
    assert!(state_row(&body, "hq/default").contains(">origin<"));
    assert_eq!(event_rows(&body), 2, "one CREATED event per copy");

    // Matrix: every record against every site.
    let body = html(&app, "/matrix").await;
    for needle in [
        "nas.hq.example",
        "cctv.branch.example",
        "shared.example",
        "hq/default",
        "shop/default",
    ] {
        assert!(body.contains(needle), "matrix: no {needle:?}");
    }
    let nas_row = row(&body, "class=\"matrix\"", "nas.hq.example");
    assert_eq!(nas_row.matches(">copied<").count(), 2, "{nas_row}");
    assert_eq!(nas_row.matches(">origin<").count(), 1, "{nas_row}");

    // History: the events, newest first.
    let body = html(&app, "/history").await;
    assert!(event_rows(&body) >= 6, "{body}");
    let created = row(&body, "class=\"events\"", "cctv.branch.example");
    assert!(created.contains("CREATED"), "{created}");
    assert!(body.contains("SKIPPED") && body.contains(SKIP_CODE));

    // Plan: nothing to create right after a cycle; the open refusal is still listed.
    let body = html(&app, "/plan").await;
    for total in ["creates", "updates", "deletes"] {
        let card = format!(r#"<span class="num">0</span><span class="label">{total}</span>"#);
        assert!(body.contains(&card), "plan: {total} {body}");
    }
    assert!(row(&body, "<h3>Conflicts</h3>", "printer.branch.lan").contains(SKIP_CODE));
    assert!(body.contains("In sync"));

    // The stylesheet is served from the binary.
    let css = get(&app, "/static/style.css").await;
    assert_eq!(css.status, 200);
    assert!(css.content_type.starts_with("text/css"));
    assert!(css.body.contains("@media"));
    app.stop().await;
}

#[tokio::test]
async fn the_record_page_says_why_a_record_is_or_is_not_on_each_site() {
    let (scenario, options) = world();
    let app = spawn_app(scenario, options).await;
    app.wait_ready().await;

    // A record from hq: origin there, copied elsewhere.
    let winner = a_id("shared.example", "10.0.0.1");
    let body = html(&app, &format!("/records/{winner}")).await;
    assert!(state_row(&body, "hq/default").contains(">origin<"));
    assert!(state_row(&body, "shop/default").contains(">copied<"));

    // Refused by the console: skipped with its code.
    let printer = a_id("printer.branch.lan", "10.3.0.9");
    let body = html(&app, &format!("/records/{printer}")).await;
    let r = state_row(&body, "branch/default");
    assert!(r.contains(">skipped<"), "{r}");
    assert!(r.contains(SKIP_CODE), "{r}");
    assert!(state_row(&body, "shop/default").contains(">copied<"));
    assert!(
        row(&body, "class=\"events\"", "branch/default").contains("SKIPPED"),
        "the refusal is an event of the record"
    );

    // Filtered out by the target's domain filters.
    let db = a_id("db.internal.example", "10.1.0.40");
    let body = html(&app, &format!("/records/{db}")).await;
    let r = state_row(&body, "shop/default");
    assert!(r.contains(">not wanted<"), "{r}");
    assert!(r.contains("domain filters"), "{r}");
    assert!(r.contains("*.internal.example"), "{r}");
    assert!(state_row(&body, "branch/default").contains(">copied<"));

    // The same states in the matrix.
    let body = html(&app, "/matrix").await;
    let r = row(&body, "class=\"matrix\"", "db.internal.example");
    assert!(
        r.contains(">not wanted<") && r.contains("domain filters"),
        "{r}"
    );
    let r = row(&body, "class=\"matrix\"", "printer.branch.lan");
    assert!(r.contains(">skipped<") && r.contains(SKIP_CODE), "{r}");
    app.stop().await;
}

#[tokio::test]
async fn a_competing_origin_is_a_conflict_with_its_reason() {
    let app = spawn_app(
        Scenario::new()
            .console(
                console("hq").site(SiteSpec::new("default").policy(a("nas.example", "10.0.0.1"))),
            )
            .console(
                console("branch")
                    .site(SiteSpec::new("default").policy(a("nas.example", "10.9.9.9"))),
            )
            .console(console("shop").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;
    app.wait_ready().await;
    let conflicts = app.state.store().all_conflicts().await.unwrap();
    assert!(!conflicts.is_empty(), "the scenario makes a conflict");
    let c = &conflicts[0];
    let body = html(&app, &format!("/records/{}", c.record_id)).await;
    let sites = app.state.store().sites().await.unwrap();
    let label = sites.iter().find(|s| s.id == c.site_id).unwrap().label();
    let r = state_row(&body, &label);
    assert!(r.contains(">conflict<"), "{r}");
    assert!(r.contains("competing origin"), "{r}");
    // The engine's "site #N" in the detail is shown as the site's label.
    assert!(!r.contains("site #"), "{r}");
    let body = html(&app, &format!("/sites/{}", c.site_id)).await;
    assert!(row(&body, "id=\"conflicts\"", "nas.example").contains("competing origin"));
    let body = html(&app, "/").await;
    assert!(body.contains("open conflicts"));
    app.stop().await;
}

#[tokio::test]
async fn matrix_filters_by_domain_glob_and_type() {
    let (scenario, options) = world();
    let app = spawn_app(scenario, options).await;
    app.wait_ready().await;

    let body = html(&app, "/matrix?domain=*.hq.example").await;
    assert!(body.contains("nas.hq.example") && body.contains("xss.hq.example"));
    assert!(!body.contains("cctv.branch.example"));
    assert!(
        body.contains(r#"value="*.hq.example""#),
        "the form keeps the filter"
    );

    let body = html(&app, "/matrix?domain=*.hq.example&type=TXT").await;
    assert!(body.contains("xss.hq.example"));
    assert!(!body.contains("nas.hq.example"));
    assert!(body.contains(r#"<option value="TXT" selected>"#));

    let body = html(&app, "/matrix?type=a").await;
    assert!(body.contains("nas.hq.example") && !body.contains("xss.hq.example"));

    // Empty form fields are no filter.
    let body = html(&app, "/matrix?domain=&type=").await;
    assert!(body.contains("nas.hq.example") && body.contains("xss.hq.example"));

    let body = html(&app, "/matrix?domain=nothing.example").await;
    assert!(body.contains("No record matches"));
    app.stop().await;
}

#[tokio::test]
async fn history_filters_and_pages() {
    let mut site = SiteSpec::new("default");
    for i in 0..30 {
        site = site.policy(a(&format!("h{i}.page.example"), &format!("10.7.0.{i}")));
    }
    let app = spawn_app(
        Scenario::new()
            .console(console("hq").site(site))
            .console(console("branch").site(SiteSpec::new("default")))
            .console(console("shop").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;
    app.wait_ready().await;

    // 60 CREATED events: 50 on the first page, 10 on the second.
    let body = html(&app, "/history").await;
    assert_eq!(event_rows(&body), 50);
    assert!(body.contains("Events 1–50"));
    assert!(
        body.contains(r#"rel="next" href="/history?page=2""#),
        "{body}"
    );
    assert!(!body.contains("rel=\"prev\""), "no newer page on the first");
    let body = html(&app, "/history?page=2").await;
    assert_eq!(event_rows(&body), 10);
    assert!(body.contains("Events 51–60"));
    assert!(body.contains(r#"rel="prev" href="/history""#), "{body}");
    assert!(
        !body.contains("rel=\"next\""),
        "no older page after the last"
    );
    let body = html(&app, "/history?page=3").await;
    assert_eq!(event_rows(&body), 0);
    assert!(body.contains("No more events"));

    // Filters, and paging links that keep them.
    let body = html(&app, "/history?site=shop/default").await;
    assert_eq!(event_rows(&body), 30);
    assert!(!body.contains(">branch/default</a></td>"));
    assert!(body.contains(r#"<option value="shop/default" selected>"#));
    let body = html(&app, "/history?site=shop%2Fdefault&domain=h1*.page.example").await;
    assert_eq!(event_rows(&body), 11, "h1 and h10..h19");
    let body = html(&app, "/history?status=created&since=1h&run=1").await;
    assert_eq!(event_rows(&body), 50);
    assert!(body.contains(r#"<option value="CREATED" selected>"#));
    assert!(
        body.contains(r#"href="/history?status=CREATED&#38;since=1h&#38;run=1&#38;page=2""#),
        "the older link keeps the filters: {body}"
    );
    let body = html(&app, "/history?status=DELETED").await;
    assert!(body.contains("No event matches"));
    let body = html(&app, "/history?since=2999-01-01T00:00:00Z").await;
    assert_eq!(event_rows(&body), 0);
    // Blank form fields are no filter.
    let body = html(&app, "/history?site=&domain=&status=&since=&run=&page=").await;
    assert_eq!(event_rows(&body), 50);

    // A run in the overview links to its events.
    let body = html(&app, "/").await;
    assert!(body.contains(r#"href="/history?run=1""#));
    app.stop().await;
}

#[tokio::test]
async fn bad_query_values_get_a_400_page_naming_the_parameter() {
    let app = spawn_app(
        Scenario::new()
            .console(console("hq").site(SiteSpec::new("default")))
            .console(console("branch").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;
    app.wait_ready().await;
    for (path, param) in [
        ("/history?status=bogus", "status"),
        ("/history?page=0", "page"),
        ("/history?page=two", "page"),
        ("/history?page=-1", "page"),
        ("/history?since=yesterday", "since"),
        ("/history?site=nowhere/none", "site"),
        ("/history?site=default", "site"), // two sites are called default
        ("/history?run=abc", "run"),
        ("/history?domain=a%20b", "domain"),
        ("/matrix?type=PTR", "type"),
        ("/matrix?domain=%3Cb%3E", "domain"),
    ] {
        let page = get(&app, path).await;
        assert_eq!(page.status, 400, "GET {path}");
        assert!(page.content_type.starts_with("text/html"), "GET {path}");
        assert_frame(path, &page.body);
        assert!(
            page.body
                .contains(&format!("The query parameter `{param}` is wrong")),
            "GET {path}: the page names {param}:\n{}",
            page.body
        );
    }
    // The page says what to write instead.
    let page = get(&app, "/history?status=bogus").await;
    assert!(
        page.body
            .contains("CREATED, UPDATED, DELETED, SKIPPED, FAILED")
    );
    let page = get(&app, "/history?site=default").await;
    assert!(page.body.contains("branch/default") && page.body.contains("hq/default"));
    app.stop().await;
}

#[tokio::test]
async fn unknown_ids_and_paths_get_a_404_page() {
    let app = spawn_app(
        Scenario::new().console(console("hq").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;
    app.wait_ready().await;
    for path in [
        "/sites/999999",
        "/sites/abc",
        "/records/0000000000000000000000000000000000000000000000000000000000000000",
        "/records/not-a-record",
        "/no-such-page",
    ] {
        let page = get(&app, path).await;
        assert_eq!(page.status, 404, "GET {path}");
        assert!(page.content_type.starts_with("text/html"), "GET {path}");
        assert_frame(path, &page.body);
        assert!(page.body.contains("Not found"), "GET {path}");
    }
    // The API and non-browser clients keep JSON answers.
    let page = get_accepting(&app, "/api/v1/no-such-endpoint", "text/html").await;
    assert_eq!(page.status, 404);
    assert!(page.content_type.starts_with("application/json"));
    let page = get_accepting(&app, "/no-such-page", "*/*").await;
    assert_eq!(page.status, 404);
    assert!(page.content_type.starts_with("application/json"));
    app.stop().await;
}

#[tokio::test]
async fn user_input_is_escaped_everywhere() {
    let (scenario, options) = world();
    let app = spawn_app(scenario, options).await;
    app.wait_ready().await;
    let branch = site_id(&app, "branch/default").await;
    let xss = record_id("TXT", "xss.hq.example", XSS);
    assert!(
        app.state.store().record(&xss).await.unwrap().is_some(),
        "the TXT record is stored byte-exact"
    );
    let pages = [
        "/".to_owned(),
        "/matrix".to_owned(),
        "/history".to_owned(),
        format!("/records/{xss}"),
        format!("/sites/{branch}"),
        format!("/sites/{}", site_id(&app, "hq/default").await),
    ];
    for path in &pages {
        let body = html(&app, path).await;
        assert!(!body.contains(XSS), "GET {path}: the raw script tag");
        assert!(
            !body.contains("<b>Branch</b>"),
            "GET {path}: the raw site name"
        );
    }
    for path in ["/matrix", "/history", &format!("/records/{xss}")] {
        let body = html(&app, path).await;
        assert!(body.contains(XSS_ESCAPED), "GET {path}: the escaped text");
    }
    for path in ["/".to_owned(), format!("/sites/{branch}")] {
        let body = html(&app, &path).await;
        assert!(
            body.contains(BRANCH_ESCAPED),
            "GET {path}: the escaped name"
        );
    }
    // A query value echoed in an error page or a form is escaped too.
    let page = get(&app, "/history?status=%3Cscript%3Ealert(1)%3C/script%3E").await;
    assert_eq!(page.status, 400);
    assert!(!page.body.contains(XSS) && page.body.contains(XSS_ESCAPED));
    let page = get(&app, "/history?since=%22%3E%3Cscript%3E").await;
    assert_eq!(page.status, 400);
    assert!(!page.body.contains("\"><script>"));
    let page = get(&app, "/no-such-page/%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(page.status, 404);
    assert!(!page.body.contains(XSS), "{}", page.body);
    app.stop().await;
}

#[tokio::test]
async fn no_page_carries_a_secret() {
    let (scenario, options) = world();
    let app = spawn_app(scenario, options).await;
    app.wait_ready().await;
    let keys: Vec<String> = app
        .sim
        .consoles()
        .iter()
        .map(|c| c.api_key().to_owned())
        .collect();
    let mut paths = vec![
        "/".to_owned(),
        "/matrix".to_owned(),
        "/history".to_owned(),
        "/plan".to_owned(),
        "/history?status=bogus".to_owned(),
        "/sites/999999".to_owned(),
        "/static/style.css".to_owned(),
    ];
    for s in app.state.store().sites().await.unwrap() {
        paths.push(format!("/sites/{}", s.id));
    }
    for r in app.state.store().records_with_origins().await.unwrap() {
        paths.push(format!("/records/{}", r.record.id));
    }
    for path in &paths {
        let page = get(&app, path).await;
        assert!(
            page.status.is_success() || page.status.is_client_error(),
            "GET {path}"
        );
        assert!(!page.body.contains(TOKEN), "GET {path}: the web token");
        for key in &keys {
            assert!(!page.body.contains(key.as_str()), "GET {path}: an API key");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn the_plan_page_shows_pending_changes() {
    let app = spawn_app(
        Scenario::new()
            .console(
                console("hq").site(SiteSpec::new("default").policy(a("nas.example", "10.0.0.1"))),
            )
            .console(console("branch").site(SiteSpec::new("default"))),
        Options::default(),
    )
    .await;
    app.wait_ready().await;
    // A person adds a record at hq after the cycle: the plan creates it on branch.
    app.sim
        .console("hq")
        .unwrap()
        .create_policy(
            "default",
            &json!({"type": "A_RECORD", "domain": "new.example", "ipv4Address": "10.0.0.2", "ttlSeconds": 300, "enabled": true}),
        )
        .unwrap();
    let body = html(&app, "/plan").await;
    assert!(body.contains("Computed just now"), "{body}");
    let r = row(&body, "<tbody>", "new.example");
    assert!(
        r.contains(">create<") && r.contains("from hq/default"),
        "{r}"
    );
    assert!(body.contains("branch/default"));
    // A second look within the cache time shows the same plan, marked cached.
    let body = html(&app, "/plan").await;
    assert!(body.contains("cached") && body.contains("new.example"));
    app.stop().await;
}

#[tokio::test]
async fn withheld_deletes_are_shown_with_the_force_hint() {
    let app = spawn_app(
        Scenario::new()
            .console(
                console("hq").site(
                    SiteSpec::new("default")
                        .policy(a("w1.example", "10.0.0.1"))
                        .policy(a("w2.example", "10.0.0.2"))
                        .policy(a("w3.example", "10.0.0.3")),
                ),
            )
            .console(console("branch").site(SiteSpec::new("default"))),
        Options {
            sync_extra: "max_delete_fraction = 0.1\nthreshold_min_copies = 1\n".into(),
            ..Options::default()
        },
    )
    .await;
    app.wait_ready().await;
    app.wait_cycles(1).await;
    // A person deletes every record at their origin: the next cycle would delete every copy.
    let hq = app.sim.console("hq").unwrap();
    for p in hq.policies("default").unwrap() {
        let id = p["id"].as_str().unwrap().parse().unwrap();
        hq.delete_policy("default", id).unwrap();
    }
    sync_now(&app, 2).await;
    let branch = site_id(&app, "branch/default").await;
    let withheld = app
        .state
        .store()
        .site(branch)
        .await
        .unwrap()
        .unwrap()
        .withheld_deletes;
    assert_eq!(withheld, 3, "the scenario trips the threshold");

    let body = html(&app, "/").await;
    assert!(
        body.contains("Deletes withheld by the deletion threshold"),
        "{body}"
    );
    assert!(body.contains("unifi-dns-sync sync --force"));
    assert!(body.contains("branch/default (3)"));
    let body = html(&app, &format!("/sites/{branch}")).await;
    assert!(body.contains("3 deletes withheld") && body.contains("sync --force"));
    let body = html(
        &app,
        &format!("/records/{}", a_id("w1.example", "10.0.0.1")),
    )
    .await;
    assert!(body.contains("No origin is left"), "{body}");
    let r = state_row(&body, "branch/default");
    assert!(
        r.contains(">copied<") && r.contains("no longer wanted"),
        "{r}"
    );
    let body = html(&app, "/plan").await;
    assert!(body.contains("Withheld deletes") && body.contains("w2.example"));
    assert!(body.contains("sync --force"));
    let body = html(&app, "/history?status=SKIPPED").await;
    assert!(body.contains("threshold"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_controller_and_insecure_tls_are_flagged_on_the_overview() {
    const INLINE_KEY: &str = "old-inline-secret-key-4242";
    let app = spawn_app(
        Scenario::new().console(console("hq").site(SiteSpec::new("default"))),
        Options {
            // Nothing listens on the discard port: every request is refused at once.
            extra: format!(
                "\n[[controller]]\nname = \"old\"\nurl = \"https://127.0.0.1:9\"\napi_key = \"{INLINE_KEY}\"\ntls = \"insecure\"\ntimeout = \"1s\"\n"
            ),
            ..Options::default()
        },
    )
    .await;
    app.wait_ready().await;
    let body = html(&app, "/").await;
    let old = row(&body, "<h2>Controllers</h2>", "<strong>old</strong>");
    assert!(old.contains(">error<"), "{old}");
    assert!(old.contains(">insecure<"), "{old}");
    assert!(
        body.contains("Insecure TLS"),
        "the insecure setting is a warning"
    );
    let hq = row(&body, "<h2>Controllers</h2>", "<strong>hq</strong>");
    assert!(hq.contains(">reachable<"), "{hq}");
    assert!(body.contains("partial"), "the run is partial");
    assert!(!body.contains(INLINE_KEY));
    app.stop().await;
}
