//! `Cookie` headers: reading the session pair, splitting pairs as servers do, stripping
//! session cookies so that none of four origin parsers reads one from what is forwarded.
#![no_main]
use cfsession_edge::core::{
    cookie::{read_session_cookies, strip_session_cookies},
    cookie_header::{pairs, CookieHeader},
};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/cookie_parsers/mod.rs"]
mod cookie_parsers;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let (a, b) = s.split_once('\n').unwrap_or((s, ""));
    for prefixed in [false, true] {
        let read = read_session_cookies(&CookieHeader::new(&format!("{a}, {b}")), prefixed);
        assert!(read.cfid.len() <= 4 && read.cftoken.len() <= 4);
    }
    for pair in pairs(a) {
        assert!(a.contains(pair));
    }
    if let Some(kept) = strip_session_cookies(&CookieHeader::new(a)).header {
        for (parser, parse) in cookie_parsers::PARSERS {
            for (name, _) in parse(&kept) {
                let lower = name.to_ascii_lowercase();
                let bare = lower.strip_prefix("__host-").unwrap_or(&lower);
                assert!(bare != "cfid" && bare != "cftoken", "{parser} reads {name} from {kept:?}");
            }
        }
    }
});
