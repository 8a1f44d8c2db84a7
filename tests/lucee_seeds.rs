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
//!
//! The same pages also run in edge mode with the CFML drop-in (`kits/cfml/EdgeApplication.cfc`):
//! their `Application.cfc` in `tests/apps/lucee-edge/seeds/` differs from the original in two
//! lines (checked here, and shown in `docs/cfml.md`); they run on the drop-in's Lucee cluster
//! (`tests/common/lucee_cluster.rs`), on its server `a`.

mod common;

use std::time::{Duration, Instant};

use common::{
    edge::repo_root,
    lucee::Lucee,
    lucee_cluster::{Cluster, SEEDS},
    wait::until,
    Client, Edge, Resp,
};

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

/// Edge mode: an edge in front of the drop-in's server `a`, end events to the application.
fn edge_mode(app: &str, vars: &[(&str, &str)]) -> Edge {
    let end = format!("/seeds/{app}/index.cfm");
    let mut all = vec![("SESSION_END_URL", end.as_str())];
    all.extend_from_slice(vars);
    Edge::start(&Cluster::shared().servers[0].url(""), &all)
}

fn edge_ended(app: &str, cfid: &str) -> bool {
    Cluster::shared().lines(&format!("seed-{app}/ended.log")).iter().any(|l| l == cfid)
}

fn edge_temp_file(app: &str, cfid: &str) -> bool {
    Cluster::shared().app_dir.join(format!("seed-{app}/temp/{cfid}.tmp")).exists()
}

/// The edge-mode Application.cfc of each source document's application is the original with
/// two lines changed: `component extends="EdgeApplication" {` and `edgeSession();` at the end.
#[test]
fn edge_mode_changes_two_lines_of_each_application_cfc() {
    let root = repo_root().join("tests/apps");
    for app in SEEDS {
        let read = |dir: &str| {
            std::fs::read_to_string(root.join(dir).join("seeds").join(app).join("Application.cfc")).unwrap()
        };
        let (guard, edge) = (read("lucee"), read("lucee-edge"));
        let expected = guard.replacen("\ncomponent {\n", "\ncomponent extends=\"EdgeApplication\" {\n", 1);
        let expected = format!(
            "{}\n\n    edgeSession();\n}}\n",
            expected.trim_end().strip_suffix('}').unwrap().trim_end_matches('\n')
        );
        assert_eq!(edge, expected, "{app}: the edge-mode Application.cfc differs in more than the two lines");
    }
    // docs/cfml.md shows this diff.
    let doc = std::fs::read_to_string(repo_root().join("docs/cfml.md")).unwrap();
    for line in ["-component {", "+component extends=\"EdgeApplication\" {", "+    edgeSession();"] {
        assert!(doc.lines().any(|l| l == line), "docs/cfml.md's diff lacks {line:?}");
    }
}

/// 001 in edge mode: `?killSession` is the edge's kill (the hack's own code never runs): the
/// session ends at once, onSessionEnd deletes the temp file (through the end hook), and the
/// old cookies find nothing.
#[test]
fn the_kill_session_hack_in_edge_mode() {
    let page = "/seeds/hack/index.cfm";
    let edge = edge_mode("hack", &[]);
    let c = Client::new();
    let (cfid, hits) = answer(&c.get(&edge.url(page)));
    assert_eq!((cfid.as_str(), hits), (c.jar.get("CFID").unwrap().as_str(), 1), "session.cfid is the edge's CFID");
    assert!(edge_temp_file("hack", &cfid), "onSessionStart wrote no temp file");
    assert_eq!(answer(&c.get(&edge.url(page))), (cfid.clone(), 2));
    let old = c.jar.header().unwrap();
    let killed_at = Instant::now();
    assert_eq!(c.get(&edge.url(&format!("{page}?killSession"))).status, 302);
    until("onSessionEnd through the end hook", Duration::from_secs(20), Duration::from_millis(100), || {
        (edge_ended("hack", &cfid) && !edge_temp_file("hack", &cfid)).then_some(())
    });
    println!("edge mode: onSessionEnd ran {} ms after the kill", killed_at.elapsed().as_millis());
    let replay = Client::new().send("GET", &edge.url(page), &[("Cookie", &old)], None);
    assert_eq!(answer(&replay).1, 1, "the killed session's cookies found its data");
    assert_ne!(answer(&replay).0, cfid);
}

/// 000 in edge mode: the application's own sessionTimeout (three minutes) is the edge
/// session's idle timeout, and the temp file is gone when it passes (no reaper lag).
#[test]
fn temp_files_are_gone_after_the_applications_timeout_in_edge_mode() {
    let edge = edge_mode("hack", &[]);
    let c = Client::new();
    let (cfid, _) = answer(&c.get(&edge.url("/seeds/hack/index.cfm")));
    answer(&c.get(&edge.url("/seeds/hack/index.cfm")));
    let idle_since = Instant::now();
    assert_eq!(edge.inspect(&cfid).unwrap()["idle_timeout_s"], 180, "this.sessionTimeout did not reach the edge");
    until(
        "the application's timeout running onSessionEnd",
        Duration::from_secs(260),
        Duration::from_millis(500),
        || (edge_ended("hack", &cfid) && !edge_temp_file("hack", &cfid)).then_some(()),
    );
    let after = idle_since.elapsed().as_secs();
    println!("edge mode: the temp file was gone {after} s after the last request (sessionTimeout 180 s)");
    assert!(after >= 179, "the session ended before its timeout ({after} s)");
}

/// 003 in edge mode: the backport runs unchanged (its hand-made onSessionEnd call reaches the
/// application's handler, and structClear(session) empties the edge session's data), and, as
/// on Lucee alone, the session lives on; the edge's kill then ends it, with onSessionEnd.
#[test]
fn the_invalidate_backport_in_edge_mode() {
    let page = "/seeds/backport/index.cfm";
    let edge = edge_mode("backport", &[]);
    let c = Client::new();
    let (cfid, _) = answer(&c.get(&edge.url(page)));
    answer(&c.get(&edge.url(page)));
    let r = c.get(&edge.url(&format!("{page}?invalidate")));
    assert_eq!(answer(&r).1, 1, "emptied");
    assert!(
        edge_ended("backport", &cfid) && !edge_temp_file("backport", &cfid),
        "the backport's onSessionEnd did not run"
    );
    assert_eq!(c.jar.get("CFID").unwrap(), cfid, "the session lives on, as on Lucee alone");
    assert_eq!(answer(&c.get(&edge.url(page))).1, 2);
    assert_eq!(c.get(&edge.url(&format!("{page}?killSession"))).status, 302);
    until("onSessionEnd for the edge's kill", Duration::from_secs(20), Duration::from_millis(100), || {
        let ends = Cluster::shared().lines("seed-backport/ended.log").iter().filter(|l| **l == cfid).count();
        (ends == 2).then_some(())
    });
    assert!(edge.inspect(&cfid).is_none());
}

/// 004 in edge mode: applicationStop() restarts the application scope; the session (at the
/// edge) is untouched.
#[test]
fn an_application_restart_leaves_edge_sessions_as_they_were() {
    let page = "/seeds/restart/index.cfm";
    let edge = edge_mode("restart", &[]);
    let starts = |r: &Resp| r.text().split_whitespace().nth(2).and_then(|s| s.parse::<u32>().ok()).unwrap();
    let c = Client::new();
    let (cfid, _) = answer(&c.get(&edge.url(page)));
    answer(&c.get(&edge.url(page)));
    let before = starts(&c.get(&edge.url(page)));
    assert_eq!(c.get(&edge.url(&format!("{page}?stop"))).text().trim(), "stopped");
    let r = c.get(&edge.url(page));
    assert_eq!(answer(&r), (cfid, 4), "the session changed");
    assert!(starts(&r) > before, "the application did not restart");
}
