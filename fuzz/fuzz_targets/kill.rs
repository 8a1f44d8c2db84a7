//! Kill requests: the trigger, the redirect (never off-site), cross-site detection, referers.
#![no_main]
use cfsession_edge::core::{
    forward::clean_referer,
    kill::{is_cross_site, same_site_path, KillPolicy, RequestSite, Trigger},
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let mut parts = s.splitn(3, '\n');
    let (path, q, other) = (parts.next().unwrap_or(""), parts.next(), parts.next().unwrap_or(""));
    let k = KillPolicy::default();
    let _ = k.trigger(path, q);
    for t in [Trigger::Flag, Trigger::Path] {
        let l = k.location(t, path, q);
        assert!(l.starts_with('/') && !l.starts_with("//") && !l.starts_with("/\\"), "{l:?}");
        assert!(!l.chars().any(char::is_control), "{l:?}");
    }
    let p = same_site_path(path);
    assert!(!p.starts_with("//") && !p.starts_with("/\\"));
    let from = RequestSite { sec_fetch_site: None, origin: Some(other), referer: Some(path), host: "a.example" };
    let _ = is_cross_site(&from);
    let _ = clean_referer(other);
});
