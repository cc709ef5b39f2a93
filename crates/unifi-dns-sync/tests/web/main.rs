//! The daemon's HTTP side against simulated consoles: JSON API, metrics, health, the
//! dashboard pages, and the pages in a real headless browser.

mod api;
mod browser;
mod pages;
mod support;
