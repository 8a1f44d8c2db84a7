//! The origin protocol: the `X-Session-*` headers the edge sends with every forwarded request,
//! their signature, and the headers the origin answers with to change the session.
//! `docs/origin-protocol.md` is the user-facing description; keep the two in sync.

use serde_json::{Map, Value};

use super::crypto::{b64url, hex, hmac_sha256};

/// Every header with this prefix belongs to the edge: removed from client requests before
/// forwarding, and from origin responses before they reach the client.
pub const PREFIX: &str = "x-session-";

pub const ID: &str = "x-session-id";
pub const NEW: &str = "x-session-new";
pub const HITS: &str = "x-session-hits";
pub const DATA: &str = "x-session-data";
pub const SIGNATURE: &str = "x-session-signature";
pub const SET: &str = "x-session-set";
pub const ACTION: &str = "x-session-action";
pub const USER: &str = "x-session-user";
/// To the origin, when the client's fingerprint changed past `FINGERPRINT_THRESHOLD`:
/// `score=6; reasons=asn,country,network; action=log` (not signed; the edge removes
/// client-sent `X-Session-*` headers).
pub const FINGERPRINT_HEADER: &str = "x-session-fingerprint";

/// The largest idle timeout the origin may set with `timeout=` (30 days), in seconds.
pub const MAX_TIMEOUT_S: u64 = 30 * 24 * 3600;
/// The longest user id accepted in `X-Session-User`.
pub const MAX_USER_LEN: usize = 256;
/// The largest `X-Session-Set` read (bytes); the merged data is further held to
/// `SESSION_DATA_LIMIT` in the session object.
pub const MAX_SET_BYTES: usize = 64 * 1024;
/// The deepest nesting accepted in `X-Session-Set` (the object itself is level 1). Stored
/// records wrap the data a few levels deeper, far below the JSON parser's own limit (128).
pub const MAX_DATA_DEPTH: usize = 32;

/// The keys the edge signs what the origin receives with.
#[derive(Debug, Clone, Copy)]
pub struct OriginKeys<'a> {
    /// The origin key (`v2=`): see [`crate::core::config::origin_key`].
    pub origin: &'a [u8],
    /// The signing key itself (`v1=`), only with `SIGNATURE_LEGACY` on.
    pub legacy: Option<&'a [u8]>,
}

impl OriginKeys<'_> {
    /// `t=<t>,v2=<hex HMAC-SHA256(origin key, message)>`, plus `,v1=<…>` with the legacy key.
    pub fn sign(&self, t: u64, message: &[&[u8]]) -> String {
        let mut out = format!("t={t},v2={}", hex(&hmac_sha256(self.origin, message)));
        if let Some(legacy) = self.legacy {
            out.push_str(&format!(",v1={}", hex(&hmac_sha256(legacy, message))));
        }
        out
    }
}

/// How deeply `value` nests (a scalar is 1, `[]` is 1, `[[1]]` is 2). Iterative: any depth
/// is measured without recursion.
pub fn json_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|x| (x, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|x| (x, depth + 1))),
            _ => {}
        }
    }
    deepest
}

/// Whether a header name is one of the edge's `X-Session-*` headers, in any case and with `-`,
/// `_`, `.` and space read alike (CGI-style servers map them all to `_`: PHP's built-in server
/// reads `X.Session.Id` as `HTTP_X_SESSION_ID`).
pub fn is_session_header(name: &str) -> bool {
    let alike = |b: u8| if b"-_. ".contains(&b) { b'-' } else { b.to_ascii_lowercase() };
    name.get(..PREFIX.len()).is_some_and(|p| p.bytes().zip(PREFIX.bytes()).all(|(a, b)| alike(a) == b))
}

/// The session as attached to a forwarded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// The CFID.
    pub id: String,
    /// `true` on the first request of a session.
    pub new: bool,
    /// Requests in this session including this one; only with `SESSION_HITS` on.
    pub hits: Option<u64>,
    /// base64url (unpadded) of the session data as a JSON object.
    pub data: String,
}

impl Attached {
    pub fn new(id: &str, new: bool, hits: Option<u64>, data: &Map<String, Value>) -> Self {
        let json = serde_json::to_string(data).unwrap_or_else(|_| "{}".to_owned());
        Self { id: id.to_owned(), new, hits, data: b64url(json.as_bytes()) }
    }

    /// The headers for the origin, the signature last. `t` is the Unix time in seconds;
    /// `path` and `query` are exactly as forwarded (`query` without `?`, empty when none).
    pub fn headers(
        &self,
        keys: &OriginKeys<'_>,
        t: u64,
        method: &str,
        path: &str,
        query: &str,
    ) -> Vec<(&'static str, String)> {
        let mut out = vec![(ID, self.id.clone()), (NEW, self.new.to_string())];
        if let Some(h) = self.hits {
            out.push((HITS, h.to_string()));
        }
        out.push((DATA, self.data.clone()));
        out.push((SIGNATURE, self.signature(keys, t, method, path, query)));
        out
    }

    /// `t=<unix seconds>,v2=<hex HMAC-SHA256(origin key, canonical)>` (see [`OriginKeys`]).
    pub fn signature(&self, keys: &OriginKeys<'_>, t: u64, method: &str, path: &str, query: &str) -> String {
        let hits = self.hits.map(|h| h.to_string()).unwrap_or_default();
        let canonical = canonical(t, method, path, query, &self.id, self.new, &hits, &self.data);
        keys.sign(t, &[canonical.as_bytes()])
    }
}

/// The signed string: one value per line, in this order.
#[allow(clippy::too_many_arguments)]
pub fn canonical(t: u64, method: &str, path: &str, query: &str, id: &str, new: bool, hits: &str, data: &str) -> String {
    format!("cfsession-v1\n{t}\n{}\n{path}\n{query}\n{id}\n{new}\n{hits}\n{data}", method.to_ascii_uppercase())
}

/// One action from `X-Session-Action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// End the session now (ColdFusion's `sessionInvalidate()`).
    Invalidate,
    /// New CFID and CFTOKEN, same data (ColdFusion's `sessionRotate()`).
    Rotate,
    /// This session's idle timeout, in seconds (ColdFusion's `setMaxInactiveInterval`).
    Timeout(u64),
}

/// What the origin asked for in its response headers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OriginChanges {
    pub set: Option<Map<String, Value>>,
    pub actions: Vec<Action>,
    pub user: Option<String>,
    /// Why parts were ignored, for the log. Never contains header values (they may be data).
    pub problems: Vec<String>,
}

impl OriginChanges {
    /// Whether the session must be updated in its object.
    pub fn changes_session(&self) -> bool {
        self.set.is_some() || self.user.is_some() || !self.actions.is_empty()
    }

    pub fn has(&self, action: Action) -> bool {
        self.actions.contains(&action)
    }

    /// The last `timeout=` given, if any.
    pub fn timeout(&self) -> Option<u64> {
        self.actions.iter().rev().find_map(|a| match a {
            Action::Timeout(t) => Some(*t),
            _ => None,
        })
    }
}

/// Parses the origin's control headers. A malformed `X-Session-Set` or `X-Session-User` is
/// ignored as a whole; in `X-Session-Action` each malformed item is ignored and the valid
/// ones apply. Every ignored part is described in `problems`.
pub fn parse_origin_changes(set: Option<&str>, action: Option<&str>, user: Option<&str>) -> OriginChanges {
    let mut out = OriginChanges::default();
    match set {
        // The size is checked before anything is parsed.
        Some(raw) if raw.len() > MAX_SET_BYTES => {
            out.problems.push(format!("X-Session-Set ignored: larger than {MAX_SET_BYTES} bytes"))
        }
        Some(raw) => match serde_json::from_str::<Value>(raw) {
            Ok(v @ Value::Object(_)) if json_depth(&v) > MAX_DATA_DEPTH => {
                out.problems.push(format!("X-Session-Set ignored: nested deeper than {MAX_DATA_DEPTH} levels"))
            }
            Ok(Value::Object(map)) => out.set = Some(map),
            Ok(_) => out.problems.push("X-Session-Set ignored: not a JSON object".into()),
            Err(_) => out.problems.push("X-Session-Set ignored: not valid JSON".into()),
        },
        None => {}
    }
    for item in action.unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match parse_action(item) {
            Some(a) => out.actions.push(a),
            None => out.problems.push(format!("X-Session-Action item ignored: {}", describe(item))),
        }
    }
    if let Some(raw) = user {
        match user_id(raw) {
            Some(id) => out.user = Some(id),
            None => out.problems.push(format!(
                "X-Session-User ignored: must be 1-{MAX_USER_LEN} printable characters, as text or a JSON string"
            )),
        }
    }
    out
}

/// The user id of an `X-Session-User` value: the text itself, or, when it starts with `"`, the
/// JSON string it is (any Unicode, sent as `\uXXXX` escapes: header values are bytes). 1 to
/// [`MAX_USER_LEN`] bytes of UTF-8 without control characters.
fn user_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let id = if raw.starts_with('"') { serde_json::from_str::<String>(raw).ok()? } else { raw.to_owned() };
    (!id.is_empty() && id.len() <= MAX_USER_LEN && !id.chars().any(char::is_control)).then_some(id)
}

fn parse_action(item: &str) -> Option<Action> {
    if item.eq_ignore_ascii_case("invalidate") {
        return Some(Action::Invalidate);
    }
    if item.eq_ignore_ascii_case("rotate") {
        return Some(Action::Rotate);
    }
    let (k, v) = item.split_once('=')?;
    if !k.trim().eq_ignore_ascii_case("timeout") {
        return None;
    }
    let secs: u64 = v.trim().parse().ok()?;
    (1..=MAX_TIMEOUT_S).contains(&secs).then_some(Action::Timeout(secs))
}

/// A short, safe description of an unknown action item for the log.
fn describe(item: &str) -> String {
    let shown: String = item.chars().take(32).filter(|c| c.is_ascii_graphic()).collect();
    format!("{shown:?} (expected invalidate, rotate or timeout=<1..{MAX_TIMEOUT_S}>)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::b64url_decode;

    #[test]
    fn session_header_prefix_is_case_insensitive() {
        assert!(is_session_header("X-Session-Id"));
        assert!(is_session_header("x-session-anything"));
        assert!(is_session_header("X_Session_Id") && is_session_header("x_session-data"));
        assert!(
            is_session_header("X.Session.Id")
                && is_session_header("x session-data")
                && is_session_header("X_Session.Signature")
        );
        assert!(!is_session_header("X-SessionObjects") && !is_session_header("x-session") && !is_session_header("é"));
        assert!(!is_session_header("x-sessionid"));
        assert!(!is_session_header("x-sess"));
    }

    #[test]
    fn attached_headers_and_signature() {
        let data = serde_json::json!({"cart": 3}).as_object().unwrap().clone();
        let a = Attached::new("abc", false, Some(7), &data);
        assert_eq!(b64url_decode(&a.data).unwrap(), br#"{"cart":3}"#);
        let keys = OriginKeys { origin: b"key", legacy: None };
        let h = a.headers(&keys, 1_700_000_000, "get", "/p", "q=1");
        let names: Vec<_> = h.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, vec![ID, NEW, HITS, DATA, SIGNATURE]);
        let sig = &h[4].1;
        let canonical = "cfsession-v1\n1700000000\nGET\n/p\nq=1\nabc\nfalse\n7\neyJjYXJ0IjozfQ";
        let expected = hex(&hmac_sha256(b"key", &[canonical.as_bytes()]));
        assert_eq!(sig, &format!("t=1700000000,v2={expected}"));
        let no_hits = Attached::new("abc", true, None, &Map::new());
        assert_eq!(no_hits.headers(&keys, 1, "GET", "/", "").len(), 4);
        let legacy = OriginKeys { origin: b"key", legacy: Some(b"old") };
        let old = hex(&hmac_sha256(b"old", &[canonical.as_bytes()]));
        assert_eq!(
            a.signature(&legacy, 1_700_000_000, "GET", "/p", "q=1"),
            format!("t=1700000000,v2={expected},v1={old}")
        );
    }

    #[test]
    fn signature_changes_with_every_covered_value() {
        let a = Attached::new("abc", false, Some(1), &Map::new());
        let k = OriginKeys { origin: b"k", legacy: None };
        let base = a.signature(&k, 10, "GET", "/p", "q");
        assert_ne!(base, a.signature(&k, 11, "GET", "/p", "q"));
        assert_ne!(base, a.signature(&k, 10, "POST", "/p", "q"));
        assert_ne!(base, a.signature(&k, 10, "GET", "/x", "q"));
        assert_ne!(base, a.signature(&k, 10, "GET", "/p", "r"));
        assert_ne!(base, a.signature(&OriginKeys { origin: b"other", legacy: None }, 10, "GET", "/p", "q"));
        assert_ne!(base, Attached::new("abd", false, Some(1), &Map::new()).signature(&k, 10, "GET", "/p", "q"));
        assert_ne!(base, Attached::new("abc", true, Some(1), &Map::new()).signature(&k, 10, "GET", "/p", "q"));
        assert_ne!(base, Attached::new("abc", false, Some(2), &Map::new()).signature(&k, 10, "GET", "/p", "q"));
    }

    #[test]
    fn origin_changes_parse() {
        let c = parse_origin_changes(Some(r#"{"a":1,"b":null}"#), Some("timeout=30, rotate"), Some(" user-42 "));
        assert_eq!(c.set.unwrap().len(), 2);
        assert_eq!(c.actions, vec![Action::Timeout(30), Action::Rotate]);
        assert_eq!(c.user.as_deref(), Some("user-42"));
        assert!(c.problems.is_empty());
    }

    #[test]
    fn malformed_origin_changes_are_ignored_with_reasons() {
        let c = parse_origin_changes(
            Some("[1,2]"),
            Some("INVALIDATE, explode, timeout=0, timeout=abc, timeout=99999999"),
            Some(""),
        );
        assert_eq!(c.set, None);
        assert_eq!(c.actions, vec![Action::Invalidate]);
        assert_eq!(c.user, None);
        assert_eq!(c.problems.len(), 6, "{:?}", c.problems);
        // Any Unicode as a JSON string; a lone surrogate (which no string can hold) is refused.
        let c = parse_origin_changes(None, None, Some(r#""Zo\u00eb \ud83d\ude00 \u65e5""#));
        assert_eq!(c.user.as_deref(), Some("Zoë 😀 日"));
        for bad in [r#""\ud800""#, r#""a\u0000b""#, r#""unterminated"#, r#""""#] {
            assert_eq!(parse_origin_changes(None, None, Some(bad)).user, None, "{bad}");
        }
        let c = parse_origin_changes(Some("{not json"), None, Some(&"u".repeat(MAX_USER_LEN + 1)));
        assert_eq!(c.problems.len(), 2);
        assert!(!c.changes_session());
    }

    #[test]
    fn deep_or_huge_data_is_refused_before_storage() {
        let deep = format!("{{\"k\":{}{}}}", "[".repeat(125), "]".repeat(125));
        let c = parse_origin_changes(Some(&deep), None, None);
        assert_eq!(c.set, None);
        assert!(c.problems[0].contains("not valid JSON") || c.problems[0].contains("deeper"), "{:?}", c.problems);
        let deep = format!("{{\"k\":{}{}}}", "[".repeat(40), "]".repeat(40));
        let c = parse_origin_changes(Some(&deep), None, None);
        assert_eq!(c.set, None);
        assert!(c.problems[0].contains("deeper than 32"), "{:?}", c.problems);
        let ok = format!("{{\"k\":{}{}}}", "[".repeat(30), "]".repeat(30));
        assert!(parse_origin_changes(Some(&ok), None, None).set.is_some());
        let huge = format!("{{\"k\":\"{}\"}}", "x".repeat(MAX_SET_BYTES));
        assert!(parse_origin_changes(Some(&huge), None, None).problems[0].contains("larger than"));
        assert_eq!(json_depth(&serde_json::json!(1)), 1);
        assert_eq!(json_depth(&serde_json::json!({"a": [1, {"b": []}]})), 4);
    }

    #[test]
    fn problems_never_echo_secrets() {
        let c = parse_origin_changes(Some(r#""secret-value""#), Some("secret\u{7}value"), None);
        assert!(c.problems.iter().all(|p| !p.contains("secret-value")));
    }
}
