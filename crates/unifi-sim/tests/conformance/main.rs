//! Conformance suite of `unifi-sim`: the simulated consoles must answer like real UniFi Network
//! consoles (reference §2 and §6), and the simulator's own controls (faults, counters, control
//! endpoints, the binary) must do what they promise.
//!
//! Every response a test receives from the Integration API goes through the OpenAPI contract
//! check of the console's version (`support::Api` does it on every call), so a field the real API
//! does not have, a missing required field or a malformed error envelope fails the suite even
//! where a test does not look at that field.
//!
//! One binary for the whole suite keeps link time low; each test starts its own simulator (a few
//! milliseconds), so tests are independent and run in parallel.

#[path = "../support/openapi.rs"]
mod openapi;

mod support;

mod auth_tls;
mod binary;
mod control;
mod counters;
mod errors;
mod faults;
mod filters;
mod pagination;
mod policies;
mod versions;
