//! Query strings: finding and removing parameters (the kill flag, URL tokens).
#![no_main]
use cfsession_edge::core::query;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let (name, q) = s.split_once('\n').unwrap_or(("CFTOKEN", s));
    let _ = query::has(q, name);
    let _ = query::get(q, name);
    if let Some(rest) = query::without(q, &[name, "CFID"]) {
        if !name.is_empty() && !name.contains(['&', '=', '%', '+']) {
            assert!(!query::has(&rest, name), "{name} left in {rest}");
        }
    }
});
