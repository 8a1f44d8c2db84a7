//! Real Chromium (Debian's, driven by playwright-core) against the demo site through the edge.

mod common;

use std::time::Duration;

use common::{
    browser::{artifact, run_script, DemoOrigin},
    edge::TEST_ADMIN_TOKEN,
    lucee::Lucee,
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
    let (wide, narrow) = (artifact("dashboard.png"), artifact("dashboard-narrow.png"));
    let facts = run_script(
        "dashboard.mjs",
        &[
            &edge.url("/__session/admin/"),
            TEST_ADMIN_TOKEN,
            victim_id,
            wide.to_str().unwrap(),
            narrow.to_str().unwrap(),
        ],
    );
    let step =
        |name: &str| facts.iter().find(|f| f["step"] == name).unwrap_or_else(|| panic!("no {name}: {facts:?}")).clone();
    let login = step("login");
    assert_eq!(
        (login["appBarVisible"].as_bool(), login["dashboardVisible"].as_bool()),
        (Some(false), Some(false)),
        "{login}"
    );
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
    let narrow_layout = step("narrow");
    let overflow = &narrow_layout["overflow"];
    assert!(overflow["page"].as_f64().unwrap() <= 420.0 && overflow["widest"].as_f64().unwrap() <= 420.0, "{overflow}");
    let killed = step("killed");
    assert!(killed["ended"].as_str().unwrap().contains(&format!("ENDED: {victim_id} (admin)")));
    assert_eq!(killed["errors"], serde_json::json!([]), "the page logged errors");
    assert_eq!(killed["reached"], true, "Tab never reached the session's CFID");
    assert_eq!(killed["opened"], victim_id.as_str(), "Enter on the CFID did not open its detail");
    assert_eq!(killed["killFocused"], true, "Tab from the CFID did not reach its Kill button");
    let dialogs = killed["dialogs"].as_array().unwrap();
    assert!(dialogs.len() == 1 && dialogs[0].as_str().unwrap().contains(victim_id.as_str()), "{dialogs:?}");
    assert_eq!(killed["detailAfterKill"], false, "the killed session's detail stayed open");
    victim.get(&edge.url("/"));
    assert_ne!(origin.last().header("x-session-id"), Some(victim_id.as_str()), "the killed client kept its session");
    assert_eq!(origin.last().header("x-session-new"), Some("true"));
    let (other, other_id) = &clients[0];
    other.get(&edge.url("/"));
    assert_eq!(origin.last().header("x-session-id"), Some(other_id.as_str()));
    assert!(wide.exists() && narrow.exists());
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
    let detail = &dashboard["detail"];
    assert_eq!(detail["mode"], "guard");
    assert_eq!((detail["dataShown"].as_bool(), detail["guardedNote"].as_bool()), (Some(false), Some(true)), "{detail}");
    assert_eq!(dashboard["dialogs"].as_array().unwrap().len(), 1, "the kill asked no confirmation: {dashboard}");
    assert_eq!(dashboard["detailAfterKill"], false, "the killed session's detail stayed open");
    assert!(shot.exists());
}

/// `scripts/dev --lucee`'s demo (`www/lucee`) on a real Lucee 7, in guard mode, in Chromium:
/// End Session runs Lucee's own onSessionEnd (its temp file deleted), and the dashboard's kill
/// gives Lucee a new session.
#[test]
fn the_lucee_demo_ends_lucees_own_session() {
    let lucee = Lucee::shared();
    let edge = Edge::start(&lucee.url("/demo"), &[("SESSION_MODE", "guard"), ("ORIGIN_KILL_URL", "/demo/kill.cfm")]);
    let shot = artifact("lucee-demo.png");
    let facts = run_script("guard_demo.mjs", &[&edge.url(""), TEST_ADMIN_TOKEN, shot.to_str().unwrap()]);
    let step =
        |name: &str| facts.iter().find(|f| f["step"] == name).unwrap_or_else(|| panic!("no {name}: {facts:?}")).clone();
    let (before, after, dashboard) = (step("before"), step("after"), step("dashboard"));
    let old = before["cfid"].as_str().unwrap();
    assert_eq!(before["hits"], "2", "Lucee kept its own session across the reload: {before}");
    assert_eq!(before["cookies"], serde_json::json!(["CFGUARD", "cfid", "cftoken"]), "{before}");
    assert_ne!(after["cfid"], old, "Lucee's session survived End Session");
    assert_eq!(after["hits"], "1");
    let log = after["log"].as_str().unwrap();
    assert!(log.contains(&format!("onSessionEnd: {old} (temp file deleted)")), "{log}");
    assert!(!lucee.app_dir.join(format!("demo/temp/{old}.tmp")).exists(), "the temp file outlived the session");
    assert_eq!(dashboard["rows"].as_array().unwrap().len(), 1, "{dashboard}");
    assert_ne!(dashboard["after"]["cfid"], dashboard["before"], "the dashboard's kill left the session: {dashboard}");
    assert_eq!(dashboard["after"]["hits"], "1");
    assert_eq!(dashboard["errors"], serde_json::json!([]));
    let detail = &dashboard["detail"];
    assert_eq!(detail["mode"], "guard");
    assert_eq!((detail["dataShown"].as_bool(), detail["guardedNote"].as_bool()), (Some(false), Some(true)), "{detail}");
    assert_eq!(dashboard["dialogs"].as_array().unwrap().len(), 1, "the kill asked no confirmation: {dashboard}");
    assert_eq!(dashboard["detailAfterKill"], false, "the killed session's detail stayed open");
    assert!(shot.exists());
}

#[test]
fn the_dashboard_charts_history_opens_a_session_filters_and_exports_csv() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("SESSION_HITS", "true")]);
    // Traffic: four sessions start, one is killed, one invalidated; two stay (one is tom's).
    let mut ids = Vec::new();
    for _ in 0..4 {
        let c = Client::new();
        c.get(&edge.url("/"));
        c.get(&edge.url("/set?color=blue"));
        ids.push((c, origin.last().header("x-session-id").unwrap().to_owned()));
    }
    ids[0].0.get(&edge.url("/?killSession"));
    ids[1].0.get(&edge.url("/action?a=invalidate"));
    let (tom, _) = &ids[2];
    tom.get(&edge.url("/user?id=tom"));
    tom.get(&edge.url("/"));
    let tom_id = origin.last().header("x-session-id").unwrap().to_owned();
    let shot = artifact("dashboard-history.png");
    let facts = run_script(
        "dashboard_history.mjs",
        &[&edge.url("/__session/admin/"), TEST_ADMIN_TOKEN, &tom_id, "tom", shot.to_str().unwrap()],
    );
    let step =
        |name: &str| facts.iter().find(|f| f["step"] == name).unwrap_or_else(|| panic!("no {name}: {facts:?}")).clone();
    let charts = step("charts");
    let flow = charts["charts"]["chart-flow"].as_array().unwrap();
    let series: Vec<&str> = flow.iter().map(|s| s["series"].as_str().unwrap()).collect();
    assert!(
        series.contains(&"starts") && series.contains(&"ended: killed") && series.contains(&"ended: invalidated"),
        "{series:?}"
    );
    assert!(flow.iter().all(|s| s["points"] == 60), "one point per minute of the last hour: {flow:?}");
    let legend = charts["flowLegend"].as_str().unwrap();
    assert!(
        legend.contains("starts (4)")
            && legend.contains("ended: killed (1)")
            && legend.contains("ended: invalidated (1)"),
        "{legend}"
    );
    let live = &charts["charts"]["chart-live"][0];
    assert_eq!(live["series"], "live");
    assert!(live["maxY"].as_f64().unwrap() < 100.0, "the live line rises above zero: {live}");
    assert!(charts["totals"].as_str().unwrap().contains("4 started, 2 ended, 1 kill request,"), "{}", charts["totals"]);

    let detail = step("detail");
    assert_eq!(detail["cfid"], tom_id.as_str());
    assert_eq!((detail["user"].as_str(), detail["timeout"].as_str()), (Some("tom"), Some("1200 s")));
    assert!(detail["hits"].as_str().unwrap().parse::<u64>().unwrap() >= 3);
    assert!(detail["writes"].as_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(detail["data"].as_str().unwrap().contains("\"color\": \"blue\""));

    let filtered = step("filtered");
    assert_eq!(filtered["users"], serde_json::json!(["tom"]));
    assert_eq!(filtered["filename"], "sessions-tom.csv");
    let csv = filtered["csv"].as_str().unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines[0], "cfid,user,created,last_access,expires_at,hits");
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with(&format!("{tom_id},tom,")));
    assert_eq!(filtered["errors"], serde_json::json!([]), "the page logged errors");
    assert!(shot.exists());
}

/// The demo's per-session temp files are paired by the session, not its CFID: a login rotates
/// the ids, and the end hook still deletes the file the start hook made. Its pages say what
/// happened at once, and it refuses requests that did not come through the edge.
#[test]
fn the_demo_pairs_temp_files_by_session_across_a_login() {
    let origin = DemoOrigin::start();
    let edge = Edge::start(
        &origin.url(),
        &[("SESSION_START_URL", "/hooks/session-start"), ("SESSION_END_URL", "/hooks/session-end")],
    );
    let live = |page: &str| {
        const MARK: &str = "<strong id=\"temp-files\">";
        let at = page.find(MARK).expect("the temp-file count") + MARK.len();
        page[at..].split('<').next().unwrap().to_owned()
    };
    let c = Client::new();
    let first = c.get(&edge.url("/")).text();
    assert!(!first.contains("not live"), "the first page reads as an error: {first}");
    c.get(&edge.url("/"));
    common::wait::until("the start hook's temp file", Duration::from_secs(20), Duration::from_millis(100), || {
        (live(&c.get(&edge.url("/")).text()) == "1").then_some(())
    });
    let before_login = c.jar.get("CFID").unwrap();
    let r = c.get(&edge.url("/?login=demo-user"));
    assert_eq!(r.status, 303, "{}", r.text());
    let page = c.get(&edge.url("/")).text();
    assert!(page.contains("Logged in as <strong id=\"user\">demo-user</strong>"), "the login is not shown: {page}");
    assert_ne!(c.jar.get("CFID").unwrap(), before_login, "a login rotates the ids");
    assert_eq!(c.get(&edge.url("/?killSession")).status, 302);
    let ended = common::wait::until("the end hook", Duration::from_secs(20), Duration::from_millis(100), || {
        let page = Client::new().get(&edge.url("/")).text();
        page.contains("(killed)").then_some(page)
    });
    assert_eq!(live(&ended), "0", "the file outlived its session\n{ended}");
    // Not through the edge: a page that says so, not the site.
    let direct = Client::new().get(&origin.url());
    assert_eq!(direct.status, 403);
    assert!(direct.text().contains("did not come through the edge"), "{}", direct.text());
}

#[test]
fn the_demo_page_shows_your_sessions_and_ends_the_others() {
    let origin = DemoOrigin::start();
    let edge = Edge::start(&origin.url(), &[]);
    let (a, b) = (Client::new(), Client::new());
    for c in [&a, &b] {
        c.get(&edge.url("/"));
        c.get(&edge.url("/?login=demo-user"));
    }
    let (a_id, b_id) = (a.jar.get("CFID").unwrap(), b.jar.get("CFID").unwrap());
    let page = a.get(&edge.url("/")).text();
    assert!(page.contains("Logged in as <strong id=\"user\">demo-user</strong>"), "{page}");
    assert!(page.contains(&format!("<code>{a_id}</code> <strong>(this one)</strong>")), "{page}");
    assert!(page.contains(&format!("<code>{b_id}</code>")), "the other device is listed");
    assert!(!page.contains(&a.jar.get("CFTOKEN").unwrap()), "a CFTOKEN on the page");
    let page = a.get(&edge.url("/?end-others=1")).text();
    assert!(page.contains("Ended 1 other session(s)."), "{page}");
    assert!(!page.contains(&format!("<code>{b_id}</code>")));
    assert!(edge.inspect(&b_id).is_none() && edge.inspect(&a_id).is_some());
}
