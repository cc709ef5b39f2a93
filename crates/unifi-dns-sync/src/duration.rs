//! Durations as written in the config file and on the command line.
//!
//! Accepted: a number with a unit (`30s`, `5m`, `2h`, `90d`, `1w`, `500ms`, several parts such as
//! `1h30m` or `1h 30m`, long unit names like `5 minutes`), or a bare whole number of seconds
//! (`300`). Parsing is [`humantime`]'s; [`format_duration`] prints the shortest form we accept
//! back (`5m`, `90d`, `1h30m`), never humantime's months.

use std::time::Duration;

/// Parses a duration (see the module doc). The error says what was wrong and what to write.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(
            "is empty; write a number with a unit, e.g. \"30s\", \"5m\", \"2h\", \"90d\"".into(),
        );
    }
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return trimmed
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("{trimmed:?} is too large a number of seconds"));
    }
    humantime::parse_duration(trimmed).map_err(|e| {
        format!(
            "{trimmed:?} is not a duration ({e}); write a number with a unit, \
             e.g. \"30s\", \"5m\", \"2h\", \"90d\" or \"1h30m\""
        )
    })
}

/// A point in time for a `since` filter (`history --since`, `/history?since=`, the events API):
/// an RFC 3339 time, or a duration meaning that long before `now`. The error says what to write.
pub fn parse_since(text: &str, now: time::OffsetDateTime) -> Result<time::OffsetDateTime, String> {
    if let Ok(at) =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
    {
        return Ok(at);
    }
    let d = parse_duration(text)
        .map_err(|e| format!("{e}; or write an RFC 3339 time such as 2025-01-31T08:00:00Z"))?;
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| now.checked_sub(d))
        .ok_or_else(|| format!("{:?} is too long ago", text.trim()))
}

/// Formats a duration compactly: `0s`, `10s`, `5m`, `1h30m`, `90d`, `1s500ms`.
pub fn format_duration(d: Duration) -> String {
    const UNITS: [(&str, u64); 4] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
    let mut secs = d.as_secs();
    let mut nanos = d.subsec_nanos();
    let mut out = String::new();
    for (unit, size) in UNITS {
        let n = secs / size;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            secs %= size;
        }
    }
    let millis = nanos / 1_000_000;
    if millis > 0 {
        out.push_str(&format!("{millis}ms"));
        nanos %= 1_000_000;
    }
    let micros = nanos / 1_000;
    if micros > 0 {
        out.push_str(&format!("{micros}us"));
        nanos %= 1_000;
    }
    if nanos > 0 {
        out.push_str(&format!("{nanos}ns"));
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_time_or_a_duration_ago() {
        let now = time::macros::datetime!(2026-11-29 12:00 UTC);
        assert_eq!(
            parse_since("1h", now).unwrap(),
            time::macros::datetime!(2026-11-29 11:00 UTC)
        );
        assert_eq!(
            parse_since("2026-01-31T08:00:00Z", now).unwrap(),
            time::macros::datetime!(2026-01-31 08:00 UTC)
        );
        assert!(parse_since("soon", now).unwrap_err().contains("RFC 3339"));
        assert!(
            parse_since("99999999999d", now)
                .unwrap_err()
                .contains("too long")
        );
    }

    #[test]
    fn parses_units_and_bare_seconds() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration(" 300 "), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn refuses_garbage_with_a_hint() {
        for bad in [
            "5x",
            "",
            "m5",
            "-5m",
            "five minutes",
            "99999999999999999999999",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(
                err.contains("e.g.") || err.contains("too large"),
                "{bad:?}: {err}"
            );
        }
        assert!(parse_duration("5x").unwrap_err().contains("\"5x\""));
    }

    #[test]
    fn formats_compactly_and_round_trips() {
        for (secs, text) in [
            (0, "0s"),
            (10, "10s"),
            (300, "5m"),
            (5_400, "1h30m"),
            (86_400, "1d"),
            (90 * 86_400, "90d"),
        ] {
            let d = Duration::from_secs(secs);
            assert_eq!(format_duration(d), text);
            assert_eq!(parse_duration(text), Ok(d));
        }
        let d = Duration::from_millis(1_500);
        assert_eq!(format_duration(d), "1s500ms");
        assert_eq!(parse_duration(&format_duration(d)), Ok(d));
    }
}
