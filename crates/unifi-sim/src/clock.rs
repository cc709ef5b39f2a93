//! Timestamps as consoles print them (RFC 3339, UTC, nanoseconds).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub fn now_rfc3339() -> String {
    rfc3339(now())
}

pub fn rfc3339(at: OffsetDateTime) -> String {
    // Formatting a UTC timestamp as RFC 3339 cannot fail for years 0..=9999.
    at.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}
