//! Header lists as the edge handles them: a request's or response's headers read across the
//! platform boundary in one piece, then filtered and extended here, in plain Rust, and handed
//! back in one piece (see `src/edge/incoming.rs`). Names are lower-case, as the platform's
//! `Headers` iteration yields them; repeated names other than `set-cookie` arrive combined.

use url::Url;

use super::{
    forward::{self, ForwardedFor, HOP_MARKER},
    protocol,
};

/// `(name, value)` pairs in order.
pub type HeaderList = Vec<(String, String)>;

/// The first value of `name` (lower-case) in `list`.
pub fn get<'a>(list: &'a [(String, String)], name: &str) -> Option<&'a str> {
    list.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Sets `name` to `value`: replaces every earlier value, or appends.
pub fn set(list: &mut HeaderList, name: &str, value: impl Into<String>) {
    list.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    list.push((name.to_owned(), value.into()));
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

/// The headers sent to the origin: the client's, less hop-by-hop, edge-owned, spoofable and
/// `X-Session-*` ones, plus the session headers, `X-Forwarded-*` and the loop marker.
pub fn to_origin(client: &[(String, String)], request_url: &Url, add: Additions) -> HeaderList {
    let listed = forward::connection_tokens(get(client, "connection"));
    let mut out: HeaderList = client
        .iter()
        .filter(|(name, _)| {
            forward::keep_request_header(name, &listed)
                && !protocol::is_session_header(name)
                && !name.eq_ignore_ascii_case("cookie")
                && !name.eq_ignore_ascii_case("referer")
                && !name.eq_ignore_ascii_case("accept-encoding")
        })
        .cloned()
        .collect();
    if let Some(cookie) = add.cookie {
        out.push(("cookie".into(), cookie));
    }
    if let Some(referer) = add.referer {
        out.push(("referer".into(), referer));
    }
    let fwd = ForwardedFor::compute(request_url, get(client, "x-forwarded-for"), get(client, "cf-connecting-ip"));
    if let Some(chain) = fwd.for_chain {
        out.push(("x-forwarded-for".into(), chain));
    }
    out.push(("x-forwarded-proto".into(), fwd.proto));
    out.push(("x-forwarded-host".into(), fwd.host));
    out.push(("accept-encoding".into(), forward::accept_encoding(get(client, "accept-encoding")).to_owned()));
    for (name, value) in add.session {
        out.push((name.to_owned(), value));
    }
    out.push((HOP_MARKER.into(), "1".into()));
    out
}

/// The origin's response headers, taken apart: what the client gets (less hop-by-hop,
/// `Set-Cookie` and `X-Session-*` ones), and the origin's cookies and session control headers.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FromOrigin {
    pub kept: HeaderList,
    /// Every `Set-Cookie` value (the session flow decides which reach the client).
    pub set_cookies: Vec<String>,
    /// `X-Session-Set`, `X-Session-Action`, `X-Session-User`.
    pub set: Option<String>,
    pub action: Option<String>,
    pub user: Option<String>,
}

/// Takes the origin's response headers apart (see [`FromOrigin`]).
pub fn from_origin(origin: HeaderList) -> FromOrigin {
    let listed = forward::connection_tokens(get(&origin, "connection"));
    let mut out = FromOrigin::default();
    for (name, value) in origin {
        if name.eq_ignore_ascii_case("set-cookie") {
            out.set_cookies.push(value);
        } else if protocol::is_session_header(&name) {
            let slot = match name.to_ascii_lowercase().as_str() {
                protocol::SET => &mut out.set,
                protocol::ACTION => &mut out.action,
                protocol::USER => &mut out.user,
                _ => continue,
            };
            slot.get_or_insert(value);
        } else if forward::keep_response_header(&name, &listed) {
            out.kept.push((name, value));
        }
    }
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
        let out = to_origin(&client, &Url::parse("https://s.example:8443/p").unwrap(), add);
        assert_eq!(
            out,
            list(&[
                ("accept", "text/html"),
                ("cookie", "a=b"),
                ("referer", "https://s.example/"),
                ("x-forwarded-for", "10.0.0.1"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "s.example:8443"),
                ("accept-encoding", "identity"),
                ("x-session-id", "real"),
                (HOP_MARKER, "1"),
            ])
        );
    }

    #[test]
    fn no_cookie_and_no_referer_stay_out() {
        let client = list(&[("cookie", "CFID=1"), ("referer", "not a url"), ("accept-encoding", "br")]);
        let out = to_origin(&client, &Url::parse("http://s.example/").unwrap(), Additions::default());
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
        let got = from_origin(origin);
        assert_eq!(got.kept, list(&[("content-type", "text/html")]));
        assert_eq!(got.set_cookies, ["a=1", "CFID=2"]);
        assert_eq!(got.set.as_deref(), Some("{\"a\":1}"));
        assert_eq!(got.action.as_deref(), Some("invalidate"));
        assert_eq!(got.user.as_deref(), Some("alice"));
    }

    #[test]
    fn set_replaces_every_earlier_value() {
        let mut l = list(&[("cache-control", "max-age=60"), ("x", "1"), ("Cache-Control", "public")]);
        set(&mut l, "cache-control", "no-store");
        assert_eq!(l, list(&[("x", "1"), ("cache-control", "no-store")]));
    }
}
