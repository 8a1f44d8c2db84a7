//! Explicit kill-session: which requests are kill requests, and the response that ends the
//! session in the browser (every cookie variant expired, a redirect that drops the kill flag,
//! no caching). The server-side end is [`super::lifecycle::end`].

use super::{cookie::CookiePolicy, query};

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
    /// Whether the request is a kill request. The kill path matches itself, itself without
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
                match rest {
                    Some(q) => format!("{path}?{q}"),
                    None => path.to_owned(),
                }
            }
        }
    }

    /// The headers that end the session in the browser: `Set-Cookie` removals for every kill
    /// cookie (on the configured Domain and host-only), `Cache-Control: no-store`, and
    /// `Clear-Site-Data` when configured.
    pub fn expiry_headers(&self, cookie: &CookiePolicy) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> =
            self.cookies.iter().flat_map(|name| cookie.removals(name)).map(|c| ("set-cookie", c)).collect();
        out.push(("cache-control", "no-store".into()));
        if self.clear_site_data {
            out.push(("clear-site-data", "\"cookies\"".into()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
