//! Paths without a session (`SESSION_BYPASS`): static assets and the like go straight to the
//! origin — no session object call, no cookies set, no session headers — so the fifteen
//! assets of a page cost what a plain proxy costs. Session cookies are still removed before
//! forwarding (and, in guard mode, the origin cannot change its session cookies on them).

use super::session_policy::{self, PathCase};

/// The default: common static asset extensions.
pub const DEFAULT_EXTENSIONS: &[&str] = &[
    "css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "woff", "woff2", "ttf",
    "otf", "eot",
];

/// Which request paths have no session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bypass {
    /// Path prefixes (each starts with `/`), normalised as request paths are
    /// ([`session_policy::normalize`]).
    pub prefixes: Vec<String>,
    /// File extensions, lower-case, without the dot.
    pub extensions: Vec<String>,
}

impl Default for Bypass {
    fn default() -> Self {
        Self { prefixes: Vec::new(), extensions: DEFAULT_EXTENSIONS.iter().map(|e| (*e).to_owned()).collect() }
    }
}

impl Bypass {
    /// No path is bypassed (`SESSION_BYPASS=off`).
    pub fn off() -> Self {
        Self { prefixes: Vec::new(), extensions: Vec::new() }
    }

    /// These paths, with prefixes compared in `case` (`PATH_CASE`).
    pub fn with_case(mut self, case: PathCase) -> Self {
        for p in &mut self.prefixes {
            *p = session_policy::normalize(p, case);
        }
        self
    }

    /// Parses `SESSION_BYPASS`: a comma-separated list of path prefixes (`/static/`) and
    /// extensions (`.css` or `*.css`), or `off`. `Err` says what is wrong.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.trim().eq_ignore_ascii_case("off") {
            return Ok(Self::off());
        }
        let mut out = Self::off();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item.starts_with('/') {
                if item.starts_with("//") || item.contains(['?', '#', ' ', '\\']) {
                    return Err("a path prefix must be a plain path such as /static/");
                }
                out.prefixes.push(item.to_owned());
            } else if let Some(ext) = item.strip_prefix("*.").or_else(|| item.strip_prefix('.')) {
                if ext.is_empty() || !ext.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err("an extension is letters and digits, such as .css");
                }
                out.extensions.push(ext.to_ascii_lowercase());
            } else {
                return Err("each entry is a path prefix (/static/) or an extension (.css), or the list is off");
            }
        }
        Ok(out)
    }

    /// Whether a request for `path` (normalised, see [`session_policy::normalize`]) has no session.
    pub fn matches(&self, path: &str) -> bool {
        if self.prefixes.iter().any(|p| path.starts_with(p.as_str())) {
            return true;
        }
        let last = path.rsplit('/').next().unwrap_or("");
        match last.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => self.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_assets_are_bypassed_by_default() {
        let b = Bypass::default();
        for p in ["/style.css", "/a/b/app.JS", "/img/logo.png", "/fonts/x.woff2", "/favicon.ico"] {
            assert!(b.matches(p), "{p}");
        }
        for p in ["/", "/index.cfm", "/page.html", "/api/items", "/css", "/.css", "/dir.css/page.cfm"] {
            assert!(!b.matches(p), "{p}");
        }
    }

    #[test]
    fn prefixes_extensions_and_off() {
        let b = Bypass::parse("/static/, .txt, *.CSV").unwrap();
        assert!(b.matches("/static/anything.cfm") && b.matches("/r/report.csv") && b.matches("/robots.txt"));
        assert!(!b.matches("/style.css"), "an explicit list replaces the default");
        assert_eq!(Bypass::parse("off").unwrap(), Bypass::off());
        assert!(!Bypass::off().matches("/style.css"));
        for bad in ["static", "//x/", ".c s", "*.", "/a?b"] {
            assert!(Bypass::parse(bad).is_err(), "{bad}");
        }
    }
}
