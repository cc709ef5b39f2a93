//! How the pages put a record's state on a site, and a site's read, into words.
//!
//! The decision itself is not made here: [`crate::web::placement`] (shared with the JSON API)
//! holds the sites, copies and conflicts and tells a record's state on a site and why
//! ([`state_on`], following SPEC §5.2–§5.3). [`copy_state`] turns that into a [`Cell`]: a
//! badge (origin, copied, pending, conflict, skipped, not wanted, not possible) and the reason
//! in words; [`leftover_state`] does the same for a site that is no longer managed but still
//! holds a copy or a conflict.

use unifi_dns_sync_store::{Conflict, Origin, OriginKind, StoredRecord};

use super::view::{name_sites, when};
use crate::config::Config;
use crate::web::placement::{Placement, SiteInfo, Sites, State, state_on};

/// A record's state on one site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Origin,
    Copied,
    Pending,
    Conflict,
    Skipped,
    NotWanted,
}

impl Kind {
    /// The CSS class of its badge.
    pub fn class(self) -> &'static str {
        match self {
            Kind::Origin => "origin",
            Kind::Copied => "ok",
            Kind::Pending => "pending",
            Kind::Conflict | Kind::Skipped => "bad",
            Kind::NotWanted => "muted",
        }
    }
}

/// What a page shows for one (record, site) pair.
pub struct Cell {
    pub kind: Kind,
    /// Short text: `origin`, `copied`, `pending`, `conflict`, `skipped`, `not wanted`.
    pub label: &'static str,
    /// Why, in words.
    pub detail: String,
    pub class: &'static str,
}

impl Cell {
    fn new(kind: Kind, label: &'static str, detail: String) -> Cell {
        Cell {
            kind,
            label,
            detail,
            class: kind.class(),
        }
    }
}

/// What a page shows for `record` on `target` (a managed site): [`state_on`] in words.
pub fn copy_state(
    record: &StoredRecord,
    target: &SiteInfo,
    sites: &Sites,
    placement: &Placement,
    config: &Config,
) -> Cell {
    let st = state_on(record, target, sites, placement, config);
    match st.state {
        State::Origin(o) => Cell::new(
            Kind::Origin,
            "origin",
            format!("native here: {}", origin_source(o)),
        ),
        State::Skipped(c, code) => Cell::new(
            Kind::Skipped,
            "skipped",
            format!(
                "the console refused it with {code}{}",
                conflict_tail(c, sites)
            ),
        ),
        State::Conflict(c) => Cell::new(
            Kind::Conflict,
            "conflict",
            format!("{}{}", conflict_reason(&c.reason), conflict_tail(c, sites)),
        ),
        State::Present(copy) => {
            let mut detail = format!(
                "our copy, policy {}",
                copy.policy_id.as_deref().unwrap_or("?")
            );
            if let Some(source) = copy.source_site_id {
                detail.push_str(&format!(", copied from {}", sites.label(source)));
            }
            if let Err(why) = st.wanted {
                detail.push_str(&format!(
                    "; no longer wanted here ({why}): it is deleted at the next cycle{}",
                    if target.site.withheld_deletes > 0 {
                        " unless the deletion threshold withholds it"
                    } else {
                        ""
                    }
                ));
            }
            Cell::new(Kind::Copied, "copied", detail)
        }
        State::Pending(copy) => Cell::new(
            Kind::Pending,
            "pending",
            format!(
                "a create was started {} and is not confirmed yet; the next read settles it",
                when(copy.created_at).text
            ),
        ),
        State::NotWanted => Cell::new(
            Kind::NotWanted,
            "not wanted",
            st.wanted.err().unwrap_or_default(),
        ),
        State::Unsupported => Cell::new(
            Kind::NotWanted,
            "not possible",
            "the console has no DNS policies (needs Network 10.1.68 or later)".into(),
        ),
        State::Missing if !target.site.last_read_complete => Cell::new(
            Kind::Pending,
            "pending",
            format!(
                "wanted; waiting for a complete read of this site{}",
                target
                    .site
                    .last_error
                    .as_deref()
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default()
            ),
        ),
        State::Missing => Cell::new(
            Kind::Pending,
            "pending",
            "wanted; not copied yet: the next cycle creates it".into(),
        ),
    }
}

/// `: detail; since …` of a conflict (the detail's `site #N` named).
fn conflict_tail(c: &Conflict, sites: &Sites) -> String {
    let detail = name_sites(c.detail.as_deref().unwrap_or_default(), &sites.labels);
    format!(
        "{}; since {}",
        if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        },
        when(c.since).text
    )
}

/// What a page shows for `record` on a site that is not managed but still holds a copy or a
/// conflict of it ([`Sites::leftovers`]): the copy is left as it is.
pub fn leftover_state(
    record: &StoredRecord,
    site: &SiteInfo,
    sites: &Sites,
    placement: &Placement,
    config: &Config,
) -> Option<Cell> {
    let st = state_on(record, site, sites, placement, config);
    let why = site.unmanaged_why.as_deref().unwrap_or_default();
    match (st.copy, st.conflict) {
        (Some(copy), _) => Some(Cell::new(
            Kind::Copied,
            "copied",
            format!(
                "our copy, policy {}; the site is not managed ({why}), so the copy is left as it is",
                copy.policy_id.as_deref().unwrap_or("?")
            ),
        )),
        (None, Some(c)) => Some(Cell::new(
            Kind::Conflict,
            "conflict",
            format!(
                "{} (the site is not managed: {why})",
                conflict_reason(&c.reason)
            ),
        )),
        (None, None) => None,
    }
}

/// How a site's last read went, in words, with the CSS class of its badge.
pub fn read_state(info: &SiteInfo) -> (&'static str, &'static str) {
    let site = &info.site;
    if !info.managed {
        ("not managed", "muted")
    } else if site.last_read_at.is_none() {
        ("not read yet", "muted")
    } else if site.last_read_complete {
        ("complete", "ok")
    } else {
        ("incomplete", "bad")
    }
}

/// `DNS policy 1234…` or `client aa:bb:…`.
pub fn origin_source(o: &Origin) -> String {
    match o.kind {
        OriginKind::Policy => format!("DNS policy {}", o.source_id),
        OriginKind::Client => format!("client {}", o.source_id),
    }
}

/// A conflict reason in words.
pub fn conflict_reason(reason: &str) -> String {
    match reason {
        "shadowed" => "shadowed by this site's own record".into(),
        "competing-origin" => "competing origin: another site's record wins this name".into(),
        other => other.to_owned(),
    }
}
