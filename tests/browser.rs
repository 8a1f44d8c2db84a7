//! Real Chromium (Debian's, driven by playwright-core) against the demo site through the edge.

mod common;

use common::{
    browser::{artifact, run_script, DemoOrigin},
    Edge,
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
