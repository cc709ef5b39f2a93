//! The four trust modes and the fingerprint helper, against the console's self-signed cert.

use std::time::Duration;

use unifi_client::{
    Client, ClientError, Trust, fetch_certificate_fingerprint, format_fingerprint,
    parse_fingerprint,
};

use crate::support::{Recorder, info, settings, start_one};

#[tokio::test]
async fn the_right_pin_connects() {
    let sim = start_one().await;
    let info = info(&sim, "hq");
    let client = Client::new(settings(&info)).unwrap();
    let app = client.info().await.unwrap();
    assert_eq!(app.application_version, "10.5.66");
    assert!(app.supports_dns_policies());
}

#[tokio::test]
async fn a_pin_one_bit_off_fails_with_a_fingerprint_mismatch() {
    let sim = start_one().await;
    let info = info(&sim, "hq");
    let real = info.cert_fingerprint.clone().unwrap();
    let mut pin = parse_fingerprint(&real).unwrap();
    pin[31] ^= 0x01;
    let recorder = Recorder::default();
    let client =
        recorder.attach(Client::new(settings(&info).with_trust(Trust::Fingerprint(pin))).unwrap());
    let err = client.info().await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, ClientError::Connect { tls: true, .. }),
        "{err:?}"
    );
    assert!(err.is_tls());
    assert!(
        text.contains(&format!(
            "certificate fingerprint mismatch: expected {}, got {real}",
            format_fingerprint(&pin)
        )),
        "{text}"
    );
    assert!(
        text.contains("controller 'hq'") && text.contains("GET /proxy/network/integration/v1/info"),
        "{text}"
    );
    // A trust failure is not retried.
    assert_eq!(recorder.count("GET", "/v1/info"), 1);
    assert_eq!(recorder.all()[0].status, None);
}

#[tokio::test]
async fn a_ca_file_with_the_console_certificate_works() {
    let sim = start_one().await;
    let info = info(&sim, "hq");
    let path = std::env::temp_dir().join(format!("unifi-client-ca-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&path, info.cert_pem.clone().unwrap()).unwrap();
    let client = Client::new(settings(&info).with_trust(Trust::CaFile(path.clone()))).unwrap();
    let result = client.info().await;
    let _ = std::fs::remove_file(&path);
    assert_eq!(result.unwrap().application_version, "10.5.66");
}

#[tokio::test]
async fn bad_ca_files_are_named() {
    let sim = start_one().await;
    let info = info(&sim, "hq");
    let missing = std::env::temp_dir().join("unifi-client-no-such-ca.pem");
    let err = Client::new(settings(&info).with_trust(Trust::CaFile(missing.clone()))).unwrap_err();
    assert!(matches!(err, ClientError::Config { .. }));
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );

    let garbage =
        std::env::temp_dir().join(format!("unifi-client-bad-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let err = Client::new(settings(&info).with_trust(Trust::CaFile(garbage.clone()))).unwrap_err();
    let _ = std::fs::remove_file(&garbage);
    assert!(matches!(err, ClientError::Config { .. }));
    let text = err.to_string();
    assert!(
        text.contains(&garbage.display().to_string()) && text.contains("controller 'hq'"),
        "{text}"
    );
}

#[tokio::test]
async fn system_roots_refuse_the_self_signed_console() {
    let sim = start_one().await;
    let info = info(&sim, "hq");
    let client = Client::new(settings(&info).with_trust(Trust::System)).unwrap();
    let err = client.info().await.unwrap_err();
    assert!(err.is_tls(), "{err:?}");
    assert!(
        err.to_string().contains("invalid peer certificate"),
        "{err}"
    );
}

#[tokio::test]
async fn insecure_accepts_the_console() {
    let sim = start_one().await;
    let info = info(&sim, "hq");
    let client = Client::new(settings(&info).with_trust(Trust::Insecure)).unwrap();
    assert_eq!(client.info().await.unwrap().application_version, "10.5.66");
}

#[tokio::test]
async fn the_fetched_fingerprint_is_the_console_s() {
    let sim = start_one().await;
    let info = info(&sim, "hq");
    let digest = fetch_certificate_fingerprint(&info.base_url, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(Some(format_fingerprint(&digest)), info.cert_fingerprint);
    // Round trip: the printed form is accepted as a pin.
    assert_eq!(
        parse_fingerprint(&format_fingerprint(&digest)).unwrap(),
        digest
    );
    let http = fetch_certificate_fingerprint("http://127.0.0.1:1", Duration::from_secs(1)).await;
    assert!(matches!(http, Err(ClientError::Config { .. })));
}
