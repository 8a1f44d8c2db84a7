//! Guard mode (`SESSION_MODE=guard`): the origin (Adobe ColdFusion, Lucee, any app with its
//! own session cookies) owns the session; the edge guards it.
//!
//! - The origin's session cookies (`GUARD_COOKIES`, names matched case-insensitively) are the
//!   session's identity, as [`OriginIds`].
//! - When the origin sets them, the edge binds them to the browser with a cookie of its own,
//!   the [`Binding`]: a guard id (names the session's Durable Object, like a CFID) and a token
//!   whose MAC covers the guard id *and* the origin's values. A request whose origin cookies
//!   have no valid binding has them removed before forwarding: the origin never sees ids the
//!   edge did not see it issue (guessed, fixated, planted by another site or app). Which
//!   pairs carry a guarded cookie is decided the way origin servers read a `Cookie` header
//!   ([`super::cookie_header`]): quotes hide nothing, and copies or other spellings of a
//!   guarded name are removed.
//! - From then on a guarded session is a session like any other: the same object, timeouts,
//!   kills, hooks and index. Its object also keeps the origin's cookie values, to call
//!   `ORIGIN_KILL_URL` with them when the session ends.

use super::{
    clock::UnixMs,
    config::{
        error::{err, ConfigError},
        parse::{parse_cookie_names, Vars},
    },
    cookie::CookiePolicy,
    cookie_header::{named, rebuild, CookieHeader, Rebuilt, SessionNames},
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

/// Origin session cookie values longer than this are malformed: the most a browser stores for
/// one cookie (RFC 6265 §6.1), room for a Rails cookie store or a Laravel session.
pub const MAX_VALUE_LEN: usize = 4096;

/// The two spellings of the binding cookie's name.
const BINDING_NAMES: [&str; 2] = ["__Host-CFGUARD", "CFGUARD"];

/// The guard settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardPolicy {
    /// `GUARD_COOKIES`: every cookie that authenticates the browser to the application, names
    /// or prefixes (`CFAUTHORIZATION_*`), matched case-insensitively. The first is its session
    /// cookie (whose expiry is a logout); the others (remember-me, login cookies) are bound
    /// with it.
    pub cookies: Vec<String>,
}

impl Default for GuardPolicy {
    fn default() -> Self {
        Self { cookies: vec!["CFID".into(), "CFTOKEN".into()] }
    }
}

impl GuardPolicy {
    /// `GUARD_COOKIES`: cookie names or prefixes (`CFAUTHORIZATION_*`), each with a letter or
    /// digit before any `*` (the cookie filter compares names by their letters and digits), the
    /// `*` only last.
    pub fn parse(get: Vars) -> Result<Self, ConfigError> {
        let Some(raw) = get("GUARD_COOKIES") else { return Ok(Self::default()) };
        let names = parse_cookie_names("GUARD_COOKIES", &raw)?;
        let usable = |n: &String| {
            let base = n.strip_suffix('*').unwrap_or(n);
            !base.contains('*') && base.bytes().any(|b| b.is_ascii_alphanumeric())
        };
        if !names.iter().all(usable) {
            return Err(err(
                "GUARD_COOKIES",
                "each entry must be a cookie name, or a prefix ending in * (with a letter or digit)",
            ));
        }
        Ok(Self { cookies: names })
    }

    /// Whether cookie `name` (as the origin writes it in a `Set-Cookie`) is one of the
    /// origin's session cookies.
    pub fn is_guarded(&self, name: &str) -> bool {
        self.cookies.iter().any(|c| named(c, name.trim()))
    }

    /// Whether cookie `name` is the application's session cookie (the first entry).
    pub fn is_app_session_cookie(&self, name: &str) -> bool {
        self.cookies.first().is_some_and(|c| named(c, name.trim()))
    }

    /// The names a server may read as a guarded cookie or the binding, for [`rebuild`].
    fn session_names(&self) -> SessionNames {
        let names: Vec<&str> = self.cookies.iter().map(String::as_str).chain(BINDING_NAMES).collect();
        SessionNames::new(&names)
    }

    /// Every name a kill must expire for the origin: each guarded name as configured, upper-
    /// and lower-case (ACF writes `CFID`, Lucee `cfid`). Prefixes are expired by the names the
    /// session recorded ([`response::CookieScope`]).
    pub fn expiry_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in self.cookies.iter().filter(|c| !c.ends_with('*')) {
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
    /// A value that is empty, longer than [`MAX_VALUE_LEN`], or has a space, a control
    /// character or a non-ASCII byte (see [`valid_value`]).
    Malformed,
}

impl OriginIds {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The guarded cookies of a `Cookie` header: each pair named exactly as a guarded cookie
    /// (ASCII case aside: the spelling the origin's `Set-Cookie` gave it), values byte for
    /// byte. `Ok(None)`: none present. Any other spelling a server may read as a guarded name
    /// (quoted, encoded, `c.f.i.d`, inside another pair) is no identity: [`forward_cookie`]
    /// removes it.
    ///
    /// # Errors
    /// [`Unusable::Ambiguous`] when the same name (ASCII case aside) comes twice with different
    /// values; [`Unusable::Malformed`] for a guarded value that is not a cookie value.
    pub fn from_cookie_header(header: &CookieHeader, policy: &GuardPolicy) -> Result<Option<Self>, Unusable> {
        let mut ids: Vec<(String, String)> = Vec::new();
        for (name, value) in header.named() {
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

    /// Whether `name=value` is one of these ids, exactly (name as sent, value byte for byte).
    fn contains(&self, name: &str, value: &str) -> bool {
        self.0.iter().any(|(n, v)| n == name && v == value)
    }

    fn canonical(mut ids: Vec<(String, String)>) -> Self {
        ids.sort_by_key(|(n, _)| n.to_ascii_lowercase());
        Self(ids)
    }

    /// Whether two identities are the same session (names compared case-insensitively).
    pub fn same_as(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().zip(&other.0).all(|((a, x), (b, y))| a.eq_ignore_ascii_case(b) && x == y)
    }

    /// SHA-256 over the canonical `lower-case name=value` lines: what a binding covers.
    fn digest(&self) -> [u8; 32] {
        let lines: Vec<String> = self.0.iter().map(|(n, v)| format!("{}={v}\n", n.to_ascii_lowercase())).collect();
        sha256(lines.concat().as_bytes())
    }

    /// The token key bound to these ids: bindings for them verify under it and no other.
    /// Computed once per request, however many binding cookies it carries.
    pub fn binding_key(&self, key: &TokenKey) -> TokenKey {
        key.bound_to(&self.digest())
    }

    /// The `Cookie` header that presents these ids to the origin (for `ORIGIN_KILL_URL`).
    pub fn cookie_header(&self) -> String {
        self.0.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }
}

/// A cookie value a browser stores and sends back unchanged, 1 to [`MAX_VALUE_LEN`] bytes of
/// printable ASCII other than `;`: RFC 6265 cookie-octets, their quoted form, and the `,`, `"`
/// and `\` browsers also keep (PHP's ids with `session.sid_bits_per_character = 6` have
/// commas). Every real session manager's ids fit (`s%3A…` of express-session, `…C3.node1` of a
/// Tomcat cluster, Laravel's and Rails' url-encoded values). Refused: empty, spaces, control
/// characters, non-ASCII.
fn valid_value(v: &str) -> bool {
    !v.is_empty() && v.len() <= MAX_VALUE_LEN && v.bytes().all(|b| b.is_ascii_graphic() && b != b';')
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

    /// Whether this binding was made by this edge for exactly the ids whose
    /// [`OriginIds::binding_key`] `bound` is. Constant time.
    pub fn verify(&self, bound: &TokenKey) -> bool {
        self.token.verify(&self.gid, bound)
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
        let token = CfToken::mint(&gid, &ids.binding_key(key), now, rng)?;
        Ok(Self { gid, token })
    }

    /// The binding cookie's value for guard id `gid` and binding token `token` (the shape
    /// [`Binding::parse`] reads). Only for `Set-Cookie`; never log it.
    pub fn cookie_value(gid: &Cfid, token: &CfToken) -> String {
        format!("{gid}.{}", token.expose())
    }
}

/// Whether cookie name `name` is the binding cookie's, ASCII case aside (any other spelling a
/// server may read as it is removed by [`forward_cookie`] as well).
fn is_binding(name: &str) -> bool {
    BINDING_NAMES.iter().any(|b| b.eq_ignore_ascii_case(name))
}

/// Binding cookies tried per request (a browser has one; a second is a leftover variant).
pub const MAX_BINDINGS: usize = 4;

/// The binding cookie values of a `Cookie` header (pairs named exactly `name`), at most
/// [`MAX_BINDINGS`]: each costs a MAC to verify.
pub fn binding_values<'a>(header: &'a CookieHeader, name: &'a str) -> impl Iterator<Item = &'a str> {
    header.named().filter(move |(n, _)| *n == name).map(|(_, v)| v).take(MAX_BINDINGS)
}

/// The `Cookie` header for the origin in guard mode ([`rebuild`]): the client's without the
/// binding cookie and without any pair a server may read as a guarded cookie, except the
/// `live` session's own ids, each once and exactly as bound. Other pairs byte for byte.
pub fn forward_cookie(header: &CookieHeader, policy: &GuardPolicy, live: Option<&OriginIds>) -> Rebuilt {
    rebuild(header, &policy.session_names(), &|name, value| {
        !is_binding(name) && live.is_some_and(|ids| ids.contains(name, value))
    })
}

pub mod response;

#[cfg(test)]
mod tests;
