//! Builds the API client settings of a configured controller (the one place where the
//! configuration's TLS mode and limits meet `unifi-client`).

use unifi_client::{RetryPolicy, Settings, Trust};

use crate::config::{ControllerConfig, TlsMode};

pub fn settings_for(controller: &ControllerConfig) -> Settings {
    let trust = match &controller.tls {
        TlsMode::Verify => Trust::System,
        TlsMode::CaFile(path) => Trust::CaFile(path.clone()),
        TlsMode::Fingerprint(pin) => Trust::Fingerprint(*pin),
        TlsMode::Insecure => Trust::Insecure,
    };
    Settings {
        name: controller.name.clone(),
        base_url: controller.url.clone(),
        api_key: controller.api_key.expose().to_owned(),
        trust,
        max_parallel_writes: controller.max_parallel_writes.max(1) as usize,
        max_parallel_reads: controller.max_parallel_reads.max(1) as usize,
        requests_per_second: controller.requests_per_second,
        timeout: controller.timeout,
        retry: RetryPolicy::default(),
    }
}
