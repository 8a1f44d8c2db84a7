//! Real Chromium (Debian's, driven by playwright-core) against the demo site through the edge.

mod common;

use common::{
    browser::{artifact, run_script, DemoOrigin},
    edge::TEST_ADMIN_TOKEN,
    Client, Edge, Origin,
};

#[test]
fn end_session_in_a_real_browser() {
    let origin = DemoOrigin::start();
    let edge = Edge::start(&origin.url(), &[("SESSION_HITS", "true")]);
    let shot = artifact("end-session.png");
    let facts = run_script("end_session.mjs", &[&edge.url(""), shot.to_str().unwrap()]);
    let step =
        |name: &str| facts.iter().find(|f| f["step"] == name).unwrap_or_else(|| panic!("no {name}: {facts:?}")).clone();
    let (before, after) = (step("before"), step("after"));

    let old_cfid = before["cfid"].as_str().unwrap().to_owned();
    assert_eq!(old_cfid.len(), 32, "the page shows the session id: {before}");
    let hits_before: u64 = before["hits"].as_str().unwrap().parse().unwrap();
    assert!(hits_before >= 2, "the reload is the session's second hit at least: {before}");
    assert_eq!(before["cookies"]["CFID"], old_cfid.as_str(), "the browser holds the CFID cookie");
    assert_eq!(before["cookies"]["CFTOKEN"].as_str().map(str::len), Some(54));

    let redirects = after["redirects"].as_array().unwrap();
    assert_eq!(redirects.len(), 1, "{redirects:?}");
    assert_eq!(redirects[0]["status"], 302);
    assert_eq!(redirects[0]["location"], "/");
    assert!(!after["url"].as_str().unwrap().to_lowercase().contains("killsession"));

    let new_cfid = after["cfid"].as_str().unwrap();
    assert_ne!(new_cfid, old_cfid, "the page still shows the old session");
    assert_eq!(after["hits"], "1", "the page after the redirect shows a new session with one hit");
    assert_eq!(after["cookies"]["CFID"], new_cfid, "the browser's CFID changed");
    assert_ne!(after["cookies"]["CFTOKEN"], before["cookies"]["CFTOKEN"], "the browser's CFTOKEN changed");
    assert_eq!(edge.inspect(&old_cfid), None, "the old session is still live server-side");
    assert!(shot.exists());
}

#[test]
fn the_dashboard_lists_sorts_and_kills_sessions() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("SESSION_HITS", "true")]);
    let mut clients = Vec::new();
    for (i, user) in ["alice", "bob", "carol"].iter().enumerate() {
        let c = Client::new();
        c.get(&edge.url(&format!("/user?id={user}")));
        for _ in 0..=i {
            c.get(&edge.url("/"));
        }
        clients.push((c, origin.last().header("x-session-id").unwrap().to_owned()));
    }
    let (victim, victim_id) = &clients[1];
    let shot = artifact("dashboard.png");
    let facts = run_script(
        "dashboard.mjs",
        &[&edge.url("/__session/admin/"), TEST_ADMIN_TOKEN, victim_id, shot.to_str().unwrap()],
    );
    let step =
        |name: &str| facts.iter().find(|f| f["step"] == name).unwrap_or_else(|| panic!("no {name}: {facts:?}")).clone();
    let listed = step("listed");
    let rows = listed["rows"].as_array().unwrap();
    for (_, id) in &clients {
        let row = rows.iter().find(|r| r["cfid"] == id.as_str()).unwrap_or_else(|| panic!("{id} not listed: {rows:?}"));
        assert_eq!(row["cells"].as_array().unwrap().len(), 7);
    }
    assert!(rows.iter().any(|r| r["cells"][1] == "bob"), "the user column shows the tag");
    assert_eq!(listed["total"], "3");
    assert_eq!(listed["tokenInSessionStorage"], true);
    assert_eq!(listed["app"], "cfsession-edge");
    let sorted = step("sorted");
    let desc: Vec<u64> = sorted["desc"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    let asc: Vec<u64> = sorted["asc"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert!(desc.windows(2).all(|w| w[0] >= w[1]), "{desc:?}");
    assert!(asc.windows(2).all(|w| w[0] <= w[1]), "{asc:?}");
    let killed = step("killed");
    assert!(killed["ended"].as_str().unwrap().contains(&format!("ENDED: {victim_id} (admin)")));
    assert_eq!(killed["errors"], serde_json::json!([]), "the page logged errors");
    victim.get(&edge.url("/"));
    assert_ne!(origin.last().header("x-session-id"), Some(victim_id.as_str()), "the killed client kept its session");
    assert_eq!(origin.last().header("x-session-new"), Some("true"));
    let (other, other_id) = &clients[0];
    other.get(&edge.url("/"));
    assert_eq!(origin.last().header("x-session-id"), Some(other_id.as_str()));
    assert!(shot.exists());
}

#[test]
fn the_guard_mode_demo_ends_the_applications_own_session() {
    let origin = DemoOrigin::start_guard();
    let edge = Edge::start(&origin.url(), &[("SESSION_MODE", "guard"), ("ORIGIN_KILL_URL", "/kill-session")]);
    let shot = artifact("guard-demo.png");
    let facts = run_script("guard_demo.mjs", &[&edge.url(""), TEST_ADMIN_TOKEN, shot.to_str().unwrap()]);
    let step =
        |name: &str| facts.iter().find(|f| f["step"] == name).unwrap_or_else(|| panic!("no {name}: {facts:?}")).clone();
    let (before, after, dashboard) = (step("before"), step("after"), step("dashboard"));
    let old = before["cfid"].as_str().unwrap();
    assert_eq!(before["hits"], "2", "the application kept its own session across the reload: {before}");
    assert_eq!(before["cookies"], serde_json::json!(["CFGUARD", "CFID", "CFTOKEN"]), "{before}");
    // End Session: the application's own session is new, and its onSessionEnd ran.
    assert_ne!(after["cfid"], old, "the application session survived End Session");
    assert_eq!(after["hits"], "1");
    let log = after["log"].as_str().unwrap();
    assert!(log.contains(&format!("onSessionEnd: {old} (killed at the edge: killed)")), "{log}");
    // The dashboard listed the guarded session, and its kill gave the application a new one.
    assert_eq!(dashboard["rows"].as_array().unwrap().len(), 1, "{dashboard}");
    assert_ne!(dashboard["after"]["cfid"], dashboard["before"], "the dashboard's kill left the session: {dashboard}");
    assert_eq!(dashboard["after"]["hits"], "1");
    assert_eq!(dashboard["errors"], serde_json::json!([]));
    assert!(shot.exists());
}
