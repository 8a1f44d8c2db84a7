//! CFIDs and CFTOKENs as presented by clients: parsing and MAC verification.
#![no_main]
use cfsession_edge::core::ids::{CfToken, Cfid, TokenKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let (cfid, token) = s.split_once('\n').unwrap_or(("00112233445566778899aabbccddeeff", s));
    let key = TokenKey::derive(b"fuzz-key-fuzz-key-fuzz-key-fuzz-key");
    if let (Some(cfid), Some(token)) = (Cfid::parse(cfid), CfToken::parse(token)) {
        assert!(!token.verify(&cfid, &key), "a forged token verified");
        let _ = (token.issued_at(), token.fingerprint());
    }
});
