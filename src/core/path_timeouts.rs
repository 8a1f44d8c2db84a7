//! Per-path idle timeouts (`SESSION_POLICY`): a request for a path under a configured prefix
//! sets its session's idle timeout, as a ColdFusion `Application.cfc` with its own
//! `sessionTimeout` does for the requests of its directory. `/admin/=300` ends a session
//! whose last request was under `/admin/` after five idle minutes. The longest matching
//! prefix wins; a request under no prefix leaves the session's timeout as it is (add `/=1200`
//! to set it back outside `/admin/`).

use super::protocol::MAX_TIMEOUT_S;

/// Path prefixes and the idle timeout (seconds) a request under each sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathTimeouts {
    /// Longest prefix first, so the first match is the longest.
    rules: Vec<(String, u64)>,
}

impl PathTimeouts {
    /// Parses `SESSION_POLICY`: comma-separated `<path prefix>=<seconds>` entries, such as
    /// `/admin/=300, /reports/=3600`; empty or `off` for none. `Err` says what is wrong.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.trim().eq_ignore_ascii_case("off") {
            return Ok(Self::default());
        }
        let mut rules: Vec<(String, u64)> = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((prefix, seconds)) = item.rsplit_once('=') else {
                return Err("each entry is <path prefix>=<seconds>, such as /admin/=300");
            };
            let prefix = prefix.trim();
            if !prefix.starts_with('/') || prefix.starts_with("//") || prefix.contains(['?', '#', ' ', '\\', '=']) {
                return Err("a path prefix must be a plain path such as /admin/");
            }
            let seconds = match seconds.trim().parse::<u64>() {
                Ok(s) if (1..=MAX_TIMEOUT_S).contains(&s) => s,
                _ => return Err("the timeout is whole seconds from 1 to 2592000 (30 days)"),
            };
            if rules.iter().any(|(p, _)| p == prefix) {
                return Err("a path prefix is listed twice");
            }
            rules.push((prefix.to_owned(), seconds));
        }
        rules.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Ok(Self { rules })
    }

    /// The idle timeout (seconds) a request for `path` (without the query string) sets, if
    /// any: the longest matching prefix's.
    pub fn timeout_for(&self, path: &str) -> Option<u64> {
        self.rules.iter().find(|(prefix, _)| path.starts_with(prefix.as_str())).map(|(_, s)| *s)
    }

    /// Whether no path sets a timeout.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_prefix_wins_and_other_paths_set_nothing() {
        let p = PathTimeouts::parse(" /admin/=300, /admin/reports/=3600 ,/app/=1200").unwrap();
        assert_eq!(p.timeout_for("/admin/users"), Some(300));
        assert_eq!(p.timeout_for("/admin/reports/q3"), Some(3600));
        assert_eq!(p.timeout_for("/app/"), Some(1200));
        assert_eq!(p.timeout_for("/admin"), None, "a prefix is matched as written");
        assert_eq!(p.timeout_for("/"), None);
        let root = PathTimeouts::parse("/=1200,/admin/=300").unwrap();
        assert_eq!((root.timeout_for("/x"), root.timeout_for("/admin/")), (Some(1200), Some(300)));
    }

    #[test]
    fn off_and_empty_mean_none() {
        for raw in ["", " ", "off", "OFF", ",,"] {
            assert!(PathTimeouts::parse(raw).unwrap().is_empty(), "{raw:?}");
        }
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        for raw in [
            "/admin/",
            "admin/=300",
            "//evil/=300",
            "/a?b=300",
            "/admin/=0",
            "/admin/=-5",
            "/admin/=5m",
            "/admin/=2592001",
            "/admin/=300,/admin/=600",
            "/a=b=300",
        ] {
            assert!(PathTimeouts::parse(raw).is_err(), "{raw:?}");
        }
        assert!(PathTimeouts::parse("/admin/=2592000").is_ok());
    }
}
