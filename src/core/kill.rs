//! Explicit kill-session: which requests are kill requests, and the response that ends the
//! session in the browser (every cookie variant expired, a redirect that drops the kill flag,
//! no caching). The server-side end is [`super::lifecycle::end`].

use url::Url;

use super::{
    config::{
        error::{err, ConfigError},
        parse::{parse_bool, parse_cookie_names, Vars},
    },
    cookie::{CookiePolicy, CFID, CFTOKEN},
    lifecycle::Ending,
    query,
    session_policy::{self, PathCase},
};

/// How kill requests are recognised and answered (`KILL_*` settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillPolicy {
    /// `KILL_PARAM`: a query parameter that kills the session whatever its value, matched
    /// case-insensitively (ColdFusion's `structKeyExists(url, "killSession")`). `None`: off.
    pub param: Option<String>,
    /// `KILL_PATH`: a path that kills the session (the seeds' sub-application). `None`: off.
    pub path: Option<String>,
    /// `KILL_REDIRECT`: where kill responses send the browser instead of the default.
    pub redirect: Option<String>,
    /// `KILL_COOKIES`: the cookies a kill expires.
    pub cookies: Vec<String>,
    /// `KILL_CLEAR_SITE_DATA`: also send `Clear-Site-Data: "cookies"`.
    pub clear_site_data: bool,
    /// `KILL_METHODS`: the methods that may kill (upper-case).
    pub methods: Vec<String>,
    /// `KILL_CROSS_SITE`: what a kill request from another site gets.
    pub cross_site: CrossSite,
}

/// What a kill request that came from another site (a link, a redirect or a form elsewhere:
/// login CSRF's mirror image) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrossSite {
    /// A small same-site page with a button; the session ends only when the user presses it.
    /// Also for a sibling subdomain's request (`Sec-Fetch-Site: same-site`).
    #[default]
    Confirm,
    /// The confirmation page only for requests from another site; a sibling subdomain's kill
    /// is executed (`confirm-cross-site`).
    ConfirmCrossSite,
    /// Executed like any other kill (for sites that link to their logout from elsewhere).
    Allow,
}

impl Default for KillPolicy {
    fn default() -> Self {
        Self {
            param: Some("killSession".into()),
            path: Some("/kill/".into()),
            redirect: None,
            cookies: vec!["CFID".into(), "CFTOKEN".into(), "CFMAGIC".into()],
            clear_site_data: false,
            methods: vec!["GET".into(), "POST".into()],
            cross_site: CrossSite::Confirm,
        }
    }
}

/// What made a request a kill request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Flag,
    Path,
}

impl KillPolicy {
    /// The `KILL_*` settings. `KILL_PARAM=off` and `KILL_PATH=off` turn those triggers off.
    pub fn parse(get: Vars) -> Result<Self, ConfigError> {
        let mut k = Self::default();
        if let Some(v) = get("KILL_PARAM") {
            k.param = match v.as_str() {
                off if off.eq_ignore_ascii_case("off") => None,
                name if name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)) => Some(name.to_owned()),
                _ => return Err(err("KILL_PARAM", "must be a parameter name (letters, digits, _ - .) or off")),
            };
        }
        if let Some(v) = get("KILL_PATH") {
            k.path = match v.as_str() {
                off if off.eq_ignore_ascii_case("off") => None,
                p if p.starts_with('/') && !p.starts_with("//") && !p.contains(['?', '#', ' ']) => Some(p.to_owned()),
                _ => return Err(err("KILL_PATH", "must be a path starting with / (or off)")),
            };
        }
        if let Some(v) = get("KILL_REDIRECT") {
            let is_path = v.starts_with('/') && !v.starts_with("//") && !v.contains('\\');
            let is_url = Url::parse(&v).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !(is_path || is_url) || v.chars().any(char::is_control) {
                return Err(err("KILL_REDIRECT", "must be a path starting with / or an absolute http(s) URL"));
            }
            k.redirect = Some(v);
        }
        if let Some(v) = get("KILL_COOKIES") {
            k.cookies = parse_cookie_names("KILL_COOKIES", &v)?;
        }
        if let Some(v) = get("KILL_CLEAR_SITE_DATA") {
            k.clear_site_data = parse_bool("KILL_CLEAR_SITE_DATA", &v)?;
        }
        if let Some(v) = get("KILL_METHODS") {
            const KNOWN: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
            let methods: Vec<String> =
                v.split(',').map(|m| m.trim().to_ascii_uppercase()).filter(|m| !m.is_empty()).collect();
            if methods.is_empty() || !methods.iter().all(|m| KNOWN.contains(&m.as_str())) {
                return Err(err(
                    "KILL_METHODS",
                    "must be a comma-separated list of GET, HEAD, POST, PUT, PATCH, DELETE",
                ));
            }
            k.methods = methods;
        }
        if let Some(v) = get("KILL_CROSS_SITE") {
            k.cross_site = match v.to_ascii_lowercase().as_str() {
                "confirm" => CrossSite::Confirm,
                "confirm-cross-site" => CrossSite::ConfirmCrossSite,
                "allow" => CrossSite::Allow,
                _ => return Err(err("KILL_CROSS_SITE", "must be confirm, confirm-cross-site or allow")),
            };
        }
        Ok(k)
    }

    /// The kill path normalised as request paths are ([`session_policy::normalize`], `PATH_CASE`):
    /// `/Logout/`, `/logout;x/`, `//logout/` and `/%6Cogout/` are the kill path `/logout/` to
    /// an origin that reads them so, and so to the edge.
    #[must_use]
    pub fn with_case(mut self, case: PathCase) -> Self {
        self.path = self.path.map(|p| session_policy::normalize(&p, case));
        self
    }

    /// Whether the request is a kill request. `path` is the request's normalised path
    /// ([`session_policy::SessionPolicy::normalize`]). The kill path matches itself, itself without
    /// its trailing slash, and everything below it.
    pub fn trigger(&self, path: &str, query_string: Option<&str>) -> Option<Trigger> {
        if let Some(kill_path) = &self.path {
            let bare = kill_path.trim_end_matches('/');
            let below = kill_path.ends_with('/') && path.starts_with(kill_path.as_str());
            if path == kill_path || (!bare.is_empty() && path == bare) || below {
                return Some(Trigger::Path);
            }
        }
        match (&self.param, query_string) {
            (Some(p), Some(q)) if query::has(q, p) => Some(Trigger::Flag),
            _ => None,
        }
    }

    /// Whether `method` may kill.
    pub fn allows(&self, method: &str) -> bool {
        self.methods.iter().any(|m| m.eq_ignore_ascii_case(method))
    }

    /// The `Location` of a kill response: `KILL_REDIRECT` when set; otherwise, for the flag,
    /// the same URL without the flag (every other parameter kept), and for the kill path, `/`.
    pub fn location(&self, trigger: Trigger, path: &str, query_string: Option<&str>) -> String {
        if let Some(r) = &self.redirect {
            return r.clone();
        }
        match trigger {
            Trigger::Path => "/".to_owned(),
            Trigger::Flag => {
                let rest = self.param.as_deref().map_or_else(
                    || query_string.map(str::to_owned),
                    |p| query::without(query_string.unwrap_or(""), &[p]),
                );
                let path = same_site_path(path);
                match rest {
                    // (A header value cannot hold control characters: they are dropped.)
                    Some(q) => format!("{path}?{}", q.chars().filter(|c| !c.is_control()).collect::<String>()),
                    None => path,
                }
            }
        }
    }

    /// Whether a kill request must be confirmed by the user first: it came from another site
    /// (see [`is_cross_site`]) and `KILL_CROSS_SITE` is not `allow`, or from a sibling
    /// subdomain (`Sec-Fetch-Site: same-site`) and it is `confirm`.
    pub fn needs_confirmation(&self, from: &RequestSite<'_>) -> bool {
        let sibling = from.sec_fetch_site.is_some_and(|s| s.trim().eq_ignore_ascii_case("same-site"));
        match self.cross_site {
            CrossSite::Confirm => sibling || is_cross_site(from),
            CrossSite::ConfirmCrossSite => is_cross_site(from),
            CrossSite::Allow => false,
        }
    }

    /// The headers that end the session in the browser: `Set-Cookie` removals for every kill
    /// cookie (on the configured Domain and host-only), `Cache-Control: no-store`, and
    /// `Clear-Site-Data` when configured.
    pub fn expiry_headers(&self, cookie: &CookiePolicy) -> Vec<(&'static str, String)> {
        // With `__Host-` names, the edge's own cookies are expired under those names too.
        let prefixed = cookie.host_prefix.then(|| [cookie.name(CFID), cookie.name(CFTOKEN)]);
        let mut out: Vec<(&'static str, String)> = self
            .cookies
            .iter()
            .chain(prefixed.iter().flatten())
            .flat_map(|name| cookie.removals(name))
            .map(|c| ("set-cookie", c))
            .collect();
        out.push(("cache-control", "no-store".into()));
        if self.clear_site_data {
            out.push(("clear-site-data", "\"cookies\"".into()));
        }
        out
    }
}

/// A path that stays on this site when used as a redirect: a leading run of `/` and `\\`
/// (which browsers read as `/`) becomes one `/`, so `//evil.example/x` and `/\\evil.example/x`
/// cannot name another host. Control characters are dropped.
pub fn same_site_path(path: &str) -> String {
    let visible: String = path.chars().filter(|c| !c.is_control()).collect();
    format!("/{}", visible.trim_start_matches(['/', '\\']))
}

/// What a request says about where it came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSite<'a> {
    /// `Sec-Fetch-Site` (sent by current browsers).
    pub sec_fetch_site: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
    /// `Referer`.
    pub referer: Option<&'a str>,
    /// The host (and port) the request was sent to.
    pub host: &'a str,
}

/// Whether the request came from another site: `Sec-Fetch-Site: cross-site` when the browser
/// sends it; otherwise an `Origin` (or, without one, a `Referer`) whose host differs from the
/// request's (`Origin: null` counts as cross-site). A request with none of them (a typed URL,
/// a bookmark, a non-browser client) is not cross-site.
pub fn is_cross_site(from: &RequestSite<'_>) -> bool {
    if let Some(site) = from.sec_fetch_site.map(str::trim).filter(|s| !s.is_empty()) {
        return site.eq_ignore_ascii_case("cross-site");
    }
    let other_host = |url: &str| match url::Url::parse(url.trim()) {
        Ok(u) => {
            let host = match (u.host_str(), u.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_owned(),
                (None, _) => return true,
            };
            !host.eq_ignore_ascii_case(from.host)
        }
        Err(_) => true,
    };
    match (from.origin.map(str::trim).filter(|s| !s.is_empty()), from.referer) {
        (Some(origin), _) => origin.eq_ignore_ascii_case("null") || other_host(origin),
        (None, Some(referer)) if !referer.trim().is_empty() => other_host(referer),
        _ => false,
    }
}

/// What a kill request achieved, and so what its answer may say (a `302` "logged out" only
/// when a session ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillOutcome {
    /// A session ended now, or had ended already.
    Ended,
    /// A session's end is not confirmed yet: retried in the background, the cookies expired.
    Unconfirmed,
    /// No session to end: none presented, or one the object does not know or whose token it
    /// refused.
    NoSession,
}

/// The outcome of a kill: `presented` when the request named a session, `answer` the session
/// object's (`None`: it did not answer, the end is retried).
pub fn outcome(presented: bool, answer: Option<&Ending>) -> KillOutcome {
    match (presented, answer) {
        (false, _) => KillOutcome::NoSession,
        (true, None) => KillOutcome::Unconfirmed,
        (true, Some(Ending::Ended { .. } | Ending::AlreadyGone)) => KillOutcome::Ended,
        (true, Some(Ending::Mismatch | Ending::NotFound | Ending::OtherUser)) => KillOutcome::NoSession,
    }
}

/// The page a kill request without a session gets (`200`): it says so, instead of a redirect
/// that would look like a logout; `next` is where the redirect would have gone.
pub fn no_session_page(next: &str) -> String {
    let next = html_escape(&same_site_path(next));
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>No session to end</title>\
         <meta name=\"viewport\" content=\"width=device-width\"></head><body>\
         <h1>No session to end</h1><p>This browser had no session here (it was never signed in, or its session had \
         already ended), so nothing was ended. Its cookies for this site's sessions were cleared.</p>\
         <p><a href=\"{next}\">Continue</a></p></body></html>\n"
    )
}

/// The page a cross-site kill request gets instead of ending the session: one button that
/// repeats the request from this site (`action` is the request's own path and query, made
/// same-site; `method` is `POST` when allowed, else `GET`). No script, nothing external.
pub fn confirm_page(action: &str, method: &str) -> String {
    let action = html_escape(action);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>End your session?</title>\
         <meta name=\"viewport\" content=\"width=device-width\"></head><body>\
         <h1>End your session?</h1><p>Another site sent you here to log you out.</p>\
         <form method=\"{method}\" action=\"{action}\"><button type=\"submit\">End session</button></form>\
         <p><a href=\"/\">Keep my session</a></p></body></html>\n"
    )
}

/// Escapes text for an HTML attribute or element.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_prefixed_session_cookies_are_expired_too() {
        let cookie = CookiePolicy { host_prefix: true, ..CookiePolicy::default() };
        let h = KillPolicy::default().expiry_headers(&cookie);
        for name in ["__Host-CFID=;", "__Host-CFTOKEN=;", "CFID=;", "CFMAGIC=;"] {
            assert!(h.iter().any(|(_, v)| v.starts_with(name) && v.contains("Secure")), "{name}: {h:?}");
        }
    }

    #[test]
    fn kill_redirects_never_leave_the_site() {
        let k = KillPolicy::default();
        assert_eq!(k.location(Trigger::Flag, "//evil.example/login", Some("killSession")), "/evil.example/login");
        assert_eq!(
            k.location(Trigger::Flag, "/\\evil.example/login", Some("killSession&a=1")),
            "/evil.example/login?a=1"
        );
        assert_eq!(k.location(Trigger::Flag, "\\/\\//x", None), "/x");
        assert_eq!(k.location(Trigger::Flag, "/a\r\nb", None), "/ab");
        assert_eq!(k.location(Trigger::Flag, "/", Some("killSession&x=\r\n1")), "/?x=1");
        assert_eq!(same_site_path(""), "/");
        assert_eq!(same_site_path("/\0/evil.example"), "/evil.example", "a control character hid a second slash");
    }

    #[test]
    fn cross_site_detection() {
        let at = |sfs, origin, referer| RequestSite { sec_fetch_site: sfs, origin, referer, host: "site.example:8787" };
        assert!(is_cross_site(&at(Some("cross-site"), None, None)));
        for same in ["same-origin", "same-site", "none"] {
            assert!(!is_cross_site(&at(Some(same), Some("https://evil.example"), None)), "{same}");
        }
        assert!(is_cross_site(&at(None, Some("https://evil.example"), None)));
        assert!(is_cross_site(&at(None, Some("null"), None)));
        assert!(!is_cross_site(&at(None, Some("http://site.example:8787"), Some("https://evil.example/"))));
        assert!(is_cross_site(&at(None, None, Some("https://evil.example/page"))));
        assert!(!is_cross_site(&at(None, None, Some("http://SITE.example:8787/page?x"))));
        assert!(is_cross_site(&at(None, None, Some("not a url"))));
        assert!(!is_cross_site(&at(None, None, None)));
        let allow = KillPolicy { cross_site: CrossSite::Allow, ..KillPolicy::default() };
        assert!(!allow.needs_confirmation(&at(Some("cross-site"), None, None)));
        assert!(KillPolicy::default().needs_confirmation(&at(Some("cross-site"), None, None)));
        // A sibling subdomain confirms too, unless only cross-site requests are to.
        assert!(KillPolicy::default().needs_confirmation(&at(Some("same-site"), None, None)));
        let cross_only = KillPolicy { cross_site: CrossSite::ConfirmCrossSite, ..KillPolicy::default() };
        assert!(!cross_only.needs_confirmation(&at(Some("same-site"), None, None)));
        assert!(cross_only.needs_confirmation(&at(Some("cross-site"), None, None)));
        assert!(!KillPolicy::default().needs_confirmation(&at(Some("same-origin"), None, None)));
    }

    #[test]
    fn the_confirmation_page_escapes_its_action() {
        let page = confirm_page("/x?killSession&a=\"><script>", "POST");
        assert!(page.contains("method=\"POST\" action=\"/x?killSession&amp;a=&quot;&gt;&lt;script&gt;\""), "{page}");
        assert!(!page.contains("<script>"));
    }

    #[test]
    fn the_flag_matches_case_insensitively_with_or_without_a_value() {
        let k = KillPolicy::default();
        for q in ["killSession", "KILLSESSION=1", "a=1&killsession=&b=2", "killSession=no"] {
            assert_eq!(k.trigger("/index.cfm", Some(q)), Some(Trigger::Flag), "{q}");
        }
        assert_eq!(k.trigger("/index.cfm", Some("killSessions=1")), None);
        assert_eq!(k.trigger("/index.cfm", None), None);
        let off = KillPolicy { param: None, ..KillPolicy::default() };
        assert_eq!(off.trigger("/", Some("killSession")), None);
    }

    #[test]
    fn the_kill_path_matches_itself_and_below() {
        let k = KillPolicy::default();
        for p in ["/kill/", "/kill", "/kill/index.cfm"] {
            assert_eq!(k.trigger(p, None), Some(Trigger::Path), "{p}");
        }
        for p in ["/killer", "/", "/a/kill/"] {
            assert_eq!(k.trigger(p, None), None, "{p}");
        }
        let off = KillPolicy { path: None, ..KillPolicy::default() };
        assert_eq!(off.trigger("/kill/", None), None);
    }

    #[test]
    fn the_kill_path_matches_every_spelling_an_origin_reads_as_it() {
        let raw = KillPolicy { path: Some("/logout/".into()), ..KillPolicy::default() };
        let k = raw.clone().with_case(PathCase::Insensitive);
        for p in
            ["/Logout/", "/logout;x/", "/logout;jsessionid=1/", "//logout/", "/%6Cogout/", "/a/../logout", "/LOGOUT/x"]
        {
            let normalised = session_policy::normalize(p, PathCase::Insensitive);
            assert_eq!(k.trigger(&normalised, None), Some(Trigger::Path), "{p}");
        }
        let exact = raw.with_case(PathCase::Sensitive);
        assert_eq!(exact.trigger(&session_policy::normalize("/Logout/", PathCase::Sensitive), None), None);
        let normalised = session_policy::normalize("/logout;x/", PathCase::Sensitive);
        assert_eq!(exact.trigger(&normalised, None), Some(Trigger::Path));
    }

    #[test]
    fn the_redirect_drops_only_the_flag() {
        let k = KillPolicy::default();
        assert_eq!(k.location(Trigger::Flag, "/index.cfm", Some("a=1&killSession&b=%2F")), "/index.cfm?a=1&b=%2F");
        assert_eq!(k.location(Trigger::Flag, "/index.cfm", Some("KillSession=yes")), "/index.cfm");
        assert_eq!(k.location(Trigger::Path, "/kill/", None), "/");
        let to = KillPolicy { redirect: Some("/goodbye".into()), ..KillPolicy::default() };
        assert_eq!(to.location(Trigger::Flag, "/x", Some("killSession")), "/goodbye");
    }

    #[test]
    fn methods() {
        let k = KillPolicy::default();
        assert!(k.allows("get") && k.allows("POST") && !k.allows("DELETE"));
        let post_only = KillPolicy { methods: vec!["POST".into()], ..KillPolicy::default() };
        assert!(!post_only.allows("GET"));
    }

    #[test]
    fn expiry_headers_cover_every_cookie_and_variant() {
        let k = KillPolicy { clear_site_data: true, ..KillPolicy::default() };
        let cookie = CookiePolicy { domain: Some("example.com".into()), ..CookiePolicy::default() };
        let h = k.expiry_headers(&cookie);
        let cookies: Vec<&str> = h.iter().filter(|(n, _)| *n == "set-cookie").map(|(_, v)| v.as_str()).collect();
        assert_eq!(cookies.len(), 6);
        for name in ["CFID", "CFTOKEN", "CFMAGIC"] {
            let mine: Vec<_> = cookies.iter().filter(|c| c.starts_with(&format!("{name}=;"))).collect();
            assert_eq!(mine.len(), 2, "{name}");
            assert!(
                mine.iter().any(|c| c.contains("Domain=example.com")) && mine.iter().any(|c| !c.contains("Domain="))
            );
        }
        assert!(h.contains(&("cache-control", "no-store".into())));
        assert!(h.contains(&("clear-site-data", "\"cookies\"".into())));
        assert!(!KillPolicy::default().expiry_headers(&cookie).iter().any(|(n, _)| *n == "clear-site-data"));
    }
}
