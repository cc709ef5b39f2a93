//! Conversions between domain values and their stored representation.
//!
//! Timestamps are INTEGER unix milliseconds (UTC); sub-millisecond precision is dropped.

use std::str::FromStr;

use time::OffsetDateTime;

use crate::error::{Result, StoreError};

/// Unix milliseconds of `t` (rounded down), saturating far outside any realistic range.
pub(crate) fn to_ms(t: OffsetDateTime) -> i64 {
    let ms = t.unix_timestamp_nanos().div_euclid(1_000_000);
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// The time at `ms` unix milliseconds, UTC.
pub(crate) fn from_ms(ms: i64, context: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| StoreError::invalid_data(context, format!("timestamp {ms}: {e}")))
}

/// Like [`from_ms`] for a nullable column.
pub(crate) fn opt_from_ms(ms: Option<i64>, context: &str) -> Result<Option<OffsetDateTime>> {
    ms.map(|ms| from_ms(ms, context)).transpose()
}

/// Like [`to_ms`] for an optional time.
pub(crate) fn opt_to_ms(t: Option<OffsetDateTime>) -> Option<i64> {
    t.map(to_ms)
}

/// Parses a stored enum value.
pub(crate) fn parse_enum<T: FromStr<Err = String>>(text: &str, context: &str) -> Result<T> {
    text.parse()
        .map_err(|e: String| StoreError::invalid_data(context, e))
}

/// Serialises JSON for a TEXT column.
pub(crate) fn json_text(value: &serde_json::Value, context: &str) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::invalid_argument(context, e.to_string()))
}

/// Parses a JSON TEXT column.
pub(crate) fn json_value(text: &str, context: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::invalid_data(context, e.to_string()))
}

/// Turns a domain glob (`*` = any run of characters) into a LIKE pattern with `\` as escape.
pub(crate) fn glob_to_like(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len() + 4);
    for c in glob.to_lowercase().chars() {
        match c {
            '*' => out.push('%'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip() {
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).ok();
        let t = t.map(|t| t + time::Duration::milliseconds(123));
        let Some(t) = t else { return };
        assert_eq!(from_ms(to_ms(t), "x").ok(), Some(t));
        let before_epoch = OffsetDateTime::UNIX_EPOCH - time::Duration::nanoseconds(1);
        assert_eq!(to_ms(before_epoch), -1);
    }

    #[test]
    fn absurd_timestamps_are_errors_not_panics() {
        assert!(from_ms(i64::MAX, "x").is_err());
        assert!(from_ms(i64::MIN, "x").is_err());
    }

    #[test]
    fn globs() {
        assert_eq!(glob_to_like("*.Example.com"), "%.example.com");
        assert_eq!(glob_to_like("a_b%c\\"), "a\\_b\\%c\\\\");
    }
}
