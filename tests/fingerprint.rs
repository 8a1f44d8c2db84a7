//! Hijack detection through the real Worker (`SESSION_FINGERPRINT`, with `request.cf` driven
//! by the test-only `X-Test-Client` header): a pair used elsewhere is logged, flagged and
//! shown, ended or rotated as configured, in both modes.

mod common;

use std::time::Duration;

use common::{
    cf_origin::{CfOrigin, Engine},
    wait::until,
    Client, Edge, Origin, Resp,
};

const HOME: &str = r#"{"ip":"203.0.113.9","country":"DE","asn":3320}"#;

const ELSEWHERE: &str = r#"{"ip":"198.51.100.20","country":"US","asn":14061}"#;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

const CURL: &str = "curl/8.4.0";

/// A request as a client at `network` with `agent` and `language`.
fn from(c: &Client, edge: &Edge, path: &str, network: &str, agent: &str, language: &str) -> Resp {
    let headers = [("X-Test-Client", network), ("User-Agent", agent), ("Accept-Language", language)];
    c.send("GET", &edge.url(path), &headers, None)
}

fn fingerprint_edge(origin: &Origin, action: &str) -> Edge {
    Edge::start(
        &origin.url(),
        &[("TEST_CLIENT_HEADER", "true"), ("SESSION_FINGERPRINT", action), ("SESSION_END_URL", "/hooks/end")],
    )
}

/// A session stored from home; its CFID.
fn session_at_home(edge: &Edge, origin: &Origin, c: &Client) -> String {
    from(c, edge, "/", HOME, FIREFOX, "de-DE");
    from(c, edge, "/", HOME, FIREFOX, "de-DE");
    origin.last_id()
}

#[test]
fn a_stolen_pair_used_elsewhere_is_logged_flagged_and_shown() {
    let origin = Origin::ok();
    let edge = fingerprint_edge(&origin, "log");
    let c = Client::new();
    let id = session_at_home(&edge, &origin, &c);
    // The same client, from next door with a browser update: below the threshold.
    from(&c, &edge, "/", r#"{"ip":"203.0.113.77","country":"DE","asn":3320}"#, FIREFOX, "de-DE");
    assert_eq!(origin.last().header("x-session-fingerprint"), None);
    // The pair replayed from another country, provider and browser.
    let thief = Client::new();
    thief.jar.set("CFID", &id);
    thief.jar.set("CFTOKEN", &c.jar.get("CFTOKEN").unwrap());
    let r = from(&thief, &edge, "/", ELSEWHERE, CURL, "en-US");
    assert_eq!(r.status, 200);
    assert_eq!(origin.last_id(), id, "log only: the session goes on");
    let told = origin.last().header("x-session-fingerprint").map(str::to_owned);
    assert_eq!(told.as_deref(), Some("score=12; reasons=network,asn,country,browser,language; action=log"));
    edge.wait_for_log("session.fingerprint");
    let line =
        edge.log().lines().find(|l| l.contains("session.fingerprint") && l.contains("\"score\":12")).map(str::to_owned);
    let line = line.unwrap_or_else(|| panic!("no log line with the score:\n{}", edge.log_tail()));
    assert!(line.contains("network,asn,country,browser,language") && line.contains("warn"), "{line}");
    assert!(!line.contains(&c.jar.get("CFTOKEN").unwrap()), "a token in the log");
    // The admin detail view and the dashboard's list carry the flag.
    let detail = edge.inspect(&id).unwrap();
    assert_eq!(detail["fingerprint"]["score"], 12, "{detail}");
    let list: serde_json::Value = serde_json::from_slice(&edge.admin("GET", "sessions").body).unwrap();
    let entry = list["items"].as_array().unwrap().iter().find(|e| e["cfid"] == id.as_str()).cloned();
    assert_eq!(entry.unwrap_or_default()["flag"], 12, "{list}");
}

#[test]
fn end_ends_the_session_and_its_end_hook_says_why() {
    let origin = Origin::ok();
    let edge = fingerprint_edge(&origin, "end");
    let c = Client::new();
    let id = session_at_home(&edge, &origin, &c);
    let r = from(&c, &edge, "/", ELSEWHERE, CURL, "en-US");
    assert_eq!(r.status, 200);
    assert_ne!(origin.last_id(), id, "the session went on from elsewhere");
    assert!(edge.inspect(&id).is_none());
    let hook = until("the end hook", Duration::from_secs(20), Duration::from_millis(100), || {
        origin.received().into_iter().find(|r| r.url == "/hooks/end" && String::from_utf8_lossy(&r.body).contains(&id))
    });
    let body: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!((body["reason"].as_str(), body["fingerprint"]["score"].as_u64()), (Some("fingerprint"), Some(12)));
    assert_eq!(body["fingerprint"]["reasons"][2], "country");
    // The same request with fetch(): 401, not a fresh session.
    let c2 = Client::new();
    let id2 = session_at_home(&edge, &origin, &c2);
    let headers = [("X-Test-Client", ELSEWHERE), ("User-Agent", CURL), ("Sec-Fetch-Mode", "cors")];
    let r = c2.send("GET", &edge.url("/api/x"), &headers, None);
    assert_eq!((r.status, r.header("x-session-ended")), (401, Some("fingerprint")));
    assert!(edge.inspect(&id2).is_none());
}

/// Leaving headers out does not hide a replay: a part recorded with the session that the
/// request lacks (no `User-Agent`, a blank one, no or a `*` `Accept-Language`) counts as
/// changed, at its full weight.
#[test]
fn a_replay_without_browser_headers_is_still_caught() {
    let origin = Origin::ok();
    let edge = fingerprint_edge(&origin, "end");
    let same_country = r#"{"ip":"198.51.100.20","country":"DE","asn":14061}"#;
    for blank in [false, true] {
        let c = Client::new();
        let id = session_at_home(&edge, &origin, &c);
        let cookies = format!("CFID={id}; CFTOKEN={}", c.jar.get("CFTOKEN").unwrap());
        let r = if blank {
            let headers = [
                ("X-Test-Client", same_country),
                ("User-Agent", ""),
                ("Accept-Language", "*"),
                ("Cookie", cookies.as_str()),
            ];
            Client::new().send("GET", &edge.url("/"), &headers, None)
        } else {
            let head = format!(
                "GET / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nX-Test-Client: {same_country}\r\nCookie: {cookies}",
                edge.port
            );
            common::client::raw(edge.port, head.as_bytes(), b"")
        };
        assert_eq!(r.status, 200, "blank headers: {blank}");
        assert_ne!(origin.last_id(), id, "blank headers: {blank}: the replay was served with the session");
        assert!(edge.inspect(&id).is_none(), "blank headers: {blank}: the session lives on");
    }
}

#[test]
fn rotate_moves_the_session_to_new_ids_and_tells_the_origin() {
    let origin = Origin::ok();
    let edge = fingerprint_edge(&origin, "rotate");
    let c = Client::new();
    let id = session_at_home(&edge, &origin, &c);
    let r = from(&c, &edge, "/", ELSEWHERE, CURL, "en-US");
    let new_id = r.set_cookie_value("CFID").expect("new ids");
    assert_ne!(new_id, id);
    assert_eq!(origin.last_id(), new_id);
    assert!(origin.last().header("x-session-fingerprint").unwrap().ends_with("action=rotate"));
    assert!(edge.inspect(&id).is_none(), "the old ids still work");
    // From then on the new place is the session's own: no more changes.
    from(&c, &edge, "/", ELSEWHERE, CURL, "en-US");
    assert_eq!(origin.last_id(), new_id);
    assert_eq!(origin.last().header("x-session-fingerprint"), None);
}

#[test]
fn guard_mode_ends_a_guarded_session_used_elsewhere() {
    let o = CfOrigin::start(Engine::Acf, Duration::from_secs(1200));
    let edge = Edge::start(
        &o.url(),
        &[
            ("SESSION_MODE", "guard"),
            ("ORIGIN_KILL_URL", "/kill-session"),
            ("TEST_CLIENT_HEADER", "true"),
            ("SESSION_FINGERPRINT", "end"),
        ],
    );
    let c = Client::new();
    for _ in 0..3 {
        from(&c, &edge, "/", HOME, FIREFOX, "de-DE");
    }
    let id = o.last_seen();
    from(&c, &edge, "/", ELSEWHERE, CURL, "en-US");
    until("the origin's session ended", Duration::from_secs(20), Duration::from_millis(100), || {
        o.ended().iter().any(|(sid, _)| *sid == id).then_some(())
    });
    assert_ne!(o.last_seen(), id, "the guarded session went on from elsewhere");
}
