use super::*;
use crate::core::config::for_tests as config;
use crate::core::{headers::Edit, ids::TokenKey, random::SeqRandom};

/// The edits as `name: value` lines (`-name` for a delete), cookie attributes cut at the
/// first `;` but for an expiry (`=; …Max-Age=0` and where).
fn lines(edits: &Edits) -> Vec<String> {
    edits
        .iter()
        .map(|e| match e {
            Edit::Delete(n) => format!("-{n}"),
            Edit::Append(n, v) if n == "set-cookie" && v.contains("Max-Age=0") => {
                let at: Vec<&str> =
                    v.split("; ").filter(|a| a.starts_with("Path=") || a.starts_with("Domain=")).collect();
                format!("{n}: {} expired {}", v.split('=').next().unwrap_or(""), at.join(" "))
            }
            Edit::Append(n, v) if n == "set-cookie" => format!("{n}: {}", v.split(';').next().unwrap_or("")),
            Edit::Append(n, v) => format!("{n}: {v}"),
        })
        .collect()
}

/// A case: its name, the configuration, the outcome, the edits, `login_refused`, `dropped_origin_ids`.
type Case<'a> = (&'a str, &'a Config, Outcome<'a>, Vec<String>, Option<u32>, bool);

const ORIGIN: [&str; 3] = ["a=1; Path=/", "CFID=9; Path=/", "JSESSIONID=j; Path=/app"];

/// Every outcome in edge mode (sliding and browser-session cookies) and guard mode, and what
/// the response carries.
#[test]
fn every_outcome_has_one_answer() {
    let edge = config(&[]);
    let sliding = config(&[("COOKIE_EXPIRY", "sliding")]);
    let guard = config(&[("SESSION_MODE", "guard"), ("GUARD_COOKIES", "JSESSIONID")]);
    let capped = config(&[("MAX_SESSIONS_PER_USER", "3")]);
    let mut rng = SeqRandom::default();
    let cfid = Cfid::generate(&mut rng).unwrap();
    let key = TokenKey::derive(b"0123456789abcdef0123456789abcdef");
    let token = CfToken::mint(&cfid, &key, 1_000, &mut rng).unwrap();
    let ids = SessionIds { cfid: &cfid, token: &token, idle_timeout_s: 1200, now: 5_000 };
    let session = |cookies, login_refused| Outcome::Session { ids, cookies, login_refused };
    let expired_edge = [
        "set-cookie: CFID expired Path=/",
        "set-cookie: CFTOKEN expired Path=/",
        "set-cookie: CFMAGIC expired Path=/",
        "-cache-control",
        "cache-control: no-store",
    ];
    let cfid_line = format!("set-cookie: CFID={cfid}");
    let token_line = format!("set-cookie: CFTOKEN={}", token.expose());
    let binding = format!("set-cookie: CFGUARD={}", crate::core::guard::Binding::cookie_value(&cfid, &token));
    let origin_edge = ["set-cookie: a=1", "set-cookie: JSESSIONID=j"];
    let origin_all = ["set-cookie: a=1", "set-cookie: CFID=9", "set-cookie: JSESSIONID=j"];
    let unconfirmed = ["-x-cfsession-end", "x-cfsession-end: retrying"];
    let concat = |parts: &[&[&str]]| -> Vec<String> { parts.concat().iter().map(|s| s.to_string()).collect() };
    let cases: Vec<Case> = vec![
        // Edge mode: the origin's own CFID is always dropped (and said).
        ("edge, bypassed", &edge, Outcome::Bypassed, concat(&[&origin_edge]), None, true),
        ("edge, stand-in", &edge, Outcome::StandIn, concat(&[&origin_edge]), None, true),
        ("edge, kept", &edge, session(Cookies::Kept, false), concat(&[&origin_edge]), None, true),
        (
            "edge, refreshed, browser-session cookies",
            &edge,
            session(Cookies::Refreshed, false),
            concat(&[&origin_edge]),
            None,
            true,
        ),
        (
            "edge, refreshed, sliding",
            &sliding,
            session(Cookies::Refreshed, false),
            concat(&[&origin_edge, &[&cfid_line, &token_line]]),
            None,
            true,
        ),
        (
            "edge, issued",
            &edge,
            session(Cookies::Issued, false),
            concat(&[&origin_edge, &[&cfid_line, &token_line]]),
            None,
            true,
        ),
        (
            "edge, ended",
            &edge,
            session(Cookies::Ended { confirmed: true }, false),
            concat(&[&origin_edge, &expired_edge]),
            None,
            true,
        ),
        (
            "edge, ended unconfirmed",
            &edge,
            session(Cookies::Ended { confirmed: false }, false),
            concat(&[&origin_edge, &expired_edge, &unconfirmed]),
            None,
            true,
        ),
        // A refused login: 409 with the session's cookies, none of the origin's.
        ("edge, login refused, kept", &capped, session(Cookies::Kept, true), vec![], Some(3), false),
        (
            "edge, login refused, new",
            &capped,
            session(Cookies::Issued, true),
            concat(&[&[&cfid_line, &token_line]]),
            Some(3),
            false,
        ),
        // Guard mode: the origin's cookies pass, but its session cookies not on a bypassed
        // path or a stand-in.
        (
            "guard, bypassed",
            &guard,
            Outcome::Bypassed,
            concat(&[&["set-cookie: a=1", "set-cookie: CFID=9"]]),
            None,
            false,
        ),
        (
            "guard, stand-in",
            &guard,
            Outcome::StandIn,
            concat(&[&["set-cookie: a=1", "set-cookie: CFID=9"]]),
            None,
            false,
        ),
        ("guard, sessionless", &guard, Outcome::Sessionless, concat(&[&origin_all]), None, false),
        ("guard, kept", &guard, session(Cookies::Kept, false), concat(&[&origin_all]), None, false),
        ("guard, issued", &guard, session(Cookies::Issued, false), concat(&[&origin_all, &[&binding]]), None, false),
    ];
    for (name, config, outcome, want, refused, dropped) in cases {
        let got = response(&outcome, ORIGIN.iter().map(|s| s.to_string()).collect(), config);
        assert_eq!(lines(&got.edits), want, "{name}");
        assert_eq!(got.login_refused, refused, "{name}");
        assert_eq!(got.dropped_origin_ids, dropped, "{name}");
    }
}

#[test]
fn guard_mode_ends_expire_the_applications_cookies_and_the_binding() {
    let guard = config(&[("SESSION_MODE", "guard"), ("GUARD_COOKIES", "JSESSIONID")]);
    let scopes = [CookieScope { name: "JSESSIONID".into(), path: Some("/app".into()), domain: None }];
    let got = lines(&ended(&guard, &scopes, true));
    for want in [
        "set-cookie: JSESSIONID expired Path=/app",
        "set-cookie: JSESSIONID expired Path=/",
        "set-cookie: CFGUARD expired Path=/",
    ] {
        assert!(got.contains(&want.to_owned()), "{want} in {got:#?}");
    }
    assert!(!got.iter().any(|l| l.starts_with("x-cfsession-end")));
    assert!(
        lines(&ended(&guard, &[], false)).ends_with(&["-x-cfsession-end".into(), "x-cfsession-end: retrying".into()])
    );
}

/// What a request's steps fold into: an end outlasts everything, an unconfirmed end a
/// confirmed one, new ids a refresh.
#[test]
fn steps_fold_into_the_one_that_counts() {
    use Cookies::*;
    let ended = Ended { confirmed: true };
    let unconfirmed = Ended { confirmed: false };
    let cases = [
        (Kept, Kept, Kept),
        (Kept, Refreshed, Refreshed),
        (Refreshed, Kept, Refreshed),
        (Issued, Refreshed, Issued),
        (Refreshed, Issued, Issued),
        (Issued, Kept, Issued),
        (Kept, ended, ended),
        (Issued, ended, ended),
        (ended, Issued, ended),
        (ended, Refreshed, ended),
        (ended, unconfirmed, unconfirmed),
        (unconfirmed, ended, unconfirmed),
        (Refreshed, unconfirmed, unconfirmed),
    ];
    for (first, then, want) in cases {
        assert_eq!(first.then(then), want, "{first:?} then {then:?}");
    }
}
