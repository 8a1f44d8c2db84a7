//! The source documents' own CFML problems, in small applications written in their style
//! (`tests/apps/lucee/seeds/`), on a real Lucee 7: each test shows the behaviour on Lucee alone
//! and behind the edge in guard mode, side by side. The results are the table in
//! `docs/guard-mode.md` ("The source documents' code, on Lucee and behind the edge"); each test
//! prints its measured times.
//! - 000 (per-session temp images deleted in `onSessionEnd`) and 001 (ending a session with
//!   `?killSession`: a one-second `sessionTimeout`, `CFID`/`CFTOKEN`/`CFMAGIC` expired by hand,
//!   a redirect): `seeds/hack/`;
//! - 003 (`SessionInvalidate()` backported by calling `onSessionEnd` by hand): `seeds/backport/`;
//! - 004 (application and session timeouts are independent; `applicationStop()`):
//!   `seeds/restart/`.

mod common;

use std::time::{Duration, Instant};

use common::{lucee::Lucee, wait::until, Client, Edge, Resp};

const BINDING: &str = "CFGUARD";

fn guard_edge(app: &str) -> Edge {
    let kill = format!("/seeds/{app}/kill.cfm");
    Edge::start(&Lucee::shared().url(""), &[("SESSION_MODE", "guard"), ("ORIGIN_KILL_URL", kill.as_str())])
}

/// The first two words of a page's answer: `(cfid, hits)`.
fn answer(r: &Resp) -> (String, u32) {
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let mut words = text.split_whitespace();
    let key = words.next().unwrap_or_default().to_owned();
    (key, words.next().and_then(|h| h.parse().ok()).unwrap_or_else(|| panic!("{text}")))
}

fn ended(app: &str, cfid: &str) -> bool {
    Lucee::shared().lines(&format!("seed-{app}/ended.log")).iter().any(|l| l == cfid)
}

fn temp_file(app: &str, cfid: &str) -> bool {
    Lucee::shared().app_dir.join(format!("seed-{app}/temp/{cfid}.tmp")).exists()
}

/// 001's kill hack alone leaves the session alive past its own kill and its temp file until
/// Lucee's session reaper runs; the edge's kill ends it at once, with onSessionEnd.
#[test]
fn the_kill_session_hack_against_the_edges_kill() {
    let lucee = Lucee::shared();
    let page = "/seeds/hack/index.cfm";
    // Lucee alone. The browser's cookies are gone, but the session is not: its old cookies,
    // sent at once (a second tab, a stolen copy), still find it and its data, and so extend
    // it by another sessionTimeout.
    let c = Client::new();
    let (cfid, _) = answer(&c.get(&lucee.url(page)));
    answer(&c.get(&lucee.url(page)));
    let old = c.jar.header().unwrap();
    assert_eq!(c.get(&lucee.url(&format!("{page}?killSession"))).status, 302, "the hack redirects");
    let replay = Client::new().send("GET", &lucee.url(page), &[("Cookie", &old)], None);
    assert_eq!(answer(&replay), (cfid.clone(), 3), "the hack's kill ended the session at once");
    // Left alone, the session ends when Lucee's reaper next runs, not at the kill.
    let c = Client::new();
    let (cfid, _) = answer(&c.get(&lucee.url(page)));
    let killed_at = Instant::now();
    assert_eq!(c.get(&lucee.url(&format!("{page}?killSession"))).status, 302);
    assert!(temp_file("hack", &cfid) && !ended("hack", &cfid), "onSessionEnd ran at the kill");
    until("Lucee's reaper running onSessionEnd", Duration::from_secs(240), Duration::from_millis(500), || {
        ended("hack", &cfid).then_some(())
    });
    println!("Lucee alone: onSessionEnd ran {} s after the hack's kill", killed_at.elapsed().as_secs());
    // Behind the edge.
    let edge = guard_edge("hack");
    let c = Client::new();
    let (cfid, _) = answer(&c.get(&edge.url(page)));
    answer(&c.get(&edge.url(page)));
    let old = c.jar.header().unwrap();
    assert!(old.contains(BINDING));
    let killed_at = Instant::now();
    assert_eq!(c.get(&edge.url(&format!("{page}?killSession"))).status, 302);
    until("onSessionEnd through ORIGIN_KILL_URL", Duration::from_secs(20), Duration::from_millis(100), || {
        (ended("hack", &cfid) && !temp_file("hack", &cfid)).then_some(())
    });
    println!("behind the edge: onSessionEnd ran {} ms after the kill", killed_at.elapsed().as_millis());
    let replay = Client::new().send("GET", &edge.url(page), &[("Cookie", &old)], None);
    assert_ne!(answer(&replay).0, cfid, "the killed session's cookies reached Lucee");
}

/// 000: behind the edge, the temp file is gone right after the edge's idle timeout; on Lucee
/// alone it stays as long as Lucee's own session (three minutes in this application).
#[test]
fn temp_files_are_gone_after_an_edge_timeout() {
    let lucee = Lucee::shared();
    let page = "/seeds/hack/index.cfm";
    let alone = Client::new();
    let (alone_cfid, _) = answer(&alone.get(&lucee.url(page)));
    let edge = Edge::start(
        &lucee.url(""),
        &[("SESSION_MODE", "guard"), ("ORIGIN_KILL_URL", "/seeds/hack/kill.cfm"), ("SESSION_TIMEOUT", "3")],
    );
    let c = Client::new();
    let (cfid, _) = answer(&c.get(&edge.url(page)));
    answer(&c.get(&edge.url(page)));
    let started = Instant::now();
    until("the edge's timeout running onSessionEnd", Duration::from_secs(40), Duration::from_millis(200), || {
        (ended("hack", &cfid) && !temp_file("hack", &cfid)).then_some(())
    });
    println!("behind the edge: the temp file was gone {} s after the last request", started.elapsed().as_secs());
    assert!(temp_file("hack", &alone_cfid), "Lucee alone: the idle session's temp file was already gone");
}

/// 003's backport alone calls onSessionEnd but the session lives on (same id, emptied, and
/// Lucee will end it again later); the edge's kill ends it for real, once.
#[test]
fn the_invalidate_backport_against_the_edges_kill() {
    let lucee = Lucee::shared();
    let page = "/seeds/backport/index.cfm";
    let c = Client::new();
    let (cfid, _) = answer(&c.get(&lucee.url(page)));
    answer(&c.get(&lucee.url(page)));
    let (after, hits) = answer(&c.get(&lucee.url(&format!("{page}?invalidate"))));
    assert!(ended("backport", &cfid), "the backport did not run onSessionEnd");
    assert_eq!((after.as_str(), hits), (cfid.as_str(), 1), "emptied, but the same session");
    assert_eq!(answer(&c.get(&lucee.url(page))), (cfid.clone(), 2), "Lucee alone: the session lives on");
    // Behind the edge.
    let edge = guard_edge("backport");
    let c = Client::new();
    let (cfid, _) = answer(&c.get(&edge.url(page)));
    answer(&c.get(&edge.url(page)));
    let old = c.jar.header().unwrap();
    assert_eq!(c.get(&edge.url(&format!("{page}?killSession"))).status, 302);
    until("onSessionEnd through ORIGIN_KILL_URL", Duration::from_secs(20), Duration::from_millis(100), || {
        (ended("backport", &cfid) && !temp_file("backport", &cfid)).then_some(())
    });
    assert_ne!(answer(&c.get(&edge.url(page))).0, cfid, "the browser is in a new session");
    let replay = Client::new().send("GET", &edge.url(page), &[("Cookie", &old)], None);
    assert_ne!(answer(&replay).0, cfid, "the ended session's cookies reached Lucee");
    let ends = Lucee::shared().lines("seed-backport/ended.log").iter().filter(|l| **l == cfid).count();
    assert_eq!(ends, 1, "onSessionEnd ran once");
}

/// 004: applicationStop() restarts the application scope and leaves sessions as they were, on
/// Lucee alone and behind the edge (the guarded session and its binding carry on).
#[test]
fn an_application_restart_leaves_guarded_sessions_as_they_were() {
    let lucee = Lucee::shared();
    let page = "/seeds/restart/index.cfm";
    let starts = |r: &Resp| r.text().split_whitespace().nth(2).and_then(|s| s.parse::<u32>().ok()).unwrap();
    for through_edge in [false, true] {
        let edge = through_edge.then(|| guard_edge("restart"));
        let url = |p: &str| edge.as_ref().map_or_else(|| lucee.url(p), |e| e.url(p));
        let c = Client::new();
        let first = c.get(&url(page));
        let (cfid, _) = answer(&first);
        answer(&c.get(&url(page)));
        let before = starts(&c.get(&url(page)));
        assert_eq!(c.get(&url(&format!("{page}?stop"))).text().trim(), "stopped");
        let r = c.get(&url(page));
        assert_eq!(answer(&r), (cfid.clone(), 5 - 1), "edge: {through_edge}: the session changed");
        assert!(starts(&r) > before, "edge: {through_edge}: the application did not restart");
        if through_edge {
            assert!(c.jar.get(BINDING).is_some());
        }
    }
}
