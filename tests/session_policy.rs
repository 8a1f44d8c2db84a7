//! `SESSION_POLICY` through the real Worker: `norefresh` paths, `none` paths (matched as
//! servers read paths), and `AJAX_ENDS` (per path too): a `fetch()` after an end gets `401`
//! JSON, a navigation its redirect. In both modes.

mod common;

use std::time::Duration;

use common::{
    cf_origin::{CfOrigin, Engine},
    verify::now_ms,
    wait::until,
    Client, Edge, Origin,
};

#[test]
fn a_session_polled_by_a_norefresh_path_still_times_out() {
    let origin = Origin::ok();
    let edge = Edge::start(
        &origin.url(),
        &[("SESSION_TIMEOUT", "3"), ("TOUCH_INTERVAL", "1"), ("SESSION_POLICY", "/api/poll/=norefresh")],
    );
    let c = Client::new();
    c.get(&edge.url("/"));
    c.get(&edge.url("/"));
    let id = origin.last_id();
    let expires = edge.inspect(&id).unwrap()["expires_at"].as_u64().unwrap();
    // Poll every second; the session is served (same id) until its idle deadline passes.
    let mut polls = 0;
    while now_ms() < expires + 1500 {
        c.get(&edge.url("/api/poll/notifications"));
        if now_ms() < expires.saturating_sub(200) {
            assert_eq!(origin.last_id(), id, "a poll was not served with its session");
            polls += 1;
        }
        std::thread::sleep(Duration::from_millis(1000));
    }
    assert!(polls >= 2, "only {polls} polls");
    assert_eq!(edge.inspect(&id), None, "polling kept the session alive");
    c.get(&edge.url("/page"));
    assert_ne!(origin.last_id(), id);
}

#[test]
fn none_paths_have_no_session_and_paths_match_as_servers_read_them() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_POLICY", "/public/=none, /admin/=300")]);
    let c = Client::new();
    c.get(&edge.url("/"));
    c.get(&edge.url("/"));
    let r = c.get(&edge.url("/Public/page.html"));
    assert!(r.set_cookie("CFID").is_none());
    assert_eq!(origin.last().header("x-session-id"), None, "a none path got a session");
    assert!(origin.last().header("cookie").is_none_or(|h| !h.contains("CFTOKEN")));
    for escape in ["/Admin/", "/x/..;/admin/", "/%61dmin/users", "/static/..%2fadmin/"] {
        let c = Client::new();
        c.get(&edge.url("/"));
        c.get(&edge.url("/"));
        let id = origin.last_id();
        assert_eq!(edge.inspect(&id).unwrap()["idle_timeout_s"], 1200);
        c.get(&edge.url(escape));
        assert_eq!(edge.inspect(&id).unwrap()["idle_timeout_s"], 300, "{escape} escaped /admin/=300");
    }
}

#[test]
fn fetch_after_an_end_gets_401_json_and_navigation_keeps_its_redirect() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_TIMEOUT", "2"), ("SESSION_POLICY", "/legacy/=ajax-redirect")]);
    let ajax = [("Sec-Fetch-Mode", "cors")];
    // A fetch() kill: 401 with the cookies expired, not a redirect to HTML.
    let c = Client::new();
    c.get(&edge.url("/"));
    c.get(&edge.url("/"));
    let id = origin.last_id();
    let r = c.send("GET", &edge.url("/api/logout?killSession=1"), &ajax, None);
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.text(), r#"{"session":"ended","reason":"killed"}"#);
    assert!(r.header("www-authenticate").is_none());
    assert_eq!(r.set_cookie_value("CFID").as_deref(), Some(""), "cookies not expired: {:?}", r.headers);
    assert!(edge.inspect(&id).is_none());
    // The killed pair on a later fetch (a tab that still holds it), XHR and JSON spellings.
    let killed = Client::new();
    killed.jar.set("CFID", &id);
    killed.jar.set("CFTOKEN", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let r = killed.send("GET", &edge.url("/api/x"), &[("X-Requested-With", "XMLHttpRequest")], None);
    assert_eq!((r.status, r.header("x-session-ended")), (401, Some("refused")));
    // An expired session.
    let c = Client::new();
    c.get(&edge.url("/"));
    c.get(&edge.url("/"));
    let id = origin.last_id();
    let expires = edge.inspect(&id).unwrap()["expires_at"].as_u64().unwrap();
    until("the deadline", Duration::from_secs(20), Duration::from_millis(100), || {
        (now_ms() > expires + 300).then_some(())
    });
    let r = c.send("GET", &edge.url("/api/x"), &[("Accept", "application/json")], None);
    assert_eq!(r.status, 401);
    // (`expired` when this request found the deadline passed, `ended` when its alarm was first.)
    let reason = serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["reason"].clone();
    assert!(reason == "expired" || reason == "ended", "{reason}");
    // A navigation is not AJAX: a new session, as before; a path set to redirect, likewise.
    let before = origin.received().len();
    let r = c.send("GET", &edge.url("/page"), &[("Sec-Fetch-Mode", "navigate")], None);
    assert_eq!(r.status, 200);
    assert!(r.set_cookie_value("CFID").is_some_and(|v| !v.is_empty()));
    assert_eq!(origin.received().len(), before + 1);
    let c = Client::new();
    c.get(&edge.url("/"));
    c.get(&edge.url("/"));
    let r = c.send("GET", &edge.url("/legacy/logout?killSession=1"), &ajax, None);
    assert_eq!(r.status, 302, "ajax-redirect on this path");
}

#[test]
fn guard_mode_has_norefresh_paths_and_ajax_ends_too() {
    let o = CfOrigin::start(Engine::Acf, Duration::from_secs(1200));
    let edge = Edge::start(
        &o.url(),
        &[
            ("SESSION_MODE", "guard"),
            ("ORIGIN_KILL_URL", "/kill-session"),
            ("SESSION_TIMEOUT", "3"),
            ("TOUCH_INTERVAL", "1"),
            ("SESSION_POLICY", "/api/poll/=norefresh"),
        ],
    );
    let c = Client::new();
    for _ in 0..3 {
        c.get(&edge.url("/"));
    }
    let id = o.last_seen();
    let started = now_ms();
    // Polled every 500 ms by a norefresh path: the guarded session still ends on time.
    until("the polled guarded session to end", Duration::from_secs(20), Duration::from_millis(500), || {
        c.get(&edge.url("/api/poll/x"));
        o.ended().iter().any(|(sid, _)| *sid == id).then_some(())
    });
    assert!(now_ms() - started < 10_000, "polling kept the guarded session alive");
    // A fetch() kill of a guarded session: 401 JSON, the origin's cookies expired too.
    let c = Client::new();
    for _ in 0..3 {
        c.get(&edge.url("/"));
    }
    let id = o.last_seen();
    let r = c.send("POST", &edge.url("/logout?killSession=1"), &[("Sec-Fetch-Mode", "cors")], None);
    assert_eq!((r.status, r.header("x-session-ended")), (401, Some("killed")), "{}", r.text());
    assert_eq!(r.set_cookie_value("CFGUARD").as_deref(), Some(""));
    until("the origin's session ended", Duration::from_secs(20), Duration::from_millis(100), || {
        o.ended().iter().any(|(sid, _)| *sid == id).then_some(())
    });
}
