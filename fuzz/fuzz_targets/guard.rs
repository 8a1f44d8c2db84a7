//! Guard mode: origin session cookies in a `Cookie` header, binding cookies, and the origin's
//! `Set-Cookie` values; no origin parser reads an unbound guarded cookie from what is forwarded.
#![no_main]
use cfsession_edge::core::{
    cookie_header::CookieHeader,
    guard::{forward_cookie, response::origin_set, Binding, GuardPolicy, OriginIds},
    ids::TokenKey,
};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/cookie_parsers/mod.rs"]
mod cookie_parsers;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let policy = GuardPolicy { cookies: vec!["CFID".into(), "CFTOKEN".into(), "JSESSIONID".into()] };
    let mut parts = s.splitn(3, '\n');
    let (cookie, binding, set) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let key = TokenKey::derive(b"fuzz-key-fuzz-key-fuzz-key-fuzz-key");
    if let Ok(Some(ids)) = OriginIds::from_cookie_header(&CookieHeader::new(cookie), &policy) {
        assert!(!ids.is_empty());
        if let Some(b) = Binding::parse(binding) {
            assert!(!b.verify(&ids.binding_key(&key)), "a forged binding verified");
        }
    }
    let sets: Vec<String> = set.split('\n').map(str::to_owned).collect();
    let _ = origin_set(&OriginIds::default(), &sets, &policy, 1_800_000_000_000);
    if let Some(kept) = forward_cookie(&CookieHeader::new(cookie), &policy, None).header {
        assert!(OriginIds::from_cookie_header(&CookieHeader::new(&kept), &policy).is_ok_and(|i| i.is_none()), "{kept:?}");
        for (parser, parse) in cookie_parsers::PARSERS {
            for (name, _) in parse(&kept) {
                let guarded = policy.cookies.iter().any(|c| c.eq_ignore_ascii_case(&name));
                assert!(!guarded, "{parser} reads {name} from {kept:?}");
            }
        }
    }
});
