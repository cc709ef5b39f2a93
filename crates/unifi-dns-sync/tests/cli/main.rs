//! Command-line tests (SPEC §4): the real `unifi-dns-sync` binary as a child process against
//! simulated consoles running in this process over HTTPS, with a temporary config file and
//! SQLite database. Each test asserts exit codes, stdout (JSON parsed where `--output json`) and
//! stderr.

mod check;
mod config_errors;
mod daemon;
mod db;
mod demo;
mod legacy;
mod partial;
mod plan;
mod secrets;
mod site_filter;
mod support;
mod sync_status;
