//! Paths without a session (`SESSION_BYPASS`) through the real Worker: static assets go
//! straight to the origin — no session object, no session headers, no cookies set — with the
//! session's cookies still removed, in both modes.

mod common;

use std::time::Duration;

use common::{
    cf_origin::{CfOrigin, Engine},
    stored_session, Client, Edge, Origin, Reply,
};

#[test]
fn static_assets_have_no_session_and_store_nothing() {
    let origin = Origin::start(|r| match r.url.as_str() {
        "/app.css" => Reply::ok("body{}").header("Set-Cookie", "CFID=1;Path=/").header("X-Session-Set", r#"{"x":1}"#),
        _ => Reply::ok("ok"),
    });
    let edge = Edge::start(&origin.url(), &[("SESSION_DEFER", "false"), ("SESSION_HITS", "true")]);
    // Cookieless clients asking for assets: nothing is stored, nothing is set.
    for _ in 0..20 {
        let r = Client::new().get(&edge.url("/app.css"));
        assert_eq!((r.status, r.text().as_str()), (200, "body{}"));
        assert!(r.all("set-cookie").is_empty(), "{:?}", r.all("set-cookie"));
        assert!(origin.last().headers_with_prefix("x-session-").is_empty());
    }
    assert_eq!(edge.stored_objects(), 0, "asset requests stored sessions");
    // A browser with a session: its assets neither count nor carry it.
    let (c, id) = stored_session(&edge, &origin);
    let hits = edge.inspect(&id).unwrap()["hits"].clone();
    for path in ["/app.css", "/img/logo.PNG", "/fonts/a.woff2?v=3"] {
        let r = c.get(&edge.url(path));
        assert_eq!(r.status, 200, "{path}");
        let got = origin.last();
        assert!(got.headers_with_prefix("x-session-").is_empty(), "{path}: session headers sent");
        let cookie = got.header("cookie").unwrap_or("");
        assert!(!cookie.contains("CFID") && !cookie.contains("CFTOKEN"), "{path}: {cookie}");
    }
    assert_eq!(edge.inspect(&id).unwrap()["hits"], hits, "asset requests were counted");
    assert_eq!(edge.inspect(&id).unwrap()["data"], serde_json::json!({}), "an asset's X-Session-Set applied");
    c.get(&edge.url("/page.cfm"));
    assert_eq!(origin.last_id(), id, "the session survived its assets");
}

#[test]
fn the_list_is_configurable_and_can_be_turned_off() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_BYPASS", "/static/, .txt")]);
    Client::new().get(&edge.url("/static/page.cfm"));
    assert!(origin.last().header("x-session-id").is_none());
    Client::new().get(&edge.url("/robots.txt"));
    assert!(origin.last().header("x-session-id").is_none());
    Client::new().get(&edge.url("/app.css"));
    assert!(origin.last().header("x-session-id").is_some(), "an explicit list replaces the default");
    let off = Edge::start(&origin.url(), &[("SESSION_BYPASS", "off")]);
    Client::new().get(&off.url("/app.css"));
    assert!(origin.last().header("x-session-id").is_some());
}

#[test]
fn in_guard_mode_assets_cannot_touch_the_applications_session() {
    let o = CfOrigin::start(Engine::Acf, Duration::from_secs(3600));
    let edge = Edge::start(&o.url(), &[("SESSION_MODE", "guard")]);
    let c = Client::new();
    c.get(&edge.url("/"));
    c.get(&edge.url("/"));
    let id = o.last_seen();
    let (cfid, cftoken) = (c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap());
    // The asset request reaches the application without its session cookies, so the
    // application (ColdFusion, here) answers with a new pair: the edge keeps it from the browser.
    let r = c.get(&edge.url("/styles/site.css"));
    assert_eq!(r.status, 200);
    assert!(r.set_cookie("CFID").is_none() && r.set_cookie("CFTOKEN").is_none(), "{:?}", r.all("set-cookie"));
    assert_eq!((c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap()), (cfid, cftoken));
    c.get(&edge.url("/"));
    assert_eq!(o.last_seen(), id, "an asset request cost the browser its session");
}
