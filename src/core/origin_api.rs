//! The origin API: the application acting for the user of one of its requests ("your
//! sessions": list them, end one, end all others). The origin calls the edge at
//! [`API_PREFIX`], naming the session of the request it is serving (`X-Session-Id`, as the
//! edge sent it) and signing the call with the origin key (never `ADMIN_TOKEN`):
//!
//! `X-Session-Signature: t=<unix seconds>,v2=<hex HMAC-SHA256(origin key, message)>` where
//! the message is `cfsession-origin-api-v2\n<t>\n<nonce>\n<METHOD>\n<host>\n<path>\n<X-Session-Id>`
//! ([`Signed`]): the nonce (`X-Session-Nonce`) makes every call single-use within its window,
//! and the host binds it to the site it was sent to.
//!
//! A call sees and ends only sessions tagged with the same user as the named session (a
//! session without a user sees only itself). The wire format: `docs/origin-protocol.md`.

use super::{
    crypto::{ct_eq, hex, hmac_sha256},
    ids::Cfid,
    protocol::OriginKeys,
};

/// Where the origin API lives (never forwarded to the origin).
pub const API_PREFIX: &str = "/__session/origin/";

/// How far a call's `t` may be from the edge's clock (seconds).
pub const MAX_SKEW_S: u64 = 300;

/// What the origin asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiCall {
    /// `GET sessions`: the user's live sessions.
    List,
    /// `DELETE sessions/<cfid>`: end one of them.
    End(Cfid),
    /// `POST sessions/end-others`: end all but the calling session.
    EndOthers,
}

/// Why a call is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiRefusal {
    /// No such endpoint (404).
    NoRoute,
    /// `X-Session-Id` is missing or not a CFID (400).
    BadSession,
    /// The signature is missing, malformed, stale or wrong, or the nonce is missing (401).
    BadSignature,
    /// The nonce was used before within its window: a replayed call (401).
    Replayed,
}

impl ApiRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiRefusal::NoRoute => "no such origin API endpoint",
            ApiRefusal::BadSession => "X-Session-Id is missing or not a CFID",
            ApiRefusal::BadSignature => "X-Session-Signature or X-Session-Nonce is missing, stale or wrong",
            ApiRefusal::Replayed => "X-Session-Nonce was used before: a replayed call",
        }
    }
}

/// The call for `method` on `rest` (the path after [`API_PREFIX`]).
pub fn route(method: &str, rest: &str) -> Result<ApiCall, ApiRefusal> {
    match (method, rest.trim_end_matches('/')) {
        ("GET", "sessions") => Ok(ApiCall::List),
        ("POST", "sessions/end-others") => Ok(ApiCall::EndOthers),
        ("DELETE", r) => {
            let id = r.strip_prefix("sessions/").ok_or(ApiRefusal::NoRoute)?;
            Cfid::parse(id).map(ApiCall::End).ok_or(ApiRefusal::NoRoute)
        }
        _ => Err(ApiRefusal::NoRoute),
    }
}

/// What identifies one call, as signed: the `Host` it was sent to (with its port), its
/// method, path, the calling session (`X-Session-Id`) and a nonce (`X-Session-Nonce`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    pub host: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub session_id: &'a str,
    pub nonce: &'a str,
}

impl Signed<'_> {
    /// `cfsession-origin-api-v2\n<t>\n<nonce>\n<METHOD>\n<host>\n<path>\n<X-Session-Id>`.
    fn message(&self, t: u64) -> String {
        let Self { host, method, path, session_id, nonce } = self;
        format!("cfsession-origin-api-v2\n{t}\n{nonce}\n{method}\n{}\n{path}\n{session_id}", host.to_ascii_lowercase())
    }

    /// The signature of this call at `t`, as the origin computes it.
    pub fn signature(&self, origin_key: &[u8], t: u64) -> String {
        OriginKeys { origin: origin_key, legacy: None }.sign(t, &[self.message(t).as_bytes()])
    }
}

/// A nonce is 16 to 64 letters, digits, `-` or `_` (a random value, fresh for every call).
fn valid_nonce(n: &str) -> bool {
    (16..=64).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks a call: the named session's CFID, the nonce's shape and the signature over the
/// call, within [`MAX_SKEW_S`] of `now_s`. The comparison is constant-time. Whether the nonce
/// was seen before is the calling session's object's to say ([`remember_nonce`]).
pub fn verify(origin_key: &[u8], call: &Signed<'_>, signature: Option<&str>, now_s: u64) -> Result<Cfid, ApiRefusal> {
    let cfid = Cfid::parse(call.session_id).ok_or(ApiRefusal::BadSession)?;
    if !valid_nonce(call.nonce) {
        return Err(ApiRefusal::BadSignature);
    }
    let (mut t, mut v2) = (None, None);
    for part in signature.ok_or(ApiRefusal::BadSignature)?.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<u64>().ok(),
            Some(("v2", v)) => v2 = Some(v),
            _ => {}
        }
    }
    let (t, given) = t.zip(v2).ok_or(ApiRefusal::BadSignature)?;
    if t.abs_diff(now_s) > MAX_SKEW_S {
        return Err(ApiRefusal::BadSignature);
    }
    let expected = hex(&hmac_sha256(origin_key, &[call.message(t).as_bytes()]));
    if ct_eq(expected.as_bytes(), given.as_bytes()) {
        Ok(cfid)
    } else {
        Err(ApiRefusal::BadSignature)
    }
}

/// Nonces a session's object remembers at most; beyond that, calls are refused until old ones
/// pass their window (a runaway caller, not an application).
pub const MAX_NONCES: usize = 1000;

/// Records `nonce` in `seen` (`(nonce, until ms)` pairs), forgetting those past their window.
/// `false` when it was seen within its window (a replay) or `seen` is full.
pub fn remember_nonce(seen: &mut Vec<(String, u64)>, nonce: &str, now_ms: u64) -> bool {
    seen.retain(|(_, until)| *until > now_ms);
    if seen.len() >= MAX_NONCES || seen.iter().any(|(n, _)| n == nonce) {
        return false;
    }
    // A signature is accepted up to MAX_SKEW_S either side of the edge's clock.
    seen.push((nonce.to_owned(), now_ms + 2 * MAX_SKEW_S * 1000));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const ID: &str = "0123456789abcdef0123456789abcdef";
    const PATH: &str = "/__session/origin/sessions";
    const NONCE: &str = "n0nce-0123456789";

    fn call() -> Signed<'static> {
        Signed { host: "www.example.com", method: "GET", path: PATH, session_id: ID, nonce: NONCE }
    }

    #[test]
    fn routes() {
        assert_eq!(route("GET", "sessions"), Ok(ApiCall::List));
        assert_eq!(route("GET", "sessions/"), Ok(ApiCall::List));
        assert_eq!(route("POST", "sessions/end-others"), Ok(ApiCall::EndOthers));
        assert_eq!(route("DELETE", &format!("sessions/{ID}")), Ok(ApiCall::End(Cfid::parse(ID).unwrap())));
        for (m, r) in [("DELETE", "sessions/xyz"), ("GET", "sessions/end-others"), ("PUT", "sessions"), ("GET", "")] {
            assert_eq!(route(m, r), Err(ApiRefusal::NoRoute), "{m} {r}");
        }
    }

    #[test]
    fn a_signed_call_verifies_and_names_its_session() {
        let sig = call().signature(KEY, 1_000);
        assert_eq!(verify(KEY, &call(), Some(&sig), 1_000).unwrap().as_str(), ID);
        assert!(verify(KEY, &call(), Some(&sig), 1_300).is_ok(), "within the window");
        let upper = Signed { host: "WWW.example.com", ..call() };
        assert!(verify(KEY, &upper, Some(&sig), 1_000).is_ok(), "host names in any case");
    }

    #[test]
    fn anything_else_is_refused() {
        let good = call().signature(KEY, 1_000);
        let refused = |key: &[u8], c: Signed<'_>, s: Option<&str>, now: u64| verify(key, &c, s, now).unwrap_err();
        assert_eq!(refused(b"another key", call(), Some(&good), 1_000), ApiRefusal::BadSignature);
        for changed in [
            Signed { method: "DELETE", ..call() },
            Signed { path: "/__session/origin/other", ..call() },
            Signed { host: "evil.example", ..call() },
            Signed { host: "www.example.com:8443", ..call() },
            Signed { nonce: "another-nonce-0123", ..call() },
            Signed { session_id: "fedcba9876543210fedcba9876543210", ..call() },
        ] {
            assert_eq!(refused(KEY, changed, Some(&good), 1_000), ApiRefusal::BadSignature, "{changed:?}");
        }
        assert_eq!(refused(KEY, call(), Some(&good), 1_301), ApiRefusal::BadSignature, "stale");
        assert_eq!(refused(KEY, call(), Some(&good), 699), ApiRefusal::BadSignature, "future");
        assert_eq!(refused(KEY, call(), None, 1_000), ApiRefusal::BadSignature);
        for bad in ["", "t=1000", "v2=00", "t=x,v2=00", &good.replace("v2=", "v1=")] {
            assert_eq!(refused(KEY, call(), Some(bad), 1_000), ApiRefusal::BadSignature, "{bad}");
        }
        for nonce in ["", "short", &"x".repeat(65), "has space 0123456789"] {
            let c = Signed { nonce, ..call() };
            let sig = c.signature(KEY, 1_000);
            assert_eq!(refused(KEY, c, Some(&sig), 1_000), ApiRefusal::BadSignature, "nonce {nonce:?}");
        }
        assert_eq!(refused(KEY, Signed { session_id: "", ..call() }, Some(&good), 1_000), ApiRefusal::BadSession);
        assert_eq!(refused(KEY, Signed { session_id: "x", ..call() }, Some(&good), 1_000), ApiRefusal::BadSession);
    }

    #[test]
    fn a_nonce_is_accepted_once_within_its_window() {
        let mut seen = Vec::new();
        assert!(remember_nonce(&mut seen, NONCE, 0));
        assert!(!remember_nonce(&mut seen, NONCE, 599_999), "replayed within the window");
        assert!(remember_nonce(&mut seen, NONCE, 600_000), "forgotten once no signature with it can verify");
        let mut full: Vec<(String, u64)> = (0..MAX_NONCES).map(|i| (format!("n{i}"), u64::MAX)).collect();
        assert!(!remember_nonce(&mut full, "fresh-nonce-00000", 0), "full: refused");
    }
}
