//! Guard mode in front of real applications nobody here wrote, each with its own login,
//! driven as a browser would (a cookie jar that keeps each cookie's `Path`, form logins with
//! their CSRF tokens, redirects followed): Django's admin site (PyPI), DokuWiki (Debian's
//! package, PHP on php-fpm behind nginx, under `/wiki/`, with its remember-me cookie) and
//! Tomcat's examples webapp (Debian's `tomcat10-examples`, FORM login under the context path
//! `/examples`). Their `ORIGIN_KILL_URL` pages are the ones docs/guard-mode.md gives, as written.
//!
//! Each application goes through the same checks twice, alone and behind the edge
//! (`wrangler dev`, `SESSION_MODE=guard`); behind the edge every check must pass, and the test
//! prints the differences between the two (the issue note lists why each remains).

#[path = "real_apps/apps.rs"]
mod apps;
#[path = "real_apps/browser.rs"]
mod browser;
mod common;

use apps::{DjangoAdmin, DokuWiki, LuceeAdmin, RealApp, Running, TomcatExamples};
use browser::Browser;
use cfsession_edge::core::cookie_header::named;
use common::Edge;

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Pass,
    Fail(String),
    /// The check needs the edge (a kill by the edge's path, flag or admin API).
    NotApplicable,
}

/// The checks, in order, with what each found.
type Report = Vec<(&'static str, Outcome)>;

fn check(ok: bool, why: impl FnOnce() -> String) -> Outcome {
    if ok {
        Outcome::Pass
    } else {
        Outcome::Fail(why())
    }
}

/// A browser logged in at `base` (and ten pages visited); `None` with why not.
fn logged_in_browser(app: &dyn RealApp, base: &str, remember: bool) -> Result<Browser, String> {
    let b = Browser::new();
    let page = app.login(&b, base, remember);
    if !app.logged_in(&page) {
        return Err(format!("the login did not log in: {} {} {}", page.status, page.url, snippet(&page.body)));
    }
    for p in app.pages() {
        let page = b.get(&format!("{base}{p}"));
        if !app.logged_in(&page) {
            return Err(format!("{p}: not logged in ({} {})", page.status, page.url));
        }
    }
    Ok(b)
}

fn snippet(body: &str) -> String {
    body.chars().filter(|c| !c.is_control()).take(300).collect()
}

/// Whether `b` is logged in at `base` now.
fn is_logged_in(app: &dyn RealApp, b: &Browser, base: &str) -> bool {
    app.logged_in(&b.get(&format!("{base}{}", app.home())))
}

/// Runs every check against `app` at `base` (`edge`: behind it, else the application alone).
fn checks(app: &dyn RealApp, running: &Running, edge: Option<&Edge>) -> Report {
    let direct = running.url("");
    let base = edge.map_or_else(|| direct.clone(), |e| e.url(""));
    let mut report = Report::new();
    match logged_in_browser(app, &base, false) {
        Ok(b) => {
            report.push(("form login (CSRF token) and ten pages logged in", Outcome::Pass));
            let others: Vec<&str> = app.other_cookies().iter().copied().filter(|c| !b.has(c)).collect();
            report.push(("the app's other cookies survive", check(others.is_empty(), || format!("gone: {others:?}"))));
        }
        Err(why) => {
            report.push(("form login (CSRF token) and ten pages logged in", Outcome::Fail(why)));
            return report;
        }
    }
    // Kills: the browser is logged out, and the old cookies, replayed straight to the
    // application (and through the edge), are no longer logged in.
    for (name, how) in [
        ("a kill by the kill path logs out and ends the app's session", "path"),
        ("a kill by the kill flag logs out and ends the app's session", "flag"),
        ("a kill by the admin API logs out and ends the app's session", "admin"),
    ] {
        let Some(edge) = edge else {
            report.push((name, Outcome::NotApplicable));
            continue;
        };
        let outcome = match logged_in_browser(app, &base, false) {
            Err(why) => Outcome::Fail(why),
            Ok(b) => {
                let old = b.copy(None);
                let home = app.home();
                let flag = if home.contains('?') { "&killSession" } else { "?killSession" };
                let answered = match how {
                    "path" => b.get_once(&format!("{base}/kill/")).status,
                    "flag" => b.get_once(&format!("{base}{home}{flag}")).status,
                    _ => kill_all_by_admin(edge),
                };
                // A kill the browser saw deletes the app's credentials where they live (`Path=/wiki/`).
                let credential = |n: &str| app.guard_cookies().split(',').any(|g| named(g, n));
                let left: Vec<String> =
                    b.cookies().into_iter().map(|c| c.name).filter(|n| how != "admin" && credential(n)).collect();
                let still = is_logged_in(app, &b, &base);
                // ORIGIN_KILL_URL is called by the session's object after the kill answered.
                let replayed_direct = !ended_within(|| !is_logged_in(app, &old.copy(None), &direct));
                let replayed_edge = is_logged_in(app, &old.copy(None), &base);
                check(answered < 400 && left.is_empty() && !still && !replayed_direct && !replayed_edge, || {
                    format!(
                        "answered {answered}; cookies left: {left:?}; still logged in: {still}; old cookies straight \
                         to the app: {replayed_direct}; through the edge: {replayed_edge}"
                    )
                })
            }
        };
        report.push((name, outcome));
    }
    if app.remembers() {
        // Remember-me never undoes a kill (by the admin: the browser keeps every cookie).
        let name = "remember-me never undoes a kill";
        let outcome = match (edge, logged_in_browser(app, &base, true)) {
            (None, _) => Outcome::NotApplicable,
            (_, Err(why)) => Outcome::Fail(why),
            (Some(edge), Ok(b)) => {
                kill_all_by_admin(edge);
                check(!is_logged_in(app, &b, &base), || "the remember-me cookie logged the browser back in".into())
            }
        };
        report.push((name, outcome));
        let name = "a copied remember-me cookie alone never logs a second browser in";
        let outcome = match logged_in_browser(app, &base, true) {
            Err(why) => Outcome::Fail(why),
            Ok(b) => {
                let session = app.guard_cookies().split(',').next().unwrap_or_default().to_owned();
                let thief = b.copy(Some(&|n: &str| n != session && n != "CFGUARD"));
                check(!is_logged_in(app, &thief, &base), || "the copied remember-me cookie logged in".into())
            }
        };
        report.push((name, outcome));
    }
    // The application's own logout: the browser is logged out, and the cookies it had before,
    // replayed, do not log in again.
    let name = "the app's own logout logs out for good";
    let outcome = match logged_in_browser(app, &base, app.remembers()) {
        Err(why) => Outcome::Fail(why),
        Ok(b) => {
            let old = b.copy(None);
            app.logout(&b, &base);
            let still = is_logged_in(app, &b, &base);
            let replayed = is_logged_in(app, &old, &base);
            check(!still && !replayed, || format!("still logged in: {still}; pre-logout cookies replayed: {replayed}"))
        }
    };
    report.push((name, outcome));
    report
}

/// Whether `ended` holds within 20 s (polled): the application's session is ended by the
/// edge's `ORIGIN_KILL_URL` call, which the session's object makes after the kill answered.
fn ended_within(ended: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if ended() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// Ends every live session through the admin API; the last status.
fn kill_all_by_admin(edge: &Edge) -> u16 {
    let list: serde_json::Value = serde_json::from_slice(&edge.admin("GET", "sessions").body).unwrap();
    let mut status = 200;
    for s in list["items"].as_array().into_iter().flatten() {
        status = edge.admin("DELETE", &format!("sessions/{}", s["cfid"].as_str().unwrap())).status;
    }
    status
}

fn guard_edge(app: &dyn RealApp, running: &Running) -> Edge {
    let mut vars =
        vec![("SESSION_MODE", "guard"), ("GUARD_COOKIES", app.guard_cookies()), ("ORIGIN_KILL_URL", app.kill_url())];
    vars.extend_from_slice(app.edge_vars());
    Edge::start(&running.url(""), &vars)
}

/// Both runs, the differences printed; every check behind the edge must pass.
fn alone_and_behind_the_edge(app: &dyn RealApp) {
    let started = std::time::Instant::now();
    let running = app.start();
    let alone = checks(app, &running, None);
    let edge = guard_edge(app, &running);
    let behind = checks(app, &running, Some(&edge));
    let show = |o: &Outcome| match o {
        Outcome::Pass => "yes".to_owned(),
        Outcome::Fail(why) => format!("no ({why})"),
        Outcome::NotApplicable => "n/a".to_owned(),
    };
    eprintln!("\n{}: alone | behind the edge ({:.0} s)", app.name(), started.elapsed().as_secs_f64());
    for ((name, a), (_, e)) in alone.iter().zip(&behind) {
        let differs = if a == e { "" } else { "  <- differs" };
        eprintln!("  {name}: {} | {}{differs}", show(a), show(e));
    }
    let failed: Vec<_> = behind.iter().filter(|(_, o)| matches!(o, Outcome::Fail(_))).collect();
    assert!(failed.is_empty(), "{} behind the edge: {failed:#?}\n{}", app.name(), edge.log_tail());
}

#[test]
fn django_admin() {
    alone_and_behind_the_edge(&DjangoAdmin);
}

#[test]
fn tomcat_examples() {
    alone_and_behind_the_edge(&TomcatExamples);
}

#[test]
fn lucee_administrator() {
    alone_and_behind_the_edge(&LuceeAdmin);
}

#[test]
fn dokuwiki() {
    alone_and_behind_the_edge(&DokuWiki);
}
