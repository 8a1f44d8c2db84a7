use super::response::{origin_set, OriginSet};
use super::*;
use crate::core::cookie_header::Removed;
use crate::core::random::SeqRandom;

fn ids_in(h: Option<&str>, p: &GuardPolicy) -> Result<Option<OriginIds>, Unusable> {
    OriginIds::from_cookie_header(&CookieHeader::new(h.unwrap_or("")), p)
}

fn forward(h: &str, p: &GuardPolicy, live: Option<&OriginIds>) -> Rebuilt {
    forward_cookie(&CookieHeader::new(h), p, live)
}

fn key() -> TokenKey {
    TokenKey::derive(b"guard test signing key, long enough!!")
}

fn acf() -> GuardPolicy {
    GuardPolicy::default()
}

#[test]
fn origin_ids_are_read_case_insensitively_and_canonically() {
    let ids = ids_in(Some("a=1; CFTOKEN=12345678; CFID=42; b=2"), &acf()).unwrap().unwrap();
    assert_eq!(ids.0, vec![("CFID".to_owned(), "42".to_owned()), ("CFTOKEN".to_owned(), "12345678".to_owned())]);
    let lucee = ids_in(Some("cftoken=0; cfid=5b6f-aa"), &acf()).unwrap().unwrap();
    assert_eq!(lucee.cookie_header(), "cfid=5b6f-aa; cftoken=0");
    assert_eq!(ids_in(Some("x=1"), &acf()), Ok(None));
    assert_eq!(ids_in(None, &acf()), Ok(None));
    let upper = ids_in(Some("CFID=42; CFTOKEN=1"), &acf()).unwrap().unwrap();
    let lower = ids_in(Some("cfid=42; cftoken=1"), &acf()).unwrap().unwrap();
    assert!(upper.same_as(&lower));
    assert_eq!(upper.digest(), lower.digest());
}

#[test]
fn ambiguous_or_malformed_origin_cookies_are_unusable() {
    assert_eq!(ids_in(Some("CFID=1; cfid=2"), &acf()), Err(Unusable::Ambiguous));
    assert!(ids_in(Some("CFID=1; CFID=1"), &acf()).unwrap().is_some());
    for bad in ["CFID=a b", "CFID=\u{7f}", "CFID=\u{e9}", "CFID=a\tb", "CFID=\u{1}"] {
        assert_eq!(ids_in(Some(bad), &acf()), Err(Unusable::Malformed), "{bad}");
    }
    let long = format!("CFID={}", "1".repeat(MAX_VALUE_LEN + 1));
    assert_eq!(ids_in(Some(long.as_str()), &acf()), Err(Unusable::Malformed));
    // PHP reads `laravel.session` as `laravel_session`: another spelling is no identity, and
    // it never reaches the origin beside the bound one.
    let laravel = GuardPolicy { cookies: vec!["laravel_session".into()] };
    let h = "laravel.session=a; laravel_session=b";
    let ids = ids_in(Some(h), &laravel).unwrap().unwrap();
    assert_eq!(ids.0, vec![("laravel_session".to_owned(), "b".to_owned())]);
    let r = forward(h, &laravel, Some(&ids));
    assert_eq!((r.header.as_deref(), r.removed), (Some("laravel_session=b"), vec![Removed::Spelling]));
}

#[test]
fn every_real_session_cookie_shape_is_an_identity() {
    let cases: [(&str, String); 9] = [
        ("CFID", "1234".into()),
        ("cfid", "0badc0de-0000-4000-8000-00000000f1c5".into()),
        ("JSESSIONID", "8F3A4C1B2D9E0F7A6B5C4D3E2F1A0B9C.node1".into()),
        ("PHPSESSID", "k3v9q2m1d0c8b7a6z5y4x3w2v1,-".into()),
        (
            "connect.sid",
            "s%3AyT2o8nWUrTRoNSmP6cv2Z9JyQx2uXhKm.1%2BxZ0%2Fk9pG7%2BvqYwT1bq4sA0e5LrY3uE8b0H2iQpN8s".into(),
        ),
        ("sessionid", "4s1u9x0q2w3e5r6t7y8u9i0o1p2a3s4d".into()),
        ("laravel_session", format!("eyJpdiI6{}%3D%3D", "A".repeat(380))),
        ("_app_session", format!("{}--{}", "B%2F".repeat(900), "c0ffee")),
        ("ASP.NET_SessionId", "\"ab12cd34ef56gh78ij90kl12\"".into()),
    ];
    for (name, value) in cases {
        let policy = GuardPolicy { cookies: vec![name.into()] };
        let header = format!("other=1; {name}={value}");
        let ids = ids_in(Some(header.as_str()), &policy).unwrap().unwrap_or_else(|| panic!("{name}"));
        assert_eq!(ids.0, vec![(name.to_owned(), value.clone())], "{name}: compared byte for byte");
        assert_eq!(forward(&header, &policy, Some(&ids)).header.as_deref(), Some(header.as_str()));
        let set = origin_set(&OriginIds::default(), &[format!("{name}={value}; Path=/; HttpOnly")], &policy, 0);
        assert!(
            matches!(set, OriginSet::Rebind { ids, .. } if ids.0 == vec![(name.to_owned(), value.clone())]),
            "{name}"
        );
    }
}

#[test]
fn a_binding_verifies_only_with_its_own_origin_ids() {
    let ids = ids_in(Some("CFID=42; CFTOKEN=12345678"), &acf()).unwrap().unwrap();
    let b = Binding::mint(&ids, &key(), 1_000, &mut SeqRandom::default()).unwrap();
    let parsed = Binding::parse(&Binding::cookie_value(&b.gid, &b.token)).unwrap();
    assert!(parsed.verify(&ids.binding_key(&key())));
    for other in
        ["CFID=43; CFTOKEN=12345678", "CFID=42; CFTOKEN=12345679", "CFID=42", "CFID=42; CFTOKEN=12345678; JSESSIONID=x"]
    {
        let policy = GuardPolicy { cookies: vec!["CFID".into(), "CFTOKEN".into(), "JSESSIONID".into()] };
        let o = ids_in(Some(other), &policy).unwrap().unwrap();
        assert!(!parsed.verify(&o.binding_key(&key())), "{other}");
    }
    assert!(!parsed.verify(&ids.binding_key(&TokenKey::derive(b"another key entirely, thirty-two+"))));
    // The edge-mode token key without the binding does not verify it either.
    assert!(!parsed.token.verify(&parsed.gid, &key()));
    for bad in ["", ".", "abc.def", &Binding::cookie_value(&b.gid, &b.token).replace('.', "")] {
        assert!(Binding::parse(bad).is_none(), "{bad}");
    }
}

#[test]
fn origin_set_cookies_are_read_as_values_or_expiry() {
    const NOW: UnixMs = 1_800_000_000_000; // 2027
    let p = acf();
    let held = ids_in(Some("CFID=1; CFTOKEN=2"), &p).unwrap().unwrap();
    let set = |v: &[&str]| origin_set(&held, &v.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &p, NOW);
    let bound = |out: OriginSet| match out {
        OriginSet::Rebind { ids, .. } => ids.0,
        other => panic!("{other:?}"),
    };
    assert_eq!(set(&["a=1; Path=/"]), OriginSet::Nothing);
    assert_eq!(
        bound(set(&["CFID=7;Path=/;Expires=Sun, 06-Nov-2055 08:49:37 GMT;HttpOnly", "CFTOKEN=11111111;Path=/"])),
        vec![("CFID".into(), "7".into()), ("CFTOKEN".into(), "11111111".into())]
    );
    // A new value in another case replaces the old one.
    assert_eq!(
        bound(set(&["cftoken=3"])),
        vec![("CFID".to_owned(), "1".to_owned()), ("cftoken".to_owned(), "3".to_owned())]
    );
    assert_eq!(set(&["CFID=1; Path=/"]), OriginSet::Nothing);
    assert_eq!(set(&["cfid=; Max-Age=0"]), OriginSet::LoggedOut);
    assert_eq!(set(&["CFID=7; Expires=Thu, 01-Jan-1970 00:00:01 GMT"]), OriginSet::LoggedOut);
    assert_eq!(set(&["CFID=7; max-age=-1"]), OriginSet::LoggedOut);
    // Lucee's invalidate: an expiry and a new id in one response.
    assert_eq!(
        bound(set(&["cfid=; Max-Age=0", "cfid=new-1;Path=/"])),
        vec![("cfid".into(), "new-1".into()), ("CFTOKEN".into(), "2".into())]
    );
}

#[test]
fn forwarded_cookies_lose_the_binding_and_unbound_origin_ids() {
    let h = "a=\"x, y\"; CFID=1; __Host-CFGUARD=g; CFTOKEN=2; b=3";
    let live = ids_in(Some(h), &acf()).unwrap().unwrap();
    assert_eq!(forward(h, &acf(), Some(&live)).header.as_deref(), Some("a=\"x, y\"; CFID=1; CFTOKEN=2; b=3"));
    assert_eq!(forward(h, &acf(), None).header.as_deref(), Some("a=\"x, y\"; b=3"));
    assert_eq!(forward("cfid=1; CFGUARD=g", &acf(), None).header, None);
    assert_eq!(forward("z=1", &acf(), None).header.as_deref(), Some("z=1"));
    // The binding never reaches the origin, however it is hidden.
    assert_eq!(forward("a=1 CFGUARD=g; b=2", &acf(), None).header.as_deref(), Some("b=2"));
}

#[test]
fn quotes_whitespace_and_spellings_hide_no_guarded_cookie() {
    let php = GuardPolicy { cookies: vec!["PHPSESSID".into()] };
    let live = OriginIds(vec![("PHPSESSID".into(), "mine".into())]);
    for smuggled in [
        "a=\"; PHPSESSID=victim; z=\"",
        "a=\"x;PHPSESSID=victim;\"",
        "a=1 PHPSESSID=victim",
        "a=\"q\"PHPSESSID=victim",
        "a=1,PHPSESSID=victim",
        "phpsessid=victim",
        "PHP%53ESSID=victim",
        "PHPSESSID[0]=victim",
        "PHPSESSID=mine; PHPSESSID=victim",
    ] {
        for live in [None, Some(&live)] {
            let out = forward(smuggled, &php, live).header.unwrap_or_default();
            assert!(!out.contains("victim"), "{smuggled} ({live:?}) -> {out}");
        }
    }
}

#[test]
fn kills_expire_both_name_cases() {
    let p = GuardPolicy { cookies: vec!["CFID".into(), "cftoken".into(), "JSESSIONID".into()] };
    let names = p.expiry_names();
    for n in ["CFID", "cfid", "cftoken", "CFTOKEN", "JSESSIONID", "jsessionid"] {
        assert!(names.contains(&n.to_owned()), "{n}: {names:?}");
    }
}
