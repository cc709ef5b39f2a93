//! The console's self-signed certificate, generated at start like a fresh UniFi console's.

use std::sync::Arc;

use sha2::{Digest, Sha256};

pub struct ConsoleCertificate {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// `sha256:AB:CD:…`
    pub fingerprint: String,
    pub pem: String,
}

/// A self-signed leaf (no CA flag) naming the loopback addresses and the names consoles use.
pub fn generate() -> Result<ConsoleCertificate, String> {
    let names = vec![
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
        "localhost".to_owned(),
        "unifi".to_owned(),
        "unifi.local".to_owned(),
    ];
    let certified = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("cannot generate a certificate: {e}"))?;
    let der = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der())
        .map_err(|e| format!("cannot encode the private key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .map_err(|e| format!("TLS configuration: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(ConsoleCertificate {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        fingerprint: fingerprint(der.as_ref()),
        pem: certified.cert.pem(),
    })
}

/// `sha256:` and the upper-case hex digest in colon-separated pairs.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let pairs: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    format!("sha256:{}", pairs.join(":"))
}
