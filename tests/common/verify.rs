//! An origin-side verifier of the edge's `X-Session-Signature`, written from
//! docs/origin-protocol.md (independently of the crate's own signing code). Origins verify the
//! `v2=` MAC with the origin key, derived from the edge's signing key as [`origin_key`] shows.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::origin::Recorded;

/// The origin key of an edge whose `SESSION_SIGNING_KEY` is `signing_key`: hex of
/// HMAC-SHA256(signing_key, "cfsession-edge origin key v1"), used as text.
pub fn origin_key(signing_key: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(signing_key.as_bytes()).unwrap();
    mac.update(b"cfsession-edge origin key v1");
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The origin key of the test edges (see [`origin_key`]).
pub fn test_origin_key() -> String {
    origin_key(super::edge::TEST_SIGNING_KEY)
}

/// What an origin checks, taken from a received request.
#[derive(Debug, Clone)]
pub struct Signed {
    pub t: u64,
    pub v2: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub id: String,
    pub new: String,
    pub hits: String,
    pub data: String,
}

impl Signed {
    /// Reads the signed values from a request as the origin received it.
    pub fn from_request(r: &Recorded) -> Self {
        let sig = r.header("x-session-signature").expect("x-session-signature");
        let mut t = 0;
        let mut v2 = String::new();
        for part in sig.split(',') {
            match part.split_once('=') {
                Some(("t", v)) => t = v.parse().expect("t is a number"),
                Some(("v2", v)) => v2 = v.to_owned(),
                _ => {}
            }
        }
        let (path, query) = match r.url.split_once('?') {
            Some((p, q)) => (p.to_owned(), q.to_owned()),
            None => (r.url.clone(), String::new()),
        };
        let h = |n: &str| r.header(n).unwrap_or("").to_owned();
        Self {
            t,
            v2,
            method: r.method.clone(),
            path,
            query,
            id: h("x-session-id"),
            new: h("x-session-new"),
            hits: h("x-session-hits"),
            data: h("x-session-data"),
        }
    }

    /// Verifies with `key`; also checks the timestamp is within 300 s of `now_s`.
    pub fn verify(&self, key: &[u8], now_s: u64) -> bool {
        let canonical = format!(
            "cfsession-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.t,
            self.method.to_ascii_uppercase(),
            self.path,
            self.query,
            self.id,
            self.new,
            self.hits,
            self.data
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(canonical.as_bytes());
        let Ok(expected) = hex_decode(&self.v2) else {
            return false;
        };
        now_s.abs_diff(self.t) <= 300 && mac.verify_slice(&expected).is_ok()
    }
}

fn hex_decode(s: &str) -> Result<Vec<u8>, ()> {
    if !s.len().is_multiple_of(2) {
        return Err(());
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| ())).collect()
}

/// Decodes `X-Session-Data` (unpadded base64url of a JSON object).
pub fn session_data(r: &Recorded) -> serde_json::Value {
    use base64::Engine;
    let raw = r.header("x-session-data").expect("x-session-data");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

pub fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

/// Verifies a hook request's `X-Session-Signature` (`cfsession-hook-v1\n<t>\n<body>`).
pub fn hook_signature_ok(r: &Recorded, key: &[u8], now_s: u64) -> bool {
    let Some(sig) = r.header("x-session-signature") else { return false };
    let mut t = 0u64;
    let mut v2 = "";
    for part in sig.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse().unwrap_or(0),
            Some(("v2", v)) => v2 = v,
            _ => {}
        }
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("cfsession-hook-v1\n{t}\n").as_bytes());
    mac.update(&r.body);
    let Ok(expected) = hex_decode(v2) else { return false };
    now_s.abs_diff(t) <= 300 && mac.verify_slice(&expected).is_ok()
}

/// The headers the edge would send with a request to the origin (docs/origin-protocol.md),
/// signed with `key` now: for measuring an origin without an edge in front.
pub fn signed_headers(
    key: &str,
    method: &str,
    path: &str,
    id: &str,
    new: bool,
    data: &serde_json::Value,
) -> Vec<(String, String)> {
    use base64::Engine;
    let data = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data.to_string());
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let t = now_s();
    let canonical = format!("cfsession-v1\n{t}\n{method}\n{path}\n{query}\n{id}\n{new}\n\n{data}");
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(canonical.as_bytes());
    let v2: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    vec![
        ("X-Session-Id".into(), id.into()),
        ("X-Session-New".into(), new.to_string()),
        ("X-Session-Data".into(), data),
        ("X-Session-Signature".into(), format!("t={t},v2={v2}")),
    ]
}
