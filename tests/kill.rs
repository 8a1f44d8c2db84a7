//! Explicit kill-session through the real Worker: the kill flag and path, cookie expiry in
//! every variant, redirects, the origin's invalidate and rotate, and old ids never coming back.

mod common;

use std::thread;

use common::{client::raw, stored_session, Client, Edge, Origin, Resp};

/// Asserts `r` expires `names` (each exactly `variants` times) and sets no new session.
fn assert_expires(r: &Resp, names: &[&str], variants: usize) {
    let cookies = r.all("set-cookie");
    for name in names {
        let mine: Vec<&&str> = cookies.iter().filter(|c| c.starts_with(&format!("{name}="))).collect();
        assert_eq!(mine.len(), variants, "{name}: {cookies:?}");
        for c in mine {
            assert!(c.starts_with(&format!("{name}=;")), "not emptied: {c}");
            assert!(c.contains("Max-Age=0") && c.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT"), "{c}");
            assert!(c.contains("Path=/"), "{c}");
        }
    }
    assert_eq!(cookies.len(), names.len() * variants, "unexpected cookies: {cookies:?}");
}

#[test]
fn the_kill_flag_ends_the_session_and_keeps_other_parameters() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let (c, id) = stored_session(&edge, &origin);
    let before = origin.received().len();
    let r = c.get(&edge.url("/index.cfm?a=1&KILLSESSION&b=x%2Fy"));
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/index.cfm?a=1&b=x%2Fy"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("clear-site-data"), None);
    assert_expires(&r, &["CFID", "CFTOKEN", "CFMAGIC"], 1);
    assert_eq!(origin.received().len(), before, "a kill request reached the origin");
    assert_eq!(edge.inspect(&id), None, "the session is still live server-side");
    // The request after the redirect gets a new session.
    let r = c.get(&edge.url("/index.cfm?a=1&b=x%2Fy"));
    assert_ne!(origin.last_id(), id);
    assert_eq!(origin.last().header("x-session-new"), Some("true"));
    assert!(r.set_cookie("CFID").is_some());
    for value in ["", "=1", "=yes"] {
        let (c, id) = stored_session(&edge, &origin);
        let r = c.get(&edge.url(&format!("/p?killsession{value}")));
        assert_eq!((r.status, r.header("location")), (302, Some("/p")), "killsession{value}");
        assert_eq!(edge.inspect(&id), None);
    }
}

#[test]
fn the_kill_path_ends_the_session() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    for path in ["/kill/", "/kill", "/kill/index.cfm"] {
        let (c, id) = stored_session(&edge, &origin);
        let r = c.get(&edge.url(path));
        assert_eq!(r.status, 302, "{path}");
        assert_eq!(r.header("location"), Some("/"));
        assert_expires(&r, &["CFID", "CFTOKEN", "CFMAGIC"], 1);
        assert_eq!(edge.inspect(&id), None, "{path}");
    }
    let edge = Edge::start(&origin.url(), &[("KILL_PATH", "/logout"), ("KILL_PARAM", "off")]);
    let (c, id) = stored_session(&edge, &origin);
    assert_eq!(c.get(&edge.url("/?killSession")).status, 200, "KILL_PARAM=off still killed");
    assert!(edge.inspect(&id).is_some());
    assert_eq!(c.get(&edge.url("/logout")).status, 302);
    assert_eq!(edge.inspect(&id), None);
}

/// The kill path is matched on the path as origins read it (`PATH_CASE`, path parameters,
/// empty segments, percent-encoding), like `SESSION_POLICY`: no spelling of it reaches the
/// origin with the session still live.
#[test]
fn every_spelling_of_the_kill_path_kills() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("KILL_PATH", "/logout/")]);
    for path in ["/Logout/", "/logout;x/", "/logout;jsessionid=1/", "//logout/", "/%6Cogout/", "/LOGOUT"] {
        let (c, id) = stored_session(&edge, &origin);
        let before = origin.received().len();
        let r = c.get(&edge.url(path));
        assert_eq!(r.status, 302, "{path}");
        assert_eq!(edge.inspect(&id), None, "{path}: the session lives on");
        assert_eq!(origin.received().len(), before, "{path}: the kill request reached the origin");
    }
    // With PATH_CASE=sensitive, another case is another page (Tomcat, Lucee on Linux).
    let edge = Edge::start(&origin.url(), &[("KILL_PATH", "/logout/"), ("PATH_CASE", "sensitive")]);
    let (c, id) = stored_session(&edge, &origin);
    assert_eq!(c.get(&edge.url("/Logout/")).status, 200);
    assert!(edge.inspect(&id).is_some());
    assert_eq!(c.get(&edge.url("/logout;x/")).status, 302);
    assert_eq!(edge.inspect(&id), None);
}

#[test]
fn kill_redirect_and_extra_cookies() {
    let origin = Origin::ok();
    let edge = Edge::start(
        &origin.url(),
        &[("KILL_REDIRECT", "https://example.test/goodbye"), ("KILL_COOKIES", "CFID,CFTOKEN,CFMAGIC,JSESSIONID")],
    );
    let (c, _) = stored_session(&edge, &origin);
    let r = c.get(&edge.url("/x?killSession&keep=1"));
    assert_eq!(r.header("location"), Some("https://example.test/goodbye"));
    assert_expires(&r, &["CFID", "CFTOKEN", "CFMAGIC", "JSESSIONID"], 1);
}

#[test]
fn with_a_cookie_domain_both_variants_die() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("COOKIE_DOMAIN", "example.test"), ("KILL_CLEAR_SITE_DATA", "true")]);
    let (c, _) = stored_session(&edge, &origin);
    let r = c.get(&edge.url("/?killSession"));
    assert_eq!(r.status, 302);
    assert_expires(&r, &["CFID", "CFTOKEN", "CFMAGIC"], 2);
    for name in ["CFID", "CFTOKEN", "CFMAGIC"] {
        let variants: Vec<&str> = r.all("set-cookie").into_iter().filter(|c| c.starts_with(name)).collect();
        assert!(variants.iter().any(|c| c.contains("Domain=example.test")), "{variants:?}");
        assert!(variants.iter().any(|c| !c.contains("Domain=")), "{variants:?}");
    }
    assert_eq!(r.header("clear-site-data"), Some("\"cookies\""));
}

/// A kill that finds no session says so: a page and `X-Session-Ended: none`, not a redirect
/// that looks like a logout (the cookies are still expired: stale ones go).
#[test]
fn a_kill_without_a_session_says_so_and_still_expires_cookies() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    for cookies in [None, Some("CFID=0123456789abcdef0123456789abcdef; CFTOKEN=forged")] {
        let c = Client::new();
        let headers: Vec<(&str, &str)> = cookies.iter().map(|v| ("Cookie", *v)).collect();
        let r = c.send("GET", &edge.url("/?killSession"), &headers, None);
        assert_eq!((r.status, r.header("x-session-ended")), (200, Some("none")), "{cookies:?}");
        assert!(r.text().contains("No session to end"), "{}", r.text());
        assert_eq!(r.header("location"), None);
        assert_expires(&r, &["CFID", "CFTOKEN", "CFMAGIC"], 1);
        // fetch(): 401 JSON with the reason `none`.
        let r = c.send("GET", &edge.url("/api?killSession"), &[("Sec-Fetch-Mode", "cors")], None);
        assert_eq!((r.status, r.header("x-session-ended")), (401, Some("none")));
    }
    assert!(origin.received().is_empty());
    edge.wait_for_log("\"outcome\":\"nosession\"");
}

#[test]
fn replaying_killed_ids_never_reaches_the_old_session() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let (c, id) = stored_session(&edge, &origin);
    let (cfid, token) = (c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap());
    // A second tab with the same ids, racing the kill.
    let replays: Vec<_> = (0..8)
        .map(|_| {
            let (url, cfid, token) = (edge.url("/tab"), cfid.clone(), token.clone());
            thread::spawn(move || {
                let tab = Client::new();
                tab.jar.set("CFID", &cfid);
                tab.jar.set("CFTOKEN", &token);
                tab.get(&url)
            })
        })
        .collect();
    assert_eq!(c.get(&edge.url("/?killSession")).status, 302);
    for r in replays {
        assert_eq!(r.join().unwrap().status, 200);
    }
    let killed_at = origin.received().len();
    for _ in 0..5 {
        let replay = Client::new();
        replay.jar.set("CFID", &cfid);
        replay.jar.set("CFTOKEN", &token);
        replay.get(&edge.url("/again"));
    }
    let after: Vec<String> =
        origin.received()[killed_at..].iter().filter_map(|r| r.header("x-session-id").map(str::to_owned)).collect();
    assert_eq!(after.len(), 5);
    assert!(!after.contains(&id), "the origin saw the killed CFID again");
}

#[test]
fn killing_a_deferred_session_makes_its_ids_unusable() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let c = Client::new();
    c.get(&edge.url("/"));
    let id = origin.last_id();
    let (cfid, token) = (c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap());
    assert_eq!(c.get(&edge.url("/?killSession")).status, 302);
    let replay = Client::new();
    replay.jar.set("CFID", &cfid);
    replay.jar.set("CFTOKEN", &token);
    replay.get(&edge.url("/"));
    assert_ne!(origin.last_id(), id, "a killed deferred session was claimed");
}

#[test]
fn post_only_kills_refuse_get() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("KILL_METHODS", "POST")]);
    let (c, id) = stored_session(&edge, &origin);
    let r = c.get(&edge.url("/?killSession"));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    assert!(r.all("set-cookie").is_empty(), "a refused kill touched cookies");
    assert!(edge.inspect(&id).is_some(), "a refused kill ended the session");
    let r = c.send("POST", &edge.url("/?killSession"), &[], Some(b""));
    assert_eq!(r.status, 302);
    assert_eq!(edge.inspect(&id), None);
}

#[test]
fn invalidate_from_the_origin_keeps_its_response() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[]);
    let (c, id) = stored_session(&edge, &origin);
    let (cfid, token) = (c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap());
    let r = c.get(&edge.url("/action?a=invalidate"));
    assert_eq!((r.status, r.text().as_str()), (200, "action"), "the origin's own answer must be delivered");
    assert_expires(&r, &["CFID", "CFTOKEN", "CFMAGIC"], 1);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(edge.inspect(&id), None);
    let replay = Client::new();
    replay.jar.set("CFID", &cfid);
    replay.jar.set("CFTOKEN", &token);
    replay.get(&edge.url("/"));
    assert_ne!(origin.last_id(), id);
}

#[test]
fn rotate_moves_the_session_to_new_ids() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("SESSION_HITS", "true")]);
    let c = Client::new();
    c.get(&edge.url("/set?cart=3"));
    c.get(&edge.url("/"));
    let old_id = origin.last_id();
    let (old_cfid, old_token) = (c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap());
    // Login: the origin tags the user and rotates in one response.
    let r = c.get(&edge.url("/action?a=rotate"));
    assert_eq!(r.status, 200);
    let (new_cfid, new_token) = (c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap());
    assert_ne!(new_cfid, old_cfid);
    assert_ne!(new_token, old_token);
    assert!(r.set_cookie("CFID").unwrap().starts_with(&format!("CFID={new_cfid}")));
    c.get(&edge.url("/after"));
    let last = origin.last();
    assert_eq!(last.header("x-session-id"), Some(new_cfid.as_str()));
    assert_eq!(last.header("x-session-new"), Some("false"));
    assert_eq!(last.header("x-session-hits"), Some("4"), "hits are kept across rotation");
    assert_eq!(common::verify::session_data(&last)["cart"], "3", "data is kept across rotation");
    assert_eq!(edge.inspect(&old_id), None);

    // In flight with the old pair: served without a session and without touching cookies.
    let late = Client::new();
    late.jar.set("CFID", &old_cfid);
    late.jar.set("CFTOKEN", &old_token);
    let r = late.get(&edge.url("/parallel"));
    assert_eq!(r.status, 200);
    assert!(r.all("set-cookie").is_empty(), "a late request overwrote the new cookies: {:?}", r.all("set-cookie"));
    let seen = origin.last_id();
    assert_ne!(seen, old_id);
    assert_ne!(seen, new_cfid);
    assert!(edge.inspect(&seen).is_none(), "the stand-in session was stored");
    assert_eq!(edge.inspect(&new_cfid).unwrap()["data"]["cart"], "3");
}

#[test]
fn old_ids_are_dead_after_the_rotation_grace() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[]);
    let (c, old_id) = stored_session(&edge, &origin);
    let (old_cfid, old_token) = (c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap());
    c.get(&edge.url("/action?a=rotate"));
    let rotated_at = common::verify::now_ms();
    common::wait::until(
        "the rotation grace to pass",
        std::time::Duration::from_secs(30),
        std::time::Duration::from_millis(200),
        || (common::verify::now_ms() > rotated_at + 10_500).then_some(()),
    );
    let replay = Client::new();
    replay.jar.set("CFID", &old_cfid);
    replay.jar.set("CFTOKEN", &old_token);
    let r = replay.get(&edge.url("/"));
    assert_ne!(origin.last_id(), old_id);
    assert!(r.set_cookie("CFID").is_some(), "after the grace, old ids get an ordinary new session");
}

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
