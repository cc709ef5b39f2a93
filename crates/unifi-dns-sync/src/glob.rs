//! Glob patterns for domain and site filters.
//!
//! `*` matches any run of characters (including none, and including dots), `?` matches exactly
//! one character; every other character matches itself, ignoring case (domains are lower-cased,
//! site names are not). There is no escaping and no character classes: DNS names cannot contain
//! `*` or `?` except as a wildcard label, and a pattern `*.example.com` matches the wildcard
//! record `*.example.com` itself too.
//!
//! The matcher is the classic two-pointer algorithm with one backtrack point: linear in practice
//! and never exponential, whatever the pattern.

/// Whether `name` matches `pattern` (see the module doc).
///
/// ```
/// use unifi_dns_sync::glob::glob_match;
/// assert!(glob_match("*.lan", "NAS.lan"));
/// assert!(glob_match("host-?", "host-1"));
/// assert!(!glob_match("*.lan", "lan"));
/// ```
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0usize, 0usize);
    // Position in the pattern just after the last `*`, and the name position it was tried at.
    let mut star: Option<(usize, usize)> = None;

    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi + 1, ni));
                pi += 1;
            }
            Some('?') => {
                pi += 1;
                ni += 1;
            }
            Some(&c) if same_char(c, n[ni]) => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                // Let the last `*` swallow one more character and retry.
                Some((after_star, tried_at)) => {
                    pi = after_star;
                    ni = tried_at + 1;
                    star = Some((after_star, tried_at + 1));
                }
                None => return false,
            },
        }
    }
    // The name is consumed: the rest of the pattern may only be stars.
    p[pi.min(p.len())..].iter().all(|&c| c == '*')
}

/// Whether `name` matches any of `patterns`.
pub fn glob_match_any<S: AsRef<str>>(patterns: &[S], name: &str) -> bool {
    patterns.iter().any(|p| glob_match(p.as_ref(), name))
}

fn same_char(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_ignore_case() {
        assert!(glob_match("nas.lan", "nas.lan"));
        assert!(glob_match("NAS.Lan", "nas.LAN"));
        assert!(!glob_match("nas.lan", "nas.lan.example"));
        assert!(!glob_match("nas.lan", "nas.la"));
        assert!(glob_match("", ""));
        assert!(!glob_match("", "a"));
        assert!(glob_match("Büro", "bÜRO"));
    }

    #[test]
    fn star_matches_any_run_including_dots_and_nothing() {
        assert!(glob_match("*", ""));
        assert!(glob_match("*", "anything.at.all"));
        assert!(glob_match("*.example.com", "a.b.example.com"));
        assert!(glob_match("*.example.com", "*.example.com"));
        assert!(!glob_match("*.example.com", "example.com"));
        assert!(glob_match("*example.com", "example.com"));
        assert!(glob_match("nas*", "nas"));
        assert!(glob_match("a*b*c", "abc"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(glob_match("**", "x"));
        assert!(glob_match("*.*", "a.b"));
        assert!(!glob_match("*.*", "ab"));
    }

    #[test]
    fn question_mark_is_exactly_one_char() {
        assert!(glob_match("host-?", "host-1"));
        assert!(!glob_match("host-?", "host-"));
        assert!(!glob_match("host-?", "host-12"));
        assert!(glob_match("??", "ab"));
        assert!(glob_match("?*", "a"));
        assert!(!glob_match("?*", ""));
        assert!(glob_match("h?st.*", "höst.lan"));
    }

    #[test]
    fn backtracking_is_not_exponential() {
        let name = "a".repeat(2_000);
        let pattern = format!("{}b", "*a".repeat(50));
        assert!(!glob_match(&pattern, &name));
        let pattern = "*a".repeat(50);
        assert!(glob_match(&pattern, &name));
    }

    #[test]
    fn any_of_several() {
        let pats = ["*.lan", "printer?.example.com"];
        assert!(glob_match_any(&pats, "nas.lan"));
        assert!(glob_match_any(&pats, "printer2.example.com"));
        assert!(!glob_match_any(&pats, "printer.example.com"));
        assert!(!glob_match_any::<&str>(&[], "nas.lan"));
    }
}
