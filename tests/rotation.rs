//! Rotation through the real Worker: a login gets new ids and the old pair is dead at once,
//! and the session's start and end events pair up across the rotation. (Rotation on a
//! fingerprint change: `fingerprint.rs`; `sessionRotate()` in guard mode: `guard.rs`; in
//! CFML's drop-in: `lucee_edge.rs`.)

mod common;

use std::{sync::Arc, time::Duration};

use common::{client_with, stored_session, wait::until, Client, Edge, Origin, Recorded, Reply};

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
