//! Pure rules for forwarding a request to the origin and its response back: which headers
//! pass, which are added, and where the request goes.

use url::Url;

/// Marks a request already forwarded by this Worker, so a route that loops back is caught.
pub const HOP_MARKER: &str = "x-cfsession-hop";

/// Hop-by-hop headers (RFC 9110 §7.6.1, plus the common non-standard ones); never forwarded
/// in either direction. Headers named in `Connection` are hop-by-hop too.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The connection headers of the runtime's own HTTP layer (workerd's KJ HTTP): it writes them
/// for each connection itself, and a Worker's values for them never reach the wire. An origin
/// response carrying them needs no edit for the client (and no rebuilt response).
const WRITTEN_BY_RUNTIME: &[&str] = &["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"];

/// Headers the edge sets itself on the forwarded request; client-sent copies are replaced.
const SET_BY_EDGE: &[&str] = &["host", "content-length", "x-forwarded-proto", "x-forwarded-host"];

/// Client-sent headers that claim a client address, scheme or original URL. Origins and their
/// frameworks trust them (IIS's URL rewrite, Symfony, Spring, nginx's realip), and only the
/// edge knows the truth, so client copies are dropped. The edge's own account is
/// `X-Forwarded-For`/`-Proto`/`-Host` and `Forwarded`.
const SPOOFABLE: &[&str] = &[
    "forwarded",
    "x-real-ip",
    "true-client-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "x-original-url",
    "x-rewrite-url",
    "x-original-host",
    "x-host",
    "x-forwarded-port",
    "x-forwarded-server",
    "x-forwarded-prefix",
    "x-forwarded-scheme",
    "x-forwarded-ssl",
];

/// The lower-cased header names listed in a `Connection` header value.
pub fn connection_tokens(connection: Option<&str>) -> Vec<String> {
    connection.unwrap_or("").split(',').map(|t| t.trim().to_ascii_lowercase()).filter(|t| !t.is_empty()).collect()
}

/// Whether a response header from the origin is passed to the client.
pub fn keep_response_header(name: &str, connection_listed: &[String]) -> bool {
    let name = name.to_ascii_lowercase();
    !HOP_BY_HOP.contains(&name.as_str()) && !connection_listed.contains(&name)
}

/// Whether an origin response header is one the runtime replaces with its own on the way to
/// the client ([`WRITTEN_BY_RUNTIME`]), so the edge can leave it in place.
pub fn written_by_runtime(name: &str) -> bool {
    WRITTEN_BY_RUNTIME.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// Whether a client request header is passed to the origin.
pub fn keep_request_header(name: &str, connection_listed: &[String]) -> bool {
    let name = name.to_ascii_lowercase();
    keep_response_header(&name, connection_listed)
        && !SET_BY_EDGE.contains(&name.as_str())
        && !SPOOFABLE.contains(&name.as_str())
        && name != HOP_MARKER
        && name != "x-forwarded-for"
}

/// The `Referer` for the origin: the client's, without `CFID`/`CFTOKEN` query parameters (a
/// page reached with URL tokens would otherwise hand the token to the next page's origin).
/// Returned unchanged when it has none; `None` (dropped) when it is not a URL.
pub fn clean_referer(referer: &str) -> Option<String> {
    let mut url = Url::parse(referer.trim()).ok()?;
    let Some(q) = url.query() else { return Some(referer.to_owned()) };
    let kept = super::query::without(q, &["CFID", "CFTOKEN"]);
    if kept.as_deref() == Some(q) {
        return Some(referer.to_owned());
    }
    url.set_query(kept.as_deref());
    Some(url.into())
}

/// The `Accept-Encoding` sent to the origin. A client that sent none gets `identity`: the
/// runtime's fetch would otherwise ask for compression the client never accepted, and the
/// compressed body would reach the client as such.
pub fn accept_encoding(client: Option<&str>) -> &str {
    match client.map(str::trim) {
        Some(v) if !v.is_empty() => v,
        _ => "identity",
    }
}

/// Where a request for `request_url` is forwarded: the origin's scheme, host and port, the
/// origin's path as a prefix, then the request's own path and query. With no origin
/// configured, the request's own URL.
pub fn target_url(origin: Option<&Url>, request_url: &Url) -> Url {
    let Some(origin) = origin else {
        return request_url.clone();
    };
    let mut target = origin.clone();
    let prefix = origin.path().trim_end_matches('/');
    target.set_path(&format!("{prefix}{}", request_url.path()));
    target.set_query(request_url.query());
    target
}

/// The `X-Forwarded-*` values for a forwarded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedFor {
    /// `X-Forwarded-For`: the client's own chain, if any, with the connecting address appended.
    pub for_chain: Option<String>,
    /// `X-Forwarded-Proto`: the scheme the client used (`http` or `https`).
    pub proto: String,
    /// `X-Forwarded-Host`: the host (and port) the client asked for.
    pub host: String,
}

/// A redirect of the origin's that names the origin itself (`Location:
/// http://origin.internal:8080/wiki/start`: applications build absolute URLs from the `Host`
/// they were sent, which is the origin's), pointed back at the host the client asked for, as
/// nginx's `proxy_redirect default` does: a browser is never sent around the edge. `target`
/// is the URL the request was forwarded to, `client` the one the client asked for. `None`:
/// leave it (relative, or another site).
pub fn client_location(location: &str, target: &Url, client: &Url) -> Option<String> {
    let loc = Url::parse(location.trim()).ok()?;
    let same = loc.scheme() == target.scheme()
        && loc.host_str() == target.host_str()
        && loc.port_or_known_default() == target.port_or_known_default();
    if !same
        || target.host_str() == client.host_str() && target.port_or_known_default() == client.port_or_known_default()
    {
        return None;
    }
    let mut out = loc;
    out.set_scheme(client.scheme()).ok()?;
    out.set_host(client.host_str()).ok()?;
    out.set_port(client.port()).ok()?;
    Some(out.to_string())
}

impl ForwardedFor {
    /// The RFC 7239 `Forwarded` value: the connecting address (`for`), the client's host and
    /// scheme. Values that are not tokens are quoted (`for="[2001:db8::1]"`, `host="a:8787"`).
    pub fn forwarded(&self) -> String {
        let quote = |v: &str| {
            if !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
                v.to_owned()
            } else {
                format!("\"{}\"", v.replace(['\\', '"'], ""))
            }
        };
        let mut out = Vec::with_capacity(3);
        if let Some(ip) = self.for_chain.as_deref().and_then(|c| c.rsplit(',').next()).map(str::trim) {
            out.push(format!("for={}", if ip.contains(':') { quote(&format!("[{ip}]")) } else { quote(ip) }));
        }
        out.push(format!("host={}", quote(&self.host)));
        out.push(format!("proto={}", quote(&self.proto)));
        out.join(";")
    }

    /// Computes the values from what the client sent and the address it connected from.
    pub fn compute(request_url: &Url, prior_chain: Option<&str>, client_ip: Option<&str>) -> Self {
        let prior = prior_chain.map(str::trim).filter(|s| !s.is_empty());
        let ip = client_ip.map(str::trim).filter(|s| !s.is_empty());
        let for_chain = match (prior, ip) {
            (Some(p), Some(ip)) => Some(format!("{p}, {ip}")),
            (Some(p), None) => Some(p.to_owned()),
            (None, Some(ip)) => Some(ip.to_owned()),
            (None, None) => None,
        };
        let mut host = request_url.host_str().unwrap_or_default().to_owned();
        if let Some(port) = request_url.port() {
            host.push_str(&format!(":{port}"));
        }
        Self { for_chain, proto: request_url.scheme().to_owned(), host }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_to_the_origin_itself_come_back_to_the_client_host() {
        let target = Url::parse("http://10.0.0.5:8080/wiki/doku.php").unwrap();
        let client = Url::parse("https://www.example.com/wiki/doku.php").unwrap();
        let back = |l: &str| client_location(l, &target, &client);
        assert_eq!(
            back("http://10.0.0.5:8080/wiki/doku.php?id=start").as_deref(),
            Some("https://www.example.com/wiki/doku.php?id=start")
        );
        assert_eq!(back("HTTP://10.0.0.5:8080/x#f").as_deref(), Some("https://www.example.com/x#f"));
        for other in
            ["/relative", "http://10.0.0.5:9090/x", "https://10.0.0.5:8080/x", "https://elsewhere.example/", "::"]
        {
            assert_eq!(back(other), None, "{other}");
        }
        // No ORIGIN_URL (a route in front of the site): nothing to rewrite.
        assert_eq!(client_location("https://www.example.com/x", &client, &client), None);
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn target_keeps_path_and_query_under_origin_prefix() {
        let origin = url("http://127.0.0.1:9000/app/");
        let t = target_url(Some(&origin), &url("https://edge.example/a/b?x=1&y=%20"));
        assert_eq!(t.as_str(), "http://127.0.0.1:9000/app/a/b?x=1&y=%20");
        let origin = url("http://o.example");
        let t = target_url(Some(&origin), &url("https://edge.example/"));
        assert_eq!(t.as_str(), "http://o.example/");
    }

    #[test]
    fn no_origin_forwards_to_own_url() {
        let u = url("https://site.example/p?q");
        assert_eq!(target_url(None, &u), u);
    }

    #[test]
    fn hop_by_hop_and_connection_listed_headers_are_dropped() {
        let listed = connection_tokens(Some("close, X-Custom-Hop"));
        assert!(!keep_request_header("Connection", &listed));
        assert!(!keep_request_header("transfer-encoding", &listed));
        assert!(!keep_request_header("x-custom-hop", &listed));
        assert!(!keep_request_header("X-Forwarded-Proto", &listed));
        assert!(!keep_request_header(HOP_MARKER, &listed));
        assert!(keep_request_header("accept", &listed));
        for spoof in ["Forwarded", "X-Real-IP", "True-Client-IP", "X-Original-URL", "x-rewrite-url"] {
            assert!(!keep_request_header(spoof, &listed), "{spoof}");
        }
        assert!(keep_response_header("set-cookie", &listed));
        assert!(!keep_response_header("keep-alive", &listed));
    }

    #[test]
    fn referers_lose_session_tokens() {
        assert_eq!(
            clean_referer("https://s.example/p?a=1&CFID=x&cftoken=secret&b=2").as_deref(),
            Some("https://s.example/p?a=1&b=2")
        );
        assert_eq!(clean_referer("https://s.example/p?cftoken=secret").as_deref(), Some("https://s.example/p"));
        assert_eq!(clean_referer("https://s.example/p?q=%20").as_deref(), Some("https://s.example/p?q=%20"));
        assert_eq!(clean_referer("no url cftoken=secret"), None);
    }

    #[test]
    fn accept_encoding_defaults_to_identity() {
        assert_eq!(accept_encoding(None), "identity");
        assert_eq!(accept_encoding(Some(" ")), "identity");
        assert_eq!(accept_encoding(Some("gzip, br")), "gzip, br");
    }

    #[test]
    fn forwarded_values() {
        let f = ForwardedFor::compute(&url("http://127.0.0.1:8787/x"), Some("10.0.0.1"), Some("127.0.0.1"));
        assert_eq!(f.for_chain.as_deref(), Some("10.0.0.1, 127.0.0.1"));
        assert_eq!(f.proto, "http");
        assert_eq!(f.host, "127.0.0.1:8787");
        let f = ForwardedFor::compute(&url("https://a.example/"), None, None);
        assert_eq!(f.for_chain, None);
        assert_eq!(f.host, "a.example");
    }
}
