//! Regression tests of the hardening review (issue "Hardening: fail closed…"), through the
//! real Worker: redirects that stay on the site, bounded origin data, cross-site kills,
//! rotation at login, `__Host-` cookies, headers a client must not forge, cookies passed
//! byte for byte, and hook events that pair up across a rotation; the edge's CFTOKEN hidden
//! from the edge's own reading (cookie smuggling) and cross-site POSTs that carry no cookies.

mod common;
mod cookie_parsers;

use std::{sync::Arc, time::Duration};

use common::{client::raw, client_with, stored_session, wait::until, Client, Edge, Origin, Recorded, Reply};

#[test]
fn kill_redirects_never_leave_the_site() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let (c, _) = stored_session(&edge, &origin);
    let r = c.get(&edge.url("//evil.example/login?killSession"));
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/evil.example/login"));
    // Without a session the page's link stays on the site too.
    let r = Client::new().get(&edge.url("//evil.example/login?killSession"));
    assert_eq!(r.status, 200);
    assert!(r.text().contains("href=\"/evil.example/login\""), "{}", r.text());
    // A backslash, which the URL parser (and browsers) read as a slash; sent raw, as a client
    // library would normalise it.
    let (c, _) = stored_session(&edge, &origin);
    let cookie = c.jar.header().unwrap();
    let head = format!(
        "GET /\\evil.example/login?killSession&a=1 HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nCookie: {cookie}",
        edge.port
    );
    let r = raw(edge.port, head.as_bytes(), b"");
    assert_eq!(r.status, 302);
    let location = r.header("location").unwrap_or_default().to_owned();
    assert!(location.starts_with('/') && !location.starts_with("//") && !location.contains('\\'), "{location}");
    assert_eq!(location, "/evil.example/login?a=1");
}

#[test]
fn deeply_nested_origin_data_is_refused_and_the_session_lives_on() {
    let deep = |n: usize| format!("{{\"k\":{}{}}}", "[".repeat(n), "]".repeat(n));
    let (d125, d40) = (deep(125), deep(40));
    let origin = Origin::start(move |r| match r.url.as_str() {
        "/deep125" => Reply::ok("x").header("X-Session-Set", &d125),
        "/deep40" => Reply::ok("x").header("X-Session-Set", &d40),
        "/ok" => Reply::ok("x").header("X-Session-Set", r#"{"fine":[[1]]}"#),
        _ => Reply::ok("ok"),
    });
    let edge = Edge::start(&origin.url(), &[]);
    let (c, id) = stored_session(&edge, &origin);
    for path in ["/deep125", "/deep40"] {
        assert_eq!(c.get(&edge.url(path)).status, 200, "{path}");
        for _ in 0..3 {
            assert_eq!(c.get(&edge.url("/")).status, 200, "the session broke after {path}");
        }
    }
    edge.wait_for_log("nested deeper than 32 levels");
    c.get(&edge.url("/ok"));
    let view = edge.inspect(&id).expect("the session is live");
    assert_eq!(view["data"], serde_json::json!({"fine": [[1]]}));
    assert_eq!(origin.last_id(), id);
}

#[test]
fn cross_site_kill_requests_are_confirmed_by_the_user_first() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let (c, id) = stored_session(&edge, &origin);
    let cross: [&[(&str, &str)]; 4] = [
        &[("Sec-Fetch-Site", "cross-site")],
        &[("Sec-Fetch-Site", "same-site")], // a sibling subdomain
        &[("Origin", "https://evil.example")],
        &[("Referer", "https://evil.example/page")],
    ];
    for headers in cross {
        let r = c.send("GET", &edge.url("/account?killSession"), headers, None);
        assert_eq!(r.status, 200, "{headers:?}");
        let page = r.text();
        assert!(page.contains(r#"<form method="POST" action="/account?killSession">"#), "{page}");
        assert!(r.all("set-cookie").is_empty(), "a cross-site request expired cookies");
        assert!(r.header("content-security-policy").is_some_and(|v| v.contains("frame-ancestors 'none'")));
        assert!(edge.inspect(&id).is_some(), "a cross-site request ({headers:?}) ended the session");
    }
    // The button: the same request from the site itself.
    let r = c.send("POST", &edge.url("/account?killSession"), &[("Sec-Fetch-Site", "same-origin")], Some(b""));
    assert_eq!((r.status, r.header("location")), (302, Some("/account")));
    assert_eq!(edge.inspect(&id), None);
    // A bookmark or a typed URL (no site information) is not cross-site.
    let (c, id) = stored_session(&edge, &origin);
    assert_eq!(c.get(&edge.url("/kill/")).status, 302);
    assert_eq!(edge.inspect(&id), None);
    // Sites whose subdomains link to each other's logout let sibling subdomains kill.
    let edge = Edge::start(&origin.url(), &[("KILL_CROSS_SITE", "confirm-cross-site")]);
    let (c, id) = stored_session(&edge, &origin);
    assert_eq!(c.send("GET", &edge.url("/?killSession"), &[("Sec-Fetch-Site", "same-site")], None).status, 302);
    assert_eq!(edge.inspect(&id), None);
    let (c, id) = stored_session(&edge, &origin);
    assert_eq!(c.send("GET", &edge.url("/?killSession"), &[("Sec-Fetch-Site", "cross-site")], None).status, 200);
    assert!(edge.inspect(&id).is_some());
    // Sites that need cross-site logout links turn the check off.
    let edge = Edge::start(&origin.url(), &[("KILL_CROSS_SITE", "allow")]);
    let (c, id) = stored_session(&edge, &origin);
    let r = c.send("GET", &edge.url("/?killSession"), &[("Sec-Fetch-Site", "cross-site")], None);
    assert_eq!(r.status, 302);
    assert_eq!(edge.inspect(&id), None);
}

#[test]
fn a_login_gets_new_ids_and_the_old_pair_is_dead() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[]);
    let (c, id) = stored_session(&edge, &origin);
    let old = (c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap());
    let r = c.get(&edge.url("/user?id=alice"));
    assert!(r.set_cookie("CFID").is_some() && r.set_cookie("CFTOKEN").is_some(), "no new ids at login");
    let new_id = c.jar.get("CFID").unwrap();
    assert_ne!(new_id, id);
    c.get(&edge.url("/"));
    assert_eq!(origin.last_id(), new_id);
    assert_eq!(edge.inspect(&new_id).unwrap()["user"], "alice");
    assert_eq!(edge.inspect(&id), None);
    // The pre-login pair (a fixated one, say) never reaches the origin again.
    let attacker = client_with(&[("CFID", &old.0), ("CFTOKEN", &old.1)]);
    attacker.get(&edge.url("/"));
    assert_ne!(origin.last_id(), id);
    // Logging in again as the same user keeps the ids; another user rotates again.
    assert!(c.get(&edge.url("/user?id=alice")).set_cookie("CFID").is_none());
    assert!(c.get(&edge.url("/user?id=bob")).set_cookie("CFID").is_some());
    // The setting turns it off.
    let edge = Edge::start(&origin.url(), &[("ROTATE_ON_LOGIN", "false")]);
    let (c, id) = stored_session(&edge, &origin);
    assert!(c.get(&edge.url("/user?id=alice")).set_cookie("CFID").is_none());
    assert_eq!(edge.inspect(&id).unwrap()["user"], "alice");
}

#[test]
fn host_prefixed_cookies_are_written_read_and_expired() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("COOKIE_SECURE", "true"), ("COOKIE_HOST_PREFIX", "true")]);
    let c = Client::new();
    let r = c.get(&edge.url("/"));
    let set = r.set_cookie("__Host-CFID").expect("a __Host-CFID cookie");
    assert!(set.contains("; Path=/") && set.contains("; Secure") && !set.contains("Domain="), "{set}");
    assert!(r.set_cookie("__Host-CFTOKEN").is_some());
    let id = origin.last_id();
    c.get(&edge.url("/"));
    assert_eq!(origin.last_id(), id, "the __Host- pair did not keep the session");
    let cookie = origin.last().header("cookie").map(str::to_owned);
    assert!(cookie.as_ref().is_none_or(|c| !c.contains("CFTOKEN")), "the token reached the origin: {cookie:?}");
    // A plain CFID/CFTOKEN (planted by a sibling subdomain) is not the session.
    let cfid = c.jar.get("__Host-CFID").unwrap();
    let token = c.jar.get("__Host-CFTOKEN").unwrap();
    client_with(&[("CFID", &cfid), ("CFTOKEN", &token)]).get(&edge.url("/"));
    assert_ne!(origin.last_id(), id);
    let r = c.get(&edge.url("/kill/"));
    for name in ["__Host-CFID", "__Host-CFTOKEN"] {
        let expired = r.set_cookie(name).unwrap_or_default();
        assert!(expired.contains("Max-Age=0") && expired.contains("Secure"), "{name}: {expired}");
    }
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
fn start_and_end_events_pair_up_across_a_login_rotation() {
    let events: Arc<std::sync::Mutex<Vec<serde_json::Value>>> = Arc::default();
    let seen = events.clone();
    let origin = Origin::start(move |r: &Recorded| match r.url.as_str() {
        "/hooks/start" | "/hooks/end" => {
            seen.lock().unwrap().push(serde_json::from_slice(&r.body).unwrap());
            Reply::ok("ok")
        }
        "/login" => Reply::ok("in").header("X-Session-User", "alice"),
        "/logout" => Reply::ok("out").header("X-Session-Action", "invalidate"),
        _ => Reply::ok("ok"),
    });
    let edge = Edge::start(
        &origin.url(),
        &[("SESSION_START_URL", "/hooks/start"), ("SESSION_END_URL", "/hooks/end"), ("SESSION_DEFER", "false")],
    );
    let c = Client::new();
    c.get(&edge.url("/"));
    let first = origin.last_id();
    c.get(&edge.url("/login"));
    let rotated = c.jar.get("CFID").unwrap();
    assert_ne!(rotated, first);
    c.get(&edge.url("/logout"));
    // Received as a receiver must: deduplicated by idempotency key (delivery is at least once:
    // a start the old object was sending while the rotation moved it arrives twice).
    let got = until("start and end events", Duration::from_secs(20), Duration::from_millis(100), || {
        let mut unique: Vec<serde_json::Value> = Vec::new();
        for e in events.lock().unwrap().iter() {
            if !unique.iter().any(|u| u["idempotency_key"] == e["idempotency_key"]) {
                unique.push(e.clone());
            }
        }
        (unique.len() >= 2).then_some(unique)
    });
    assert_eq!(got.len(), 2, "{got:?}");
    let (start, end) = (&got[0], &got[1]);
    assert_eq!((start["event"].as_str(), end["event"].as_str()), (Some("start"), Some("end")), "start first");
    assert_eq!(start["session"], first.as_str());
    assert_eq!(end["session"], first.as_str(), "the end is keyed by the session, not the new CFID");
    assert_eq!(end["cfid"], rotated.as_str());
    assert_eq!(start["idempotency_key"], format!("{first}:start"));
    assert_eq!(end["idempotency_key"], format!("{first}:end"));
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

#[test]
fn a_cross_site_post_without_cookies_does_not_replace_the_session() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let (c, id) = stored_session(&edge, &origin);
    let from_elsewhere =
        [("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "navigate"), ("Origin", "https://idp.example")];
    let r = client_with(&[]).send("POST", &edge.url("/acs"), &from_elsewhere, Some(b"SAMLResponse=x"));
    assert_eq!(r.status, 200);
    assert!(r.all("set-cookie").is_empty(), "new cookies on a cross-site POST: {:?}", r.all("set-cookie"));
    // The origin saw a fresh, unstored session, and the browser's own session lives on.
    let got = origin.last();
    assert_eq!(got.header("x-session-new"), Some("true"));
    let fresh = got.header("x-session-id").unwrap().to_owned();
    assert!(edge.inspect(&fresh).is_none(), "the cross-site stand-in session was stored");
    edge.wait_for_log("session.cross_site");
    c.get(&edge.url("/"));
    assert_eq!(origin.last_id(), id);
    assert!(edge.inspect(&id).is_some());
    // A cross-site fetch() is the same; a top-level cross-site GET navigation carries Lax cookies,
    // so without them it is a new visitor.
    let r = client_with(&[]).send(
        "GET",
        &edge.url("/"),
        &[("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "cors")],
        None,
    );
    assert!(r.all("set-cookie").is_empty());
    let r = client_with(&[]).send(
        "GET",
        &edge.url("/"),
        &[("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "navigate")],
        None,
    );
    assert!(r.set_cookie("CFID").is_some());
    // Sites whose cross-site return itself starts the session choose the old behaviour.
    let edge = Edge::start(&origin.url(), &[("CROSS_SITE_REQUESTS", "new-session")]);
    let r = client_with(&[]).send("POST", &edge.url("/acs"), &from_elsewhere, Some(b""));
    assert!(r.set_cookie("CFID").is_some() && r.set_cookie("CFTOKEN").is_some());
}
