//! The edge as a transparent reverse proxy, through the real Worker under `wrangler dev`.

mod common;
mod cookie_parsers;

use common::{client::raw, client_with, stored_session, Client, Edge, Origin, Reply};

#[test]
fn methods_paths_and_query_strings_arrive_unchanged() {
    let origin = Origin::start(|r| Reply::ok(format!("{} {}", r.method, r.url)));
    let edge = Edge::start(&origin.url(), &[]);
    let c = Client::new();
    let target = "/a/b%20c/d.cfm?x=1&y=%2F&empty=&flag&u=%C3%A9";
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"] {
        let body: Option<&[u8]> = matches!(method, "POST" | "PUT" | "PATCH").then_some(b"payload");
        let r = c.send(method, &edge.url(target), &[], body);
        assert_eq!(r.status, 200, "{method}");
        assert_eq!(r.text(), format!("{method} {target}"));
        let got = origin.last();
        assert_eq!(got.method, method);
        assert_eq!(got.url, target);
        if let Some(b) = body {
            assert_eq!(got.body, b);
        }
    }
    let r = c.send("HEAD", &edge.url("/head"), &[], None);
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(origin.last().method, "HEAD");
}

#[test]
fn forwarded_headers_are_set_and_client_headers_kept() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let c = Client::new();
    c.send("GET", &edge.url("/fw"), &[("X-Custom", "kept"), ("Accept", "text/html")], None);
    let got = origin.last();
    assert_eq!(got.header("x-custom"), Some("kept"));
    assert_eq!(got.header("accept"), Some("text/html"));
    assert_eq!(got.header("x-forwarded-proto"), Some("http"));
    assert_eq!(got.header("x-forwarded-host"), Some(format!("127.0.0.1:{}", edge.port).as_str()));
    let xff = got.header("x-forwarded-for").expect("x-forwarded-for");
    assert!(xff.ends_with("127.0.0.1"), "{xff}");
}

/// The origin gets its own `Host` (the platform's rule), and `Forwarded` and
/// `X-Forwarded-Host` say which host the client asked for (RFC 7239). A redirect the origin
/// builds from its own host is pointed back at the client's (`proxy_redirect default`).
#[test]
fn the_origin_gets_its_own_host_and_its_redirects_come_back_to_the_edge() {
    let origin = Origin::start(|r| {
        let to = r.url.trim_start_matches("/to-origin?");
        Reply::ok("").status(302).header("location", to)
    });
    let edge = Edge::start(&origin.url(), &[]);
    let own = origin.url();
    let r = Client::new().get(&edge.url(&format!("/to-origin?{own}/next?a=1")));
    let got = origin.last();
    let origin_host = own.trim_start_matches("http://").to_owned();
    assert_eq!(got.header("host"), Some(origin_host.as_str()));
    let client_host = format!("127.0.0.1:{}", edge.port);
    let forwarded = got.header("forwarded").unwrap_or_default().to_owned();
    assert!(forwarded.contains(&format!("host=\"{client_host}\"")) && forwarded.contains("proto=http"), "{forwarded}");
    assert_eq!(r.header("location"), Some(format!("http://{client_host}/next?a=1").as_str()));
    // Relative redirects and other sites' are left alone.
    for to in ["/relative", "https://elsewhere.example/x"] {
        assert_eq!(Client::new().get(&edge.url(&format!("/to-origin?{to}"))).header("location"), Some(to));
    }
}

#[test]
fn hop_by_hop_headers_are_removed_both_ways() {
    // The edge strips the hop-by-hop names the runtime passes (`Proxy-*`); the connection
    // headers the runtime writes itself (`Keep-Alive`, `TE`, …) it leaves to the runtime,
    // which never puts an origin's values for them on the wire: this checks that.
    let origin =
        Origin::start(|_| Reply::ok("hop").header("Proxy-Authenticate", "Basic").header("Keep-Alive", "timeout=5"));
    let edge = Edge::start(&origin.url(), &[]);
    let r = raw(
        edge.port,
        b"GET /hop HTTP/1.1\r\nHost: 127.0.0.1\r\nKeep-Alive: timeout=5\r\nProxy-Authorization: Basic eDp5\r\nTE: trailers\r\nX-Keep: yes",
        b"",
    );
    assert_eq!(r.status, 200);
    for h in ["proxy-authenticate", "keep-alive"] {
        assert_eq!(r.header(h), None, "{h} reached the client");
    }
    let got = origin.last();
    for h in ["keep-alive", "proxy-authorization", "te"] {
        assert_eq!(got.header(h), None, "{h} reached the origin");
    }
    assert_eq!(got.header("x-keep"), Some("yes"));
}

#[test]
fn five_megabyte_bodies_stream_both_ways() {
    const SIZE: usize = 5 * 1024 * 1024;
    let pattern = |n: usize| (0..n).map(|i| (i % 251) as u8).collect::<Vec<u8>>();
    let origin = Origin::start(move |r| {
        assert_eq!(r.body.len(), SIZE, "request body length at the origin");
        Reply::ok(pattern(SIZE)).header("Content-Type", "application/octet-stream")
    });
    let edge = Edge::start(&origin.url(), &[]);
    let upload = pattern(SIZE);
    let r = Client::new().send(
        "POST",
        &edge.url("/upload"),
        &[("Content-Type", "application/octet-stream")],
        Some(&upload),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), SIZE);
    assert!(r.body == upload, "response body changed in transit");
    assert!(origin.last().body == upload, "request body changed in transit");
}

#[test]
fn status_codes_and_every_set_cookie_are_kept() {
    let origin = Origin::start(|_| {
        Reply::ok("created")
            .status(201)
            .header("Set-Cookie", "a=1; Path=/; HttpOnly")
            .header("Set-Cookie", "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/x")
            .header("Set-Cookie", "c=3; SameSite=Strict")
    });
    let edge = Edge::start(&origin.url(), &[]);
    let r = Client::new().get(&edge.url("/cookies"));
    assert_eq!(r.status, 201);
    // The origin's cookies, each intact and in order; the edge adds its own session cookies.
    let origin_cookies: Vec<&str> =
        r.all("set-cookie").into_iter().filter(|c| !c.starts_with("CFID=") && !c.starts_with("CFTOKEN=")).collect();
    assert_eq!(
        origin_cookies,
        vec!["a=1; Path=/; HttpOnly", "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/x", "c=3; SameSite=Strict"]
    );
    assert_eq!(r.all("set-cookie").len(), 5);
    for status in [404, 418, 500, 503] {
        let origin = Origin::start(move |_| Reply::ok("x").status(status));
        let edge = Edge::start(&origin.url(), &[]);
        assert_eq!(Client::new().get(&edge.url("/s")).status, status);
    }
}

#[test]
fn redirects_pass_through_unfollowed() {
    let origin = Origin::start(|r| {
        if r.url == "/old" {
            Reply::ok("").status(302).header("Location", "/new?from=old")
        } else {
            Reply::ok("new page")
        }
    });
    let edge = Edge::start(&origin.url(), &[]);
    let r = Client::new().get(&edge.url("/old"));
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/new?from=old"));
    assert_eq!(origin.received().len(), 1, "the edge followed the redirect itself");
}

#[test]
fn origin_down_gives_502_with_a_reason() {
    let closed = common::edge::free_port();
    let edge = Edge::start(&format!("http://127.0.0.1:{closed}"), &[]);
    let r = Client::new().get(&edge.url("/anything"));
    assert_eq!(r.status, 502);
    assert!(r.text().contains("origin unreachable"), "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    edge.wait_for_log("origin unreachable");
}

#[test]
fn invalid_origin_url_is_a_clear_500_naming_the_variable() {
    let edge = Edge::start("ftp://not-http.example", &[]);
    let r = Client::new().get(&edge.url("/"));
    assert_eq!(r.status, 500);
    assert!(r.text().contains("ORIGIN_URL"), "{}", r.text());
    // The edge stays up: its own endpoints still answer.
    assert_eq!(Client::new().get(&edge.url("/__session/health")).status, 200);
}

#[test]
fn unset_origin_forwards_to_the_request_url_and_catches_the_local_loop() {
    // Locally the request's own URL is the Worker itself: the hop marker stops the loop.
    let edge = Edge::start("", &[]);
    let r = Client::new().get(&edge.url("/loop"));
    assert_eq!(r.status, 508, "{}", r.text());
    assert_eq!(r.header("content-encoding"), None, "the client asked for no compression");
    assert!(r.text().contains("loop"), "{}", r.text());
}

#[test]
fn headers_a_client_must_not_forge_never_reach_the_origin() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("URL_TOKENS", "true")]);
    let c = Client::new();
    c.get(&edge.url("/"));
    let (cfid, token) = (c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap());
    let referer = format!("http://127.0.0.1:{}/cart.cfm?CFID={cfid}&CFTOKEN={token}&item=7", edge.port);
    let forged = [
        ("Forwarded", "for=1.2.3.4;proto=https"),
        ("X-Real-IP", "1.2.3.4"),
        ("True-Client-IP", "1.2.3.4"),
        ("X-Original-URL", "/admin"),
        ("X-Rewrite-URL", "/admin"),
        ("X-Client-IP", "1.2.3.4"),
        ("Referer", referer.as_str()),
    ];
    c.send("GET", &edge.url("/next.cfm"), &forged, None);
    let got = origin.last();
    for (name, _) in &forged[1..6] {
        assert_eq!(got.header(name), None, "{name} reached the origin");
    }
    // `Forwarded` is the edge's own account, never the client's.
    let forwarded = got.header("forwarded").unwrap_or_default();
    assert!(forwarded.starts_with("for=127.0.0.1;") && !forwarded.contains("1.2.3.4"), "{forwarded}");
    let seen = got.header("referer").expect("the referer is kept");
    assert!(!seen.contains(&token) && !seen.to_ascii_lowercase().contains("cftoken"), "{seen}");
    assert!(seen.ends_with("/cart.cfm?item=7"), "{seen}");
}

#[test]
fn other_cookies_reach_the_origin_byte_for_byte() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let (c, _) = stored_session(&edge, &origin);
    let cookie = format!(
        "a=\"x, y\"; CFID={}; b=\"p;q\"; CFTOKEN={}; c=plain",
        c.jar.get("CFID").unwrap(),
        c.jar.get("CFTOKEN").unwrap()
    );
    client_with(&[]).send("GET", &edge.url("/"), &[("Cookie", &cookie)], None);
    assert_eq!(origin.last().header("cookie"), Some("a=\"x, y\"; b=\"p;q\"; c=plain"));
}

#[test]
fn the_edges_cftoken_never_reaches_the_origin_in_any_parse() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let (c, id) = stored_session(&edge, &origin);
    let token = c.jar.get("CFTOKEN").unwrap();
    let smuggled = [
        format!("a=\"; CFTOKEN={token}; z=\"; CFID={id}"),
        format!("CFID={id}; a=\"x;CFTOKEN={token};\""),
        format!("CFID={id}; a=1 CFTOKEN={token}"),
        format!("CFID={id}; a=\"q\"CFTOKEN={token}"),
        format!("CFID={id}; a=1,CFTOKEN={token}"),
        format!("CFID={id}; CF%54OKEN={token}"),
        format!("CFID={id}; cftoken[0]={token}"),
        format!("CFID={id}; CFTOKEN={token}; cftoken={token}; __Host-CFTOKEN={token}"),
        format!("CFID={id}; CFTOKEN={token} ; x=1"),
    ];
    for cookie in &smuggled {
        let r = client_with(&[]).send("GET", &edge.url("/"), &[("Cookie", cookie)], None);
        assert_eq!(r.status, 200, "{cookie}");
        let got = origin.last();
        let forwarded = got.header("cookie").unwrap_or("");
        assert!(!forwarded.contains(&token), "the CFTOKEN reached the origin: {forwarded:?} (sent {cookie:?})");
        for (parser, parse) in cookie_parsers::PARSERS {
            let read = parse(forwarded);
            assert!(
                !read
                    .iter()
                    .any(|(n, _)| n.to_ascii_lowercase().ends_with("cftoken") || n.eq_ignore_ascii_case("cfid")),
                "{parser} reads a session cookie from {forwarded:?}: {read:?}"
            );
        }
    }
    edge.wait_for_log("cookie.removed");
    assert!(!edge.log().contains(&token), "the CFTOKEN reached the log");
}
