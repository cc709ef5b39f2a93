//! `/matrix?domain=GLOB&type=T`: every record × every managed site, each cell origin, copied,
//! pending, conflict/skipped or not wanted (the reason is the cell's tooltip and on the record
//! page).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::model::{Cell, copy_state};
use super::view::{record_href, site_href};
use super::{Chrome, PageError, html, param};
use crate::record_type::RecordType;
use crate::web::AppState;
use crate::web::placement::{Placement, Sites, listing_order, record_matches};

/// More rows than this make a page no one reads; the filter narrows it.
const MAX_ROWS: usize = 500;

#[derive(Deserialize)]
pub(super) struct MatrixQuery {
    domain: Option<String>,
    #[serde(rename = "type")]
    rtype: Option<String>,
}

#[derive(Template)]
#[template(path = "matrix.html")]
struct MatrixPage {
    chrome: Chrome,
    domain: String,
    /// (type, selected)
    types: Vec<(&'static str, bool)>,
    columns: Vec<Column>,
    rows: Vec<Row>,
    total: usize,
    matching: usize,
    truncated: bool,
}

struct Column {
    label: String,
    name: String,
    href: String,
}

struct Row {
    href: String,
    rtype: String,
    name: String,
    value: String,
    cells: Vec<Cell>,
}

/// Checks a domain glob: DNS name characters plus `*` and `?`.
pub(super) fn domain_glob(raw: &str) -> Result<String, PageError> {
    if raw.len() > 253 {
        return Err(PageError::bad_param(
            "domain",
            "it is longer than a domain name can be (253 characters)",
        ));
    }
    if let Some(bad) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '*' | '?')))
    {
        return Err(PageError::bad_param(
            "domain",
            format!(
                "{raw:?} contains {bad:?}; a domain glob holds letters, digits, '.', '-', '_' and the wildcards '*' (any run) and '?' (one character), e.g. *.example.lan"
            ),
        ));
    }
    Ok(raw.to_ascii_lowercase())
}

pub(super) fn record_type(raw: &str) -> Result<RecordType, PageError> {
    raw.parse::<RecordType>().map_err(|_| {
        PageError::bad_param(
            "type",
            format!(
                "{raw:?} is not a record type; use one of {}",
                RecordType::ALL.map(|t| t.as_str()).join(", ")
            ),
        )
    })
}

pub(super) async fn page(
    State(state): State<AppState>,
    query: Result<Query<MatrixQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(query) = query.map_err(|e| PageError::query(e, "/matrix"))?;
    let back = |e: PageError| e.back("/matrix", "Show the whole matrix");
    let domain = param(&query.domain)
        .map(domain_glob)
        .transpose()
        .map_err(back)?;
    let rtype = param(&query.rtype)
        .map(record_type)
        .transpose()
        .map_err(back)?;

    let store = state.store();
    let config = state.engine.config();
    let sites = Sites::new(store.sites().await?, config);
    let mut records = store.records_with_origins().await?;
    let placement = Placement::load(store, None).await?;
    let total = records.len();
    records.retain(|r| record_matches(r, domain.as_deref(), rtype));
    records.sort_by(listing_order);
    let matching = records.len();
    let managed: Vec<_> = sites.managed().collect();
    let rows = records
        .iter()
        .take(MAX_ROWS)
        .map(|r| Row {
            href: record_href(&r.record.id),
            rtype: r.record.rtype.clone(),
            name: r.record.name.clone(),
            value: r.record.value.clone(),
            cells: managed
                .iter()
                .map(|t| copy_state(r, t, &sites, &placement, config))
                .collect(),
        })
        .collect();
    let page = MatrixPage {
        chrome: Chrome::new(&state, "Propagation matrix", "matrix"),
        domain: domain.unwrap_or_default(),
        types: RecordType::ALL
            .iter()
            .map(|t| (t.as_str(), Some(*t) == rtype))
            .collect(),
        columns: managed
            .iter()
            .map(|s| Column {
                label: s.site.label(),
                name: s.site.name.clone(),
                href: site_href(s.site.id),
            })
            .collect(),
        rows,
        total,
        matching,
        truncated: matching > MAX_ROWS,
    };
    Ok(html(StatusCode::OK, &page))
}
