//! Property-based tests of every parser that sees attacker input: `Cookie` headers, query
//! strings, CFTOKENs, the origin's `X-Session-Set`/`-Action`/`-User`, kill paths and
//! redirects, referers, configuration values. Bounded and reproducible: a fixed seed, a fixed
//! number of cases, no failure files. Each asserts no panic and the documented outcome.
//! (`scripts/fuzz` runs coverage-guided fuzzing of the same parsers for longer.)

mod cookie_parsers;

use cfsession_edge::core::{
    config::Config,
    cookie::{read_session_cookies, strip_session_cookies},
    cookie_header::{pairs, CookieHeader},
    faults::Faults,
    forward::clean_referer,
    guard::{forward_cookie, response::origin_set, Binding, GuardPolicy, OriginIds},
    ids::{CfToken, Cfid, TokenKey},
    kill::{is_cross_site, same_site_path, KillPolicy, RequestSite, Trigger},
    protocol::{json_depth, parse_origin_changes, MAX_DATA_DEPTH, MAX_SET_BYTES, MAX_USER_LEN},
    query,
    random::SeqRandom,
};
use proptest::{prelude::*, test_runner::RngSeed};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0x00cf_5e55),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    }
}

/// Strings built from the pieces parsers split on and the names they look for, plus noise.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("CFID".to_owned()),
        Just("cftoken".to_owned()),
        Just("__Host-CFID".to_owned()),
        Just("__host-CFTOKEN".to_owned()),
        Just("PHPSESSID".to_owned()),
        Just("PHP%53ESSID".to_owned()),
        Just("connect.sid".to_owned()),
        Just("connect_sid".to_owned()),
        Just("JSESSIONID".to_owned()),
        Just("CFGUARD".to_owned()),
        Just("killSession".to_owned()),
        Just("victim".to_owned()),
        Just("=".to_owned()),
        Just(";".to_owned()),
        Just("; ".to_owned()),
        Just(", ".to_owned()),
        Just(",".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("\u{c}".to_owned()),
        Just("\r".to_owned()),
        Just("\u{b}".to_owned()),
        Just("\"".to_owned()),
        Just("&".to_owned()),
        Just("%".to_owned()),
        Just("/".to_owned()),
        Just("\\".to_owned()),
        Just("//".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(".".to_owned()),
        Just("$".to_owned()),
        Just("{".to_owned()),
        "[a-z0-9]{1,8}",
        "\\PC{1,4}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn session_name(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    let bare = lower.strip_prefix("__host-").unwrap_or(&lower);
    bare == "cfid" || bare == "cftoken"
}

/// Every `(parser, name, value)` the four origin parsers read from `header` whose name is, to
/// that server's application, one of `names` (compared case-insensitively, as CFML does).
fn read_by_any_server(header: &str, names: &[&str]) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    for (parser, parse) in cookie_parsers::PARSERS {
        for (n, v) in parse(header) {
            if names.iter().any(|g| g.eq_ignore_ascii_case(&n)) {
                out.push((parser, n, v));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(config(1_500))]

    #[test]
    fn cookie_headers(header in hostile(), second in hostile(), prefixed in any::<bool>()) {
        let read = read_session_cookies(&CookieHeader::new(&format!("{header}, {second}")), prefixed);
        prop_assert!(read.cfid.len() <= 4 && read.cftoken.len() <= 4);
        prop_assert!(read.cfid.iter().chain(&read.cftoken).all(|v| !v.is_empty()));
        for pair in pairs(&header) {
            prop_assert!(header.contains(pair), "a pair that is not a slice of the header");
        }
        let stripped = strip_session_cookies(&CookieHeader::new(&header));
        match &stripped.header {
            Some(kept) => {
                // No server reads a session cookie from what is forwarded, in any form.
                let leaked = read_by_any_server(kept, &["CFID", "CFTOKEN", "__Host-CFID", "__Host-CFTOKEN"]);
                prop_assert!(leaked.is_empty(), "{leaked:?} read from {kept:?} (sent {header:?})");
                // Every pair kept is one of the client's, byte for byte, in order.
                let original: Vec<&str> = pairs(&header);
                let mut it = original.iter();
                for pair in pairs(kept) {
                    prop_assert!(it.any(|p| *p == pair), "{pair:?} is not the client's");
                }
                if stripped.removed.is_empty() {
                    prop_assert_eq!(kept, &header);
                }
            }
            None => prop_assert!(pairs(&header).into_iter().all(|p| session_name(p.split_once('=').map_or(p, |(n, _)| n))) || !stripped.removed.is_empty()),
        }
    }

    /// Guard mode: for random headers beside a live session, what any of the four servers
    /// reads as a guarded cookie from the forwarded header is exactly the live session's.
    #[test]
    fn no_server_reads_an_unbound_guarded_cookie(noise in hostile(), more in hostile(), live in any::<bool>()) {
        let policy = GuardPolicy { cookies: vec!["PHPSESSID".into(), "connect.sid".into(), "JSESSIONID".into()] };
        let bound = OriginIds(vec![("PHPSESSID".into(), "mine".into())]);
        for header in [noise.clone(), format!("PHPSESSID=mine; {noise}"), format!("{noise}; PHPSESSID=mine{more}")] {
            let live = live.then_some(&bound);
            let out = forward_cookie(&CookieHeader::new(&header), &policy, live).header.unwrap_or_default();
            for (parser, name, value) in read_by_any_server(&out, &["PHPSESSID", "connect.sid", "JSESSIONID", "CFGUARD"]) {
                let php_mine = name == "PHPSESSID" && value == "mine" && live.is_some();
                prop_assert!(php_mine, "{parser} reads {name}={value:?} from {out:?} (sent {header:?}, live: {})", live.is_some());
            }
        }
    }

    #[test]
    fn query_strings(q in hostile(), name in "[A-Za-z]{1,8}") {
        let _ = query::has(&q, &name);
        let _ = query::get(&q, &name);
        if let Some(rest) = query::without(&q, &[name.as_str()]) {
            prop_assert!(!query::has(&rest, &name), "{name} left in {rest}");
            // What is kept is the query's own segments, in order.
            let kept: Vec<&str> = rest.split('&').collect();
            let mut it = q.split('&');
            for seg in kept {
                prop_assert!(it.any(|s| s == seg), "{seg} is not from {q}");
            }
        }
    }

    #[test]
    fn cftokens(text in "[A-Za-z0-9_-]{54}", other in hostile(), seed in any::<[u8; 16]>()) {
        let key = TokenKey::derive(b"property-test-key-property-test-key");
        let cfid = Cfid::parse(&cfsession_edge::core::crypto::hex(&seed)).unwrap();
        if let Some(t) = CfToken::parse(&text) {
            prop_assert!(!t.verify(&cfid, &key), "a random token verified");
            let _ = t.issued_at();
            prop_assert_eq!(t.fingerprint().len(), 64);
        }
        prop_assert!(CfToken::parse(&other).is_none_or(|t| !t.verify(&cfid, &key)));
        prop_assert!(Cfid::parse(&other).is_none_or(|c| c.as_str().len() == 32));
    }

    #[test]
    fn origin_control_headers(set in hostile(), action in hostile(), user in hostile()) {
        let c = parse_origin_changes(Some(&set), Some(&action), Some(&user));
        if let Some(map) = &c.set {
            prop_assert!(set.len() <= MAX_SET_BYTES);
            prop_assert!(json_depth(&serde_json::Value::Object(map.clone())) <= MAX_DATA_DEPTH);
        }
        if let Some(u) = &c.user {
            prop_assert!(!u.is_empty() && u.len() <= MAX_USER_LEN && !u.chars().any(char::is_control));
        }
        for p in &c.problems {
            prop_assert!(p.len() < 200, "a problem line echoes input: {p}");
        }
    }

    #[test]
    fn nested_json_is_bounded(depth in 1usize..200, wide in 0usize..4) {
        let inner = format!("{}{}{}", "[".repeat(depth), "1,".repeat(wide) + "1", "]".repeat(depth));
        let c = parse_origin_changes(Some(&format!("{{\"k\":{inner}}}")), None, None);
        prop_assert_eq!(c.set.is_some(), depth + 2 <= MAX_DATA_DEPTH, "depth {}", depth);
    }

    #[test]
    fn kill_paths_and_redirects(path in hostile(), q in hostile()) {
        let k = KillPolicy::default();
        let path = format!("/{path}");
        let _ = k.trigger(&path, Some(&q));
        for trigger in [Trigger::Flag, Trigger::Path] {
            let location = k.location(trigger, &path, Some(&q));
            prop_assert!(location.starts_with('/'), "{location}");
            let second = location.chars().nth(1);
            prop_assert!(second != Some('/') && second != Some('\\'), "off-site redirect {location}");
            prop_assert!(!location.chars().any(|c| c == '\r' || c == '\n'));
        }
        let safe = same_site_path(&path);
        prop_assert!(safe.starts_with('/') && !safe.starts_with("//") && !safe.starts_with("/\\"));
    }

    #[test]
    fn request_sites(sfs in hostile(), origin in hostile(), referer in hostile(), host in "[a-z.:0-9]{0,20}") {
        let from = RequestSite { sec_fetch_site: Some(&sfs), origin: Some(&origin), referer: Some(&referer), host: &host };
        let _ = is_cross_site(&from);
        let _ = clean_referer(&referer);
    }

    #[test]
    fn referers_never_keep_tokens(token in "[A-Za-z0-9_-]{54}", before in "[a-z]{0,5}", after in "[a-z]{0,5}") {
        let r = format!("https://s.example/p?{before}=1&CFTOKEN={token}&{after}=2");
        let cleaned = clean_referer(&r).unwrap();
        prop_assert!(!cleaned.contains(&token), "{cleaned}");
    }

    #[test]
    fn configuration_values(name in prop::sample::select(VARS), value in hostile()) {
        let key = "property-test-key-property-test-key".to_owned();
        let lookup = |n: &str| match n {
            "SESSION_SIGNING_KEY" if name != "SESSION_SIGNING_KEY" => Some(key.clone()),
            "ORIGIN_URL" if name == "TEST_FAULTS" => Some("http://127.0.0.1:9/".to_owned()),
            n if n == name => Some(value.clone()),
            _ => None,
        };
        match Config::from_lookup(lookup) {
            Ok(_) => {}
            Err(e) => {
                prop_assert!(VARS.contains(&e.variable), "{}", e.variable);
                // The reason never echoes the value (a secret, say).
                prop_assert!(value.trim().len() < 4 || !e.reason.contains(value.trim()), "{e}");
            }
        }
        let _ = Faults::parse(&value);
    }
}

proptest! {
    #![proptest_config(config(1_500))]

    #[test]
    fn guard_cookies_and_bindings(cookie in hostile(), binding in hostile(), set in hostile()) {
        let policy = GuardPolicy::default();
        let key = TokenKey::derive(b"property-test-key-property-test-key");
        if let Ok(Some(ids)) = OriginIds::from_cookie_header(&CookieHeader::new(&cookie), &policy) {
            prop_assert!(!ids.is_empty());
            let bound = ids.binding_key(&key);
            prop_assert!(Binding::parse(&binding).is_none_or(|b| !b.verify(&bound)), "a forged binding verified");
            // A genuine binding for these ids verifies, and only for them.
            let genuine = Binding::mint(&ids, &key, 0, &mut SeqRandom::default()).unwrap();
            prop_assert!(genuine.verify(&bound));
        }
        let _ = origin_set(&OriginIds::default(), &[set], &policy, 1_800_000_000_000);
        // Without a live session, no guarded cookie is ever forwarded.
        if let Some(kept) = forward_cookie(&CookieHeader::new(&cookie), &policy, None).header {
            prop_assert!(matches!(OriginIds::from_cookie_header(&CookieHeader::new(&kept), &policy), Ok(None)), "{kept:?}");
            let leaked = read_by_any_server(&kept, &["CFID", "CFTOKEN", "CFGUARD"]);
            prop_assert!(leaked.is_empty(), "{leaked:?} from {kept:?}");
        }
    }
}

const VARS: &[&str] = &[
    "ORIGIN_URL",
    "SESSION_SIGNING_KEY",
    "ADMIN_TOKEN",
    "COOKIE_SECURE",
    "COOKIE_DOMAIN",
    "COOKIE_EXPIRY",
    "COOKIE_HOST_PREFIX",
    "SESSION_TIMEOUT",
    "SESSION_MAX_LIFETIME",
    "TOUCH_INTERVAL",
    "SESSION_HITS",
    "SESSION_DEFER",
    "URL_TOKENS",
    "SESSION_DATA_LIMIT",
    "KILL_PARAM",
    "KILL_PATH",
    "KILL_REDIRECT",
    "KILL_COOKIES",
    "KILL_CLEAR_SITE_DATA",
    "KILL_METHODS",
    "KILL_CROSS_SITE",
    "CROSS_SITE_REQUESTS",
    "SESSION_START_URL",
    "SESSION_END_URL",
    "APPLICATION_START_URL",
    "APP_NAME",
    "APPLICATION_TIMEOUT",
    "INDEX_SHARDS",
    "ADMIN_PREFIX",
    "SIGNATURE_LEGACY",
    "ROTATE_ON_LOGIN",
    "TEST_FAULTS",
];
