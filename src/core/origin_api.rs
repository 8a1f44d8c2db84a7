//! The origin API: the application acting for the user of one of its requests ("your
//! sessions": list them, end one, end all others). The origin calls the edge at
//! [`API_PREFIX`], naming the session of the request it is serving (`X-Session-Id`, as the
//! edge sent it) and signing the call with the origin key (never `ADMIN_TOKEN`):
//!
//! `X-Session-Signature: t=<unix seconds>,v2=<hex HMAC-SHA256(origin key, message)>` where
//! the message is `cfsession-origin-api-v1\n<t>\n<METHOD>\n<path>\n<X-Session-Id>`.
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
    /// The signature is missing, malformed, stale or wrong (401).
    BadSignature,
}

impl ApiRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiRefusal::NoRoute => "no such origin API endpoint",
            ApiRefusal::BadSession => "X-Session-Id is missing or not a CFID",
            ApiRefusal::BadSignature => "X-Session-Signature is missing, stale or wrong",
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

/// The signature of a call, as the origin computes it.
pub fn signature(origin_key: &[u8], t: u64, method: &str, path: &str, cfid: &str) -> String {
    OriginKeys { origin: origin_key, legacy: None }.sign(t, &[message(t, method, path, cfid).as_bytes()])
}

fn message(t: u64, method: &str, path: &str, cfid: &str) -> String {
    format!("cfsession-origin-api-v1\n{t}\n{method}\n{path}\n{cfid}")
}

/// Checks a call: the named session's CFID and the signature over it, within
/// [`MAX_SKEW_S`] of `now_s`. The comparison is constant-time.
pub fn verify(
    origin_key: &[u8],
    method: &str,
    path: &str,
    session_id: Option<&str>,
    signature: Option<&str>,
    now_s: u64,
) -> Result<Cfid, ApiRefusal> {
    let cfid = session_id.and_then(Cfid::parse).ok_or(ApiRefusal::BadSession)?;
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
    let expected = hex(&hmac_sha256(origin_key, &[message(t, method, path, cfid.as_str()).as_bytes()]));
    if ct_eq(expected.as_bytes(), given.as_bytes()) {
        Ok(cfid)
    } else {
        Err(ApiRefusal::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const ID: &str = "0123456789abcdef0123456789abcdef";
    const PATH: &str = "/__session/origin/sessions";

    fn sig(t: u64) -> String {
        signature(KEY, t, "GET", PATH, ID)
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
        let cfid = verify(KEY, "GET", PATH, Some(ID), Some(&sig(1_000)), 1_000).unwrap();
        assert_eq!(cfid.as_str(), ID);
        assert!(verify(KEY, "GET", PATH, Some(ID), Some(&sig(1_000)), 1_300).is_ok(), "within the window");
    }

    #[test]
    fn anything_else_is_refused() {
        let good = sig(1_000);
        let refused = |key: &[u8], method: &str, path: &str, id: Option<&str>, s: Option<&str>, now: u64| {
            verify(key, method, path, id, s, now).unwrap_err()
        };
        assert_eq!(refused(b"another key", "GET", PATH, Some(ID), Some(&good), 1_000), ApiRefusal::BadSignature);
        assert_eq!(refused(KEY, "DELETE", PATH, Some(ID), Some(&good), 1_000), ApiRefusal::BadSignature);
        assert_eq!(
            refused(KEY, "GET", "/__session/origin/other", Some(ID), Some(&good), 1_000),
            ApiRefusal::BadSignature
        );
        let other = "fedcba9876543210fedcba9876543210";
        assert_eq!(refused(KEY, "GET", PATH, Some(other), Some(&good), 1_000), ApiRefusal::BadSignature);
        assert_eq!(refused(KEY, "GET", PATH, Some(ID), Some(&good), 1_301), ApiRefusal::BadSignature, "stale");
        assert_eq!(refused(KEY, "GET", PATH, Some(ID), Some(&good), 699), ApiRefusal::BadSignature, "future");
        assert_eq!(refused(KEY, "GET", PATH, Some(ID), None, 1_000), ApiRefusal::BadSignature);
        for bad in ["", "t=1000", "v2=00", "t=x,v2=00", &good.replace("v2=", "v1=")] {
            assert_eq!(refused(KEY, "GET", PATH, Some(ID), Some(bad), 1_000), ApiRefusal::BadSignature, "{bad}");
        }
        assert_eq!(refused(KEY, "GET", PATH, None, Some(&good), 1_000), ApiRefusal::BadSession);
        assert_eq!(refused(KEY, "GET", PATH, Some("not-a-cfid"), Some(&good), 1_000), ApiRefusal::BadSession);
    }
}
