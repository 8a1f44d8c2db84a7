//! The admin API through the real Worker: auth, listing and pagination, kills, log out
//! everywhere, the ended log, the configurable prefix, and no CFTOKEN anywhere.

mod common;

use common::{edge::TEST_ADMIN_TOKEN, Client, Edge, Origin, Resp};
use serde_json::Value;

const API: &str = "/__session/admin/api";

fn json(r: &Resp) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("not JSON: {}", r.text()))
}

/// A client whose session is stored (two requests); returns it and its CFID.
fn session(edge: &Edge, origin: &Origin, path: &str) -> (Client, String) {
    let c = Client::new();
    c.get(&edge.url(path));
    c.get(&edge.url("/"));
    (c, origin.last().header("x-session-id").unwrap().to_owned())
}

#[test]
fn auth_is_required_and_never_taken_from_the_query_string() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let url = edge.url(&format!("{API}/sessions"));
    let c = Client::new();
    for headers in [
        vec![],
        vec![("Authorization", "Bearer wrong-token-wrong-token-wrong-token")],
        vec![("Authorization", "Basic eDp5")],
    ] {
        let r = c.send("GET", &url, &headers, None);
        assert_eq!(r.status, 401, "{headers:?}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        assert!(json(&r)["error"].is_string());
    }
    let auth = format!("Bearer {TEST_ADMIN_TOKEN}");
    let r = c.send("GET", &format!("{url}?token={TEST_ADMIN_TOKEN}"), &[("Authorization", &auth)], None);
    assert_eq!(r.status, 400, "a token in the query string must be refused");
    assert!(json(&r)["error"].as_str().unwrap().contains("query string"));
    assert_eq!(c.send("GET", &url, &[("Authorization", &auth)], None).status, 200);
    assert!(origin.received().is_empty(), "admin paths reached the origin");
}

#[test]
fn without_a_token_the_admin_does_not_exist() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("ADMIN_TOKEN", "")]);
    let auth = format!("Bearer {TEST_ADMIN_TOKEN}");
    for path in ["/__session/admin/", "/__session/admin/api/sessions", "/__session/admin/admin.js"] {
        let r = Client::new().send("GET", &edge.url(path), &[("Authorization", &auth)], None);
        assert_eq!(r.status, 404, "{path}");
        assert!(json(&r)["error"].as_str().unwrap().contains("ADMIN_TOKEN"));
    }
    assert!(origin.received().is_empty());
}

#[test]
fn listing_paginates_over_hundreds_of_sessions() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_DEFER", "false")]);
    let mut created = std::collections::HashSet::new();
    let handles: Vec<_> = (0..5)
        .map(|_| {
            let url = edge.url("/");
            std::thread::spawn(move || {
                (0..52).map(|_| Client::new().get(&url).set_cookie("CFID").unwrap().to_owned()).collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for c in h.join().unwrap() {
            created.insert(c.trim_start_matches("CFID=").split(';').next().unwrap().to_owned());
        }
    }
    assert_eq!(created.len(), 260);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("sessions?limit=100&cursor={c}"),
            None => "sessions?limit=100".into(),
        };
        let page = json(&edge.admin("GET", &path));
        assert_eq!(page["total"], 260);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 100);
        for s in items {
            for field in ["cfid", "created", "last_access", "hits", "expires_at"] {
                assert!(!s[field].is_null(), "{field} missing: {s}");
            }
            seen.push(s["cfid"].as_str().unwrap().to_owned());
        }
        pages += 1;
        match page["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 20, "the cursor never ends");
    }
    let unique: std::collections::HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), 260, "pages overlapped or skipped");
    assert_eq!(unique, created);
    assert!(pages >= 3);
    assert_eq!(edge.admin("GET", "sessions?cursor=garbage").status, 400);
    let swept = json(&edge.admin("POST", "sweep"));
    assert_eq!(
        (swept["checked"].as_u64(), swept["ended"].as_u64()),
        (Some(0), Some(0)),
        "no session is past its deadline"
    );
    assert_eq!(edge.admin("GET", "sessions?limit=0").status, 400);
}

#[test]
fn deleting_a_session_gives_its_client_a_new_one() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("SESSION_END_URL", "/hooks/end")]);
    let (c, id) = session(&edge, &origin, "/");
    let r = edge.admin("DELETE", &format!("sessions/{id}"));
    assert_eq!(r.status, 200);
    assert_eq!(json(&r)["reason"], "admin");
    assert_eq!(edge.admin("GET", &format!("sessions/{id}")).status, 404);
    assert_eq!(edge.admin("DELETE", &format!("sessions/{id}")).status, 404, "a second kill finds nothing");
    c.get(&edge.url("/"));
    assert_ne!(origin.last().header("x-session-id"), Some(id.as_str()));
    common::wait::until(
        "the admin end hook",
        std::time::Duration::from_secs(20),
        std::time::Duration::from_millis(100),
        || {
            origin.received().iter().find(|r| r.url == "/hooks/end").map(|r| {
                let ev: Value = serde_json::from_slice(&r.body).unwrap();
                assert_eq!((ev["cfid"].as_str(), ev["reason"].as_str()), (Some(id.as_str()), Some("admin")));
            })
        },
    );
    let ended = json(&edge.admin("GET", "ended"));
    assert_eq!(ended["items"][0]["cfid"], id.as_str());
    assert_eq!(ended["items"][0]["reason"], "admin");
}

#[test]
fn one_call_logs_a_user_out_everywhere() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[]);
    let mut users = Vec::new();
    for _ in 0..3 {
        users.push(session(&edge, &origin, "/user?id=alice"));
    }
    let (bob, bob_id) = session(&edge, &origin, "/user?id=bob");
    // The third session was tagged a moment ago: it must be found too.
    let r = edge.admin("DELETE", "users/alice/sessions");
    assert_eq!(r.status, 200);
    let ended: Vec<String> =
        json(&r)["ended"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    assert_eq!(ended.len(), 3, "{ended:?}");
    for (c, id) in &users {
        assert!(ended.contains(id));
        c.get(&edge.url("/"));
        let got = origin.last();
        assert_ne!(got.header("x-session-id"), Some(id.as_str()));
        assert_eq!(got.header("x-session-new"), Some("true"));
    }
    bob.get(&edge.url("/"));
    assert_eq!(origin.last().header("x-session-id"), Some(bob_id.as_str()), "another user was logged out");
    assert_eq!(json(&edge.admin("GET", "users/alice/sessions"))["items"].as_array().unwrap().len(), 0);
}

#[test]
fn no_cftoken_anywhere_in_admin_output_or_logs() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("SESSION_END_URL", "/hooks/end"), ("APP_NAME", "tokens-test")]);
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for i in 0..4 {
        let (c, id) = session(&edge, &origin, &format!("/user?id=u{i}"));
        tokens.push(c.jar.get("CFTOKEN").unwrap());
        ids.push(id);
    }
    edge.admin("DELETE", &format!("sessions/{}", ids[0]));
    let mut outputs = vec![
        edge.admin("GET", "sessions?limit=500"),
        edge.admin("GET", &format!("sessions/{}", ids[1])),
        edge.admin("GET", "users/u2/sessions"),
        edge.admin("GET", "ended"),
        edge.admin("POST", "application/stop"),
        edge.admin("GET", "application"),
        Client::new().get(&edge.url("/__session/admin/")),
    ];
    outputs.push(edge.admin("DELETE", "users/u3/sessions"));
    let mut text: String = outputs.iter().map(|r| format!("{:?}{}", r.headers, r.text())).collect();
    text.push_str(&edge.log());
    for t in &tokens {
        assert!(!text.contains(t.as_str()), "a CFTOKEN appeared in admin output or logs");
        let fragment = &t[..20];
        assert!(!text.contains(fragment), "part of a CFTOKEN appeared in admin output or logs");
    }
    assert!(text.contains(&ids[1]), "sanity: the output does show CFIDs");
}

#[test]
fn the_admin_prefix_is_configurable_and_never_forwarded() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("ADMIN_PREFIX", "/ops/sessions/")]);
    let auth = format!("Bearer {TEST_ADMIN_TOKEN}");
    let c = Client::new();
    assert_eq!(c.send("GET", &edge.url("/ops/sessions/api/sessions"), &[("Authorization", &auth)], None).status, 200);
    let page = c.get(&edge.url("/ops/sessions/"));
    assert_eq!(page.status, 200);
    assert!(page.text().contains("admin.js"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert!(page.header("content-security-policy").unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(c.get(&edge.url("/ops/sessions/nothing-here")).status, 404);
    assert!(origin.received().is_empty(), "a path under the admin prefix reached the origin");
    assert_eq!(c.get(&edge.url("/__session/admin/api/sessions")).status, 404, "the old prefix is gone");
    // Outside the prefix, the site is the origin's.
    assert_eq!(c.get(&edge.url("/ops/other")).status, 200);
    assert_eq!(origin.last().url, "/ops/other");
}
