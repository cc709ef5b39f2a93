//! `unifi-client`: the UniFi Network Integration API as `unifi-dns-sync` uses it — the only
//! code in the project that talks HTTP to consoles.
//!
//! How it fits: the sync engine holds one [`Client`] per configured controller (SPEC §3
//! `[[controller]]`), built from [`Settings`]. Discovery calls [`Client::sites`],
//! [`Client::dns_policies`] and [`Client::clients`], which always return *complete* lists (every
//! page, `limit=200`, re-read once if the list changes underneath, otherwise
//! [`ClientError::ListChanged`]); the apply step calls [`Client::create_dns_policy`],
//! [`Client::update_dns_policy`] and [`Client::delete_dns_policy`]. The CLI's `check` uses
//! [`Client::info`] and `fingerprint` uses [`fetch_certificate_fingerprint`].
//!
//! - **Typed models** ([`model`]): [`DnsPolicy`] with [`PolicyData`] for the seven policy types,
//!   [`DnsPolicyBody`] that serialises to exactly the request schema (never `id` or
//!   `metadata`; `ttlSeconds` on A/AAAA/CNAME only, and always there), [`Site`],
//!   [`ConnectedClient`], [`AppInfo`]. Parsing ignores unknown extra fields and names the field
//!   when a required one is missing or mistyped.
//! - **Errors** ([`ClientError`]): connect (including TLS trust, with the reason), transport,
//!   timeout, API (status, `code`, `message` from the error envelope), decode, list changed,
//!   config. [`ClientError::is_refusal`] singles out the three DNS-policy conflict codes and
//!   [`ClientError::effect_unknown`] the writes whose outcome only the next read can settle.
//!   Messages name the controller and the request and never contain the API key.
//! - **Limits** (per client): a semaphore for writes (`max_parallel_writes`), one for reads
//!   (`max_parallel_reads`), a rate limiter spacing every attempt (`requests_per_second`), a
//!   per-attempt timeout, retries with exponential backoff and jitter for GETs (connection
//!   errors, timeouts, 5xx, 429 honouring `Retry-After`) and for writes only when they certainly
//!   did not take effect (connection refused, 429). Redirects are not followed (they could carry
//!   the key elsewhere); response bodies are capped at [`MAX_BODY_BYTES`].
//! - **TLS** ([`Trust`]): system roots, a CA file, a pinned certificate fingerprint, or insecure;
//!   always the ring provider, passed explicitly, so no process-wide provider is needed.
//! - **Metrics hook**: [`Client::with_observer`] is told about every HTTP attempt
//!   ([`RequestRecord`]).

#![warn(missing_docs)]

mod client;
pub mod error;
mod limits;
pub mod model;
mod settings;
mod tls;

pub use client::{
    API_PREFIX, Client, MAX_BODY_BYTES, MAX_LIST_ITEMS, Observer, PAGE_LIMIT, RequestRecord,
};
pub use error::{ClientError, ErrorBody, REFUSAL_CODES};
pub use model::{
    AppInfo, AppVersion, ClientKind, ConnectedClient, DecodeError, DeleteOutcome, DnsPolicy,
    DnsPolicyBody, PolicyData, PolicyType, Site,
};
pub use settings::{RetryPolicy, Settings, Trust};
pub use tls::{
    ParseFingerprintError, fetch_certificate_fingerprint, format_fingerprint, parse_fingerprint,
};
