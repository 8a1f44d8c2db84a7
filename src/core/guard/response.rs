//! What an application's response does to the credentials a guarded session holds.
//!
//! The credentials are one set (`GUARD_COOKIES`: the session cookie first, then remember-me
//! and login cookies). The edge reads the response's `Set-Cookie`s for them in order, as the
//! browser will apply them, and binds the session to what the browser then holds:
//! - a new value for any of them (a login, `sessionRotate()`, a remember-me cookie set):
//!   the set changes, and the binding moves to it; the older set is dead;
//! - an expiry of one the session holds: the set changes without it (a remember-me cookie
//!   dropped at logout) — unless it is the session cookie and no new value follows: that is
//!   the application's logout, and the session ends;
//! - an expiry of one the session does not hold changes nothing (an application that expires
//!   its remember-me cookie on every login without "remember me").

use serde::{Deserialize, Serialize};

use super::{valid_value, GuardPolicy, OriginIds};
use crate::core::{clock::UnixMs, cookie::SetCookie, date};

/// Where the application set one of its credential cookies: what a kill repeats to delete it
/// (`Path=/app` cookies are not deleted by a `Path=/` expiry).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CookieScope {
    /// The name as the application wrote it.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

impl CookieScope {
    /// Whether a `Path=/`, host-only expiry deletes the cookie (what a kill sends anyway).
    pub fn is_default(&self) -> bool {
        self.domain.is_none() && self.path.as_deref().is_none_or(|p| p == "/")
    }

    /// Whether a new session bound to cookies set with `scopes` is stored at once instead of
    /// deferred to the browser's return: the claim on that return carries no `Set-Cookie`, so
    /// where cookies set under a path or a domain live would be lost for the kill's deletions.
    pub fn store_now(scopes: &[CookieScope]) -> bool {
        scopes.iter().any(|s| !s.is_default())
    }

    /// Merges `newer` scopes over `older` ones, keeping those of the names in `ids` only.
    pub fn merged(older: &[CookieScope], newer: &[CookieScope], ids: &OriginIds) -> Vec<CookieScope> {
        let held = |s: &&CookieScope| ids.0.iter().any(|(n, _)| n.eq_ignore_ascii_case(&s.name));
        let mut out: Vec<CookieScope> = newer.iter().filter(held).cloned().collect();
        for s in older.iter().filter(held) {
            if !out.iter().any(|o| o.name.eq_ignore_ascii_case(&s.name)) {
                out.push(s.clone());
            }
        }
        out
    }
}

/// What a response does to the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginSet {
    /// Nothing the session holds changed.
    Nothing,
    /// The browser now holds these credentials: bind the session (or a new one) to them.
    /// `scopes`: where this response set them.
    Rebind { ids: OriginIds, scopes: Vec<CookieScope> },
    /// The session cookie the session held was expired and not set again: a logout.
    LoggedOut,
}

/// Applies the response's `Set-Cookie`s for credential cookies to `held` (empty without a
/// session), in order. An empty value, `Max-Age` of 0 or less, or an `Expires` before the
/// current year is an expiry; a value that is not a cookie value is ignored.
pub fn origin_set(held: &OriginIds, set_cookies: &[String], policy: &GuardPolicy, now: UnixMs) -> OriginSet {
    let year = date::year(now);
    let mut ids = held.0.clone();
    let mut scopes: Vec<CookieScope> = Vec::new();
    for sc in set_cookies.iter().filter_map(|sc| SetCookie::parse(sc)) {
        let name = sc.name.trim();
        if !policy.is_guarded(name) {
            continue;
        }
        let deleted = sc.deletes(year);
        if !deleted && !valid_value(sc.value) {
            continue;
        }
        ids.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        scopes.retain(|s| !s.name.eq_ignore_ascii_case(name));
        if !deleted {
            ids.push((name.to_owned(), sc.value.to_owned()));
            let attribute = |a: &str| sc.attribute(a).map(str::to_owned).filter(|v| !v.is_empty());
            scopes.push(CookieScope { name: name.to_owned(), path: attribute("path"), domain: attribute("domain") });
        }
    }
    let next = OriginIds::canonical(ids);
    if next.same_as(held) {
        return OriginSet::Nothing;
    }
    let had_session = held.0.iter().any(|(n, _)| policy.is_app_session_cookie(n));
    let has_session = next.0.iter().any(|(n, _)| policy.is_app_session_cookie(n));
    if (had_session && !has_session) || (!held.is_empty() && next.is_empty()) {
        return OriginSet::LoggedOut;
    }
    if next.is_empty() {
        return OriginSet::Nothing;
    }
    OriginSet::Rebind { ids: next, scopes }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixMs = 1_800_000_000_000;

    fn policy() -> GuardPolicy {
        GuardPolicy { cookies: vec!["JSESSIONID".into(), "remember-me".into(), "CFAUTHORIZATION_*".into()] }
    }

    fn ids(pairs: &[(&str, &str)]) -> OriginIds {
        OriginIds::canonical(pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect())
    }

    fn set(held: &OriginIds, cookies: &[&str]) -> OriginSet {
        origin_set(held, &cookies.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>(), &policy(), NOW)
    }

    const EXPIRED: &str = "=; Max-Age=0; Path=/app";

    #[test]
    fn a_new_session_is_bound_with_where_its_cookies_live() {
        let out = set(&OriginIds::default(), &["JSESSIONID=a1; Path=/app; HttpOnly", "theme=dark"]);
        let scope = CookieScope { name: "JSESSIONID".into(), path: Some("/app".into()), domain: None };
        assert_eq!(out, OriginSet::Rebind { ids: ids(&[("JSESSIONID", "a1")]), scopes: vec![scope] });
        assert_eq!(set(&OriginIds::default(), &["theme=dark"]), OriginSet::Nothing);
    }

    #[test]
    fn every_change_to_the_set_rebinds() {
        let held = ids(&[("JSESSIONID", "a1")]);
        // Login with remember-me: the set grows.
        let out = set(&held, &["remember-me=r1; Path=/app; Max-Age=1209600"]);
        assert!(
            matches!(&out, OriginSet::Rebind { ids: i, .. } if *i == ids(&[("JSESSIONID", "a1"), ("remember-me", "r1")]))
        );
        // A login that rotates the session id.
        let out = set(&held, &["JSESSIONID=b2; Path=/app"]);
        assert!(matches!(&out, OriginSet::Rebind { ids: i, .. } if *i == ids(&[("JSESSIONID", "b2")])));
        // ACF's <cflogin> cookie, by its prefix.
        let out = set(&held, &["CFAUTHORIZATION_shop=dXNlcg; Path=/"]);
        assert!(matches!(&out, OriginSet::Rebind { ids: i, .. } if i.0.len() == 2));
        // The same values again: nothing.
        assert_eq!(set(&held, &["JSESSIONID=a1; Path=/app"]), OriginSet::Nothing);
    }

    #[test]
    fn an_expiry_of_a_cookie_the_session_does_not_hold_changes_nothing() {
        // An application that expires its remember-me cookie on every login without it.
        let held = ids(&[("JSESSIONID", "a1")]);
        assert_eq!(set(&held, &[&format!("remember-me{EXPIRED}")]), OriginSet::Nothing);
        assert_eq!(
            set(&OriginIds::default(), &["JSESSIONID=a1; Path=/app", &format!("remember-me{EXPIRED}")]),
            OriginSet::Rebind {
                ids: ids(&[("JSESSIONID", "a1")]),
                scopes: vec![CookieScope { name: "JSESSIONID".into(), path: Some("/app".into()), domain: None }]
            }
        );
    }

    #[test]
    fn a_logout_that_keeps_the_session_cookie_rebinds_without_the_remember_me_cookie() {
        // The session cookie re-sent with the same value, the remember-me cookie expired.
        let held = ids(&[("JSESSIONID", "a1"), ("remember-me", "r1")]);
        let out = set(&held, &["JSESSIONID=a1; Path=/app", &format!("remember-me{EXPIRED}")]);
        assert!(matches!(&out, OriginSet::Rebind { ids: i, .. } if *i == ids(&[("JSESSIONID", "a1")])), "{out:?}");
    }

    #[test]
    fn the_session_cookie_expired_is_a_logout_unless_a_new_one_follows() {
        let held = ids(&[("JSESSIONID", "a1"), ("remember-me", "r1")]);
        assert_eq!(set(&held, &[&format!("JSESSIONID{EXPIRED}")]), OriginSet::LoggedOut);
        assert_eq!(
            set(&held, &[&format!("JSESSIONID{EXPIRED}"), &format!("remember-me{EXPIRED}")]),
            OriginSet::LoggedOut
        );
        // ColdFusion's sessionInvalidate() and a new session in one response: a rotation.
        let out = set(&held, &[&format!("JSESSIONID{EXPIRED}"), "JSESSIONID=c3; Path=/app"]);
        assert!(matches!(&out, OriginSet::Rebind { ids: i, .. } if i.0.contains(&("JSESSIONID".into(), "c3".into()))));
        // The other way round, the expiry wins (as in the browser).
        assert_eq!(set(&held, &["JSESSIONID=c3; Path=/app", &format!("JSESSIONID{EXPIRED}")]), OriginSet::LoggedOut);
        // Only the remember-me cookie held and it goes: nothing is left.
        assert_eq!(set(&ids(&[("remember-me", "r1")]), &[&format!("remember-me{EXPIRED}")]), OriginSet::LoggedOut);
    }

    #[test]
    fn scopes_merge_for_the_names_still_held() {
        let old = vec![
            CookieScope { name: "JSESSIONID".into(), path: Some("/app".into()), domain: None },
            CookieScope { name: "remember-me".into(), path: Some("/".into()), domain: None },
        ];
        let new =
            vec![CookieScope { name: "JSESSIONID".into(), path: Some("/app2".into()), domain: Some("x.test".into()) }];
        let merged = CookieScope::merged(&old, &new, &ids(&[("JSESSIONID", "b")]));
        assert_eq!(merged, new);
    }
}
