//! TLS trust for consoles: one `rustls::ClientConfig` per controller, built with the ring
//! provider explicitly (the process never needs a global crypto provider), plus the
//! certificate-fingerprint helpers behind `unifi-dns-sync fingerprint URL`.
//!
//! The four [`Trust`] modes map to verifiers as follows:
//! - `System`: webpki with the operating system's roots (`rustls-native-certs`);
//! - `CaFile`: webpki with only the file's certificates as roots;
//! - `Fingerprint`: [`PinnedVerifier`] — SHA-256 of the end-entity certificate must equal the pin;
//!   chain, validity period and name are ignored;
//! - `Insecure`: [`PinnedVerifier`] without a pin.
//!
//! The last two still verify the TLS 1.2 and 1.3 handshake signatures against the presented
//! certificate, so the peer must hold the certificate's private key.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::error::ClientError;
use crate::settings::Trust;

/// The ring provider, the only one this crate uses.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the TLS configuration of one controller (`controller` names it in errors).
pub(crate) fn client_config(
    controller: &str,
    trust: &Trust,
) -> Result<rustls::ClientConfig, ClientError> {
    let provider = provider();
    let algorithms = provider.signature_verification_algorithms;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::config(controller, format!("TLS configuration: {e}")))?;
    let mut config = match trust {
        Trust::System => {
            let loaded = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (_added, _ignored) = roots.add_parsable_certificates(loaded.certs);
            if roots.is_empty() {
                let problems: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
                tracing::warn!(
                    controller,
                    problems = %problems.join("; "),
                    "no system root certificates found: connections with tls = \"verify\" will fail"
                );
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::CaFile(path) => {
            let file = path.display().to_string();
            if !path.is_file() {
                return Err(ClientError::config(
                    controller,
                    format!("CA file {file} does not exist or is not a file"),
                ));
            }
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| ClientError::config(controller, format!("CA file {file}: {e}")))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    ClientError::config(controller, format!("CA file {file}: invalid PEM: {e}"))
                })?;
            if certs.is_empty() {
                return Err(ClientError::config(
                    controller,
                    format!(
                        "CA file {file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
                    ),
                ));
            }
            let mut roots = RootCertStore::empty();
            for (i, cert) in certs.into_iter().enumerate() {
                roots.add(cert).map_err(|e| {
                    ClientError::config(
                        controller,
                        format!("CA file {file}: certificate #{}: {e}", i + 1),
                    )
                })?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Fingerprint(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                pin: Some(*pin),
                algorithms,
            }))
            .with_no_client_auth(),
        Trust::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                pin: None,
                algorithms,
            }))
            .with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Accepts the end-entity certificate whose SHA-256 equals `pin` (any certificate without a
/// pin), whatever its chain, validity period or names, and verifies the handshake signatures.
#[derive(Debug)]
pub(crate) struct PinnedVerifier {
    pin: Option<[u8; 32]>,
    algorithms: WebPkiSupportedAlgorithms,
}

/// The verifier's refusal; its text reaches [`ClientError::Connect`].
#[derive(Debug)]
pub(crate) struct FingerprintMismatch {
    expected: [u8; 32],
    got: [u8; 32],
}

impl fmt::Display for FingerprintMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "certificate fingerprint mismatch: expected {}, got {}",
            format_fingerprint(&self.expected),
            format_fingerprint(&self.got)
        )
    }
}

impl std::error::Error for FingerprintMismatch {}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.pin {
            None => Ok(ServerCertVerified::assertion()),
            Some(expected) => {
                let got = sha256(end_entity.as_ref());
                if got == expected {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                        rustls::OtherError(Arc::new(FingerprintMismatch { expected, got })),
                    )))
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `sha256:AB:CD:…` — the upper-case hex digest in colon-separated pairs, as the simulator and
/// browsers print it, ready to paste as `tls = { fingerprint = "…" }`.
pub fn format_fingerprint(digest: &[u8; 32]) -> String {
    let pairs: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    format!("sha256:{}", pairs.join(":"))
}

/// A certificate fingerprint that is not 32 bytes of hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid certificate fingerprint '{input}': {problem}")]
pub struct ParseFingerprintError {
    input: String,
    problem: String,
}

/// Parses a SHA-256 fingerprint written with or without the `sha256:` prefix and with or
/// without colons between the byte pairs, in any case (`sha256:AB:CD:…`, `abcd…`).
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32], ParseFingerprintError> {
    let fail = |problem: &str| ParseFingerprintError {
        input: text.chars().take(120).collect(),
        problem: problem.to_owned(),
    };
    let trimmed = text.trim();
    let body = match trimmed.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("sha256:") => &trimmed[7..],
        _ => trimmed,
    };
    let hex_digits: String = body.chars().filter(|c| *c != ':').collect();
    if hex_digits.len() != 64 {
        return Err(fail(&format!(
            "expected 64 hex digits (32 bytes), found {} characters",
            hex_digits.chars().count()
        )));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(&hex_digits, &mut out)
        .map_err(|_| fail("only hex digits and colons are allowed after 'sha256:'"))?;
    Ok(out)
}

/// Connects once to `url` without verifying the certificate and returns the SHA-256 of the
/// end-entity certificate the server presents (format it with [`format_fingerprint`]).
///
/// Any HTTP answer is fine; only the TLS handshake matters. `url` must be `https://`.
pub async fn fetch_certificate_fingerprint(
    url: &str,
    timeout: Duration,
) -> Result<[u8; 32], ClientError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ClientError::config(url, format!("invalid URL '{url}': {e}")))?;
    if parsed.scheme() != "https" {
        return Err(ClientError::config(
            url,
            "a certificate fingerprint needs an https:// URL",
        ));
    }
    let config = client_config(url, &Trust::Insecure)?;
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .tls_info(true)
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ClientError::config(url, format!("cannot build the HTTP client: {e}")))?;
    let path = parsed.path().to_owned();
    let response =
        http.get(parsed).send().await.map_err(|e| {
            crate::error::transport_error(url, "GET", &path, None, &e, timeout, false)
        })?;
    let info = response.extensions().get::<reqwest::tls::TlsInfo>();
    match info.and_then(|i| i.peer_certificate()) {
        Some(der) => Ok(sha256(der)),
        None => Err(ClientError::Connect {
            controller: url.to_owned(),
            method: "GET",
            path,
            cause: "the server presented no certificate".into(),
            tls: true,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_round_trip_in_every_spelling() {
        let mut digest = [0u8; 32];
        for (i, b) in digest.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(0xA0);
        }
        let formatted = format_fingerprint(&digest);
        assert!(formatted.starts_with("sha256:A0:"));
        assert_eq!(formatted.len(), 7 + 32 * 3 - 1);
        assert_eq!(parse_fingerprint(&formatted), Ok(digest));
        assert_eq!(parse_fingerprint(&formatted.to_lowercase()), Ok(digest));
        let bare = hex::encode(digest);
        assert_eq!(parse_fingerprint(&bare), Ok(digest));
        assert_eq!(parse_fingerprint(&bare.to_uppercase()), Ok(digest));
        assert_eq!(parse_fingerprint(&format!("SHA256:{bare}")), Ok(digest));
        assert_eq!(parse_fingerprint(&format!("  {formatted}\n")), Ok(digest));
    }

    #[test]
    fn bad_fingerprints_are_refused_without_panicking() {
        for bad in [
            "",
            "sha256:",
            "abc",
            "sha256:zz",
            &"g".repeat(64),
            &"a".repeat(66),
            "é",
        ] {
            let e = parse_fingerprint(bad).unwrap_err();
            assert!(e.to_string().contains("invalid certificate fingerprint"));
        }
    }

    #[test]
    fn every_trust_mode_builds() {
        for trust in [Trust::System, Trust::Insecure, Trust::Fingerprint([7; 32])] {
            client_config("hq", &trust).unwrap();
        }
        let missing = client_config("hq", &Trust::CaFile("/nonexistent/ca.pem".into()));
        let text = missing.unwrap_err().to_string();
        assert!(
            text.contains("/nonexistent/ca.pem") && text.contains("hq"),
            "{text}"
        );
    }
}
