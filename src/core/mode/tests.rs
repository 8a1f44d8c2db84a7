use super::*;
use crate::core::config::for_tests as config;
use crate::core::{config::Config, cookie_header::Removed, random::SeqRandom};

fn ids_in(h: Option<&str>, p: &guard::GuardPolicy) -> Result<Option<OriginIds>, guard::Unusable> {
    OriginIds::from_cookie_header(&CookieHeader::new(h.unwrap_or("")), p)
}

fn identify_in(c: &Config, h: Option<&str>, q: Option<&str>, k: &TokenKey) -> Identified {
    identify(c, h.map(CookieHeader::new).as_ref(), q, k)
}

fn forward_in(c: &Config, h: Option<&str>, live: Option<&OriginIds>) -> Rebuilt {
    forward_cookie(c, h.map(CookieHeader::new).as_ref(), live)
}

fn key(c: &Config) -> TokenKey {
    TokenKey::derive(c.keys.signing.expose())
}

#[test]
fn guard_mode_identifies_only_bound_origin_cookies() {
    let c = config(&[("SESSION_MODE", "guard")]);
    let origin = ids_in(Some("CFID=42; CFTOKEN=12345678"), &c.guard).unwrap().unwrap();
    let b = Binding::mint(&origin, &key(&c), 5, &mut SeqRandom::default()).unwrap();
    let good = format!("CFID=42; CFTOKEN=12345678; CFGUARD={}", Binding::cookie_value(&b.gid, &b.token));
    let p = identify_in(&c, Some(good.as_str()), None, &key(&c)).presented.expect("bound");
    assert_eq!((p.cfid, p.origin), (b.gid.clone(), origin));
    // Another value, a missing binding, a binding of another session: not identified.
    for bad in [
        format!("CFID=43; CFTOKEN=12345678; CFGUARD={}", Binding::cookie_value(&b.gid, &b.token)),
        "CFID=42; CFTOKEN=12345678".to_owned(),
        format!("CFID=42; CFTOKEN=12345678; __Host-CFGUARD={}", Binding::cookie_value(&b.gid, &b.token)),
        format!("CFID=42; cfid=43; CFTOKEN=12345678; CFGUARD={}", Binding::cookie_value(&b.gid, &b.token)),
    ] {
        let id = identify_in(&c, Some(bad.as_str()), None, &key(&c));
        assert!(id.presented.is_none(), "{bad}");
        assert!(id.ignored.is_some(), "{bad}");
    }
    assert!(identify_in(&c, Some("other=1"), None, &key(&c)).ignored.is_none());
}

#[test]
fn guard_mode_forwards_origin_cookies_only_for_a_live_session() {
    let c = config(&[("SESSION_MODE", "guard")]);
    let h = Some("CFID=1; CFTOKEN=2; CFGUARD=x.y; a=1");
    let live = ids_in(h, &c.guard).unwrap().unwrap();
    assert_eq!(forward_in(&c, h, Some(&live)).header.as_deref(), Some("CFID=1; CFTOKEN=2; a=1"));
    assert_eq!(forward_in(&c, h, None).header.as_deref(), Some("a=1"));
    let e = config(&[]);
    assert_eq!(forward_in(&e, h, Some(&live)).header.as_deref(), Some("CFGUARD=x.y; a=1"));
    // Smuggled beside a live session: only the live ids, once, as bound.
    let smuggled = "CFID=1; CFTOKEN=2; a=\"; CFID=666; z=\"; b=x cftoken=9; cfid=1";
    let r = forward_in(&c, Some(smuggled), Some(&live));
    assert_eq!(r.header.as_deref(), Some("CFID=1; CFTOKEN=2; a=\"; z=\""));
    assert_eq!(r.removed, vec![Removed::Session, Removed::Smuggled]);
}

#[test]
fn guard_mode_identifies_bindings_within_a_bounded_number_of_tries() {
    let c = config(&[("SESSION_MODE", "guard")]);
    let origin = ids_in(Some("CFID=42; CFTOKEN=1"), &c.guard).unwrap().unwrap();
    let b = Binding::mint(&origin, &key(&c), 5, &mut SeqRandom::default()).unwrap();
    let junk: String = (0..guard::MAX_BINDINGS).map(|i| format!("CFGUARD={}.x{i}; ", b.gid)).collect();
    let late = format!("CFID=42; CFTOKEN=1; {junk}CFGUARD={}", Binding::cookie_value(&b.gid, &b.token));
    assert!(
        identify_in(&c, Some(late.as_str()), None, &key(&c)).presented.is_none(),
        "a binding past the cap was tried"
    );
    let early = format!("CFID=42; CFTOKEN=1; CFGUARD={}; {junk}", Binding::cookie_value(&b.gid, &b.token));
    assert!(identify_in(&c, Some(early.as_str()), None, &key(&c)).presented.is_some());
}

#[test]
fn session_ids_in_the_path_reach_a_guarded_origin_only_as_the_live_session() {
    let c = config(&[("SESSION_MODE", "guard"), ("GUARD_COOKIES", "JSESSIONID"), ("URL_TOKENS", "true")]);
    let live = OriginIds(vec![("JSESSIONID".into(), "ABC".into())]);
    assert_eq!(forward_path(&c, "/a;jsessionid=ABC", Some(&live)), None);
    assert_eq!(forward_path(&c, "/a;jsessionid=EVIL", Some(&live)).as_deref(), Some("/a"));
    assert_eq!(forward_query(&c, Some("jsessionid=EVIL&x=1"), Some(&live)).as_deref(), Some("x=1"));
    let off = config(&[("SESSION_MODE", "guard"), ("GUARD_COOKIES", "JSESSIONID")]);
    assert_eq!(forward_path(&off, "/a;jsessionid=ABC;v=1", Some(&live)).as_deref(), Some("/a;v=1"));
    assert_eq!(forward_path(&config(&[]), "/a;CFTOKEN=x", None).as_deref(), Some("/a"));
}

#[test]
fn url_tokens_reach_a_guarded_origin_only_when_they_are_the_live_session() {
    let origin = OriginIds(vec![("CFID".into(), "1".into()), ("CFTOKEN".into(), "2".into())]);
    let on = config(&[("SESSION_MODE", "guard"), ("URL_TOKENS", "true")]);
    assert_eq!(
        forward_query(&on, Some("a=1&CFID=1&CFTOKEN=2"), Some(&origin)).as_deref(),
        Some("a=1&CFID=1&CFTOKEN=2")
    );
    assert_eq!(forward_query(&on, Some("a=1&CFID=9&CFTOKEN=2"), Some(&origin)).as_deref(), Some("a=1"));
    assert_eq!(forward_query(&on, Some("CFID=1&CFTOKEN=2"), None), None);
    let off = config(&[("SESSION_MODE", "guard")]);
    assert_eq!(forward_query(&off, Some("a=1&CFID=1&CFTOKEN=2"), Some(&origin)).as_deref(), Some("a=1"));
}

#[test]
fn edge_mode_drops_the_origins_own_session_cookies() {
    let e = config(&[]);
    for sc in ["CFID=1; Path=/", "cftoken=2;Path=/", "__Host-CFID=1; Secure", "CFTOKEN"] {
        assert!(!keep_origin_set_cookie(&e, sc), "{sc}");
    }
    assert!(keep_origin_set_cookie(&e, "CFIDX=1"));
    assert!(keep_origin_set_cookie(&e, "JSESSIONID=1"));
    assert!(keep_origin_set_cookie(&config(&[("SESSION_MODE", "guard")]), "CFID=1"));
}

#[test]
fn guard_cookies_and_their_expiry() {
    let g = config(&[("SESSION_MODE", "guard"), ("COOKIE_DOMAIN", "example.com")]);
    let mut rng = SeqRandom::default();
    let gid = Cfid::generate(&mut rng).unwrap();
    let token = CfToken::mint(&gid, &key(&g), 0, &mut rng).unwrap();
    let set = session_cookies(&g, &gid, &token, 60, 0);
    assert_eq!(set.len(), 1);
    assert!(set[0].starts_with(&format!("CFGUARD={gid}.")) && !set[0].contains("Domain="), "{}", set[0]);
    let gone: Vec<String> = expiry(&g, &[]).into_iter().map(|(_, v)| v).collect();
    for name in ["CFID=;", "cfid=;", "CFTOKEN=;", "cftoken=;", "CFGUARD=;"] {
        assert!(gone.iter().any(|c| c.starts_with(name)), "{name}: {gone:?}");
    }
    assert!(gone.iter().any(|c| c.starts_with("cfid=;") && c.contains("Domain=example.com")));
    assert!(gone.iter().any(|c| c.starts_with("cfid=;") && !c.contains("Domain=")));
    let secure = config(&[("SESSION_MODE", "guard"), ("COOKIE_SECURE", "true")]);
    assert!(session_cookies(&secure, &gid, &token, 60, 0)[0].starts_with("__Host-CFGUARD="));
}
