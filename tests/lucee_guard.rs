//! Guard mode in front of a real Lucee 7 on Tomcat 10 (`tests/common/lucee.rs`), for both
//! session types: `this.sessionType = "cfml"` (`cfid`/`cftoken`) and `"jee"` (`JSESSIONID`).
//! Each session writes a temp file that `onSessionEnd` deletes (the first source document's
//! problem), so "the session really ended inside Lucee" is a file that is gone. The
//! `ORIGIN_KILL_URL` page is `docs/guard-mode.md`'s, as written. Also: what Lucee 7 itself
//! does with unknown and expired cookies, measured without the edge (`docs/guard-mode.md`,
//! "Lucee 7, measured").

mod common;

use std::time::Duration;

use common::{lucee::Lucee, wait::until, Client, Edge, Resp};

const BINDING: &str = "CFGUARD"; // COOKIE_SECURE=false in tests

/// Lucee's session types, as the test applications `/cfml/` and `/jee/` use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cfml,
    Jee,
}

impl Kind {
    fn app(self) -> &'static str {
        match self {
            Self::Cfml => "cfml",
            Self::Jee => "jee",
        }
    }

    /// `GUARD_COOKIES` for the type. For `jee`, `JSESSIONID` names the session, and Lucee
    /// also sets `cfid`/`cftoken`: its `sessionInvalidate()` runs `onSessionEnd` only when the
    /// request carries `cfid` too (measured: `lucee_on_its_own`), so the kill call must.
    fn guard_cookies(self) -> &'static str {
        match self {
            Self::Cfml => "CFID,CFTOKEN",
            Self::Jee => "JSESSIONID,CFID,CFTOKEN",
        }
    }

    /// The cookie that carries the session's key (`session.cfid` / `session.sessionid`).
    fn key_cookie(self) -> &'static str {
        match self {
            Self::Cfml => "cfid",
            Self::Jee => "JSESSIONID",
        }
    }

    fn page(self, name: &str) -> String {
        format!("/{}/{name}.cfm", self.app())
    }
}

fn guard_edge(kind: Kind, extra: &[(&str, &str)]) -> Edge {
    let lucee = Lucee::shared();
    let kill = kind.page("kill");
    let mut vars =
        vec![("SESSION_MODE", "guard"), ("GUARD_COOKIES", kind.guard_cookies()), ("ORIGIN_KILL_URL", kill.as_str())];
    vars.extend_from_slice(extra);
    Edge::start(&lucee.url(""), &vars)
}

/// `(session key, hits)` from a page's `<key> <hits>`.
fn answer(r: &Resp) -> (String, u32) {
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let (key, hits) = text.trim().rsplit_once(' ').unwrap_or_else(|| panic!("not `<key> <hits>`: {text}"));
    (key.to_owned(), hits.parse().unwrap_or_else(|_| panic!("{text}")))
}

/// A browser with a bound, stored guarded Lucee session (two requests); its key.
fn browser(edge: &Edge, kind: Kind) -> (Client, String) {
    let c = Client::new();
    let (key, _) = answer(&c.get(&edge.url(&kind.page("index"))));
    assert!(c.jar.get(BINDING).is_some(), "Lucee's new session was not bound: {:?}", c.jar);
    assert_eq!(answer(&c.get(&edge.url(&kind.page("index")))).0, key, "the Lucee session was not kept");
    assert!(Lucee::shared().temp_file_exists(kind.app(), &key), "onSessionStart wrote no temp file");
    (c, key)
}

/// How many requests reached application `kind` carrying `needle` in their `Cookie` header.
fn reached(kind: Kind, needle: &str) -> usize {
    Lucee::shared().lines(&format!("{}/seen.log", kind.app())).iter().filter(|l| l.contains(needle)).count()
}

/// Waits until Lucee's `onSessionEnd` ran for `key` and deleted its temp file.
fn wait_for_session_end(kind: Kind, key: &str, within: Duration) {
    let lucee = Lucee::shared();
    until("Lucee's onSessionEnd (the temp file deleted)", within, Duration::from_millis(200), || {
        (lucee.session_ended(kind.app(), key) && !lucee.temp_file_exists(kind.app(), key)).then_some(())
    });
}

fn send_cookie(edge: &Edge, kind: Kind, header: &str) -> Resp {
    let r = Client::new().send("GET", &edge.url(&kind.page("index")), &[("Cookie", header)], None);
    assert!(r.status < 500, "{header}: {}", r.status);
    r
}

fn ten_requests_keep_one_lucee_session(kind: Kind) {
    let edge = guard_edge(kind, &[]);
    let c = Client::new();
    let answers: Vec<(String, u32)> = (0..10).map(|_| answer(&c.get(&edge.url(&kind.page("index"))))).collect();
    assert!(answers.iter().all(|(k, _)| *k == answers[0].0), "{answers:?}");
    assert_eq!(answers[9].1, 10);
}

/// The ended session's cookies, replayed through the edge, never reach Lucee.
fn never_reaches_lucee_again(edge: &Edge, kind: Kind, key: &str, old: &str) {
    let before = reached(kind, key);
    for _ in 0..5 {
        send_cookie(edge, kind, old);
    }
    assert_eq!(reached(kind, key), before, "{kind:?}: the ended session's cookies reached Lucee");
}

fn kills_end_the_lucee_session_at_once(kind: Kind) {
    let edge = guard_edge(kind, &[]);
    // By flag.
    let (c, key) = browser(&edge, kind);
    let old = c.jar.header().unwrap();
    assert_eq!(c.get(&edge.url(&format!("{}?killSession", kind.page("index")))).status, 302);
    wait_for_session_end(kind, &key, Duration::from_secs(20));
    never_reaches_lucee_again(&edge, kind, &key, &old);
    assert_ne!(answer(&c.get(&edge.url(&kind.page("index")))).0, key);
    // By the admin.
    let (c, key) = browser(&edge, kind);
    let old = c.jar.header().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&edge.admin("GET", "sessions").body).unwrap();
    let gids: Vec<String> =
        list["items"].as_array().unwrap().iter().map(|s| s["cfid"].as_str().unwrap().to_owned()).collect();
    for gid in &gids {
        assert_eq!(edge.admin("DELETE", &format!("sessions/{gid}")).status, 200);
    }
    wait_for_session_end(kind, &key, Duration::from_secs(20));
    never_reaches_lucee_again(&edge, kind, &key, &old);
    // By log-out-everywhere (the session tagged with X-Session-User by the application).
    let (c, key) = browser(&edge, kind);
    let user = format!("kim-{}", kind.app());
    assert_eq!(answer(&c.get(&edge.url(&format!("{}?user={user}", kind.page("tag"))))).0, key);
    let old = c.jar.header().unwrap();
    assert_eq!(edge.admin("DELETE", &format!("users/{user}/sessions")).status, 200);
    wait_for_session_end(kind, &key, Duration::from_secs(20));
    never_reaches_lucee_again(&edge, kind, &key, &old);
}

fn the_edges_idle_timeout_ends_the_lucee_session_without_traffic(kind: Kind) {
    let edge = guard_edge(kind, &[("SESSION_TIMEOUT", "3")]);
    let (_c, key) = browser(&edge, kind);
    // Lucee's own timeout is an hour: only the edge's alarm can end it this soon.
    wait_for_session_end(kind, &key, Duration::from_secs(40));
}

fn fixated_smuggled_and_url_ids_never_reach_lucee(kind: Kind) {
    let edge = guard_edge(kind, &[]);
    let (victim, key) = browser(&edge, kind);
    let (attacker, _) = browser(&edge, kind);
    let name = kind.key_cookie();
    let stolen_binding = victim.jar.get(BINDING).unwrap();
    let own = attacker.jar.header().unwrap();
    let other_binding = attacker.jar.get(BINDING).unwrap();
    let chosen = "0badc0de-0000-4000-8000-00000000f1c5";
    let attacks = [
        format!("{name}={chosen}; cftoken=0"), // an unknown UUID (fixation)
        format!("{name}={key}; cftoken=0; {BINDING}={stolen_binding}x"), // a broken binding
        format!("{name}={key}; cftoken=0"),    // no binding
        format!("{name}={key}; cftoken=0; {BINDING}={other_binding}"), // another session's binding
        format!("{own}; a=\"; {name}={key}; z=\""), // smuggled beside a bound session
        format!("a=\"; {name}={key}; cftoken=0; z=\""), // smuggled alone
        format!("a=\"x;{name}={key};cftoken=0;\"; {BINDING}={other_binding}"), // smuggled, with a binding
        format!("{}={key}; cftoken=0", name.to_ascii_uppercase()), // another spelling
    ];
    let before = reached(kind, &key);
    for attack in &attacks {
        let (got, _) = answer(&send_cookie(&edge, kind, attack));
        assert_ne!(got, key, "{kind:?}: {attack} reached the victim's session");
        assert_ne!(got, chosen, "{kind:?}: an attacker-chosen id became a Lucee session");
    }
    // The fixation link: Lucee adopts ?cfid= from the URL (see lucee_on_its_own below).
    let link = format!("{}?cfid={chosen}&cftoken=0&jsessionid={key}", kind.page("index"));
    let (got, _) = answer(&Client::new().get(&edge.url(&link)));
    assert!(got != chosen && got != key, "{kind:?}: the URL's id became the session");
    assert_eq!(reached(kind, &key), before, "{kind:?}: an attack reached the victim's session");
    assert_eq!(answer(&victim.get(&edge.url(&kind.page("index")))).1, 3, "the victim's session is untouched");
}

/// Every spelling of a session cookie's name that Lucee's own parse of the raw `Cookie` header
/// reads as it (quotes stripped, the name url-decoded twice, case folded).
fn lucee_spellings(name: &str, value: &str) -> Vec<String> {
    let lower = name.to_ascii_lowercase();
    let first = lower.chars().next().map_or(0, |c| c as u32);
    let rest = &lower[1..];
    vec![
        format!("\"{lower}\"={value}"),                         // quoted
        format!("%25{first:02x}{rest}={value}"),                // encoded twice
        format!("\"%{first:02x}{rest}\"={value}"),              // quoted and encoded
        format!(" \"{}\" ={value}", name.to_ascii_uppercase()), // padded, quoted, upper-case
    ]
}

fn lucees_own_cookie_parse_finds_no_way_in(kind: Kind) {
    let edge = guard_edge(kind, &[]);
    let (victim, key) = browser(&edge, kind);
    let (attacker, _) = browser(&edge, kind);
    let own = attacker.jar.header().unwrap();
    let victim_cfid = victim.jar.get("cfid").expect("Lucee sets cfid for both session types");
    let mut ids = vec![("cfid", victim_cfid.clone())];
    if kind == Kind::Jee {
        ids.push(("JSESSIONID", key.clone()));
    }
    let before = reached(kind, &key);
    for (name, value) in &ids {
        for spelled in lucee_spellings(name, value) {
            for attack in [format!("{spelled}; \"cftoken\"=0"), spelled.clone(), format!("{own}; {spelled}")] {
                let (got, _) = answer(&send_cookie(&edge, kind, &attack));
                assert_ne!(got, key, "{kind:?}: {attack} reached the victim's session");
            }
        }
    }
    assert_eq!(reached(kind, &key), before, "{kind:?}: a spelling reached Lucee with the victim's id");
    assert_eq!(reached(kind, &victim_cfid), before, "{kind:?}: a spelling carried the victim's cfid to Lucee");
    edge.wait_for_log("\"reason\":\"spelling\"");

    // Fixation: a quoted cfid planted in the victim's browser rides along with its bound
    // cookies; Lucee never sees it, and the victim keeps its own session.
    let chosen = "0badc0de-0000-4000-8000-00000000f1c6";
    let planted = format!("{}; \"cfid\"={chosen}; \"cftoken\"=0", victim.jar.header().unwrap());
    let (got, hits) = answer(&send_cookie(&edge, kind, &planted));
    assert_eq!((got, hits), (key.clone(), 3), "{kind:?}: the planted cfid displaced the victim's session");
    assert_eq!(reached(kind, chosen), 0, "{kind:?}: the planted cfid reached Lucee");
    let (got, _) = answer(&send_cookie(&edge, kind, &format!("cfid={chosen}; cftoken=0")));
    assert_ne!(got, key, "{kind:?}: the planted id leads into the victim's session");

    // A killed session's ids, re-sent in each spelling, never reach Lucee again.
    assert_eq!(victim.get(&edge.url(&format!("{}?killSession", kind.page("index")))).status, 302);
    wait_for_session_end(kind, &key, Duration::from_secs(20));
    let before = reached(kind, &key) + reached(kind, &victim_cfid);
    for (name, value) in &ids {
        for spelled in lucee_spellings(name, value) {
            let (got, hits) = answer(&send_cookie(&edge, kind, &format!("{spelled}; \"cftoken\"=0")));
            assert!(
                got != key && got != victim_cfid && hits == 1,
                "{kind:?}: {spelled} brought the killed session back"
            );
        }
    }
    assert_eq!(reached(kind, &key) + reached(kind, &victim_cfid), before, "{kind:?}: the killed ids reached Lucee");
}

fn session_rotate_moves_the_binding(kind: Kind) {
    let edge = guard_edge(kind, &[]);
    let (c, key) = browser(&edge, kind);
    let old = c.jar.header().unwrap();
    let old_binding = c.jar.get(BINDING).unwrap();
    let (rotated, hits) = answer(&c.get(&edge.url(&kind.page("login"))));
    assert_ne!(rotated, key, "sessionRotate() gave no new id");
    assert_eq!(hits, 3, "sessionRotate() kept the data");
    assert_ne!(c.jar.get(BINDING).unwrap(), old_binding, "the binding did not move");
    assert_eq!(answer(&c.get(&edge.url(&kind.page("index")))), (rotated.clone(), 4));
    let before = reached(kind, &key);
    for _ in 0..5 {
        send_cookie(&edge, kind, &old);
    }
    assert_eq!(reached(kind, &key), before, "the rotated-away id reached Lucee");
}

macro_rules! per_kind {
    ($module:ident, $kind:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn ten_requests_keep_one_lucee_session() {
                super::ten_requests_keep_one_lucee_session($kind);
            }

            #[test]
            fn kills_end_the_lucee_session_at_once() {
                super::kills_end_the_lucee_session_at_once($kind);
            }

            #[test]
            fn the_edges_idle_timeout_ends_the_lucee_session_without_traffic() {
                super::the_edges_idle_timeout_ends_the_lucee_session_without_traffic($kind);
            }

            #[test]
            fn fixated_smuggled_and_url_ids_never_reach_lucee() {
                super::fixated_smuggled_and_url_ids_never_reach_lucee($kind);
            }

            #[test]
            fn lucees_own_cookie_parse_finds_no_way_in() {
                super::lucees_own_cookie_parse_finds_no_way_in($kind);
            }

            #[test]
            fn session_rotate_moves_the_binding() {
                super::session_rotate_moves_the_binding($kind);
            }
        }
    };
}

per_kind!(cfml, Kind::Cfml);
per_kind!(jee, Kind::Jee);

/// What Lucee 7 does by itself, without the edge: the facts `docs/guard-mode.md` records.
#[test]
fn lucee_on_its_own() {
    let lucee = Lucee::shared();
    let get = |path: &str, cookie: Option<&str>| {
        let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
        Client::new().send("GET", &lucee.url(path), &headers, None)
    };
    // It adopts an unknown UUID-shaped cfid cookie: fixation.
    let chosen = "0badc0de-0000-4000-8000-0000000000a1";
    assert_eq!(answer(&get("/cfml/index.cfm", Some(&format!("cfid={chosen}; cftoken=0")))).0, chosen);
    // And one from the URL, which it then sets as its cookie: fixation by link.
    let linked = "0badc0de-0000-4000-8000-0000000000a2";
    let r = get(&format!("/cfml/index.cfm?cfid={linked}&cftoken=0"), None);
    assert_eq!(answer(&r).0, linked);
    assert!(r.all("set-cookie").iter().any(|c| c.starts_with(&format!("cfid={linked};"))), "{:?}", r.all("set-cookie"));
    // A cfid that is not a UUID: the cookies are expired and a new session started.
    let r = get("/cfml/index.cfm", Some("cfid=1234; cftoken=5678"));
    assert_ne!(answer(&r).0, "1234");
    assert!(r.all("set-cookie").iter().any(|c| c.starts_with("cfid=;") && c.contains("Max-Age=0")));
    // Its cookies: 30-year Expires, HttpOnly and SameSite=Lax, never Secure; set on the first
    // request even by a page that never touches the session scope.
    let r = get("/cfml/nosession.cfm", None);
    let cfid = r.all("set-cookie").into_iter().find(|c| c.starts_with("cfid=")).expect("a cfid cookie").to_owned();
    assert!(cfid.contains("HttpOnly") && cfid.contains("SameSite=Lax") && !cfid.contains("Secure"), "{cfid}");
    let year: u32 =
        cfid.split("Expires=").nth(1).and_then(|e| e.split(' ').nth(1)?.split('-').nth(2)?.parse().ok()).unwrap();
    assert!(year >= 2050, "{cfid}");
    // jee sessions: JSESSIONID names the session; Lucee sets cfid/cftoken beside it.
    let r = get("/jee/index.cfm", None);
    let names: Vec<&str> = r.all("set-cookie").iter().map(|c| c.split('=').next().unwrap()).collect();
    assert!(names.contains(&"JSESSIONID") && names.contains(&"cfid"), "{names:?}");
    // sessionInvalidate() runs onSessionEnd for CFML sessions; for J2EE ones only when the
    // request also carries the cfid cookie, not with JSESSIONID alone.
    for (app, with_cfid, runs) in [("cfml", true, true), ("jee", true, true), ("jee", false, false)] {
        let c = Client::new();
        let (key, _) = answer(&c.get(&lucee.url(&format!("/{app}/index.cfm"))));
        let old = c.jar.header().unwrap();
        let sent = if with_cfid { old.clone() } else { format!("JSESSIONID={}", c.jar.get("JSESSIONID").unwrap()) };
        let r = get(&format!("/{app}/invalidate.cfm"), Some(&sent));
        assert_eq!(r.text().trim(), "invalidated");
        assert_eq!(lucee.session_ended(app, &key), runs, "{app} (cfid sent: {with_cfid}): onSessionEnd");
        assert_eq!(lucee.temp_file_exists(app, &key), !runs, "{app} (cfid sent: {with_cfid}): the temp file");
        // The old cookies start a new, empty session: for CFML sessions under the same cfid
        // (it is adopted again), for J2EE ones under a new id.
        let again = answer(&get(&format!("/{app}/index.cfm"), Some(&old)));
        assert_eq!(again.1, 1, "{app}: the invalidated session's data lives on");
        assert_eq!(again.0 == key, app == "cfml", "{app}: {again:?} after {key}");
    }
    // The documented kill page: unsigned calls get 401 (not a 500), and a signed one ends the
    // session with onSessionEnd (sessionInvalidate()).
    for sig in [None, Some("v2=ab"), Some("t=abc,v2=ab"), Some("t=1,v2=ab")] {
        let headers: Vec<(&str, &str)> = sig.map(|s| ("X-Session-Signature", s)).into_iter().collect();
        let r = Client::new().send("POST", &lucee.url("/cfml/kill.cfm"), &headers, Some(b"{}"));
        assert_eq!(r.status, 401, "{sig:?}: {}", r.text());
    }
}
