//! The dashboard pages (SPEC §7): server-rendered HTML, usable without JavaScript, readable on
//! a phone.
//!
//! | page | shows |
//! |---|---|
//! | `/` | controllers, sites with their health, the running state, the last runs |
//! | `/sites/{id}` | one site: settings, native records, copies it holds, conflicts, events |
//! | `/records/{id}` | one record: origins, its state on every managed site, its events |
//! | `/matrix?domain=&type=` | records × sites |
//! | `/history?site=&domain=&status=&since=&run=&page=` | sync events, filtered and paged |
//! | `/plan` | the current plan (a dry run, cached briefly) |
//!
//! Templates live in `templates/` (askama, auto-escaped: record values and site names are user
//! input, and nothing is ever marked `|safe`); the one stylesheet is `static/style.css`, served
//! from the binary. The security headers of [`super::router`] forbid inline scripts and styles,
//! so the pages have neither. No page carries a secret: API keys and the web token are never
//! handed to a template (only the key fingerprint the database stores).
//!
//! Decisions where the SPEC is silent:
//! - A record's state on a site is one of origin, copied, pending (a PENDING registry row, or
//!   wanted and not copied yet), conflict, skipped (the console refused it, with its code) or
//!   not wanted, with the reason in words ([`model::copy_state`], rendering the state that
//!   [`super::placement`] decides for the JSON API too); the record page lists every managed
//!   site, plus unmanaged sites that still hold a copy or a conflict.
//! - A record id nothing knows is a 404; a record that is gone but has events still gets its
//!   page with its history (auditability outlives the record).
//! - Bad query values are a 400 page naming the parameter; blank form fields mean "no filter".
//!   `/history` takes `site=controller/site` (as the CLI), `since=` a duration (`24h`) or an
//!   RFC 3339 time, `run=` a run id, and pages by 50 with `page=`; the matrix shows at most
//!   500 rows (the filter narrows it).
//! - Unknown paths get the HTML 404 page when the client accepts `text/html` and is not under
//!   `/api/` (see the router's fallback); everything else keeps the JSON error.
//! - "Last seen" of an origin and "verified" of a copy show the later of the stored time and the
//!   site's last complete read, since the store does not touch them every cycle.

mod history;
mod matrix;
mod model;
mod overview;
mod plan;
mod record;
mod site;
mod view;

use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::page))
        .route("/sites/{id}", get(site::page))
        .route("/records/{id}", get(record::page))
        .route("/matrix", get(matrix::page))
        .route("/history", get(history::page))
        .route("/plan", get(plan::page))
        .route("/static/style.css", get(stylesheet))
        .route("/static/favicon.svg", get(favicon))
}

const STYLE: &str = include_str!("../../static/style.css");
const FAVICON: &str = include_str!("../../static/favicon.svg");

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        STYLE,
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

/// What every page's frame needs: the title, the active navigation entry, whether a cycle runs.
pub struct Chrome {
    pub title: String,
    /// `overview`, `matrix`, `history`, `plan`, or empty.
    pub active: &'static str,
    pub running: bool,
}

impl Chrome {
    pub fn new(state: &AppState, title: impl Into<String>, active: &'static str) -> Chrome {
        Chrome {
            title: title.into(),
            active,
            running: state.health.is_running(),
        }
    }

    /// For pages rendered without the state (errors).
    fn plain(title: impl Into<String>) -> Chrome {
        Chrome {
            title: title.into(),
            active: "",
            running: false,
        }
    }
}

/// Renders a page as `text/html`.
fn html<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("rendering a dashboard page: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "the page could not be rendered; see the daemon's log",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    heading: String,
    message: String,
    /// Where to go instead: (href, text).
    back: Option<(String, String)>,
}

/// A page that could not be shown: 400 (a query parameter), 404 (an unknown id or path), 500.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    message: String,
    back: Option<(String, String)>,
}

impl PageError {
    /// A wrong query parameter: the message names it.
    pub fn bad_param(name: &str, problem: impl std::fmt::Display) -> PageError {
        PageError {
            status: StatusCode::BAD_REQUEST,
            message: format!("The query parameter `{name}` is wrong: {problem}"),
            back: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            back: None,
        }
    }

    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
            back: None,
        }
    }

    /// Adds a link to follow instead.
    pub fn back(mut self, href: impl Into<String>, text: impl Into<String>) -> PageError {
        self.back = Some((href.into(), text.into()));
        self
    }

    /// A malformed query string (not one parameter's value).
    fn query(rejection: QueryRejection, page: &str) -> PageError {
        PageError {
            status: StatusCode::BAD_REQUEST,
            message: format!("The query string is malformed: {}", rejection.body_text()),
            back: None,
        }
        .back(page.to_owned(), "Start again without filters")
    }
}

impl From<unifi_dns_sync_store::StoreError> for PageError {
    fn from(e: unifi_dns_sync_store::StoreError) -> PageError {
        tracing::error!("dashboard: database: {e}");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("The database could not be read: {e}"),
        )
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let heading = match self.status {
            StatusCode::BAD_REQUEST => "Bad request".to_owned(),
            StatusCode::NOT_FOUND => "Not found".to_owned(),
            s => s.canonical_reason().unwrap_or("Error").to_owned(),
        };
        let page = ErrorPage {
            chrome: Chrome::plain(format!("{} {heading}", self.status.as_u16())),
            status: self.status.as_u16(),
            heading,
            message: self.message,
            back: self.back,
        };
        html(self.status, &page)
    }
}

/// The HTML 404 page for a path no route serves (used by the router's fallback for browsers).
pub fn not_found_page(path: &str) -> Response {
    PageError::not_found(format!("There is no page at {path}."))
        .back("/", "Go to the overview")
        .into_response()
}

/// The query parameter's value, `None` when absent or blank (an empty form field).
fn param(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}
