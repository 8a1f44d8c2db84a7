//! Configuration values: every variable with any value parses or names itself in the error.
#![no_main]
use cfsession_edge::core::{config::Config, faults::Faults};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let vars: Vec<(&str, &str)> = s.lines().filter_map(|l| l.split_once('=')).collect();
    let lookup = |name: &str| {
        vars.iter().rev().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()).or_else(|| {
            (name == "SESSION_SIGNING_KEY").then(|| "fuzz-key-fuzz-key-fuzz-key-fuzz-key".to_owned())
        })
    };
    if let Err(e) = Config::from_lookup(lookup) {
        assert!(!e.variable.is_empty());
    }
    let _ = Faults::parse(s);
});
