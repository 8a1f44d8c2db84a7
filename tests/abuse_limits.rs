//! `ABUSE_LIMITS` through the real Worker: one address is limited in new sessions and in
//! refused ids, another is not.

mod common;

use std::time::Duration;

use common::{verify::now_ms, wait::until, Client, Edge, Origin};

/// Waits (with a deadline) until the wall clock is in the first 40 s of a minute: `wrangler
/// dev`'s rate limiter counts in fixed 60 s windows, and a run of 70 requests that crossed one
/// would start counting again.
fn early_in_a_minute() {
    until("the start of a rate-limit window", Duration::from_secs(65), Duration::from_millis(200), || {
        (now_ms() % 60_000 < 40_000).then_some(())
    });
}

#[test]
fn one_address_is_limited_in_new_sessions_and_refused_ids() {
    let origin = Origin::ok();
    let edge = Edge::start(
        &origin.url(),
        &[("ABUSE_LIMITS", "true"), ("TEST_CLIENT_HEADER", "true"), ("SESSION_DEFER", "false")],
    );
    let attacker = [("X-Test-Client", r#"{"ip":"192.0.2.66"}"#)];
    early_in_a_minute();
    let mut limited = None;
    for i in 0..70 {
        let r = Client::new().send("GET", &edge.url("/"), &attacker, None);
        if r.status == 429 {
            limited = Some((i, r));
            break;
        }
    }
    let (i, r) = limited.expect("70 new sessions from one address were never limited");
    assert_eq!(i, 60, "the limit is 60 per minute (wrangler.toml)");
    assert_eq!(r.header("retry-after"), Some("60"));
    assert!(r.text().contains("new_sessions"));
    edge.wait_for_log("abuse.limited");
    let other = Client::new().send("GET", &edge.url("/"), &[("X-Test-Client", r#"{"ip":"192.0.2.67"}"#)], None);
    assert_eq!(other.status, 200, "another address was limited");
    // Forged pairs from one address.
    let forger = [("X-Test-Client", r#"{"ip":"192.0.2.99"}"#)];
    early_in_a_minute();
    let mut refused_at = None;
    for i in 0..70 {
        let c = Client::new();
        c.jar.set("CFID", &format!("{i:032x}"));
        c.jar.set("CFTOKEN", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        if c.send("GET", &edge.url("/"), &forger, None).status == 429 {
            refused_at = Some(i);
            break;
        }
    }
    assert_eq!(refused_at, Some(60), "forged pairs were not limited at 60");
}
