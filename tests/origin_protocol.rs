//! The origin protocol through the real Worker: signed session headers, client forgeries
//! stripped, origin control headers applied or safely ignored.

mod common;

use common::{
    edge::TEST_SIGNING_KEY,
    stored_session,
    verify::{now_s, session_data, test_origin_key, Signed},
    Client, Edge, Origin, Reply,
};

#[test]
fn the_signature_verifies_at_the_origin_and_fails_when_anything_changes() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("SESSION_HITS", "true")]);
    let c = Client::new();
    c.get(&edge.url("/set?k=v"));
    c.send("POST", &edge.url("/a/b.cfm?x=1&y=%20z"), &[], Some(b"body"));
    let got = origin.last();
    let signed = Signed::from_request(&got);
    assert_eq!(signed.path, "/a/b.cfm");
    assert_eq!(signed.query, "x=1&y=%20z");
    assert_eq!(signed.hits, "2");
    assert!(signed.verify(test_origin_key().as_bytes(), now_s()), "a genuine request failed verification: {signed:?}");
    assert!(!signed.verify(b"some-other-key-some-other-key-some-other", now_s()));
    assert!(!signed.verify(test_origin_key().as_bytes(), now_s() + 3600), "a stale signature verified");

    let tampered: [fn(&mut Signed); 8] = [
        |s| s.method = "GET".into(),
        |s| s.path = "/a/other.cfm".into(),
        |s| s.query = "x=2&y=%20z".into(),
        |s| s.id = "0".repeat(32),
        |s| s.new = "true".into(),
        |s| s.hits = "3".into(),
        |s| s.data = "e30".into(),
        |s| s.t -= 1,
    ];
    for (i, tamper) in tampered.iter().enumerate() {
        let mut s = signed.clone();
        tamper(&mut s);
        assert!(!s.verify(test_origin_key().as_bytes(), now_s()), "tampering #{i} still verified");
    }
}

#[test]
fn the_origin_key_verifies_but_cannot_mint_session_ids() {
    use cfsession_edge::core::{
        ids::{CfToken, Cfid, TokenKey},
        random::SeqRandom,
    };
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    Client::new().get(&edge.url("/"));
    let signed = Signed::from_request(&origin.last());
    // The edge's own signing key no longer verifies what the origin receives: an origin needs
    // (and holds) only the origin key.
    assert!(!signed.verify(TEST_SIGNING_KEY.as_bytes(), now_s()), "v2 verified with the signing key");
    // Whoever holds the origin key (the origin's copy, leaked) tries to mint a pair with it.
    let mut rng = SeqRandom::default();
    let cfid = Cfid::generate(&mut rng).unwrap();
    let now_ms = now_s() * 1000;
    for key in [test_origin_key(), TEST_SIGNING_KEY.to_owned()] {
        let derived = TokenKey::derive(key.as_bytes());
        let token = CfToken::mint(&cfid, &derived, now_ms, &mut rng).unwrap();
        let c = Client::new();
        c.jar.set("CFID", cfid.as_str());
        c.jar.set("CFTOKEN", token.expose());
        c.get(&edge.url("/"));
        let seen = origin.last_id();
        if key == TEST_SIGNING_KEY {
            // (Control: the real key's pair is accepted, so the test can tell the difference.)
            assert_eq!(seen, cfid.as_str(), "a pair minted with the signing key was not accepted");
        } else {
            assert_ne!(seen, cfid.as_str(), "a pair minted with the origin key was accepted");
        }
    }
}

#[test]
fn client_sent_session_headers_never_reach_the_origin() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let forged = [
        ("X-Session-Id", "ffffffffffffffffffffffffffffffff"),
        ("X-Session-New", "false"),
        ("X-Session-Hits", "999"),
        ("X-Session-Data", "eyJhZG1pbiI6dHJ1ZX0"),
        ("X-Session-Signature", "t=1,v1=00"),
        ("X-Session-User", "admin"),
        ("x-session-anything", "x"),
        // CGI-style servers (PHP's $_SERVER['HTTP_X_SESSION_ID']) read `_` as `-`.
        ("X_Session_Id", "ffffffffffffffffffffffffffffffff"),
        ("x_session-data", "eyJhZG1pbiI6dHJ1ZX0"),
    ];
    Client::new().send("GET", &edge.url("/"), &forged, None);
    let got = origin.last();
    let underscored: Vec<&(String, String)> = got.headers.iter().filter(|(k, _)| k.starts_with("x_session")).collect();
    assert!(underscored.is_empty(), "{underscored:?} reached the origin");
    let session_headers = got.headers_with_prefix("x-session-");
    let names: Vec<&str> = session_headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names.len(), 4, "{session_headers:?}");
    for (name, value) in &session_headers {
        assert!(!forged.iter().any(|(_, v)| v == value), "forged {name} reached the origin");
    }
    assert!(Signed::from_request(&got).verify(test_origin_key().as_bytes(), now_s()));
}

#[test]
fn origin_control_headers_are_applied_and_removed_from_the_response() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[]);
    let c = Client::new();
    let r = c.get(&edge.url("/set?a=1&b=2"));
    assert!(r.headers.iter().all(|(k, _)| !k.starts_with("x-session-")), "{:?}", r.headers);
    let r = c.get(&edge.url("/user?id=user-42"));
    assert_eq!(r.header("x-session-user"), None);
    c.get(&edge.url("/"));
    let id = origin.last().header("x-session-id").unwrap().to_owned();
    let s = edge.inspect(&id).unwrap();
    assert_eq!(s["user"], "user-42");
    assert_eq!(s["data"], serde_json::json!({"a": "1", "b": "2"}));
    assert_eq!(session_data(&origin.last()), serde_json::json!({"a": "1", "b": "2"}));
}

#[test]
fn malformed_control_headers_are_ignored_and_the_response_delivered() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[]);
    let c = Client::new();
    c.get(&edge.url("/set?keep=1"));
    let cases = [
        ("x-session-set", "{not json"),
        ("x-session-set", "[1,2,3]"),
        ("x-session-set", "\"a string\""),
        ("x-session-action", "explode, timeout=0, timeout=-1, timeout=abc"),
        ("x-session-user", &"u".repeat(300)),
    ];
    for (h, v) in cases {
        let url = edge.url(&format!("/raw?h={h}&v={}", url_encode(v)));
        let r = c.get(&url);
        assert_eq!(r.status, 200, "{h}: {v}");
        assert_eq!(r.text(), "raw", "the origin's body must be delivered");
        assert!(r.headers.iter().all(|(k, _)| !k.starts_with("x-session-")));
    }
    c.get(&edge.url("/"));
    let id = origin.last().header("x-session-id").unwrap().to_owned();
    let s = edge.inspect(&id).unwrap();
    assert_eq!(s["data"], serde_json::json!({"keep": "1"}));
    assert_eq!(s["idle_timeout_s"], 1200);
    assert_eq!(s["user"], serde_json::Value::Null);
    edge.wait_for_log("X-Session-Set ignored: not valid JSON");
    edge.wait_for_log("X-Session-Action item ignored");
    edge.wait_for_log("X-Session-User ignored");
}

#[test]
fn session_data_over_the_limit_is_refused_and_logged() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("SESSION_DATA_LIMIT", "100")]);
    let c = Client::new();
    c.get(&edge.url("/set?small=1"));
    let r = c.get(&edge.url(&format!("/set?big={}", "x".repeat(200))));
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "set");
    c.get(&edge.url("/"));
    assert_eq!(session_data(&origin.last()), serde_json::json!({"small": "1"}));
    edge.wait_for_log("data would exceed SESSION_DATA_LIMIT");
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
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
