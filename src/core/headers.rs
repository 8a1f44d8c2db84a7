//! Header handling as the edge does it: the client's (or the origin's) headers are read across
//! the platform boundary once, as a list; what passes is decided here, in plain Rust, as
//! [`Edits`] that the platform applies to its own copy of the headers (see
//! `src/edge/incoming.rs`). Names are lower-case, as the platform's `Headers` iteration yields
//! them; repeated names other than `set-cookie` arrive combined.

use url::Url;

use super::{
    forward::{self, ForwardedFor, HOP_MARKER},
    protocol,
};

/// `(name, value)` pairs in order.
pub type HeaderList = Vec<(String, String)>;

/// The first value of `name` in `list`.
pub fn get<'a>(list: &'a [(String, String)], name: &str) -> Option<&'a str> {
    list.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// One change to a set of headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Remove every value of the name.
    Delete(String),
    /// Add a value (after any the name has).
    Append(String, String),
}

/// Changes to a set of headers, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edits(Vec<Edit>);

/// A header name or value with a line break: refused (it would split into other headers).
/// Carries the header's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineBreak(pub String);

impl Edits {
    pub fn delete(&mut self, name: &str) {
        self.0.push(Edit::Delete(name.to_owned()));
    }

    pub fn append(&mut self, name: &str, value: impl Into<String>) {
        self.0.push(Edit::Append(name.to_owned(), value.into()));
    }

    /// Replaces every value of `name` with `value`.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.delete(name);
        self.append(name, value);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `more`'s edits after these.
    pub fn extend(&mut self, more: Edits) {
        self.0.extend(more.0);
    }

    pub fn iter(&self) -> impl Iterator<Item = &Edit> {
        self.0.iter()
    }

    /// The edits as lines for the platform side: `d`, name; or `a`, name, value. Header names
    /// and values never contain line breaks (the platform refuses them), so one with a line
    /// break is an error here rather than a header smuggled in. The error names the header,
    /// never its value (which may be a cookie).
    pub fn encode(&self) -> Result<String, LineBreak> {
        let broken = |s: &str| s.contains(['\n', '\r']);
        let mut out = String::new();
        for edit in &self.0 {
            let (op, name, value) = match edit {
                Edit::Delete(name) => ("d", name, None),
                Edit::Append(name, value) => ("a", name, Some(value)),
            };
            if broken(name) || value.is_some_and(|v| broken(v)) {
                return Err(LineBreak(name.chars().filter(|c| !c.is_control()).take(40).collect()));
            }
            for part in [Some(op), Some(name.as_str()), value.map(String::as_str)].into_iter().flatten() {
                out.push_str(part);
                out.push('\n');
            }
        }
        Ok(out)
    }

    /// The edits applied to `list` (what the platform does with them).
    pub fn apply(&self, list: &[(String, String)]) -> HeaderList {
        let mut out = list.to_vec();
        for edit in &self.0 {
            match edit {
                Edit::Delete(name) => out.retain(|(n, _)| !n.eq_ignore_ascii_case(name)),
                Edit::Append(name, value) => out.push((name.clone(), value.clone())),
            }
        }
        out
    }

    /// Deletes each name once, in first-seen order.
    fn delete_each<'a>(&mut self, names: impl Iterator<Item = &'a str>) {
        let mut seen: Vec<&str> = Vec::new();
        for name in names {
            if !seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                seen.push(name);
                self.delete(name);
            }
        }
    }
}

/// What the edge adds to a forwarded request.
#[derive(Debug, Default)]
pub struct Additions {
    /// The `X-Session-*` headers for the origin.
    pub session: Vec<(&'static str, String)>,
    /// The `Cookie` header (the client's without the session cookies); `None`: none.
    pub cookie: Option<String>,
    /// The `Referer` (the client's without session tokens); `None`: dropped.
    pub referer: Option<String>,
}

/// The edits that turn the client's headers into the origin's: the client's, less
/// hop-by-hop, edge-owned, spoofable and `X-Session-*` ones, plus the session headers,
/// `X-Forwarded-*` and the loop marker.
pub fn to_origin(client: &[(String, String)], request_url: &Url, add: Additions) -> Edits {
    let listed = forward::connection_tokens(get(client, "connection"));
    let mut edits = Edits::default();
    edits.delete_each(client.iter().map(|(n, _)| n.as_str()).filter(|name| {
        !forward::keep_request_header(name, &listed)
            || protocol::is_session_header(name)
            || name.eq_ignore_ascii_case("cookie")
            || name.eq_ignore_ascii_case("referer")
            || name.eq_ignore_ascii_case("accept-encoding")
    }));
    if let Some(cookie) = add.cookie {
        edits.append("cookie", cookie);
    }
    if let Some(referer) = add.referer {
        edits.append("referer", referer);
    }
    let fwd = ForwardedFor::compute(request_url, get(client, "x-forwarded-for"), get(client, "cf-connecting-ip"));
    edits.append("forwarded", fwd.forwarded());
    if let Some(chain) = fwd.for_chain {
        edits.append("x-forwarded-for", chain);
    }
    edits.append("x-forwarded-proto", fwd.proto);
    edits.append("x-forwarded-host", fwd.host);
    edits.append("accept-encoding", forward::accept_encoding(get(client, "accept-encoding")));
    for (name, value) in add.session {
        edits.append(name, value);
    }
    edits.append(HOP_MARKER, "1");
    edits
}

/// The origin's response headers, taken apart: the edits that leave what the client gets
/// (less hop-by-hop, `Set-Cookie` and `X-Session-*` ones), and the origin's cookies and
/// session control headers. The connection headers the runtime writes itself (`Connection`,
/// `Keep-Alive`, `Transfer-Encoding`, …) are left in place: they never reach the client, and
/// a response with nothing else to remove goes out as it came.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FromOrigin {
    pub edits: Edits,
    /// Every `Set-Cookie` value (the session flow decides which reach the client).
    pub set_cookies: Vec<String>,
    /// `X-Session-Set`, `X-Session-Action`, `X-Session-User`.
    pub set: Option<String>,
    pub action: Option<String>,
    pub user: Option<String>,
}

/// Takes the origin's response headers apart (see [`FromOrigin`]).
pub fn from_origin(origin: &[(String, String)]) -> FromOrigin {
    let listed = forward::connection_tokens(get(origin, "connection"));
    let mut out = FromOrigin::default();
    let mut dropped = Vec::new();
    for (name, value) in origin {
        if name.eq_ignore_ascii_case("set-cookie") {
            out.set_cookies.push(value.clone());
        } else if protocol::is_session_header(name) {
            let slot = match name.to_ascii_lowercase().as_str() {
                protocol::SET => Some(&mut out.set),
                protocol::ACTION => Some(&mut out.action),
                protocol::USER => Some(&mut out.user),
                _ => None,
            };
            if let Some(slot) = slot {
                slot.get_or_insert_with(|| value.clone());
            }
        } else if forward::written_by_runtime(name) || forward::keep_response_header(name, &listed) {
            continue;
        }
        dropped.push(name.as_str());
    }
    out.edits.delete_each(dropped.into_iter());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(pairs: &[(&str, &str)]) -> HeaderList {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn origin_request_headers() {
        let client = list(&[
            ("accept", "text/html"),
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "1"),
            ("cookie", "CFID=1; a=b"),
            ("referer", "https://s.example/?CFTOKEN=t"),
            ("x-session-id", "forged"),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-real-ip", "1.2.3.4"),
            ("host", "s.example"),
            (HOP_MARKER, "1"),
        ]);
        let add = Additions {
            session: vec![("x-session-id", "real".into())],
            cookie: Some("a=b".into()),
            referer: Some("https://s.example/".into()),
        };
        let edits = to_origin(&client, &Url::parse("https://s.example:8443/p").unwrap(), add);
        assert_eq!(
            edits.apply(&client),
            list(&[
                ("accept", "text/html"),
                ("cookie", "a=b"),
                ("referer", "https://s.example/"),
                ("forwarded", "for=10.0.0.1;host=\"s.example:8443\";proto=https"),
                ("x-forwarded-for", "10.0.0.1"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "s.example:8443"),
                ("accept-encoding", "identity"),
                ("x-session-id", "real"),
                (HOP_MARKER, "1"),
            ])
        );
        // IPv6 addresses are quoted in `Forwarded`.
        let client = list(&[("cf-connecting-ip", "2001:db8::1")]);
        let h = to_origin(&client, &Url::parse("https://s.example/").unwrap(), Additions::default());
        let out = h.apply(&list(&[]));
        assert_eq!(get(&out, "forwarded"), Some("for=\"[2001:db8::1]\";host=s.example;proto=https"));
    }

    #[test]
    fn no_cookie_and_no_referer_stay_out() {
        let client = list(&[("cookie", "CFID=1"), ("referer", "not a url"), ("accept-encoding", "br")]);
        let out = to_origin(&client, &Url::parse("http://s.example/").unwrap(), Additions::default()).apply(&client);
        assert_eq!(get(&out, "cookie"), None);
        assert_eq!(get(&out, "referer"), None);
        assert_eq!(get(&out, "accept-encoding"), Some("br"));
    }

    #[test]
    fn origin_response_headers() {
        let origin = list(&[
            ("content-type", "text/html"),
            ("set-cookie", "a=1"),
            ("set-cookie", "CFID=2"),
            ("connection", "x-private"),
            ("x-private", "1"),
            ("transfer-encoding", "chunked"),
            ("X-Session-Set", "{\"a\":1}"),
            ("x-session-action", "invalidate"),
            ("x-session-user", "alice"),
            ("x-session-other", "dropped"),
        ]);
        let got = from_origin(&origin);
        assert_eq!(
            got.edits.apply(&origin),
            list(&[("content-type", "text/html"), ("connection", "x-private"), ("transfer-encoding", "chunked")]),
            "the runtime writes its own connection headers"
        );
        assert_eq!(got.set_cookies, ["a=1", "CFID=2"]);
        assert_eq!(got.set.as_deref(), Some("{\"a\":1}"));
        assert_eq!(got.action.as_deref(), Some("invalidate"));
        assert_eq!(got.user.as_deref(), Some("alice"));
    }

    #[test]
    fn a_clean_origin_response_needs_no_edits() {
        let origin = list(&[("content-type", "text/plain"), ("cache-control", "no-store"), ("date", "x")]);
        assert!(from_origin(&origin).edits.is_empty());
        // What Node's http server sends: the runtime writes its own connection headers.
        let node = list(&[
            ("content-type", "text/plain"),
            ("connection", "keep-alive"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
        ]);
        assert!(from_origin(&node).edits.is_empty());
        // Other hop-by-hop headers, and those a `Connection` header names, are still removed.
        let hop = list(&[("connection", "keep-alive, x-private"), ("x-private", "1"), ("proxy-connection", "x")]);
        assert_eq!(from_origin(&hop).edits.apply(&hop), list(&[("connection", "keep-alive, x-private")]));
    }

    #[test]
    fn set_replaces_every_earlier_value() {
        let l = list(&[("cache-control", "max-age=60"), ("x", "1"), ("Cache-Control", "public")]);
        let mut edits = Edits::default();
        edits.set("cache-control", "no-store");
        assert_eq!(edits.apply(&l), list(&[("x", "1"), ("cache-control", "no-store")]));
    }

    #[test]
    fn edits_encode_as_lines_and_refuse_line_breaks() {
        let mut edits = Edits::default();
        edits.delete("cookie");
        edits.append("x-a", "1");
        assert_eq!(edits.encode().unwrap(), "d\ncookie\na\nx-a\n1\n");
        edits.append("x-b", "2\r\nx-session-id: forged");
        assert_eq!(edits.encode(), Err(LineBreak("x-b".into())), "names the header, not the value");
        let mut edits = Edits::default();
        edits.append("x\nsmuggled", "1");
        assert!(edits.encode().is_err());
    }
}
