//! AJAX-aware ends (`AJAX_ENDS`): a `fetch()` or `XMLHttpRequest` whose session was killed,
//! expired or refused gets `401` with a small JSON body instead of a redirect to an HTML page
//! it cannot show, so front-end code can react (the contract: `docs/security.md`, "AJAX after
//! an end").

use serde::Serialize;

/// What a non-navigation request whose session ended gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AjaxEnds {
    /// `401` with [`SessionEnded`] as JSON, `X-Session-Ended: <reason>`, the cookies expired,
    /// no `WWW-Authenticate`.
    #[default]
    Unauthorized,
    /// What a navigation gets: a kill redirects, an ended session is replaced by a new one.
    Redirect,
}

impl AjaxEnds {
    /// Parses `AJAX_ENDS`.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        match raw.to_ascii_lowercase().as_str() {
            "401" => Ok(Self::Unauthorized),
            "redirect" => Ok(Self::Redirect),
            _ => Err("must be 401 or redirect"),
        }
    }
}

/// The header that names why the session ended, on a `401` answer.
pub const ENDED_HEADER: &str = "x-session-ended";

/// The JSON body of the `401`: `{"session":"ended","reason":"expired"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionEnded {
    /// Always `ended`.
    pub session: &'static str,
    /// `killed` (this request's kill), `expired` (this request found its deadline passed, or
    /// the session no longer exists), `ended` (it ended earlier: a timeout its alarm ran, a
    /// kill, an invalidate, the admin), `refused` (ids this edge did not issue, or that do not
    /// match) or `fingerprint` (hijack detection ended it).
    pub reason: &'static str,
}

impl SessionEnded {
    pub fn new(reason: &'static str) -> Self {
        Self { session: "ended", reason }
    }
}

/// Whether a request is not a page navigation: `Sec-Fetch-Mode` other than `navigate`,
/// `X-Requested-With: XMLHttpRequest` (jQuery, ColdFusion's `cfajaxproxy`), or an `Accept`
/// header whose most preferred type is JSON. A request that says none of these (an old
/// client) is treated as a navigation.
pub fn is_ajax(sec_fetch_mode: Option<&str>, requested_with: Option<&str>, accept: Option<&str>) -> bool {
    sec_fetch_mode.is_some_and(|m| !m.trim().eq_ignore_ascii_case("navigate"))
        || requested_with.is_some_and(|x| x.trim().eq_ignore_ascii_case("xmlhttprequest"))
        || accept.is_some_and(prefers_json)
}

/// Whether the `Accept` type with the highest quality (the first of equals) is JSON
/// (`application/json`, `…+json`).
fn prefers_json(accept: &str) -> bool {
    let mut best: Option<(u32, bool)> = None;
    for item in accept.split(',').take(32) {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if media.is_empty() {
            continue;
        }
        let q = parts.filter_map(|p| p.trim().strip_prefix("q=").map(quality)).next().unwrap_or(1000);
        let json = media == "application/json" || media.ends_with("+json");
        if best.is_none_or(|(b, _)| q > b) {
            best = Some((q, json));
        }
    }
    best.is_some_and(|(q, json)| json && q > 0)
}

/// An `Accept` quality value (`0`, `0.5`, `1.000`) in thousandths; anything else is 0.
fn quality(v: &str) -> u32 {
    let (whole, frac) = v.trim().split_once('.').unwrap_or((v.trim(), ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(frac) || frac.len() > 3 {
        return 0;
    }
    let thousandths = frac.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0, |n, b| n * 10 + u32::from(b - b'0'));
    match whole {
        "1" => 1000,
        "0" | "" if !frac.is_empty() || whole == "0" => thousandths,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn navigations_are_not_ajax() {
        assert!(!is_ajax(Some("navigate"), None, Some("text/html,application/xhtml+xml,*/*;q=0.8")));
        assert!(!is_ajax(None, None, None), "an old client is a navigation");
        assert!(!is_ajax(None, None, Some("*/*")));
        assert!(!is_ajax(None, None, Some("text/html, application/json;q=0.9")));
    }

    #[test]
    fn fetch_xhr_and_json_requests_are_ajax() {
        assert!(is_ajax(Some("cors"), None, None));
        assert!(is_ajax(Some("same-origin"), None, None));
        assert!(is_ajax(Some("no-cors"), None, None));
        assert!(is_ajax(None, Some("XMLHttpRequest"), None));
        assert!(is_ajax(None, None, Some("application/json")));
        assert!(is_ajax(None, None, Some("text/html;q=0.5, application/problem+json")));
        assert!(!is_ajax(None, None, Some("application/json;q=0")));
        assert!(is_ajax(None, None, Some("text/html;q=0.25, application/json;q=0.5")));
        assert!(!is_ajax(None, None, Some("text/html;q=0.9, application/json;q=0.50")));
        assert_eq!(
            (quality("1.000"), quality("0.5"), quality(".5"), quality("x"), quality("2")),
            (1000, 500, 500, 0, 0)
        );
    }

    #[test]
    fn the_body_is_small_json() {
        let body = serde_json::to_string(&SessionEnded::new("expired")).unwrap();
        assert_eq!(body, r#"{"session":"ended","reason":"expired"}"#);
        assert_eq!(AjaxEnds::parse("401"), Ok(AjaxEnds::Unauthorized));
        assert_eq!(AjaxEnds::parse("REDIRECT"), Ok(AjaxEnds::Redirect));
        assert!(AjaxEnds::parse("302").is_err());
    }
}
