//! `Cookie` headers: reading the session pair, splitting pairs, stripping session cookies.
#![no_main]
use cfsession_edge::core::cookie::{cookie_pairs, read_session_cookies, strip_session_cookies};
use libfuzzer_sys::fuzz_target;

fn session_name(pair: &str) -> bool {
    let name = pair.split_once('=').map_or(pair, |(n, _)| n).trim().to_ascii_lowercase();
    let bare = name.strip_prefix("__host-").unwrap_or(&name);
    bare == "cfid" || bare == "cftoken"
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let (a, b) = s.split_once('\n').unwrap_or((s, ""));
    for prefixed in [false, true] {
        let read = read_session_cookies([a, b], prefixed);
        assert!(read.cfid.len() <= 4 && read.cftoken.len() <= 4);
    }
    for pair in cookie_pairs(a) {
        assert!(a.contains(pair));
    }
    if let Some(kept) = strip_session_cookies(a) {
        assert!(!cookie_pairs(&kept).iter().any(|p| session_name(p)), "a session cookie survived: {kept:?}");
    }
});
