//! Cross-site requests that cannot carry the session (`CROSS_SITE_REQUESTS`). Session cookies
//! are `SameSite=Lax`, so a browser withholds them from a POST that another site sends (a
//! form, a SAML, OIDC `form_post` or 3-D Secure return) and from another site's `fetch()`.
//! Such a request presents no session although the browser has one: a new session's cookies
//! in its response would replace the user's (a logout), and the old session would live on.

use super::{
    config::{
        error::{err, ConfigError},
        parse::Vars,
    },
    kill::{is_cross_site, RequestSite},
};

/// What a cross-site request without the session cookies gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrossSiteRequests {
    /// Served without a session of its own: edge mode forwards it with a fresh session that
    /// is never stored and sets no cookies; guard mode forwards it without the origin's
    /// session cookies and does not pass on or bind the ones the origin sets in its answer.
    #[default]
    Sessionless,
    /// Like any request without a session: a new one, with its cookies (the behaviour before
    /// this setting; for sites whose cross-site return itself creates the session).
    NewSession,
}

impl CrossSiteRequests {
    /// `CROSS_SITE_REQUESTS`: `sessionless` (default) or `new-session`.
    pub fn parse(get: Vars) -> Result<Self, ConfigError> {
        match get("CROSS_SITE_REQUESTS").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("sessionless") => Ok(CrossSiteRequests::Sessionless),
            Some("new-session") => Ok(CrossSiteRequests::NewSession),
            Some(_) => Err(err("CROSS_SITE_REQUESTS", "must be sessionless or new-session")),
        }
    }
}

/// Whether the browser withheld `SameSite=Lax` cookies from this request: it came from another
/// site ([`is_cross_site`]) and is not a top-level `GET`/`HEAD` navigation (`Sec-Fetch-Mode:
/// navigate`; a request without `Sec-Fetch-Mode` counts as one).
pub fn withholds_lax_cookies(method: &str, sec_fetch_mode: Option<&str>, from: &RequestSite<'_>) -> bool {
    let safe = method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD");
    let navigation = sec_fetch_mode.is_none_or(|m| m.trim().eq_ignore_ascii_case("navigate"));
    !(safe && navigation) && is_cross_site(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(site: Option<&'static str>, origin: Option<&'static str>) -> RequestSite<'static> {
        RequestSite { sec_fetch_site: site, origin, referer: None, host: "site.example" }
    }

    #[test]
    fn lax_cookies_are_withheld_from_cross_site_posts_and_fetches() {
        assert!(withholds_lax_cookies("POST", Some("navigate"), &from(Some("cross-site"), None)));
        assert!(withholds_lax_cookies("GET", Some("cors"), &from(Some("cross-site"), None)));
        assert!(withholds_lax_cookies("PUT", None, &from(None, Some("https://idp.example"))));
        assert!(!withholds_lax_cookies("GET", Some("navigate"), &from(Some("cross-site"), None)));
        assert!(!withholds_lax_cookies("GET", None, &from(None, Some("https://other.example"))));
        for site in ["same-origin", "same-site", "none"] {
            assert!(!withholds_lax_cookies("POST", Some("navigate"), &from(Some(site), None)), "{site}");
        }
        assert!(!withholds_lax_cookies("POST", None, &from(None, None)));
    }
}
