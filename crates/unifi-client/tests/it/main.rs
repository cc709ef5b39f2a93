//! Integration tests of `unifi-client` against simulated consoles over HTTPS (no mocks).
//! One test binary with modules, to keep link time low.

mod support;

mod errors;
mod limits;
mod models;
mod paging;
mod retries;
mod tls;
