//! Guard mode (`SESSION_MODE=guard`): the origin (Adobe ColdFusion, Lucee, any app with its
//! own session cookies) owns the session; the edge guards it.
//!
//! - The origin's session cookies (`GUARD_COOKIES`, names matched case-insensitively) are the
//!   session's identity, as [`OriginIds`].
//! - When the origin sets them, the edge binds them to the browser with a cookie of its own,
//!   the [`Binding`]: a guard id (names the session's Durable Object, like a CFID) and a token
//!   whose MAC covers the guard id *and* the origin's values. A request whose origin cookies
//!   have no valid binding has them removed before forwarding: the origin never sees ids the
//!   edge did not see it issue (guessed, fixated, planted by another site or app).
//! - From then on a guarded session is a session like any other: the same object, timeouts,
//!   kills, hooks and index. Its object also keeps the origin's cookie values, to call
//!   `ORIGIN_KILL_URL` with them when the session ends.

use super::{
    clock::UnixMs,
    cookie::{cookie_pairs, strip_cookies, CookiePolicy},
    crypto::sha256,
    ids::{CfToken, Cfid, TokenKey},
};

/// The binding cookie's name: `__Host-` prefixed when cookies are `Secure` (it is always
/// host-only and `Path=/`).
pub fn binding_name(cookie: &CookiePolicy) -> &'static str {
    if cookie.secure {
        "__Host-CFGUARD"
    } else {
        "CFGUARD"
    }
}

/// Origin session cookie values are ignored beyond this length (a session id is far shorter).
pub const MAX_VALUE_LEN: usize = 512;

/// The guard settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardPolicy {
    /// `GUARD_COOKIES`: the origin's session cookie names (matched case-insensitively).
    pub cookies: Vec<String>,
}

impl Default for GuardPolicy {
    fn default() -> Self {
        Self { cookies: vec!["CFID".into(), "CFTOKEN".into()] }
    }
}

impl GuardPolicy {
    /// Whether cookie `name` is one of the origin's session cookies.
    pub fn is_guarded(&self, name: &str) -> bool {
        self.cookies.iter().any(|c| c.eq_ignore_ascii_case(name.trim()))
    }

    /// Every name a kill must expire for the origin: each guarded name as configured, upper-
    /// and lower-case (ACF writes `CFID`, Lucee `cfid`).
    pub fn expiry_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.cookies {
            for n in [c.clone(), c.to_ascii_uppercase(), c.to_ascii_lowercase()] {
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        out
    }
}

/// The origin's session cookies as one identity: `(name as the origin wrote it, value)`,
/// in canonical order (by lower-case name).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OriginIds(pub Vec<(String, String)>);

/// Why a request's origin cookies cannot be an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// The same name (in any case) twice with different values: which one the origin would
    /// read is unknowable.
    Ambiguous,
    /// A value that is empty, too long or has characters no session id has.
    Malformed,
}

impl OriginIds {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The guarded cookies of a `Cookie` header. `Ok(None)`: none present.
    pub fn from_cookie_header(header: Option<&str>, policy: &GuardPolicy) -> Result<Option<Self>, Unusable> {
        let mut ids: Vec<(String, String)> = Vec::new();
        for pair in cookie_pairs(header.unwrap_or("")) {
            let Some((name, value)) = pair.split_once('=') else { continue };
            let (name, value) = (name.trim(), value.trim());
            if !policy.is_guarded(name) {
                continue;
            }
            if !valid_value(value) {
                return Err(Unusable::Malformed);
            }
            match ids.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                Some((_, v)) if v == value => {}
                Some(_) => return Err(Unusable::Ambiguous),
                None => ids.push((name.to_owned(), value.to_owned())),
            }
        }
        Ok((!ids.is_empty()).then(|| Self::canonical(ids)))
    }

    fn canonical(mut ids: Vec<(String, String)>) -> Self {
        ids.sort_by_key(|(n, _)| n.to_ascii_lowercase());
        Self(ids)
    }

    /// These ids with `set` laid over them (a response that sets some of the cookies).
    pub fn overlaid(&self, set: &[(String, String)]) -> Self {
        let mut ids = self.0.clone();
        for (name, value) in set {
            ids.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            ids.push((name.clone(), value.clone()));
        }
        Self::canonical(ids)
    }

    /// Whether two identities are the same session (names compared case-insensitively).
    pub fn same_as(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().zip(&other.0).all(|((a, x), (b, y))| a.eq_ignore_ascii_case(b) && x == y)
    }

    /// SHA-256 over the canonical `lower-case name=value` lines: what a binding covers.
    pub fn digest(&self) -> [u8; 32] {
        let lines: Vec<String> = self.0.iter().map(|(n, v)| format!("{}={v}\n", n.to_ascii_lowercase())).collect();
        sha256(lines.concat().as_bytes())
    }

    /// The `Cookie` header that presents these ids to the origin (for `ORIGIN_KILL_URL`).
    pub fn cookie_header(&self) -> String {
        self.0.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }
}

/// Session ids are short printable tokens: letters, digits and `-_.:+/=` (ACF's UUID tokens,
/// Lucee's UUIDs, servlet ids with a route suffix).
fn valid_value(v: &str) -> bool {
    !v.is_empty() && v.len() <= MAX_VALUE_LEN && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:+/=".contains(&b))
}

/// The binding cookie: `<guard id>.<token>`. The guard id names the session's object; the
/// token is a CFTOKEN-format token whose MAC is keyed by the edge's token key bound to the
/// origin ids' digest, so it verifies only together with exactly those origin cookies.
#[derive(Debug, Clone)]
pub struct Binding {
    pub gid: Cfid,
    pub token: CfToken,
}

impl Binding {
    /// Parses a binding cookie value (its shape only; see [`Binding::verify`]).
    pub fn parse(value: &str) -> Option<Self> {
        let (gid, token) = value.trim().split_once('.')?;
        Some(Self { gid: Cfid::parse(gid)?, token: CfToken::parse(token)? })
    }

    /// Whether this binding was made by this edge for exactly `ids`. Constant time.
    pub fn verify(&self, ids: &OriginIds, key: &TokenKey) -> bool {
        self.token.verify(&self.gid, &key.bound_to(&ids.digest()))
    }

    /// A new binding for `ids`, minted at `now`.
    ///
    /// # Errors
    /// When the random source fails.
    pub fn mint(
        ids: &OriginIds,
        key: &TokenKey,
        now: UnixMs,
        rng: &mut dyn super::random::RandomSource,
    ) -> Result<Self, super::random::RandomError> {
        let gid = Cfid::generate(rng)?;
        let token = CfToken::mint(&gid, &key.bound_to(&ids.digest()), now, rng)?;
        Ok(Self { gid, token })
    }

    /// The cookie value. Only for `Set-Cookie`; never log it.
    pub fn expose(&self) -> String {
        format!("{}.{}", self.gid, self.token.expose())
    }
}

/// What an origin response did to its session cookies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginSet {
    /// Nothing.
    Nothing,
    /// New values for some of them.
    Values(Vec<(String, String)>),
    /// It expired them (a logout).
    Expired,
}

/// Reads the origin's `Set-Cookie` values for guarded cookies. An empty value, `Max-Age` of 0
/// or less, or an `Expires` before the current year is an expiry. New values win over an
/// expiry in the same response (ColdFusion's `sessionInvalidate()` followed by a new session).
pub fn origin_set(set_cookies: &[String], policy: &GuardPolicy, now: UnixMs) -> OriginSet {
    let year = super::cookie::http_date(now).split(' ').nth(3).and_then(|y| y.parse::<u32>().ok()).unwrap_or(1970);
    let mut values: Vec<(String, String)> = Vec::new();
    let mut expired = false;
    for sc in set_cookies {
        let mut parts = sc.split(';');
        let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else { continue };
        let (name, value) = (name.trim(), value.trim().trim_matches('"'));
        if !policy.is_guarded(name) {
            continue;
        }
        let gone = value.is_empty()
            || parts.any(|attr| {
                let (k, v) = attr.split_once('=').map_or((attr.trim(), ""), |(k, v)| (k.trim(), v.trim()));
                (k.eq_ignore_ascii_case("max-age") && v.parse::<i64>().is_ok_and(|s| s <= 0))
                    || (k.eq_ignore_ascii_case("expires") && expires_year(v).is_some_and(|y| y < year))
            });
        if gone {
            expired = true;
        } else if valid_value(value) {
            values.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            values.push((name.to_owned(), value.to_owned()));
        }
    }
    match (values.is_empty(), expired) {
        (false, _) => OriginSet::Values(values),
        (true, true) => OriginSet::Expired,
        (true, false) => OriginSet::Nothing,
    }
}

/// The year of an `Expires` date (the first four-digit number in it).
fn expires_year(v: &str) -> Option<u32> {
    v.split(|c: char| !c.is_ascii_digit()).find(|p| p.len() == 4).and_then(|p| p.parse().ok())
}

/// The `Cookie` header for the origin in guard mode: the client's without the binding cookie
/// (in either form), and without the guarded cookies unless `keep_guarded` (a live, bound
/// session). Other pairs byte for byte. `None` when nothing is left.
pub fn forward_cookie(header: &str, policy: &GuardPolicy, keep_guarded: bool) -> Option<String> {
    let is_binding = |name: &str| name.eq_ignore_ascii_case("__Host-CFGUARD") || name.eq_ignore_ascii_case("CFGUARD");
    strip_cookies(header, |name| is_binding(name) || (!keep_guarded && policy.is_guarded(name)))
}

#[cfg(test)]
mod tests;
