//! HTTPS with the console's generated self-signed certificate, and plain HTTP consoles.

use reqwest::Client;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::json;
use sha2::{Digest, Sha256};
use unifi_sim::{ConsoleSpec, Scenario, SiteSpec};

use crate::support::*;

/// `sha256:AB:CD:…` computed here, independently of the simulator.
fn sha256_fingerprint(der: &[u8]) -> String {
    let hex: Vec<String> = Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!("sha256:{}", hex.join(":"))
}

/// Every error in the chain, for matching on the cause.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(" / ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn a_stock_client_trusting_only_the_console_certificate_connects() {
    let (sim, api, _site) = start_hq().await;
    let info = sim.info("hq");
    assert!(
        info.base_url.starts_with("https://127.0.0.1:"),
        "{}",
        info.base_url
    );
    // `api` was built with tls_certs_only([console certificate]): no other root is trusted.
    let resp = api.get("/v1/info").await;
    assert_eq!(resp.expect(200), json!({"applicationVersion": "10.5.66"}));
    assert_eq!(resp.http_version, reqwest::Version::HTTP_2, "ALPN h2");
    // HTTP/1.1 clients are served too.
    let h1 = api.with_client(client_builder(&info).http1_only().build().expect("client"));
    let resp = h1.get("/v1/sites").await;
    assert_eq!(resp.http_version, reqwest::Version::HTTP_11);
    assert_eq!(resp.expect(200)["totalCount"], 1);
}

#[tokio::test]
async fn a_client_with_the_default_roots_fails_the_handshake() {
    let (_sim, api, _site) = start_hq().await;
    init_crypto();
    let stock = Client::builder().no_proxy().build().expect("client");
    let error = api
        .with_client(stock)
        .try_send(reqwest::Method::GET, "/v1/info", None)
        .await
        .expect_err("an untrusted self-signed certificate must fail");
    assert!(error.is_connect(), "{error:?}");
    let text = chain(&error).to_ascii_lowercase();
    assert!(text.contains("certificate"), "{text}");
}

#[tokio::test]
async fn the_fingerprint_is_the_sha256_of_the_presented_certificate() {
    let (sim, api, _site) = start_hq().await;
    let info = sim.info("hq");
    let client = client_builder(&info)
        .tls_info(true)
        .build()
        .expect("client");
    let resp = api.with_client(client).get("/v1/info").await;
    assert_eq!(resp.status, 200);
    let presented = resp
        .peer_certificate
        .expect("TLS info with the peer certificate");
    let fingerprint = info.cert_fingerprint.clone().expect("HTTPS console");
    assert_eq!(sha256_fingerprint(&presented), fingerprint);
    assert_eq!(unifi_sim::certificate_fingerprint(&presented), fingerprint);
    assert_eq!(fingerprint.len(), "sha256:".len() + 32 * 3 - 1);
    // The PEM in ConsoleInfo is that same certificate.
    let pem = info.cert_pem.expect("PEM");
    let from_pem = CertificateDer::from_pem_slice(pem.as_bytes()).expect("PEM parses");
    assert_eq!(from_pem.as_ref(), presented.as_slice());
}

#[tokio::test]
async fn each_console_has_its_own_certificate() {
    let sim = TestSim::start(
        Scenario::new()
            .console(hq())
            .console(ConsoleSpec::new("branch", "branch-key").site(SiteSpec::new("default"))),
    )
    .await;
    let hq = sim.info("hq");
    let branch = sim.info("branch");
    assert_ne!(hq.cert_fingerprint, branch.cert_fingerprint);
    // A client trusting the head office's certificate does not trust the branch.
    let hq_client = client_builder(&hq).build().expect("client");
    let error = sim
        .api("branch")
        .with_client(hq_client)
        .try_send(reqwest::Method::GET, "/v1/info", None)
        .await
        .expect_err("another console's certificate is not trusted");
    assert!(error.is_connect(), "{error:?}");
    sim.api("branch").get("/v1/info").await.expect(200);
}

#[tokio::test]
async fn a_plain_http_console_serves_http() {
    let sim = TestSim::start(
        Scenario::new().console(
            ConsoleSpec::new("plain", "plain-key")
                .plain_http()
                .site(SiteSpec::new("default")),
        ),
    )
    .await;
    let info = sim.info("plain");
    assert!(
        info.base_url.starts_with("http://127.0.0.1:"),
        "{}",
        info.base_url
    );
    assert_eq!(
        (info.cert_fingerprint.as_deref(), info.cert_pem.as_deref()),
        (None, None)
    );
    let api = sim.api("plain");
    let resp = api.get("/v1/sites").await;
    assert_eq!(resp.http_version, reqwest::Version::HTTP_11);
    assert_eq!(resp.expect(200)["data"][0]["internalReference"], "default");
    api.with_key(None)
        .get("/v1/info")
        .await
        .expect_code(401, "api.authentication.missing-credentials");
    // Speaking TLS to it fails.
    let https = Api {
        base_url: info.base_url.replace("http://", "https://"),
        ..api.clone()
    };
    https
        .try_send(reqwest::Method::GET, "/v1/info", None)
        .await
        .expect_err("no TLS on a plain console");
}

#[tokio::test]
async fn an_https_console_does_not_speak_plain_http() {
    let (sim, api, _site) = start_hq().await;
    let plain = Api {
        base_url: sim.info("hq").base_url.replace("https://", "http://"),
        ..api.clone()
    };
    let outcome = plain.try_send(reqwest::Method::GET, "/v1/info", None).await;
    assert!(outcome.is_err(), "plain HTTP to a TLS port: {outcome:?}");
}
