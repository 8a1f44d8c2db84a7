//! Hostile and broken input never makes the edge answer 500 or panic: each case is a
//! request through the real Worker, followed by a check that the edge still serves.

mod common;

use common::{client::raw, Client, Edge, Origin};

fn still_serving(edge: &Edge) {
    let r = Client::new().get(&edge.url("/after"));
    assert_eq!(r.status, 200, "the edge stopped serving: {}", r.text());
}

fn new_session_for(edge: &Edge, origin: &Origin, head: &[u8]) {
    let r = raw(edge.port, head, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(origin.last().header("x-session-new"), Some("true"), "bad cookies must give a new session");
    assert!(r.set_cookie("CFID").is_some());
    still_serving(edge);
}

/// A live session's cookie pair.
fn pair(edge: &Edge) -> (String, String) {
    let c = Client::new();
    c.get(&edge.url("/"));
    (c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap())
}

#[test]
fn duplicate_cookie_headers() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_HITS", "true")]);
    let (cfid, token) = pair(&edge);
    // The pair split over two Cookie headers, plus a bogus duplicate CFID: the genuine pair wins.
    let head = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nCookie: CFID=0123456789abcdef0123456789abcdef; a=1\r\nCookie: CFID={cfid}\r\nCookie: CFTOKEN={token}"
    );
    let r = raw(edge.port, head.as_bytes(), b"");
    assert_eq!(r.status, 200);
    assert_eq!(origin.last().header("x-session-id"), Some(cfid.as_str()));
    assert_eq!(origin.last().header("x-session-hits"), Some("2"));
}

#[test]
fn malformed_cookie_values() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    for cookie in ["CFID", "CFID=; CFTOKEN=", "CFID=zz; CFTOKEN=!!", ";;;==;", "CFID=\"unterminated", "CFTOKEN=a=b=c"] {
        new_session_for(&edge, &origin, format!("GET / HTTP/1.1\r\nHost: x\r\nCookie: {cookie}").as_bytes());
    }
}

#[test]
fn empty_cookie_header() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    new_session_for(&edge, &origin, b"GET / HTTP/1.1\r\nHost: x\r\nCookie: ");
}

/// Cookie headers past 16 KiB in total are refused before any parse: `431`, nothing reaches
/// the origin, and a header just under the limit is served.
#[test]
fn oversized_cookie_header() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let (cfid, token) = pair(&edge);
    let before = origin.received().len();
    for (pad, split) in [(20_000, false), (9_000, true)] {
        let cookies = format!("CFID={cfid}; CFTOKEN={token}; pad={}", "p".repeat(pad));
        let head = if split {
            // Two headers that are too large only together (the platform joins them).
            format!("GET / HTTP/1.1\r\nHost: x\r\nCookie: {cookies}\r\nCookie: more={}", "m".repeat(9_000))
        } else {
            format!("GET / HTTP/1.1\r\nHost: x\r\nCookie: {cookies}")
        };
        let r = raw(edge.port, head.as_bytes(), b"");
        assert_eq!(r.status, 431, "pad {pad}: {}", r.text());
        assert!(r.text().contains("Cookie header"), "{}", r.text());
    }
    assert_eq!(origin.received().len(), before, "an oversized request reached the origin");
    let head = format!("GET / HTTP/1.1\r\nHost: x\r\nCookie: CFID={cfid}; CFTOKEN={token}; pad={}", "p".repeat(15_000));
    assert_eq!(raw(edge.port, head.as_bytes(), b"").status, 200);
    assert_eq!(origin.last().header("x-session-id"), Some(cfid.as_str()));
    still_serving(&edge);
}

#[test]
fn non_utf8_bytes_in_cookies() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    new_session_for(&edge, &origin, b"GET / HTTP/1.1\r\nHost: x\r\nCookie: CFID=\xff\xfe; CFTOKEN=\xc3\x28");
    new_session_for(&edge, &origin, b"GET / HTTP/1.1\r\nHost: x\r\nCookie: CFID=\xc0\x80; CFTOKEN=\xf0\x28\x8c\x28");
    // Other cookies are forwarded as they came; this test origin refuses non-ASCII (502).
    let r = raw(edge.port, b"GET / HTTP/1.1\r\nHost: x\r\nCookie: \xf0\x28=\x80; CFID=\xc0", b"");
    assert!(r.status == 200 || r.status == 502, "status {}: {}", r.status, r.text());
    still_serving(&edge);
}

#[test]
fn non_utf8_bytes_in_other_headers() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    // The edge forwards header bytes as they came; an origin may refuse them (this test
    // origin drops the connection: 502). Either way the edge itself never fails.
    let r = raw(edge.port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Weird: \xf0\x28\x8c\x28", b"");
    assert!(r.status == 200 || r.status == 502, "status {}: {}", r.status, r.text());
    still_serving(&edge);
}

#[test]
fn very_long_query_string() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("URL_TOKENS", "true")]);
    let q: String = (0..1500).map(|i| format!("k{i}=v{i}&")).collect();
    // A kill flag at the end of it is found (no session to end: said so, nothing forwarded).
    let r = Client::new().get(&edge.url(&format!("/long?{q}killSession&CFID=x")));
    assert_eq!((r.status, r.header("x-session-ended")), (200, Some("none")));
    assert!(origin.received().is_empty());
    let r = Client::new().get(&edge.url(&format!("/long?{q}CFID=x")));
    assert_eq!(r.status, 200);
    assert!(origin.last().url.len() > 10_000, "the query was cut");
    let r = Client::new().get(&edge.url("/odd?%zz=%&=&&=%00&a=%E0%A4%A"));
    assert_eq!(r.status, 200);
    assert_eq!(origin.last().url, "/odd?%zz=%&=&&=%00&a=%E0%A4%A");
    still_serving(&edge);
}

#[test]
fn forged_tokens_of_every_shape() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let (cfid, _) = pair(&edge);
    for token in ["A".repeat(54), "-".repeat(54), "A".repeat(5000), "%00".into(), "%F0%9F%98%80".repeat(10)] {
        let c = Client::new();
        c.jar.set("CFID", &cfid);
        c.jar.set("CFTOKEN", &token);
        let r = c.get(&edge.url("/"));
        assert_eq!(r.status, 200);
        assert_ne!(origin.last().header("x-session-id"), Some(cfid.as_str()));
    }
    still_serving(&edge);
}
