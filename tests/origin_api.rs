//! The origin API ("your sessions") and the concurrent-session limit, through the real Worker:
//! a user lists and ends only their own sessions, a forged or stale signature is refused, and
//! `MAX_SESSIONS_PER_USER` keeps exactly that many sessions under parallel logins.

mod common;

use std::time::Duration;

use common::{verify::test_origin_key, wait, Client, Edge, Origin, Resp};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

const API: &str = "/__session/origin/";

fn json(r: &Resp) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("{}: not JSON: {}", r.status, r.text()))
}

/// The nonce of the `n`th call of this test process (unique: 16+ characters).
fn nonce() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!("test-nonce-{}-{}", std::process::id(), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// Signs an origin API call as docs/origin-protocol.md says, with `key`, `t` seconds, sent to
/// `host` with `nonce`.
fn signature(key: &str, t: u64, nonce: &str, method: &str, host: &str, path: &str, cfid: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("cfsession-origin-api-v2\n{t}\n{nonce}\n{method}\n{host}\n{path}\n{cfid}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v2={hex}")
}

/// The host (and port) the edge is called at.
fn host(edge: &Edge) -> String {
    edge.url("/").trim_start_matches("http://").trim_end_matches('/').to_owned()
}

/// The headers of a call acting for `cfid`, signed with `key` at `t`.
fn signed(edge: &Edge, key: &str, t: u64, method: &str, path: &str, cfid: &str) -> Vec<(String, String)> {
    let n = nonce();
    let sig = signature(key, t, &n, method, &host(edge), path, cfid);
    vec![("X-Session-Id".into(), cfid.into()), ("X-Session-Nonce".into(), n), ("X-Session-Signature".into(), sig)]
}

fn send(edge: &Edge, method: &str, path: &str, headers: &[(String, String)]) -> Resp {
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Client::new().send(method, &edge.url(path), &h, None)
}

/// An origin API call acting for the session `cfid`, signed with `key`.
fn call_as(edge: &Edge, key: &str, method: &str, rest: &str, cfid: &str) -> Resp {
    let path = format!("{API}{rest}");
    send(edge, method, &path, &signed(edge, key, common::verify::now_s(), method, &path, cfid))
}

fn call(edge: &Edge, method: &str, rest: &str, cfid: &str) -> Resp {
    call_as(edge, &test_origin_key(), method, rest, cfid)
}

/// A client logged in as `user` (its session stored, tagged and rotated); returns it and its
/// current CFID.
fn logged_in(edge: &Edge, origin: &Origin, user: &str) -> (Client, String) {
    let c = Client::new();
    c.get(&edge.url("/"));
    c.get(&edge.url("/"));
    assert_eq!(c.get(&edge.url(&format!("/user?id={user}"))).status, 200);
    c.get(&edge.url("/"));
    let id = origin.last().header("x-session-id").unwrap().to_owned();
    assert_eq!(c.jar.get("CFID").as_deref(), Some(id.as_str()));
    (c, id)
}

fn ids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> =
        list["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    v.sort();
    v
}

#[test]
fn users_see_and_end_only_their_own_sessions() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[]);
    let (a1c, a1) = logged_in(&edge, &origin, "alice");
    let (a2c, a2) = logged_in(&edge, &origin, "alice");
    let (_a3c, a3) = logged_in(&edge, &origin, "alice");
    let (bc, b) = logged_in(&edge, &origin, "bob");

    let list = call(&edge, "GET", "sessions", &a1);
    assert_eq!(list.status, 200, "{}", list.text());
    let list = json(&list);
    assert_eq!(list["user"], "alice");
    let mut expected = vec![a1.clone(), a2.clone(), a3.clone()];
    expected.sort();
    assert_eq!(ids(&list), expected, "alice sees her three sessions and nobody else's");
    for item in list["items"].as_array().unwrap() {
        assert_eq!(item["current"], item["id"] == a1.as_str());
        assert!(item["created"].as_u64().unwrap() > 0 && item["last_access"].as_u64().unwrap() > 0);
        assert!(item["client"]["user_agent"].as_str().unwrap().starts_with("ureq"), "{item}");
    }
    let body = serde_json::to_string(&list).unwrap();
    for c in [&a1c, &a2c, &bc] {
        assert!(!body.contains(&c.jar.get("CFTOKEN").unwrap()), "a CFTOKEN in the list");
    }

    // Bob sees only his own, and cannot end Alice's.
    assert_eq!(ids(&json(&call(&edge, "GET", "sessions", &b))), vec![b.clone()]);
    let r = call(&edge, "DELETE", &format!("sessions/{a2}"), &b);
    assert_eq!(r.status, 404, "{}", r.text());
    let r = call(&edge, "POST", "sessions/end-others", &b);
    assert_eq!(json(&r)["ended"], serde_json::json!([]));
    assert!(edge.inspect(&a2).is_some() && edge.inspect(&a3).is_some(), "bob ended alice's session");

    // Alice ends one, then all others; her current session stays.
    let r = call(&edge, "DELETE", &format!("sessions/{a2}"), &a1);
    assert_eq!((r.status, json(&r)["ended"][0].as_str()), (200, Some(a2.as_str())));
    assert!(edge.inspect(&a2).is_none());
    a2c.get(&edge.url("/"));
    assert_ne!(origin.last().header("x-session-id"), Some(a2.as_str()), "the ended session still works");
    let r = call(&edge, "POST", "sessions/end-others", &a1);
    assert_eq!(json(&r)["ended"], serde_json::json!([a3.clone()]));
    assert!(edge.inspect(&a3).is_none());
    assert_eq!(ids(&json(&call(&edge, "GET", "sessions", &a1))), vec![a1.clone()]);
    assert_eq!(edge.inspect(&a1).unwrap()["user"], "alice");
    assert!(edge.inspect(&b).is_some());

    // The ends are logged with their reason.
    let ended = json(&edge.admin("GET", "ended"));
    let reason_of =
        |id: &str| ended["items"].as_array().unwrap().iter().find(|e| e["cfid"] == id).map(|e| e["reason"].clone());
    assert_eq!(reason_of(&a2), Some("revoked".into()));
    assert_eq!(reason_of(&a3), Some("revoked".into()));
}

#[test]
fn forged_stale_or_unsigned_calls_are_refused() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[]);
    let (_c, a) = logged_in(&edge, &origin, "alice");
    let (_c2, other) = logged_in(&edge, &origin, "alice");
    let forged = "0".repeat(64);
    let r = call_as(&edge, &forged, "GET", "sessions", &a);
    assert_eq!(r.status, 401, "a forged origin key");
    assert!(json(&r)["error"].is_string());
    // The signing key itself is not the origin key.
    assert_eq!(call_as(&edge, common::edge::TEST_SIGNING_KEY, "GET", "sessions", &a).status, 401);
    assert_eq!(call_as(&edge, &forged, "DELETE", &format!("sessions/{other}"), &a).status, 401);
    assert!(edge.inspect(&other).is_some());

    let path = format!("{API}sessions");
    let key = test_origin_key();
    let stale = signed(&edge, &key, common::verify::now_s() - 301, "GET", &path, &a);
    assert_eq!(send(&edge, "GET", &path, &stale).status, 401, "a stale signature");
    // A signature for one session does not act for another.
    let mut mine = signed(&edge, &key, common::verify::now_s(), "GET", &path, &a);
    mine[0].1 = other.clone();
    assert_eq!(send(&edge, "GET", &path, &mine).status, 401);
    let no_id: Vec<(String, String)> = mine.iter().skip(1).cloned().collect();
    assert_eq!(send(&edge, "GET", &path, &no_id).status, 400, "no X-Session-Id");
    let no_nonce: Vec<(String, String)> = signed(&edge, &key, common::verify::now_s(), "GET", &path, &a)
        .into_iter()
        .filter(|(k, _)| k != "X-Session-Nonce")
        .collect();
    assert_eq!(send(&edge, "GET", &path, &no_nonce).status, 401, "no nonce");
    // A browser cannot call it, and the API never reaches the origin.
    assert_eq!(Client::new().get(&edge.url(&path)).status, 400);
    assert_eq!(call(&edge, "GET", "nothing-here", &a).status, 404);
    assert!(origin.received().iter().all(|r| !r.url.starts_with("/__session")));
    // A session that has ended cannot call.
    call(&edge, "DELETE", &format!("sessions/{other}"), &a);
    assert_eq!(call(&edge, "GET", "sessions", &other).status, 404);
}

#[test]
fn a_replayed_call_or_one_signed_for_another_host_is_refused() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[]);
    let (_c, a) = logged_in(&edge, &origin, "alice");
    let (_c2, b) = logged_in(&edge, &origin, "alice");
    let path = format!("{API}sessions/end-others");
    let key = test_origin_key();
    let first = signed(&edge, &key, common::verify::now_s(), "POST", &path, &a);
    assert_eq!(send(&edge, "POST", &path, &first).status, 200);
    assert!(edge.inspect(&b).is_none(), "the first call ended the other session");
    // A session started after the call: the replayed call must not end it.
    let (_c3, later) = logged_in(&edge, &origin, "alice");
    let replay = send(&edge, "POST", &path, &first);
    assert_eq!(replay.status, 401, "{}", replay.text());
    edge.wait_for_log("X-Session-Nonce was used before: a replayed call");
    assert!(edge.inspect(&later).is_some(), "the replay ended a later session");
    // Signed for another host (a staging site with the same key): refused here.
    let n = nonce();
    let elsewhere =
        signature(&key, common::verify::now_s(), &n, "GET", "staging.example.com", &format!("{API}sessions"), &a);
    let headers = vec![
        ("X-Session-Id".to_owned(), a.clone()),
        ("X-Session-Nonce".to_owned(), n),
        ("X-Session-Signature".to_owned(), elsewhere),
    ];
    assert_eq!(send(&edge, "GET", &format!("{API}sessions"), &headers).status, 401);
    assert_eq!(call(&edge, "GET", "sessions", &a).status, 200, "a fresh call still works");
}

#[test]
fn calls_signed_with_the_previous_origin_key_work_only_during_a_key_rotation() {
    const PREVIOUS: &str = "previous-signing-key-0123456789abcdef0123456789";
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("SESSION_SIGNING_KEY_PREVIOUS", PREVIOUS)]);
    let (_c, a) = logged_in(&edge, &origin, "gus");
    let previous = common::verify::origin_key(PREVIOUS);
    assert_eq!(call_as(&edge, &previous, "GET", "sessions", &a).status, 200, "the previous origin key");
    assert_eq!(call(&edge, "GET", "sessions", &a).status, 200, "the current origin key");
    assert_eq!(call_as(&edge, &"0".repeat(64), "GET", "sessions", &a).status, 401);
    let edge = edge.restart_with(&[("SESSION_SIGNING_KEY_PREVIOUS", None)]);
    assert_eq!(call_as(&edge, &previous, "GET", "sessions", &a).status, 401, "after the overlap");
    assert_eq!(call(&edge, "GET", "sessions", &a).status, 200);
}

#[test]
fn a_login_beyond_the_limit_is_refused_with_max_sessions_policy_refuse() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("MAX_SESSIONS_PER_USER", "2"), ("MAX_SESSIONS_POLICY", "refuse")]);
    let (_c1, s1) = logged_in(&edge, &origin, "fay");
    let (_c2, s2) = logged_in(&edge, &origin, "fay");
    let c3 = Client::new();
    c3.get(&edge.url("/"));
    c3.get(&edge.url("/"));
    let third = c3.jar.get("CFID").unwrap();
    let r = c3.get(&edge.url("/user?id=fay"));
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.header("x-session-refused"), Some("too_many_sessions"));
    let body = json(&r);
    assert_eq!((body["reason"].as_str(), body["max"].as_u64()), (Some("too_many_sessions"), Some(2)));
    // Nobody was evicted, and the third session lives on without the user.
    let mut live = user_sessions(&edge, "fay");
    live.sort();
    let mut expected = vec![s1.clone(), s2.clone()];
    expected.sort();
    assert_eq!(live, expected);
    let me = edge.inspect(&third).expect("the refused session lives on");
    assert!(me["user"].is_null(), "{me}");
    assert!(ended_with(&edge, "replaced").is_empty());
    // Once one signs out, the login goes through.
    call(&edge, "DELETE", &format!("sessions/{s1}"), &s2);
    assert_eq!(c3.get(&edge.url("/user?id=fay")).status, 200);
    assert_eq!(user_sessions(&edge, "fay").len(), 2);
}

#[test]
fn an_anonymous_session_sees_only_itself() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[]);
    let (_c, a) = common::stored_session(&edge, &origin);
    let (_c2, b) = common::stored_session(&edge, &origin);
    let list = json(&call(&edge, "GET", "sessions", &a));
    assert_eq!((list["user"].clone(), ids(&list)), (Value::Null, vec![a.clone()]));
    assert_eq!(call(&edge, "DELETE", &format!("sessions/{b}"), &a).status, 404);
    assert_eq!(json(&call(&edge, "POST", "sessions/end-others", &a))["ended"], serde_json::json!([]));
    assert!(edge.inspect(&b).is_some());
    assert_eq!(call(&edge, "DELETE", &format!("sessions/{a}"), &a).status, 200, "it may end itself");
    assert!(edge.inspect(&a).is_none());
}

fn user_sessions(edge: &Edge, user: &str) -> Vec<String> {
    let r = json(&edge.admin("GET", &format!("users/{user}/sessions")));
    r["items"].as_array().unwrap().iter().map(|i| i["cfid"].as_str().unwrap().to_owned()).collect()
}

fn ended_with(edge: &Edge, reason: &str) -> Vec<String> {
    let r = json(&edge.admin("GET", "ended?limit=100"));
    r["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == reason)
        .map(|e| e["cfid"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_login_beyond_the_limit_replaces_the_oldest_session() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("MAX_SESSIONS_PER_USER", "2")]);
    let (c1, s1) = logged_in(&edge, &origin, "dave");
    let (_c2, s2) = logged_in(&edge, &origin, "dave");
    let (_c3, s3) = logged_in(&edge, &origin, "dave");
    let mut live = user_sessions(&edge, "dave");
    live.sort();
    let mut expected = vec![s2, s3];
    expected.sort();
    assert_eq!(live, expected, "the oldest login went");
    assert!(edge.inspect(&s1).is_none());
    assert_eq!(ended_with(&edge, "replaced"), vec![s1.clone()]);
    c1.get(&edge.url("/"));
    assert_ne!(origin.last().header("x-session-id"), Some(s1.as_str()));
    // Another user is not affected.
    let (_e, e1) = logged_in(&edge, &origin, "erin");
    assert!(edge.inspect(&e1).is_some());
    assert_eq!(user_sessions(&edge, "dave").len(), 2);
}

#[test]
fn parallel_logins_keep_exactly_the_limit() {
    const LOGINS: usize = 8;
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("MAX_SESSIONS_PER_USER", "3")]);
    let clients: Vec<Client> = (0..LOGINS)
        .map(|_| {
            let c = Client::new();
            c.get(&edge.url("/"));
            c.get(&edge.url("/"));
            c
        })
        .collect();
    std::thread::scope(|s| {
        for c in &clients {
            let url = edge.url("/user?id=carol");
            s.spawn(move || assert_eq!(c.get(&url).status, 200));
        }
    });
    let live = wait::until("3 sessions for carol", Duration::from_secs(20), Duration::from_millis(200), || {
        let live = user_sessions(&edge, "carol");
        (live.len() == 3 && ended_with(&edge, "replaced").len() == LOGINS - 3).then_some(live)
    });
    // The clients' own view agrees: exactly three of them are still carol's.
    let carols = clients
        .iter()
        .filter(|c| c.jar.get("CFID").and_then(|id| edge.inspect(&id)).is_some_and(|s| s["user"] == "carol"))
        .count();
    assert_eq!(carols, 3, "live: {live:?}");
}

#[test]
fn a_store_failure_is_answered_as_json_with_its_status_by_both_apis() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "users.list=fail;session.inspect=fail")]);
    let (_c, a) = logged_in(&edge, &origin, "alice");
    let answers = [
        ("origin API", call(&edge, "GET", "sessions", &a)),
        ("admin user list", edge.admin("GET", "users/alice/sessions")),
        ("admin session", edge.admin("GET", &format!("sessions/{a}"))),
    ];
    for (what, r) in answers {
        assert_eq!(r.status, 503, "{what}: {}", r.text());
        assert!(r.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{what}");
        assert_eq!(json(&r)["error"], "session store unavailable, try again", "{what}");
    }
}
