//! Signing-key rotation through the real Worker (`SESSION_SIGNING_KEY_PREVIOUS`): sessions
//! and guard-mode bindings survive it, their tokens re-minted under the new key.

mod common;

use std::time::Duration;

use common::{
    cf_origin::{CfOrigin, Engine},
    Client, Edge, Origin,
};

#[test]
fn a_rotated_signing_key_keeps_sessions_and_re_mints_their_tokens() {
    const OLD: &str = "old-signing-key-0123456789abcdef0123456789abcdef";
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_SIGNING_KEY", OLD)]);
    let c = Client::new();
    c.get(&edge.url("/"));
    c.get(&edge.url("/"));
    let id = origin.last_id();
    let old_token = c.jar.get("CFTOKEN").unwrap();
    // Deploy the new key with the old one as the previous key.
    let edge = edge.restart_with(&[
        ("SESSION_SIGNING_KEY", Some(common::edge::TEST_SIGNING_KEY)),
        ("SESSION_SIGNING_KEY_PREVIOUS", Some(OLD)),
    ]);
    let r = c.get(&edge.url("/"));
    assert_eq!(origin.last_id(), id, "the session did not survive the new key");
    let new_token = r.set_cookie_value("CFTOKEN").expect("a re-minted token");
    assert_ne!(new_token, old_token);
    assert_eq!(r.set_cookie_value("CFID"), Some(id.clone()), "the CFID stays");
    // The origin verifies with the new key's origin key.
    let signed = common::verify::Signed::from_request(&origin.last());
    assert!(signed.verify(common::verify::test_origin_key().as_bytes(), common::verify::now_s()));
    let old_origin_key = common::verify::origin_key(OLD);
    assert!(!signed.verify(old_origin_key.as_bytes(), common::verify::now_s()), "signed with the old key");
    c.get(&edge.url("/"));
    assert_eq!(origin.last_id(), id);
    // During the overlap the old token re-mints to the same twin (a parallel request of the
    // same browser); once the previous key is removed, only the re-minted token works.
    let stale = Client::new();
    stale.jar.set("CFID", &id);
    stale.jar.set("CFTOKEN", &old_token);
    stale.get(&edge.url("/"));
    assert_eq!(origin.last_id(), id);
    let edge = edge.restart_with(&[("SESSION_SIGNING_KEY_PREVIOUS", None)]);
    c.get(&edge.url("/"));
    assert_eq!(origin.last_id(), id, "the re-minted token is the new key's own");
    stale.jar.set("CFTOKEN", &old_token);
    stale.get(&edge.url("/"));
    assert_ne!(origin.last_id(), id, "the old key's token still works without SESSION_SIGNING_KEY_PREVIOUS");
}

#[test]
fn guard_mode_bindings_survive_a_key_rotation() {
    const OLD: &str = "old-signing-key-0123456789abcdef0123456789abcdef";
    let o = CfOrigin::start(Engine::Acf, Duration::from_secs(1200));
    let edge = Edge::start(&o.url(), &[("SESSION_MODE", "guard"), ("SESSION_SIGNING_KEY", OLD)]);
    let c = Client::new();
    for _ in 0..3 {
        c.get(&edge.url("/"));
    }
    let id = o.last_seen();
    let edge = edge.restart_with(&[
        ("SESSION_SIGNING_KEY", Some(common::edge::TEST_SIGNING_KEY)),
        ("SESSION_SIGNING_KEY_PREVIOUS", Some(OLD)),
    ]);
    let r = c.get(&edge.url("/"));
    assert!(r.set_cookie("CFGUARD").is_some(), "the binding was not re-minted");
    assert_eq!(o.last_seen(), id);
    let edge = edge.restart_with(&[("SESSION_SIGNING_KEY_PREVIOUS", None)]);
    c.get(&edge.url("/"));
    assert_eq!(o.last_seen(), id, "the re-minted binding is the new key's own");
}
