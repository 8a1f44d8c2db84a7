//! The origin's control headers: `X-Session-Set`, `X-Session-Action`, `X-Session-User`.
#![no_main]
use cfsession_edge::core::protocol::{json_depth, parse_origin_changes, MAX_DATA_DEPTH, MAX_SET_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let mut parts = s.splitn(3, '\n');
    let (set, action, user) = (parts.next(), parts.next(), parts.next());
    let c = parse_origin_changes(set, action, user);
    let timeout = c.timeout();
    if let Some(map) = c.set {
        assert!(set.unwrap_or("").len() <= MAX_SET_BYTES);
        assert!(json_depth(&serde_json::Value::Object(map)) <= MAX_DATA_DEPTH);
    }
    let _ = timeout;
});
