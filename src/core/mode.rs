//! The seam between the two session modes (`SESSION_MODE`). One request flow serves both;
//! what differs is decided here:
//! - where the identity comes from ([`identify`]): the edge's CFID/CFTOKEN, or the binding
//!   cookie over the origin's own session cookies;
//! - what is forwarded ([`forward_cookie`], [`forward_query`], [`forward_path`]): edge mode
//!   removes CFID/CFTOKEN (the origin gets signed headers instead); guard mode passes the
//!   origin's cookies only for a live, bound session, exactly as bound. Both read the request
//!   the way origin servers do ([`super::cookie_header`]);
//! - what the browser gets ([`session_cookies`], [`expiry`], [`keep_origin_set_cookie`]).

use super::{
    config::{Config, SessionMode},
    cookie::{
        cookie_name, is_session_cookie, read_session_cookies, strip_session_cookies, CookiePolicy, CFID, CFTOKEN,
    },
    cookie_header::{CookieHeader, Rebuilt},
    guard::{self, response::CookieScope, Binding, OriginIds},
    ids::{CfToken, Cfid, TokenKey},
    query,
    rpc::Ids,
    url_ids,
};

/// The session ids a request presents, verified.
#[derive(Debug, Clone)]
pub struct VerifiedIds {
    /// The CFID (guard mode: the guard id).
    pub cfid: Cfid,
    /// The CFTOKEN (guard mode: the binding token).
    pub token: CfToken,
    /// Guard mode: the origin's session cookies the binding covers. Empty in edge mode.
    pub origin: OriginIds,
    /// The token was made with `SESSION_SIGNING_KEY_PREVIOUS`: the fingerprint of the token
    /// as sent (`token` is its re-minted twin under the current key, which the response sets).
    pub previous_fp: Option<String>,
}

impl VerifiedIds {
    /// Verified ids: `token` made for `cfid` with `key`, or with `previous` (then re-minted
    /// under `key`, the same random part and issue time). `None` when neither made it.
    fn verified(
        cfid: Cfid,
        token: CfToken,
        key: &TokenKey,
        previous: Option<&TokenKey>,
        origin: OriginIds,
    ) -> Option<Self> {
        if token.verify(&cfid, key) {
            return Some(Self { cfid, token, origin, previous_fp: None });
        }
        previous.filter(|p| token.verify(&cfid, p))?;
        let rekeyed = token.rekeyed(&cfid, key);
        Some(Self { cfid, token: rekeyed, origin, previous_fp: Some(token.fingerprint()) })
    }

    /// The ids as the session object sees them.
    pub fn ids(&self) -> Ids {
        Ids::of(&self.cfid, &self.token, false).bound(self.origin.clone()).rekeyed_from(self.previous_fp.clone())
    }
}

/// What [`identify`] found.
#[derive(Debug, Clone, Default)]
pub struct Identified {
    /// The verified ids, if any.
    pub presented: Option<VerifiedIds>,
    /// Why ids that were there are not used (for the log; never a value).
    pub ignored: Option<&'static str>,
    /// Guard mode: a binding cookie sent without any of the application's cookies (they live
    /// under another path, `Path=/app`, and the browser sends them there only). Its MAC cannot
    /// be checked without them; the session object checks its token instead. Only a kill uses
    /// it, to find the session to end.
    pub binding_alone: Option<Binding>,
}

/// Finds the session a request presents. Edge mode: the first CFID/CFTOKEN pair this edge
/// issued (cookies, and the query string with `URL_TOKENS`). Guard mode: the binding cookie,
/// valid only for exactly the origin session cookies the request carries.
pub fn identify(
    config: &Config,
    cookie_header: Option<&CookieHeader>,
    query_string: Option<&str>,
    key: &TokenKey,
) -> Identified {
    match config.mode {
        SessionMode::Edge => identify_edge(config, cookie_header, query_string, key),
        SessionMode::Guard => identify_guard(config, cookie_header, key),
    }
}

fn identify_edge(
    config: &Config,
    cookie_header: Option<&CookieHeader>,
    query_string: Option<&str>,
    key: &TokenKey,
) -> Identified {
    let mut cookies = cookie_header.map(|h| read_session_cookies(h, config.cookie.host_prefix)).unwrap_or_default();
    if config.url_tokens {
        let q = query_string.unwrap_or("");
        cookies.cfid.extend(query::get(q, CFID));
        cookies.cftoken.extend(query::get(q, CFTOKEN));
    }
    let previous = config.keys.previous_token.as_ref();
    for cfid in cookies.cfid.iter().filter_map(|c| Cfid::parse(c)) {
        for token in cookies.cftoken.iter().filter_map(|t| CfToken::parse(t)) {
            if let Some(p) = VerifiedIds::verified(cfid.clone(), token, key, previous, OriginIds::default()) {
                return Identified { presented: Some(p), ..Identified::default() };
            }
        }
    }
    let ignored = (!cookies.cfid.is_empty() || !cookies.cftoken.is_empty())
        .then_some("session ids that this edge did not issue (malformed or forged)");
    Identified { ignored, ..Identified::default() }
}

fn identify_guard(config: &Config, cookie_header: Option<&CookieHeader>, key: &TokenKey) -> Identified {
    let Some(cookie_header) = cookie_header else { return Identified::default() };
    let origin = match OriginIds::from_cookie_header(cookie_header, &config.guard) {
        Ok(Some(ids)) => ids,
        Ok(None) => {
            let name = guard::binding_name(&config.cookie);
            let binding_alone = guard::binding_values(cookie_header, name).find_map(Binding::parse);
            return Identified { binding_alone, ..Identified::default() };
        }
        Err(guard::Unusable::Ambiguous) => {
            return Identified {
                presented: None,
                ignored: Some("origin session cookies sent twice with different values"),
                binding_alone: None,
            }
        }
        Err(guard::Unusable::Malformed) => {
            return Identified { ignored: Some("malformed origin session cookies"), ..Identified::default() }
        }
    };
    let bound = origin.binding_key(key);
    let bound_before = config.keys.previous_token.as_ref().map(|k| origin.binding_key(k));
    let binding = guard::binding_values(cookie_header, guard::binding_name(&config.cookie))
        .filter_map(Binding::parse)
        .find_map(|b| VerifiedIds::verified(b.gid, b.token, &bound, bound_before.as_ref(), origin.clone()));
    match binding {
        Some(p) => Identified { presented: Some(p), ..Identified::default() },
        None => Identified {
            ignored: Some("origin session cookies without a valid binding (not issued through this edge)"),
            ..Identified::default()
        },
    }
}

/// The `Cookie` header for the origin, and what was removed from it. `live`: the request's
/// live session; guard mode forwards its origin ids (and nothing else a server would read as
/// a guarded cookie).
pub fn forward_cookie(config: &Config, header: Option<&CookieHeader>, live: Option<&OriginIds>) -> Rebuilt {
    let Some(header) = header else { return Rebuilt::default() };
    match config.mode {
        SessionMode::Edge => strip_session_cookies(header),
        SessionMode::Guard => guard::forward_cookie(header, &config.guard, live),
    }
}

/// Whether `name` is a session id in a URL for this configuration: CFID/CFTOKEN in both modes,
/// and the guarded cookies' names in guard mode.
fn is_url_id(config: &Config, name: &str) -> bool {
    url_ids::named(name, &[CFID, CFTOKEN])
        || (config.mode == SessionMode::Guard && config.guard.cookies.iter().any(|c| url_ids::named(name, &[c])))
}

/// Whether a session id in the URL may reach the origin: only in guard mode with `URL_TOKENS`
/// on, and only when it is exactly one of the live session's own ids (anything else could
/// fixate a session at the origin).
fn keeps_url_id(config: &Config, live: Option<&OriginIds>, name: &str, value: &str) -> bool {
    config.mode == SessionMode::Guard
        && config.url_tokens
        && live.is_some_and(|ids| ids.0.iter().any(|(n, v)| n.eq_ignore_ascii_case(name) && v == value))
}

/// The query string for the origin: without session ids ([`is_url_id`]) unless
/// [`keeps_url_id`]. Other parameters byte for byte.
pub fn forward_query(config: &Config, query_string: Option<&str>, live: Option<&OriginIds>) -> Option<String> {
    url_ids::forward_query(query_string, |n| is_url_id(config, n), |n, v| keeps_url_id(config, live, n, v))
}

/// The path for the origin when it must change: without `;name=value` path parameters that
/// carry session ids (Tomcat's `;jsessionid=`), as [`forward_query`]. `None`: unchanged.
pub fn forward_path(config: &Config, path: &str, live: Option<&OriginIds>) -> Option<String> {
    url_ids::forward_path(path, |n| is_url_id(config, n), |n, v| keeps_url_id(config, live, n, v))
}

/// Whether an origin `Set-Cookie` reaches the browser. Edge mode drops the origin's own
/// `CFID`/`CFTOKEN` (any case, `__Host-` too): they would overwrite the edge's. Guard mode
/// keeps everything.
pub fn keep_origin_set_cookie(config: &Config, set_cookie: &str) -> bool {
    config.mode == SessionMode::Guard || !is_session_cookie(cookie_name(set_cookie))
}

/// The attributes of guard mode's binding cookie: always host-only (`__Host-` when Secure),
/// whatever `COOKIE_DOMAIN` and `COOKIE_HOST_PREFIX` say.
fn binding_policy(config: &Config) -> CookiePolicy {
    CookiePolicy { domain: None, host_prefix: false, ..config.cookie.clone() }
}

/// The `Set-Cookie` values that give the browser a session's ids.
pub fn session_cookies(config: &Config, cfid: &Cfid, token: &CfToken, idle_timeout_s: u64, now: u64) -> Vec<String> {
    match config.mode {
        SessionMode::Edge => vec![
            config.cookie.set(CFID, cfid.as_str(), idle_timeout_s, now),
            config.cookie.set(CFTOKEN, token.expose(), idle_timeout_s, now),
        ],
        SessionMode::Guard => {
            let value = guard::Binding::cookie_value(cfid, token);
            vec![binding_policy(config).set(guard::binding_name(&config.cookie), &value, idle_timeout_s, now)]
        }
    }
}

/// The headers that end a session in the browser. Guard mode also expires the application's
/// credential cookies in both name cases, on `COOKIE_DOMAIN` and host-only, each cookie the
/// session held where the application set it (`scopes`: `Path=/app`), and the binding.
pub fn expiry(config: &Config, scopes: &[CookieScope]) -> Vec<(&'static str, String)> {
    let mut out = config.kill.expiry_headers(&config.cookie);
    if config.mode == SessionMode::Guard {
        let mut names: Vec<String> = config.guard.expiry_names();
        // Where the application set them, unless that is what the loop below expires anyway.
        let elsewhere = |s: &&CookieScope| !s.is_default() || !names.contains(&s.name);
        let at = |s: &CookieScope| config.cookie.removal_at(&s.name, s.path.as_deref(), s.domain.as_deref());
        out.extend(scopes.iter().filter(elsewhere).map(|s| ("set-cookie", at(s))));
        names.retain(|n| !config.kill.cookies.contains(n));
        out.extend(names.iter().flat_map(|n| config.cookie.removals(n)).map(|c| ("set-cookie", c)));
        let binding = binding_policy(config).removals(guard::binding_name(&config.cookie));
        out.extend(binding.into_iter().map(|c| ("set-cookie", c)));
    }
    out
}

#[cfg(test)]
mod tests;
