//! Edge sessions through the real Worker: cookies, identity, hits, concurrency, deferral,
//! URL tokens.

mod common;

use std::{collections::HashSet, thread};

use common::{client_with, stored_session, verify::session_data, Client, Edge, Origin};

#[test]
fn new_session_cookies_in_each_expiry_mode() {
    let origin = Origin::ok();
    for (mode, secure) in [("session", "true"), ("sliding", "false"), ("classic", "true")] {
        let edge = Edge::start(
            &origin.url(),
            &[("COOKIE_EXPIRY", mode), ("COOKIE_SECURE", secure), ("SESSION_TIMEOUT", "900")],
        );
        let r = Client::new().get(&edge.url("/"));
        for name in ["CFID", "CFTOKEN"] {
            let c = r.set_cookie(name).unwrap_or_else(|| panic!("{mode}: no {name} cookie"));
            let attrs: Vec<&str> = c.split(';').map(str::trim).collect();
            assert!(
                attrs.contains(&"Path=/") && attrs.contains(&"HttpOnly") && attrs.contains(&"SameSite=Lax"),
                "{mode}: {c}"
            );
            assert_eq!(attrs.contains(&"Secure"), secure == "true", "{mode}: {c}");
            assert!(!attrs.iter().any(|a| a.starts_with("Domain=")), "{mode}: host-only expected: {c}");
            match mode {
                "session" => assert!(!c.contains("Max-Age") && !c.contains("Expires"), "{c}"),
                "sliding" => assert!(attrs.contains(&"Max-Age=900") && !c.contains("Expires"), "{c}"),
                _ => {
                    let expires = attrs.iter().find_map(|a| a.strip_prefix("Expires=")).expect("Expires");
                    let year: u32 = expires.split(' ').nth(3).unwrap().parse().unwrap();
                    assert!(year >= 2050, "classic cookie should last ~30 years: {c}");
                }
            }
        }
    }
}

#[test]
fn cookie_domain_is_applied() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("COOKIE_DOMAIN", "example.test")]);
    let r = Client::new().get(&edge.url("/"));
    assert!(r.set_cookie("CFID").unwrap().contains("Domain=example.test"));
}

#[test]
fn hits_increment_and_new_is_true_only_first() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_HITS", "true")]);
    let c = Client::new();
    let mut ids = HashSet::new();
    for n in 1..=4 {
        let r = c.get(&edge.url("/page"));
        assert_eq!(r.status, 200);
        let got = origin.last();
        assert_eq!(got.header("x-session-hits"), Some(n.to_string().as_str()), "request {n}");
        assert_eq!(got.header("x-session-new"), Some(if n == 1 { "true" } else { "false" }));
        ids.insert(origin.last_id());
        assert_eq!(r.set_cookie("CFID").is_some(), n == 1, "cookies are set once, on the first response");
    }
    assert_eq!(ids.len(), 1, "the session id changed: {ids:?}");
    assert_eq!(edge.inspect(ids.iter().next().unwrap()).unwrap()["hits"], 4);
}

#[test]
fn parallel_requests_count_every_hit_and_lose_no_update() {
    const N: usize = 60;
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("SESSION_HITS", "true")]);
    let c = Client::new();
    c.get(&edge.url("/"));
    c.get(&edge.url("/")); // stored now (deferred sessions are stored on return)
    let handles: Vec<_> = (0..N)
        .map(|i| {
            let (c, url) = (c.clone(), edge.url(&format!("/set?k{i}={i}")));
            thread::spawn(move || assert_eq!(c.get(&url).status, 200))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    c.get(&edge.url("/final"));
    let last = origin.last();
    // Exact: every request the origin received in this session is one hit (the HTTP client
    // may resend a GET whose pooled connection dropped; the edge counts what really arrived).
    let id = last.header("x-session-id").unwrap().to_owned();
    let arrived = origin.received().iter().filter(|r| r.header("x-session-id") == Some(id.as_str())).count();
    assert!(arrived >= N + 3);
    assert_eq!(last.header("x-session-hits"), Some(arrived.to_string().as_str()));
    let data = session_data(&last);
    let data = data.as_object().unwrap();
    for i in 0..N {
        assert_eq!(
            data.get(&format!("k{i}")).and_then(|v| v.as_str()),
            Some(i.to_string().as_str()),
            "lost update k{i}"
        );
    }
}

#[test]
fn read_only_requests_do_not_write_within_the_touch_interval() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_HITS", "false"), ("TOUCH_INTERVAL", "300")]);
    let c = Client::new();
    c.get(&edge.url("/"));
    c.get(&edge.url("/")); // the deferred session is stored: one write
    let id = origin.last_id();
    let before = edge.inspect(&id).unwrap()["writes"].as_u64().unwrap();
    for _ in 0..25 {
        assert_eq!(c.get(&edge.url("/read")).status, 200);
        assert_eq!(origin.last().header("x-session-hits"), None, "hits are only sent with SESSION_HITS on");
    }
    let after = edge.inspect(&id).unwrap();
    assert_eq!(after["writes"].as_u64().unwrap(), before, "read-only requests wrote: {after}");
    assert_eq!(before, 1);
}

#[test]
fn deferred_sessions_store_nothing_for_cookieless_clients() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_HITS", "true")]);
    let mut ids = HashSet::new();
    let bots: Vec<_> = (0..4)
        .map(|_| {
            let url = edge.url("/bot");
            thread::spawn(move || {
                let c = Client::new();
                (0..250)
                    .map(|_| {
                        c.jar.clear();
                        let r = c.get(&url);
                        assert_eq!(r.status, 200);
                        r.set_cookie("CFID").unwrap().to_owned()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for b in bots {
        ids.extend(b.join().unwrap());
    }
    assert_eq!(ids.len(), 1000, "every cookieless request gets its own session");
    assert_eq!(edge.stored_objects(), 0, "cookieless requests stored sessions: {:?}", edge.stored_object_files());

    let browser = Client::new();
    browser.get(&edge.url("/"));
    assert_eq!(edge.stored_objects(), 0);
    browser.get(&edge.url("/"));
    assert_eq!(origin.last().header("x-session-hits"), Some("2"));
    assert_eq!(origin.last().header("x-session-new"), Some("false"));
    assert_eq!(edge.stored_objects(), 1);
}

#[test]
fn a_deferred_session_is_claimed_in_one_object_call_with_the_clients_hints() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let (_c, id) = common::stored_session(&edge, &origin);
    let stored = edge.inspect(&id).unwrap();
    assert!(stored["client"]["user_agent"].as_str().is_some_and(|ua| ua.starts_with("ureq")), "{stored}");
    // The claim's `begin` carried the hints: the object never had to ask for them.
    edge.wait_for_log("session.claim");
    assert!(!edge.log().contains("session.needs_client"), "the claim took a second call");
}

#[test]
fn without_deferral_the_first_request_stores_the_session() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_DEFER", "false")]);
    let c = Client::new();
    c.get(&edge.url("/"));
    let id = origin.last_id();
    assert_eq!(edge.inspect(&id).unwrap()["hits"], 1);
}

#[test]
fn origin_data_stores_a_new_deferred_session_at_once() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[]);
    let c = Client::new();
    c.get(&edge.url("/set?cart=3"));
    let id = origin.last_id();
    assert_eq!(edge.inspect(&id).unwrap()["data"]["cart"], "3");
    c.get(&edge.url("/"));
    assert_eq!(session_data(&origin.last())["cart"], "3");
    c.get(&edge.url("/set?cart=null"));
    c.get(&edge.url("/"));
    assert_eq!(session_data(&origin.last()), serde_json::json!({}));
}

#[test]
fn forged_or_mismatched_tokens_get_a_new_session() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let a = Client::new();
    a.get(&edge.url("/"));
    a.get(&edge.url("/"));
    let a_id = origin.last_id();
    let a_token = a.jar.get("CFTOKEN").unwrap();
    let b = Client::new();
    b.get(&edge.url("/"));
    let b_token = b.jar.get("CFTOKEN").unwrap();

    let mut flipped = a_token.clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let forgeries = [
        String::from_utf8(flipped).unwrap(), // a real token, one character changed
        "A".repeat(54),                      // right shape, never issued
        b_token,                             // a real token of another session
        format!("{a_token}x"),               // wrong length
    ];
    for forged in forgeries {
        let c = Client::new();
        c.jar.set("CFID", &a_id);
        c.jar.set("CFTOKEN", &forged);
        let r = c.get(&edge.url("/"));
        assert_eq!(r.status, 200);
        let seen = origin.last_id();
        assert_ne!(seen, a_id, "a forged token reached session {a_id}");
        assert_eq!(origin.last().header("x-session-new"), Some("true"));
        assert!(r.set_cookie("CFID").is_some(), "a new session needs new cookies");
    }
    assert_eq!(edge.inspect(&a_id).unwrap()["hits"], 2, "forgeries touched the real session");
}

#[test]
fn cftoken_never_reaches_the_origin() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("URL_TOKENS", "true")]);
    let c = Client::new();
    c.send("GET", &edge.url("/"), &[("Cookie", "theme=dark")], None);
    let token = c.jar.get("CFTOKEN").unwrap();
    let cfid = c.jar.get("CFID").unwrap();
    c.send("GET", &edge.url(&format!("/p?a=1&CFID={cfid}&CFTOKEN={token}")), &[], None);
    let got = origin.last();
    assert_eq!(got.url, "/p?a=1");
    for (name, value) in &got.headers {
        assert!(!value.contains(&token), "CFTOKEN reached the origin in {name}");
    }
    assert_eq!(got.header("cookie"), None, "only session cookies were sent, so no Cookie header is left");
    c.jar.set("theme", "dark");
    c.get(&edge.url("/q"));
    assert_eq!(origin.last().header("cookie"), Some("theme=dark"));
}

#[test]
fn url_tokens_are_accepted_only_when_enabled() {
    let origin = Origin::ok();
    for enabled in [true, false] {
        let edge = Edge::start(
            &origin.url(),
            &[("URL_TOKENS", if enabled { "true" } else { "false" }), ("SESSION_HITS", "true")],
        );
        let c = Client::new();
        c.get(&edge.url("/"));
        let (cfid, token) = (c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap());
        let cookieless = Client::new();
        let r = cookieless.get(&edge.url(&format!("/page?x=1&cfid={cfid}&cftoken={token}")));
        assert_eq!(r.status, 200);
        let got = origin.last();
        assert_eq!(got.url, "/page?x=1", "URL tokens are always removed before forwarding");
        if enabled {
            assert_eq!(got.header("x-session-id"), Some(cfid.as_str()));
            assert_eq!(got.header("x-session-hits"), Some("2"));
        } else {
            assert_ne!(got.header("x-session-id"), Some(cfid.as_str()), "URL tokens were honoured while off");
        }
    }
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
