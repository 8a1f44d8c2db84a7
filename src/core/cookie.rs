//! Cookies: reading the session pair from `Cookie` headers, and writing `Set-Cookie` values
//! for new, refreshed and removed session cookies.

use super::{
    clock::UnixMs,
    config::{
        error::{err, ConfigError},
        parse::{parse_bool, parse_domain, Vars},
    },
    cookie_header::{rebuild, CookieHeader, Rebuilt, SessionNames},
    date::http_date,
};

/// At most this many candidate values per name are considered (browsers send one per
/// Domain/Path variant).
const MAX_CANDIDATES: usize = 4;

/// Names of the session cookies (ColdFusion's).
pub const CFID: &str = "CFID";
pub const CFTOKEN: &str = "CFTOKEN";

/// The prefix that makes browsers accept a cookie only if it is `Secure`, host-only and
/// `Path=/` (`COOKIE_HOST_PREFIX`): a sibling subdomain cannot plant it.
pub const HOST_PREFIX: &str = "__Host-";

/// The CFID and CFTOKEN values a request carried, in the order sent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SessionCookies {
    pub cfid: Vec<String>,
    pub cftoken: Vec<String>,
}

/// Whether cookie `name` is session cookie `base` (`CFID` or `CFTOKEN`): the name matches
/// case-insensitively (`cfid` from Lucee, `CFID` from ACF); with `prefixed`, only
/// `__Host-<base>` counts (a plain `CFID` may have been planted by another subdomain).
fn is_named(name: &str, base: &str, prefixed: bool) -> bool {
    let name = if prefixed {
        match name.strip_prefix(HOST_PREFIX) {
            Some(rest) => rest,
            None => return false,
        }
    } else {
        name
    };
    name.eq_ignore_ascii_case(base)
}

/// The name of a cookie pair (`name=value`) or of a `Set-Cookie` value, trimmed (also for a
/// value without `=`, which [`SetCookie::parse`] refuses).
pub fn cookie_name(cookie: &str) -> &str {
    cookie.split(['=', ';']).next().unwrap_or("").trim()
}

/// Whether cookie `name` is one of the edge's, in any form (plain or `__Host-`, any case).
pub fn is_session_cookie(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let bare = lower.strip_prefix("__host-").unwrap_or(&lower);
    bare == "cfid" || bare == "cftoken"
}

/// Reads the session cookies from a `Cookie` header (its size was checked before it was
/// parsed). Malformed pairs are skipped. `prefixed`: only `__Host-CFID`/`__Host-CFTOKEN`
/// count (`COOKIE_HOST_PREFIX`).
pub fn read_session_cookies(header: &CookieHeader, prefixed: bool) -> SessionCookies {
    let mut out = SessionCookies::default();
    for (name, value) in header.named() {
        let value = value.trim_matches('"');
        let list = match name {
            n if is_named(n, CFID, prefixed) => &mut out.cfid,
            n if is_named(n, CFTOKEN, prefixed) => &mut out.cftoken,
            _ => continue,
        };
        if !value.is_empty() && list.len() < MAX_CANDIDATES && !list.iter().any(|v| v == value) {
            list.push(value.to_owned());
        }
    }
    out
}

/// The names of the edge's own session cookies, in every form it writes them.
pub const EDGE_COOKIES: [&str; 4] = ["CFID", "CFTOKEN", "__Host-CFID", "__Host-CFTOKEN"];

/// The `Cookie` header for the origin in edge mode: the client's, without any pair a server
/// may read as one of the edge's cookies ([`rebuild`]): the CFTOKEN must never reach the
/// origin, and the CFID arrives as `X-Session-Id`. Every other pair byte for byte, in order.
pub fn strip_session_cookies(header: &CookieHeader) -> Rebuilt {
    rebuild(header, &SessionNames::new(&EDGE_COOKIES), &|_, _| false)
}

/// How long session cookies live in the browser (`COOKIE_EXPIRY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CookieExpiry {
    /// A browser-session cookie (no Max-Age/Expires): gone when the browser closes.
    #[default]
    Session,
    /// `Max-Age` equal to the session's idle timeout, refreshed at most once per touch interval.
    Sliding,
    /// ColdFusion's classic cookie: expires 30 years after it is set.
    Classic,
}

/// The attributes every session cookie is written with. `HttpOnly` and `SameSite=Lax` are
/// always on; `Secure` only goes off by configuration, for local http.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookiePolicy {
    pub secure: bool,
    /// `COOKIE_DOMAIN`; `None` writes host-only cookies.
    pub domain: Option<String>,
    pub expiry: CookieExpiry,
    /// `COOKIE_HOST_PREFIX`: name the cookies `__Host-CFID`/`__Host-CFTOKEN` (needs `secure`
    /// and no `domain`; the configuration checks).
    pub host_prefix: bool,
}

impl Default for CookiePolicy {
    fn default() -> Self {
        Self { secure: true, domain: None, expiry: CookieExpiry::Session, host_prefix: false }
    }
}

const THIRTY_YEARS_MS: u64 = 30 * 365 * 24 * 3600 * 1000 + 7 * 24 * 3600 * 1000; // + leap days

impl CookiePolicy {
    /// `COOKIE_SECURE`, `COOKIE_DOMAIN`, `COOKIE_HOST_PREFIX` (needs Secure and no domain) and
    /// `COOKIE_EXPIRY`.
    pub fn parse(get: Vars) -> Result<Self, ConfigError> {
        let mut c = Self::default();
        if let Some(v) = get("COOKIE_SECURE") {
            c.secure = parse_bool("COOKIE_SECURE", &v)?;
        }
        if let Some(v) = get("COOKIE_DOMAIN") {
            c.domain = Some(parse_domain(&v)?);
        }
        if let Some(v) = get("COOKIE_HOST_PREFIX") {
            c.host_prefix = parse_bool("COOKIE_HOST_PREFIX", &v)?;
            if c.host_prefix && (!c.secure || c.domain.is_some()) {
                return Err(err(
                    "COOKIE_HOST_PREFIX",
                    "needs Secure cookies (COOKIE_SECURE on) and no COOKIE_DOMAIN: __Host- cookies are host-only",
                ));
            }
        }
        if let Some(v) = get("COOKIE_EXPIRY") {
            c.expiry = match v.to_ascii_lowercase().as_str() {
                "session" => CookieExpiry::Session,
                "sliding" => CookieExpiry::Sliding,
                "classic" => CookieExpiry::Classic,
                _ => return Err(err("COOKIE_EXPIRY", "must be session, sliding or classic")),
            };
        }
        Ok(c)
    }

    /// The cookie name the edge writes for session cookie `base` (`CFID` or `CFTOKEN`).
    pub fn name(&self, base: &str) -> String {
        if self.host_prefix {
            format!("{HOST_PREFIX}{base}")
        } else {
            base.to_owned()
        }
    }

    /// A `Set-Cookie` value for session cookie `name`. `idle_timeout_s` is the session's idle
    /// timeout (the sliding Max-Age); `now` dates the classic expiry.
    pub fn set(&self, name: &str, value: &str, idle_timeout_s: u64, now: UnixMs) -> String {
        let name = self.name(name);
        let mut c = format!("{name}={value}; Path=/");
        if let Some(domain) = &self.domain {
            c.push_str(&format!("; Domain={domain}"));
        }
        match self.expiry {
            CookieExpiry::Session => {}
            CookieExpiry::Sliding => c.push_str(&format!("; Max-Age={idle_timeout_s}")),
            CookieExpiry::Classic => {
                c.push_str(&format!("; Expires={}", http_date(now.saturating_add(THIRTY_YEARS_MS))))
            }
        }
        self.finish(c)
    }

    /// `Set-Cookie` values that delete cookie `name`: on the configured Domain and, when a
    /// Domain is configured, also the host-only variant, so every copy dies.
    pub fn removals(&self, name: &str) -> Vec<String> {
        let base = format!("{name}=; Path=/; Max-Age=0; Expires={}", http_date(0));
        let mut out = Vec::with_capacity(2);
        if let Some(domain) = &self.domain {
            out.push(self.finish(format!("{base}; Domain={domain}")));
        }
        out.push(self.finish(base));
        out
    }

    /// A `Set-Cookie` value that deletes the application's cookie `name` where it was set
    /// (`path`, default `/`; `domain`, default host-only).
    pub fn removal_at(&self, name: &str, path: Option<&str>, domain: Option<&str>) -> String {
        let mut c = format!("{name}=; Path={}; Max-Age=0; Expires={}", path.unwrap_or("/"), http_date(0));
        if let Some(d) = domain {
            c.push_str("; Domain=");
            c.push_str(d);
        }
        self.finish(c)
    }

    fn finish(&self, mut c: String) -> String {
        if self.secure {
            c.push_str("; Secure");
        }
        c.push_str("; HttpOnly; SameSite=Lax");
        c
    }
}

/// A `Set-Cookie` value as servers and browsers read it (RFC 6265 §5.2): the first pair is
/// the cookie, the rest are attributes, names compared in any case, whitespace trimmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetCookie<'a> {
    pub name: &'a str,
    pub value: &'a str,
    attributes: &'a str,
}

impl<'a> SetCookie<'a> {
    /// `None` when the first pair has no `=` (browsers ignore such a `Set-Cookie`).
    pub fn parse(header: &'a str) -> Option<Self> {
        let (pair, attributes) = header.split_once(';').unwrap_or((header, ""));
        let (name, value) = pair.split_once('=')?;
        Some(Self { name: name.trim(), value: value.trim(), attributes })
    }

    /// The value of attribute `name` (the last one wins, as in browsers); `Some("")` for a
    /// flag such as `HttpOnly`.
    pub fn attribute(&self, name: &str) -> Option<&'a str> {
        self.attributes
            .split(';')
            .map(|a| a.split_once('=').map_or((a.trim(), ""), |(k, v)| (k.trim(), v.trim())))
            .rfind(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// `Max-Age`, seconds (negative: already expired), when it is a number.
    pub fn max_age(&self) -> Option<i64> {
        self.attribute("max-age").and_then(|v| v.parse().ok())
    }

    /// The year of `Expires` (the first four-digit number in it).
    pub fn expires_year(&self) -> Option<u64> {
        let v = self.attribute("expires")?;
        v.split(|c: char| !c.is_ascii_digit()).find(|p| p.len() == 4).and_then(|p| p.parse().ok())
    }

    /// Whether this `Set-Cookie` deletes its cookie in the year `year`: an empty value, a
    /// `Max-Age` of 0 or less, or an `Expires` in an earlier year.
    pub fn deletes(&self, year: u64) -> bool {
        self.value.is_empty() || self.max_age().is_some_and(|s| s <= 0) || self.expires_year().is_some_and(|y| y < year)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(h: &str, prefixed: bool) -> SessionCookies {
        read_session_cookies(&CookieHeader::new(h), prefixed)
    }

    #[test]
    fn reads_pairs_across_headers_case_insensitively() {
        let c = read("a=1; CFID=abc; other=x, cftoken=\"tok\"; CFID=abc, CFID=def", false);
        assert_eq!(c.cfid, vec!["abc", "def"]);
        assert_eq!(c.cftoken, vec!["tok"]);
    }

    #[test]
    fn malformed_and_empty_pairs_are_skipped() {
        let c = read("CFID; =x; CFID=; ;;; CFTOKEN==weird=", false);
        assert!(c.cfid.is_empty());
        assert_eq!(c.cftoken, vec!["=weird="]);
    }

    #[test]
    fn candidates_are_capped() {
        let many: Vec<String> = (0..10).map(|i| format!("CFID=v{i}")).collect();
        let c = read(&many.join("; "), false);
        assert_eq!(c.cfid.len(), MAX_CANDIDATES);
    }

    #[test]
    fn reads_headers_joined_with_commas() {
        let c = read("a=1; CFID=abc, CFTOKEN=tok; b=2", false);
        assert_eq!((c.cfid, c.cftoken), (vec!["abc".to_owned()], vec!["tok".to_owned()]));
    }

    #[test]
    fn session_cookies_never_reach_the_origin() {
        let strip = |h| strip_session_cookies(&CookieHeader::new(h)).header;
        assert_eq!(strip("a=1; CFID=x; cftoken=y; b=2").as_deref(), Some("a=1; b=2"));
        assert_eq!(strip("CFID=x, CFTOKEN=y, c=3").as_deref(), Some("c=3"));
        assert_eq!(strip("CFID=x; CFTOKEN=y"), None);
        assert_eq!(strip("untouched=1;x=\"a, b\"").as_deref(), Some("untouched=1;x=\"a, b\""));
        assert_eq!(strip(" "), None);
        assert_eq!(strip("__Host-CFID=x; __host-cftoken=y; k=1").as_deref(), Some("k=1"));
    }

    #[test]
    fn session_cookies_hidden_from_the_edge_are_found_as_servers_find_them() {
        let strip = |h| strip_session_cookies(&CookieHeader::new(h));
        // Inside quotes (Tomcat, PHP and Node split there), after whitespace (Python), as
        // PHP spells names, url-encoded (PHP before 8).
        for (h, kept) in [
            ("a=\"; CFTOKEN=secret; z=\"", Some("a=\"; z=\"")),
            ("a=\"x; CFTOKEN=secret", Some("a=\"x")),
            ("a=1 CFTOKEN=secret", None),
            ("a=\"x\"CFTOKEN=secret; b=2", Some("b=2")),
            ("CF%54OKEN=secret; b=2", Some("b=2")),
            ("cftoken[x]=secret", None),
        ] {
            let r = strip(h);
            assert_eq!(r.header.as_deref(), kept, "{h}");
            assert!(!r.removed.is_empty(), "{h}");
        }
        assert_eq!(strip("a=1 CFTOKEN=secret").removed, vec![crate::core::cookie_header::Removed::Smuggled]);
    }

    #[test]
    fn host_prefixed_names() {
        let both = "CFID=planted; __Host-CFID=real; CFTOKEN=p; __Host-CFTOKEN=t";
        let c = read(both, true);
        assert_eq!((c.cfid, c.cftoken), (vec!["real".to_owned()], vec!["t".to_owned()]));
        let c = read(both, false);
        assert_eq!(c.cfid, vec!["planted".to_owned()]);
        let p = CookiePolicy { host_prefix: true, ..Default::default() };
        assert!(p.set(CFID, "v", 1, 0).starts_with("__Host-CFID=v; Path=/; Secure"));
    }

    #[test]
    fn set_cookie_per_expiry_mode() {
        let mut p = CookiePolicy::default();
        assert_eq!(p.set("CFID", "v", 1200, 0), "CFID=v; Path=/; Secure; HttpOnly; SameSite=Lax");
        p.expiry = CookieExpiry::Sliding;
        p.secure = false;
        p.domain = Some("example.com".into());
        assert_eq!(
            p.set("CFID", "v", 1200, 0),
            "CFID=v; Path=/; Domain=example.com; Max-Age=1200; HttpOnly; SameSite=Lax"
        );
        p.expiry = CookieExpiry::Classic;
        p.domain = None;
        let c = p.set("CFID", "v", 1200, 1_700_000_000_000);
        assert!(c.contains("; Expires=") && c.contains("2053"), "{c}");
    }

    #[test]
    fn removals_cover_domain_and_host_only() {
        let mut p = CookiePolicy { domain: Some("example.com".into()), ..Default::default() };
        let r = p.removals("CFID");
        assert_eq!(r.len(), 2);
        assert!(r[0].contains("Domain=example.com"));
        assert!(!r[1].contains("Domain="));
        for c in &r {
            assert!(c.starts_with("CFID=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"), "{c}");
        }
        p.domain = None;
        assert_eq!(p.removals("CFID").len(), 1);
    }

    #[test]
    fn set_cookie_attributes_are_read_in_any_case_and_the_last_wins() {
        let sc = SetCookie::parse(" JSESSIONID = abc ; Path=/; max-age=60; MAX-AGE=-1; HttpOnly").unwrap();
        assert_eq!((sc.name, sc.value), ("JSESSIONID", "abc"));
        assert_eq!(sc.max_age(), Some(-1));
        assert_eq!(sc.attribute("httponly"), Some(""));
        assert!(sc.deletes(2026));
        assert_eq!(SetCookie::parse("no-equals-sign; Path=/"), None);
        let sc = SetCookie::parse("PHPSESSID=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT").unwrap();
        assert_eq!(sc.expires_year(), Some(1970));
        assert!(sc.deletes(2026) && !sc.deletes(1970));
        assert!(SetCookie::parse("sid=; Path=/").unwrap().deletes(1970));
        assert!(!SetCookie::parse("sid=v; Max-Age=soon").unwrap().deletes(2026));
    }
}
