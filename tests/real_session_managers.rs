//! Guard mode in front of real session managers that nobody here wrote (see
//! `tests/common/session_managers.rs`): Tomcat 10's `HttpSession` in a JSP app, PHP's own
//! sessions on php-fpm behind nginx, and express-session. Each application keeps its own
//! session; the edge guards it: continuity, kills through `ORIGIN_KILL_URL`, ids it did not see
//! the application issue (unbound, smuggled inside quoted cookies and other spellings, rotated
//! away, in the URL) never reaching the application's session, the application's own
//! rotation, and no storage for clients that never return cookies.

mod common;

use std::time::Duration;

use common::{
    session_managers::{App, Manager},
    wait::until,
    Client, Edge, Resp,
};

const BINDING: &str = "CFGUARD"; // COOKIE_SECURE=false in tests

fn guard_edge(app: &App, extra: &[(&str, &str)]) -> Edge {
    let kill_url = app.manager.page("kill-session");
    let mut vars = vec![
        ("SESSION_MODE", "guard"),
        ("GUARD_COOKIES", app.manager.cookie()),
        ("ORIGIN_KILL_URL", kill_url.as_str()),
    ];
    vars.extend_from_slice(extra);
    Edge::start(&app.url(""), &vars)
}

/// `(session id, hits)` from the application's `<id> <hits>` answer.
fn answer(r: &Resp) -> (String, u32) {
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let (id, hits) = text.trim().rsplit_once(' ').unwrap_or_else(|| panic!("not `<id> <hits>`: {text}"));
    (id.to_owned(), hits.parse().unwrap_or_else(|_| panic!("{text}")))
}

/// A browser whose application session is bound and stored at the edge (its second request
/// claims it); returns the browser, its session id and its cookie value.
fn browser(edge: &Edge, app: &App) -> (Client, String, String) {
    let c = Client::new();
    let (id, _) = answer(&c.get(&edge.url("/")));
    assert!(c.jar.get(BINDING).is_some(), "the application's new session was not bound");
    let (again, _) = answer(&c.get(&edge.url("/")));
    assert_eq!(again, id, "the application session was not kept");
    let value = c.jar.get(app.manager.cookie()).expect("the application's cookie");
    assert_eq!(app.manager.id_in(&value), id);
    (c, id, value)
}

/// A client sending exactly this `Cookie` header.
fn send_cookie(edge: &Edge, header: &str) -> Resp {
    let r = Client::new().send("GET", &edge.url("/"), &[("Cookie", header)], None);
    assert!(r.status < 500, "{header}: {} {}", r.status, r.text());
    r
}

fn ten_requests_keep_one_application_session(manager: Manager) {
    let app = App::start(manager);
    let edge = guard_edge(&app, &[]);
    let c = Client::new();
    let answers: Vec<(String, u32)> = (0..10).map(|_| answer(&c.get(&edge.url("/")))).collect();
    assert!(answers.iter().all(|(id, _)| *id == answers[0].0), "{manager:?}: the session changed: {answers:?}");
    assert_eq!(answers.last().unwrap().1, 10, "{manager:?}: its own counter: {answers:?}");
    assert!(app.seen().iter().all(|c| !c.contains(BINDING)), "the binding cookie reached the application");
}

fn a_kill_ends_the_application_session_and_its_cookies_never_return(manager: Manager) {
    let app = App::start(manager);
    let edge = guard_edge(&app, &[]);
    let (c, id, value) = browser(&edge, &app);
    let old_binding = c.jar.get(BINDING).unwrap();
    let r = c.get(&edge.url("/?killSession"));
    assert_eq!(r.status, 302, "{}", r.text());
    // The application ended that very session on the edge's signed call.
    until(
        "the application's kill page ending the session",
        Duration::from_secs(20),
        Duration::from_millis(100),
        || app.destroyed().contains(&id).then_some(()),
    );
    // Directly at the application, the old cookie no longer finds the session.
    let direct =
        Client::new().send("GET", &app.url("/"), &[("Cookie", &format!("{}={value}", manager.cookie()))], None);
    assert_eq!(answer(&direct).1, 1, "{manager:?}: the application still had the killed session");
    let before = app.requests_with(&id);
    // Through the edge, the old cookies (with or without the old binding) never reach it again.
    for cookie in
        [format!("{}={value}", manager.cookie()), format!("{}={value}; {BINDING}={old_binding}", manager.cookie())]
    {
        for _ in 0..5 {
            send_cookie(&edge, &cookie);
        }
    }
    assert_eq!(app.requests_with(&id), before, "{manager:?}: the killed session's cookie reached the application");
    // The browser itself goes on in a new session.
    let (next, hits) = answer(&c.get(&edge.url("/")));
    assert_ne!(next, id);
    assert_eq!(hits, 1);
}

fn ids_the_edge_did_not_see_issued_never_reach_the_application(manager: Manager) {
    let app = App::start(manager);
    let edge = guard_edge(&app, &[]);
    let (victim, id, value) = browser(&edge, &app);
    let name = manager.cookie();
    let (attacker, _, mine) = browser(&edge, &app);
    let my_binding = attacker.jar.get(BINDING).unwrap();
    let stolen_binding = victim.jar.get(BINDING).unwrap();
    let attacks = [
        format!("{name}={value}"),
        format!("{name}={value}; {BINDING}={my_binding}"),
        format!("a=\"; {name}={value}; z=\""),
        format!("a=\"x;{name}={value};\""),
        format!("a=\"; {name}={value}; z=\"; {name}={mine}; {BINDING}={my_binding}"),
        format!("{name}={value}; {name}={mine}; {BINDING}={my_binding}"),
        format!("x=\"{name}={value}\"; {name}={mine}; {BINDING}={my_binding}"),
        format!("{}={value}", name.to_ascii_lowercase()),
        format!("{}={value}", name.replace('.', "_")),
        format!("{name}={value} ; {BINDING}={stolen_binding}x"),
    ];
    let before = app.requests_with(&id);
    for attack in &attacks {
        send_cookie(&edge, attack);
    }
    // The session id in the URL (Tomcat's URL rewriting, PHP's trans-sid, a fixation link).
    let query = format!("/?{name}={value}&jsessionid={value}");
    let path = format!("/;jsessionid={value}");
    for url in [query, path] {
        let (got, _) = answer(&Client::new().get(&edge.url(&url)));
        assert_ne!(got, id, "{manager:?}: {url} attached the victim's session");
    }
    assert_eq!(app.requests_with(&id), before, "{manager:?}: an attack reached the victim's session");
    // The victim's own session is untouched: its counter goes on from 2.
    assert_eq!(answer(&victim.get(&edge.url("/"))), (id.clone(), 3), "{manager:?}");
    edge.wait_for_log("cookie.removed");
    let log = edge.log();
    // (wrangler dev's own access log prints request paths; the Worker's lines are checked.)
    let worker_lines = log.lines().filter(|l| !l.starts_with("[wrangler:"));
    let leaked: Vec<&str> = worker_lines.filter(|l| l.contains(&value) || l.contains(&id)).collect();
    assert!(leaked.is_empty(), "a cookie value reached the log: {leaked:?}");
}

fn the_applications_own_rotation_moves_the_binding(manager: Manager) {
    let app = App::start(manager);
    let edge = guard_edge(&app, &[]);
    let (c, id, value) = browser(&edge, &app);
    let old_binding = c.jar.get(BINDING).unwrap();
    let (rotated, _) = answer(&c.get(&edge.url(&manager.page("rotate"))));
    assert_ne!(rotated, id, "{manager:?}: the application did not rotate");
    assert_ne!(c.jar.get(BINDING).unwrap(), old_binding, "the binding did not move to the new id");
    let (next, hits) = answer(&c.get(&edge.url("/")));
    assert_eq!(next, rotated, "{manager:?}: the rotated session was not kept");
    if manager != Manager::ExpressSession {
        assert_eq!(hits, 4, "{manager:?}: the rotation kept the data"); // (express-session's regenerate empties it)
    }
    // The rotated-away id, with its old binding, never reaches the application again.
    let before = app.requests_with(&id);
    for _ in 0..5 {
        send_cookie(&edge, &format!("{}={value}; {BINDING}={old_binding}", manager.cookie()));
    }
    assert_eq!(app.requests_with(&id), before, "{manager:?}: the rotated-away id reached the application");
    assert_eq!(answer(&c.get(&edge.url("/"))).0, rotated);
}

fn cookieless_clients_store_nothing(manager: Manager) {
    let app = App::start(manager);
    let edge = guard_edge(&app, &[]);
    for _ in 0..1_000 {
        let r = Client::new().get(&edge.url("/"));
        assert_eq!(r.status, 200);
    }
    assert_eq!(edge.stored_objects(), 0, "{manager:?}: clients that never return cookies cost storage");
}

/// A cross-site POST carries no `SameSite=Lax` cookies: the application may start a session
/// for it, but the edge neither passes that session's cookies on nor binds them, so the
/// browser keeps its own (a login survives an IdP's or a payment page's POST back).
fn a_cross_site_post_does_not_replace_the_browsers_session(manager: Manager) {
    let app = App::start(manager);
    let edge = guard_edge(&app, &[]);
    let (c, id, _) = browser(&edge, &app);
    let from_elsewhere =
        [("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "navigate"), ("Origin", "https://idp.example")];
    let r = Client::new().send("POST", &edge.url("/"), &from_elsewhere, Some(b"SAMLResponse=x"));
    assert_eq!(r.status, 200);
    assert!(r.all("set-cookie").is_empty(), "{manager:?}: cookies set on a cross-site POST: {:?}", r.all("set-cookie"));
    assert_eq!(answer(&c.get(&edge.url("/"))).0, id);
}

macro_rules! per_manager {
    ($module:ident, $manager:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn ten_requests_keep_one_application_session() {
                super::ten_requests_keep_one_application_session($manager);
            }

            #[test]
            fn a_kill_ends_the_application_session_and_its_cookies_never_return() {
                super::a_kill_ends_the_application_session_and_its_cookies_never_return($manager);
            }

            #[test]
            fn ids_the_edge_did_not_see_issued_never_reach_the_application() {
                super::ids_the_edge_did_not_see_issued_never_reach_the_application($manager);
            }

            #[test]
            fn the_applications_own_rotation_moves_the_binding() {
                super::the_applications_own_rotation_moves_the_binding($manager);
            }

            #[test]
            fn cookieless_clients_store_nothing() {
                super::cookieless_clients_store_nothing($manager);
            }

            #[test]
            fn a_cross_site_post_does_not_replace_the_browsers_session() {
                super::a_cross_site_post_does_not_replace_the_browsers_session($manager);
            }
        }
    };
}

per_manager!(tomcat, Manager::Tomcat);
per_manager!(php, Manager::Php);
per_manager!(express_session, Manager::ExpressSession);
