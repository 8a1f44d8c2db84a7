//! Guard mode (`SESSION_MODE=guard`) through the real Worker, in front of two origins that
//! keep their own sessions, written in the test (`tests/common/cf_origin.rs`): an imitation of
//! Adobe ColdFusion (since APSB11-04), which no registry offers to install, and one of Lucee's
//! cookie shapes. Real Lucee 7 is in `tests/lucee_guard.rs`, real Tomcat, PHP and
//! express-session in `tests/real_session_managers.rs`. The edge binds the origin's cookies, ends sessions (kill,
//! admin, timeout) with a signed call to `ORIGIN_KILL_URL`, follows the origin's rotations,
//! and never lets ids through that it did not see the origin issue.

mod common;

use std::time::Duration;

use common::{
    cf_origin::{session_key, CfOrigin, Engine},
    client_with,
    wait::until,
    Client, Edge, Origin, Reply,
};

const BINDING: &str = "CFGUARD"; // COOKIE_SECURE=false in tests; `__Host-CFGUARD` when Secure

fn guard_edge(o: &CfOrigin, extra: &[(&str, &str)]) -> Edge {
    let mut vars = vec![
        ("SESSION_MODE", "guard"),
        ("ORIGIN_KILL_URL", "/kill-session"),
        ("SESSION_START_URL", "/hooks/start"),
        ("SESSION_END_URL", "/hooks/end"),
    ];
    vars.extend_from_slice(extra);
    Edge::start(&o.url(), &vars)
}

/// A browser with a stored guarded session (three requests: the origin issues its cookies,
/// the browser comes back with them bound, one more); returns it and the origin's session id.
fn guarded_session(edge: &Edge, o: &CfOrigin) -> (Client, String) {
    let c = Client::new();
    let first = c.get(&edge.url("/"));
    assert!(first.set_cookie(BINDING).is_some(), "no binding for the origin's new cookies: {:?}", first.headers);
    let id = o.last_seen();
    c.get(&edge.url("/"));
    c.get(&edge.url("/"));
    assert_eq!(o.last_seen(), id, "the origin session was not kept");
    (c, id)
}

/// The browser's full cookie state (origin cookies and binding), for replays.
fn snapshot(c: &Client, engine: Engine) -> Vec<(String, String)> {
    let (a, b) = engine.names();
    [a, b, BINDING].iter().filter_map(|n| c.jar.get(n).map(|v| ((*n).to_owned(), v))).collect()
}

fn replay(edge: &Edge, cookies: &[(String, String)], path: &str) {
    let pairs: Vec<(&str, &str)> = cookies.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = client_with(&pairs).get(&edge.url(path));
    assert!(r.status < 500, "{}: {}", r.status, r.text());
}

fn ten_requests_keep_one_origin_session(engine: Engine) {
    let o = CfOrigin::start(engine, Duration::from_secs(3600));
    let edge = guard_edge(&o, &[]);
    let c = Client::new();
    for i in 1..=10 {
        let r = c.get(&edge.url("/page.cfm"));
        assert_eq!(r.status, 200);
        assert!(r.text().ends_with(&format!(" {i}")), "hit {i}: {}", r.text());
    }
    let seen = o.seen();
    assert!(seen.iter().all(|s| *s == seen[0]), "the origin session changed: {seen:?}");
    // The origin's own cookies reached the browser unchanged, and the binding beside them.
    let (a, b) = engine.names();
    assert!(c.jar.get(a).is_some() && c.jar.get(b).is_some() && c.jar.get(BINDING).is_some());
    // The origin never sees the binding cookie.
    assert!(o.origin.received().iter().all(|r| !r.header("cookie").unwrap_or("").contains(BINDING)));
}

fn kills_end_the_origin_session_and_its_ids_never_return(engine: Engine) {
    let o = CfOrigin::start(engine, Duration::from_secs(3600));
    let edge = guard_edge(&o, &[]);
    for (i, kill_path) in ["/index.cfm?killSession", "/kill/"].into_iter().enumerate() {
        let (c, id) = guarded_session(&edge, &o);
        let old = snapshot(&c, engine);
        let r = c.get(&edge.url(kill_path));
        assert_eq!(r.status, 302, "{kill_path}");
        let (a, b) = engine.names();
        for name in [a, b, &a.to_ascii_uppercase(), &b.to_ascii_lowercase(), BINDING] {
            let gone = r
                .all("set-cookie")
                .into_iter()
                .any(|sc| sc.starts_with(&format!("{name}=;")) && sc.contains("Max-Age=0"));
            assert!(gone, "{kill_path}: {name} not expired: {:?}", r.all("set-cookie"));
        }
        // ORIGIN_KILL_URL: exactly one signed call, with the old cookies.
        let calls = until("the ORIGIN_KILL_URL call", Duration::from_secs(15), Duration::from_millis(100), || {
            let calls = o.kill_calls();
            (calls.len() > i).then_some(calls)
        });
        let (call, signed) = &calls[i];
        assert!(*signed, "the kill call was not signed with the origin key");
        assert_eq!(session_key(engine, call.header("cookie")).as_deref(), Some(id.as_str()));
        assert!(o.ended().contains(&(id.clone(), "killed".to_owned())), "{:?}", o.ended());
        // The browser's next request: a fresh origin session.
        c.get(&edge.url("/"));
        assert_ne!(o.last_seen(), id);
        // The old pair, replayed 20 times (with its binding), never reaches the origin.
        for _ in 0..20 {
            replay(&edge, &old, "/");
        }
        // (`guarded_session` made three requests in it; none since.)
        assert_eq!(o.seen().iter().filter(|s| **s == id).count(), 3, "old ids reached the origin after the kill");
    }
    std::thread::sleep(Duration::from_millis(500)); // (a duplicate call would have come by now)
    assert_eq!(o.kill_calls().len(), 2, "exactly one ORIGIN_KILL_URL call per kill");
}

fn fixated_ids_never_reach_the_origin(engine: Engine) {
    let o = CfOrigin::start(engine, Duration::from_secs(3600));
    let edge = guard_edge(&o, &[]);
    let (victim, _) = guarded_session(&edge, &o);
    let stolen_binding = victim.jar.get(BINDING).unwrap();
    let chosen = match engine {
        Engine::Acf => ("CFID", "777", "CFTOKEN", "12345678", "777:12345678"),
        Engine::Lucee => {
            ("cfid", "0badc0de-0000-4000-8000-00000000f1c5", "cftoken", "0", "0badc0de-0000-4000-8000-00000000f1c5")
        }
    };
    let (n1, v1, n2, v2, key) = chosen;
    for with_binding in [false, true] {
        let mut cookies = vec![(n1, v1), (n2, v2)];
        if with_binding {
            cookies.push((BINDING, stolen_binding.as_str()));
        }
        let attacker = client_with(&cookies);
        for _ in 0..3 {
            assert_eq!(attacker.get(&edge.url("/")).status, 200);
        }
        assert!(!o.received_id(key), "an attacker-chosen id reached the origin (binding: {with_binding})");
        assert!(!o.seen().contains(&key.to_owned()));
    }
    // Both engines also read CFID/CFTOKEN from the query string: a fixation link.
    let link = format!("/index.cfm?{n1}={v1}&{n2}={v2}&page=2");
    assert_eq!(Client::new().get(&edge.url(&link)).status, 200);
    let got = o.origin.last();
    assert_eq!(got.url, "/index.cfm?page=2", "session ids in the query string reached the origin");
}

fn the_idle_timeout_ends_the_origin_session_without_traffic(engine: Engine) {
    let o = CfOrigin::start(engine, Duration::from_secs(3600)); // the origin's own: far longer
    let edge = guard_edge(&o, &[("SESSION_TIMEOUT", "3")]);
    let (_c, id) = guarded_session(&edge, &o);
    let calls =
        until("the timeout's ORIGIN_KILL_URL call", Duration::from_secs(30), Duration::from_millis(200), || {
            let calls = o.kill_calls();
            (!calls.is_empty()).then_some(calls)
        });
    assert!(calls[0].1);
    assert_eq!(session_key(engine, calls[0].0.header("cookie")).as_deref(), Some(id.as_str()));
    let body: serde_json::Value = serde_json::from_slice(&calls[0].0.body).unwrap();
    assert_eq!(body["reason"], "timeout");
    assert!(o.ended().contains(&(id.clone(), "killed".to_owned())), "the application's onSessionEnd did not run");
    let ends = until("the end hook", Duration::from_secs(15), Duration::from_millis(100), || {
        let ends: Vec<_> = o.origin.received().into_iter().filter(|r| r.url == "/hooks/end").collect();
        (!ends.is_empty()).then_some(ends)
    });
    let end: serde_json::Value = serde_json::from_slice(&ends[0].body).unwrap();
    assert_eq!((end["reason"].as_str(), end["mode"].as_str()), (Some("timeout"), Some("guard")));
    assert!(end["data"].is_null(), "guard-mode events carry no data");
    if engine == Engine::Lucee {
        assert!(!String::from_utf8_lossy(&ends[0].body).contains(&id), "the origin's session id is in the end hook");
    }
}

fn an_origin_rotation_kills_the_old_pair(engine: Engine) {
    let o = CfOrigin::start(engine, Duration::from_secs(3600));
    let edge = guard_edge(&o, &[]);
    let (c, id) = guarded_session(&edge, &o);
    let old = snapshot(&c, engine);
    let r = c.get(&edge.url("/rotate"));
    assert!(r.set_cookie(BINDING).is_some(), "the binding did not move to the new ids");
    let new_id = o.last_seen();
    assert_ne!(new_id, id);
    c.get(&edge.url("/"));
    assert_eq!(o.last_seen(), new_id, "the rotated session was not kept");
    let before = o.seen().iter().filter(|s| **s == id).count();
    // Replays right after the rotation (a tab that still had the old cookies): the old ids are
    // not forwarded, and whatever session the origin starts for them is not bound.
    for _ in 0..5 {
        replay(&edge, &old, "/");
    }
    assert_eq!(o.seen().iter().filter(|s| **s == id).count(), before, "the pre-rotation pair reached the origin");
    c.get(&edge.url("/"));
    assert_eq!(o.last_seen(), new_id);
}

/// The tests above, once per engine: `acf::…` and `lucee::…`.
macro_rules! per_engine {
    ($module:ident, $engine:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn ten_requests_keep_one_origin_session() {
                super::ten_requests_keep_one_origin_session($engine);
            }

            #[test]
            fn kills_end_the_origin_session_and_its_ids_never_return() {
                super::kills_end_the_origin_session_and_its_ids_never_return($engine);
            }

            #[test]
            fn fixated_ids_never_reach_the_origin() {
                super::fixated_ids_never_reach_the_origin($engine);
            }

            #[test]
            fn the_idle_timeout_ends_the_origin_session_without_traffic() {
                super::the_idle_timeout_ends_the_origin_session_without_traffic($engine);
            }

            #[test]
            fn an_origin_rotation_kills_the_old_pair() {
                super::an_origin_rotation_kills_the_old_pair($engine);
            }
        }
    };
}

per_engine!(acf, Engine::Acf);
per_engine!(lucee, Engine::Lucee);

#[test]
fn a_paths_timeout_ends_a_guarded_session_that_visited_it() {
    let o = CfOrigin::start(Engine::Lucee, Duration::from_secs(3600));
    let edge = guard_edge(&o, &[("SESSION_TIMEOUT", "600"), ("SESSION_POLICY", "/admin/=2")]);
    let (c, id) = guarded_session(&edge, &o);
    c.get(&edge.url("/admin/"));
    assert_eq!(o.last_seen(), id, "the session was resumed under its own timeout");
    let calls =
        until("the path timeout's ORIGIN_KILL_URL call", Duration::from_secs(30), Duration::from_millis(200), || {
            let calls = o.kill_calls();
            (!calls.is_empty()).then_some(calls)
        });
    let body: serde_json::Value = serde_json::from_slice(&calls[0].0.body).unwrap();
    assert_eq!(body["reason"], "timeout");
    assert_eq!(session_key(Engine::Lucee, calls[0].0.header("cookie")).as_deref(), Some(id.as_str()));
}

#[test]
fn the_admin_lists_and_kills_guarded_sessions() {
    for engine in [Engine::Acf, Engine::Lucee] {
        let o = CfOrigin::start(engine, Duration::from_secs(3600));
        let edge = guard_edge(&o, &[]);
        let (c, id) = guarded_session(&edge, &o);
        let list: serde_json::Value = serde_json::from_slice(&edge.admin("GET", "sessions").body).unwrap();
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{list}");
        let gid = items[0]["cfid"].as_str().unwrap().to_owned();
        let view = edge.inspect(&gid).unwrap();
        assert_eq!(view["mode"], "guard");
        let shown = view.to_string() + &list.to_string();
        let (a, b) = engine.names();
        for v in [c.jar.get(a).unwrap(), c.jar.get(b).unwrap()] {
            assert!(v.len() < 4 || !shown.contains(&v), "the admin shows the origin's cookie value {v}");
        }
        assert_eq!(edge.admin("DELETE", &format!("sessions/{gid}")).status, 200);
        until("the kill call", Duration::from_secs(15), Duration::from_millis(100), || {
            (!o.kill_calls().is_empty()).then_some(())
        });
        assert!(o.ended().contains(&(id.clone(), "killed".to_owned())));
        c.get(&edge.url("/"));
        assert_ne!(o.last_seen(), id, "{engine:?}: the killed session came back");
    }
}

#[test]
fn the_edge_protocol_headers_work_on_guarded_sessions() {
    let o = CfOrigin::start(Engine::Lucee, Duration::from_secs(3600));
    let edge = guard_edge(&o, &[]);
    // X-Session-User tags the guarded session; log-out-everywhere ends it at the origin too.
    let (alice, id) = guarded_session(&edge, &o);
    alice.get(&edge.url("/login"));
    let listed: serde_json::Value = serde_json::from_slice(&edge.admin("GET", "users/alice/sessions").body).unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(edge.admin("DELETE", "users/alice/sessions").status, 200);
    until("the kill call", Duration::from_secs(15), Duration::from_millis(100), || {
        o.ended().contains(&(id.clone(), "killed".to_owned())).then_some(())
    });
    // X-Session-Action: timeout=2 shortens this session's idle timeout.
    let (c, id) = guarded_session(&edge, &o);
    c.get(&edge.url("/short"));
    until("the short timeout", Duration::from_secs(20), Duration::from_millis(200), || {
        o.ended().contains(&(id.clone(), "killed".to_owned())).then_some(())
    });
    // X-Session-Action: invalidate ends it on the origin's own response.
    let (c, id) = guarded_session(&edge, &o);
    let r = c.get(&edge.url("/logout"));
    assert!(r.all("set-cookie").iter().any(|sc| sc.starts_with("cfid=;")), "{:?}", r.all("set-cookie"));
    c.get(&edge.url("/"));
    assert_ne!(o.last_seen(), id);
}

#[test]
fn bad_input_in_guard_mode_is_never_a_500_and_loses_nothing() {
    let o = CfOrigin::start(Engine::Acf, Duration::from_secs(3600));
    let edge = guard_edge(&o, &[]);
    let (c, id) = guarded_session(&edge, &o);
    let binding = c.jar.get(BINDING).unwrap();
    let cases: [&[(&str, &str)]; 5] = [
        &[("CFID", "a\tb"), ("CFTOKEN", "1")], // malformed origin cookie (a control character)
        &[("CFID", &"9".repeat(5_000)), ("CFTOKEN", "1")], // oversized (over 4096 bytes)
        &[("CFID", "1"), ("CFTOKEN", "2"), (BINDING, "not-a-binding")], // garbage binding
        &[("CFID", "1"), ("CFTOKEN", "2"), (BINDING, &binding)], // another session's binding
        &[(BINDING, &binding)],                // a binding alone
    ];
    for cookies in cases {
        let r = client_with(cookies).get(&edge.url("/"));
        assert_eq!(r.status, 200, "{cookies:?}: {}", r.text());
        assert_ne!(o.last_seen(), id);
    }
    edge.wait_for_log("malformed origin session cookies");
    // The real session is untouched by all of it.
    c.get(&edge.url("/"));
    assert_eq!(o.last_seen(), id);
    // An ORIGIN_KILL_URL that fails is retried (with backoff) until the application answers.
    o.fail_next_kills(2);
    assert_eq!(c.get(&edge.url("/kill/")).status, 302);
    until("the retried kill call", Duration::from_secs(30), Duration::from_millis(200), || {
        o.ended().contains(&(id.clone(), "killed".to_owned())).then_some(())
    });
    assert_eq!(o.kill_calls().len(), 3, "two failures, then one success");
    edge.wait_for_log("origin_kill failed");
}

#[test]
fn cookieless_clients_store_nothing() {
    for engine in [Engine::Acf, Engine::Lucee] {
        let o = CfOrigin::start(engine, Duration::from_secs(3600));
        let edge = guard_edge(&o, &[]);
        for _ in 0..1_000 {
            assert_eq!(Client::new().get(&edge.url("/")).status, 200);
        }
        assert_eq!(edge.stored_objects(), 0, "{engine:?}: bots that never return cookies cost storage");
    }
}

#[test]
fn edge_mode_drops_an_origins_own_session_cookies_and_keeps_its_session() {
    let origin = Origin::start(|_| {
        Reply::ok("ok")
            .header("Set-Cookie", "CFID=1;Path=/")
            .header("Set-Cookie", "CFTOKEN=12345678;Path=/")
            .header("Set-Cookie", "cfid=0badc0de-0000-4000-8000-000000000001;Path=/")
            .header("Set-Cookie", "cftoken=0;Path=/")
            .header("Set-Cookie", "theme=dark;Path=/")
    });
    let edge = Edge::start(&origin.url(), &[]);
    let c = Client::new();
    let mut ids = Vec::new();
    for _ in 0..10 {
        let r = c.get(&edge.url("/"));
        assert!(r.set_cookie("theme").is_some(), "the origin's other cookies are kept");
        ids.push(origin.last_id());
    }
    assert!(ids.iter().all(|i| *i == ids[0]), "the edge session changed: {ids:?}");
    edge.wait_for_log("the origin sets its own CFID/CFTOKEN cookies");
    assert_eq!(edge.log().matches("the origin sets its own CFID/CFTOKEN cookies").count(), 1, "one line per isolate");
}
