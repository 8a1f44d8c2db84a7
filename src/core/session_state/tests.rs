use serde_json::json;

use super::*;
use crate::core::{fingerprint::Fingerprint, session_policy::PathRule};

const T0: UnixMs = 1_800_000_000_000;
const S: u64 = 1000;

fn policy() -> Timing {
    Timing {
        idle_timeout_s: 60,
        max_lifetime_s: 600,
        touch_interval_s: 10,
        count_hits: false,
        path_timeout_s: None,
        no_refresh: false,
    }
}

/// Ids as the Worker presents them when the object may store them (with the client's hints,
/// here empty).
fn presented(fresh: bool, issued_at: UnixMs) -> Bearer {
    let client = Some(ClientHints::default());
    Bearer { cfid: "c1".into(), token_fp: "fp".into(), issued_at, fresh, client, ..Bearer::default() }
}

/// The rule of a `SESSION_POLICY` entry `=<seconds>`.
fn timeout(seconds: u64) -> PathRule {
    PathRule { timeout_s: Some(seconds), ..PathRule::default() }
}

fn live(now: UnixMs) -> Stored {
    let mut r = SessionRecord::new("fp".into(), now, now, &policy());
    put_live(&mut r);
    Stored::Live(r)
}

fn active(b: Begin) -> (SessionRecord, bool, Touch) {
    match b {
        Begin::Active { record, stored_now, touch, .. } => (record, stored_now, touch),
        other => panic!("expected active, got {other:?}"),
    }
}

#[test]
fn fresh_ids_are_stored_with_one_hit() {
    let (b, w) = begin(None, &presented(true, T0), T0, &policy());
    let (r, stored_now, _) = active(b);
    assert!(stored_now);
    assert_eq!(r.hits, 1);
    assert_eq!(r.created, T0);
    assert_eq!(r.absolute_deadline, Some(T0 + 600 * S));
    assert!(matches!(w, Write::Put(Stored::Live(_))));
}

#[test]
fn deferred_session_is_claimed_on_return_with_two_hits() {
    let (b, w) = begin(None, &presented(false, T0), T0 + 5 * S, &policy());
    let (r, stored_now, _) = active(b);
    assert!(stored_now);
    assert_eq!(r.hits, 2);
    assert_eq!(r.created, T0, "a claimed session started when its ids were issued");
    assert!(matches!(w, Write::Put(_)));
}

#[test]
fn deferred_session_cannot_be_claimed_after_its_idle_window_or_from_the_future() {
    let (b, w) = begin(None, &presented(false, T0), T0 + 60 * S, &policy());
    assert_eq!(b, Begin::Refused(Refusal::Unknown));
    assert_eq!(w, Write::Nothing);
    let (b, _) = begin(None, &presented(false, T0 + 3600 * S), T0, &policy());
    assert_eq!(b, Begin::Refused(Refusal::Unknown));
}

#[test]
fn claim_window_is_capped_even_with_long_timeouts() {
    let p = Timing { idle_timeout_s: 7 * 24 * 3600, max_lifetime_s: 0, ..policy() };
    let (b, _) = begin(None, &presented(false, T0), T0 + MAX_CLAIM_WINDOW_MS, &p);
    assert_eq!(b, Begin::Refused(Refusal::Unknown));
}

#[test]
fn wrong_token_is_a_mismatch_and_writes_nothing() {
    let stored = live(T0);
    let p = Bearer { token_fp: "other".into(), ..presented(false, T0) };
    assert_eq!(begin(Some(&stored), &p, T0 + S, &policy()), (Begin::Refused(Refusal::Mismatch), Write::Nothing));
}

#[test]
fn reads_within_the_touch_interval_do_not_write() {
    let mut stored = live(T0);
    for i in 1..=9 {
        let (b, w) = begin(Some(&stored), &presented(false, T0), T0 + i * S, &policy());
        let (r, _, touch) = active(b);
        assert_eq!(w, Write::Nothing, "request {i} wrote");
        assert!(!touch.refresh_cookie);
        assert_eq!(r.hits, 1 + i);
        stored = Stored::Live(r); // the in-memory copy moves on
    }
    let (b, w) = begin(Some(&stored), &presented(false, T0), T0 + 10 * S, &policy());
    let (r, _, touch) = active(b);
    assert!(touch.persist && touch.refresh_cookie);
    assert!(matches!(w, Write::Put(_)));
    assert_eq!(r.persisted_access, T0 + 10 * S);
    assert_eq!(r.writes, 2);
}

#[test]
fn counting_hits_writes_every_request_but_refreshes_cookies_per_interval() {
    let p = Timing { count_hits: true, ..policy() };
    let stored = live(T0);
    let (b, w) = begin(Some(&stored), &presented(false, T0), T0 + S, &p);
    let (_, _, touch) = active(b);
    assert!(touch.persist && !touch.refresh_cookie);
    assert!(matches!(w, Write::Put(_)));
}

#[test]
fn touch_interval_never_exceeds_half_the_idle_timeout() {
    let p = Timing { idle_timeout_s: 4, touch_interval_s: 60, ..policy() };
    let mut stored = Stored::Live(SessionRecord::new("fp".into(), T0, T0, &p));
    for step in 1..=10 {
        let now = T0 + step * 1500;
        let (b, _) = begin(Some(&stored), &presented(false, T0), now, &p);
        let (r, _, _) = active(b);
        assert!(now - r.persisted_access <= 2 * S, "persisted access lags too far at {step}");
        stored = Stored::Live(r);
    }
}

#[test]
fn a_paths_timeout_applies_from_its_request_on_and_is_stored_once() {
    let stored = live(T0);
    let admin = policy().for_path(&timeout(5));
    // Checked with the session's own 60 s: 30 s idle is still live.
    let (b, w) = begin(Some(&stored), &presented(false, T0), T0 + 30 * S, &admin);
    let (r, _, touch) = active(b);
    assert_eq!(r.idle_timeout_s, 5);
    assert_eq!(r.idle_deadline(), T0 + 35 * S);
    assert!(touch.persist && touch.refresh_cookie, "a changed timeout is stored and renews the cookie");
    assert!(matches!(w, Write::Put(_)));
    // The same path again within the touch interval: nothing to store.
    let stored = Stored::Live(r);
    let (b, w) = begin(Some(&stored), &presented(false, T0), T0 + 31 * S, &admin);
    assert!(!active(b).2.persist);
    assert_eq!(w, Write::Nothing);
    // Past the path's timeout the session is over, whatever the next path says.
    let (b, _) = begin(Some(&stored), &presented(false, T0), T0 + 37 * S, &policy().for_path(&timeout(600)));
    assert_eq!(b, Begin::Refused(Refusal::Expired));
}

#[test]
fn a_session_started_on_a_timed_path_gets_its_timeout() {
    let (b, _) = begin(None, &presented(true, T0), T0, &policy().for_path(&timeout(5)));
    assert_eq!(active(b).0.idle_timeout_s, 5);
    let (b, _) = begin(None, &presented(false, T0), T0 + 30 * S, &policy().for_path(&timeout(5)));
    assert_eq!(active(b).0.idle_timeout_s, 5, "a claimed deferred session too");
}

#[test]
fn idle_timeout_ends_the_session_and_never_revives_it() {
    let stored = live(T0);
    let (b, w) = begin(Some(&stored), &presented(false, T0), T0 + 60 * S, &policy());
    assert_eq!(b, Begin::Refused(Refusal::Expired));
    let Write::Put(Stored::Ended(tomb)) = w else { panic!("expected a tombstone, got {w:?}") };
    assert_eq!(tomb.cause, crate::core::tombstone::Cause::Ended(EndReason::Timeout));
    assert_eq!(tomb.pending.as_ref().unwrap().reason, Some(EndReason::Timeout));
    let ended = Stored::Ended(tomb);
    let (b, w) = begin(Some(&ended), &presented(false, T0), T0 + 61 * S, &policy());
    assert_eq!((b, w), (Begin::Refused(Refusal::Ended), Write::Nothing));
}

#[test]
fn absolute_lifetime_ends_an_active_session() {
    let mut stored = live(T0);
    for k in 1..20 {
        let now = T0 + k * 30 * S; // active every 30 s, up to 570 s
        let (b, _) = begin(Some(&stored), &presented(false, T0), now, &policy());
        stored = Stored::Live(active(b).0);
    }
    let (b, w) = begin(Some(&stored), &presented(false, T0), T0 + 600 * S, &policy());
    assert_eq!(b, Begin::Refused(Refusal::Expired));
    let Write::Put(Stored::Ended(t)) = w else { panic!("{w:?}") };
    assert_eq!(t.cause, crate::core::tombstone::Cause::Ended(EndReason::Lifetime));
}

#[test]
fn expiry_reason_is_the_deadline_that_passed_first() {
    let mut r = SessionRecord::new("fp".into(), T0, T0, &policy());
    r.last_access = T0 + 580 * S; // idle deadline T0+640s, absolute T0+600s
    assert_eq!(r.expired(T0 + 700 * S), Some(EndReason::Lifetime));
    r.last_access = T0; // idle deadline T0+60s
    assert_eq!(r.expired(T0 + 700 * S), Some(EndReason::Timeout));
    assert_eq!(r.expired(T0 + 59 * S), None);
    r.absolute_deadline = None;
    r.last_access = T0 + 1000 * S;
    assert_eq!(r.expired(T0 + 1059 * S), None);
}

#[test]
fn tombstones_outlive_the_claim_window() {
    let t = Tombstone::unstored(T0, EndReason::Killed, T0 + S);
    assert!(t.purge_at > T0 + MAX_CLAIM_WINDOW_MS);
}

#[test]
fn updates_merge_delete_and_respect_the_size_limit() {
    let stored = live(T0);
    let set = json!({"a": 1, "b": "x"}).as_object().unwrap().clone();
    let u = Update { set: Some(set), ..Default::default() };
    let (out, w) = apply_update(Some(&stored), &presented(false, T0), &u, T0 + S, &policy(), 1024);
    let Updated::Applied { record, data_refused: false, stored_now: false } = out else { panic!("{out:?}") };
    assert_eq!(serde_json::Value::Object(record.data.clone()), json!({"a": 1, "b": "x"}));
    assert!(matches!(w, Write::Put(_)));

    let stored = Stored::Live(record);
    let set = json!({"a": null, "c": [1, 2]}).as_object().unwrap().clone();
    let u = Update { set: Some(set), idle_timeout_s: Some(5), user: Some("u1".into()) };
    let (out, _) = apply_update(Some(&stored), &presented(false, T0), &u, T0 + 2 * S, &policy(), 1024);
    let Updated::Applied { record, .. } = out else { panic!("{out:?}") };
    assert_eq!(serde_json::Value::Object(record.data.clone()), json!({"b": "x", "c": [1, 2]}));
    assert_eq!(record.idle_timeout_s, 5);
    assert_eq!(record.user.as_deref(), Some("u1"));

    let stored = Stored::Live(record);
    let big = json!({"big": "x".repeat(2000)}).as_object().unwrap().clone();
    let u = Update { set: Some(big), user: Some("u2".into()), ..Default::default() };
    let (out, _) = apply_update(Some(&stored), &presented(false, T0), &u, T0 + 3 * S, &policy(), 1024);
    let Updated::Applied { record, data_refused: true, .. } = out else { panic!("{out:?}") };
    assert!(!record.data.contains_key("big"), "an over-limit update was applied");
    assert_eq!(record.user.as_deref(), Some("u2"), "the rest of the update still applies");
}

#[test]
fn first_update_stores_a_new_deferred_session() {
    let set = json!({"cart": 1}).as_object().unwrap().clone();
    let u = Update { set: Some(set), ..Default::default() };
    let (out, w) = apply_update(None, &presented(true, T0), &u, T0, &policy(), 1024);
    let Updated::Applied { record, stored_now: true, .. } = out else { panic!("{out:?}") };
    assert_eq!(record.hits, 1);
    assert!(matches!(w, Write::Put(Stored::Live(_))));
}

#[test]
fn updates_to_ended_or_foreign_sessions_are_refused() {
    let ended = Stored::Ended(Tombstone::unstored(T0, EndReason::Killed, T0));
    let u = Update::default();
    assert_eq!(
        apply_update(Some(&ended), &presented(false, T0), &u, T0, &policy(), 10).0,
        Updated::Refused(Refusal::Ended)
    );
    let p = Bearer { token_fp: "x".into(), ..presented(false, T0) };
    assert_eq!(apply_update(Some(&live(T0)), &p, &u, T0, &policy(), 10).0, Updated::Refused(Refusal::Mismatch));
}

#[test]
fn client_hints_are_kept_when_the_session_is_first_stored_and_bounded() {
    let hints = ClientHints::new(Some("Mozilla/5.0 (X11)\u{7}"), Some("ch"));
    assert_eq!(hints, Some(ClientHints { user_agent: Some("Mozilla/5.0 (X11)".into()), country: Some("CH".into()) }));
    assert_eq!(ClientHints::new(None, Some("XXX")), None, "not a country code, and no agent");
    let long = "é".repeat(150);
    assert_eq!(ClientHints::new(Some(&long), None).unwrap().user_agent.unwrap().len(), 200);
    let p = Bearer { client: hints.clone(), ..presented(true, T0) };
    let (Begin::Active { record, .. }, _) = begin(None, &p, T0, &Timing::default()) else { panic!() };
    assert_eq!(record.client, hints);
}

#[test]
fn a_claim_without_client_hints_asks_for_them_and_stores_nothing() {
    let p = Bearer { client: None, ..presented(false, T0) };
    assert_eq!(begin(None, &p, T0 + S, &policy()), (Begin::NeedsClient, Write::Nothing));
    // Only a claimable pair asks: an unknown one is refused at once, a stored one never asks.
    assert_eq!(begin(None, &p, T0 + 3_600 * S, &policy()).0, Begin::Refused(Refusal::Unknown));
    assert!(matches!(begin(Some(&live(T0)), &p, T0 + S, &policy()).0, Begin::Active { .. }));
    let (b, w) = begin(None, &presented(false, T0), T0 + S, &policy());
    assert!(matches!(b, Begin::Active { stored_now: true, .. }) && matches!(w, Write::Put(_)));
}

#[test]
fn a_norefresh_request_does_not_extend_the_idle_timeout() {
    let stored = live(T0);
    let poll = policy().for_path(&PathRule { no_refresh: true, ..PathRule::default() });
    let mut state = stored;
    for i in 1..=59 {
        let (b, w) = begin(Some(&state), &presented(false, T0), T0 + i * S, &poll);
        let (r, _, touch) = active(b);
        assert_eq!((r.last_access, touch.refresh_cookie), (T0, false), "poll {i} counted as activity");
        assert!(matches!(w, Write::Nothing), "a poll writes nothing");
        state = Stored::Live(r);
    }
    let (b, _) = begin(Some(&state), &presented(false, T0), T0 + 60 * S, &poll);
    assert_eq!(b, Begin::Refused(Refusal::Expired), "polled every second, still timed out");
}

#[test]
fn a_token_of_the_previous_key_moves_the_record_to_its_rekeyed_twin_once() {
    let stored = live(T0);
    let rekeyed = Bearer { token_fp: "fp-new".into(), previous_fp: Some("fp".into()), ..presented(false, T0) };
    let (b, w) = begin(Some(&stored), &rekeyed, T0 + S, &policy());
    let (r, _, touch) = active(b);
    assert_eq!(r.token_fp, "fp-new");
    assert!(touch.refresh_cookie && matches!(w, Write::Put(_)), "one write");
    // A parallel request with the old token re-mints the same twin: still accepted.
    let (b, w) = begin(Some(&Stored::Live(r.clone())), &rekeyed, T0 + 2 * S, &policy());
    assert!(matches!(b, Begin::Active { .. }) && matches!(w, Write::Nothing));
    // Without the previous key, the old token no longer matches.
    let (b, _) = begin(Some(&Stored::Live(r)), &presented(false, T0), T0 + 3 * S, &policy());
    assert_eq!(b, Begin::Refused(Refusal::Mismatch));
}

fn probe(seen: Fingerprint, action: FingerprintAction) -> Option<Probe> {
    Some(Probe { seen, policy: crate::core::fingerprint::FingerprintPolicy { action, threshold: 5 } })
}

fn thief() -> Fingerprint {
    Fingerprint::of(Some("198.51.100.20"), Some("US"), Some(14061), Some("curl/8.4.0"), Some("en-US"))
}

fn at_home() -> Fingerprint {
    Fingerprint::of(Some("203.0.113.9"), Some("DE"), Some(3320), Some("Firefox/128.0"), Some("de-DE"))
}

#[test]
fn a_fingerprint_change_is_flagged_once_and_acted_on_at_the_threshold() {
    let claimed = Bearer { fingerprint: probe(at_home(), FingerprintAction::Log), ..presented(true, T0) };
    let (b, _) = begin(None, &claimed, T0, &policy());
    let (r, _, _) = active(b);
    assert_eq!(r.fingerprint, Some(at_home()), "recorded when stored");
    let stored = Stored::Live(r);
    let stolen = Bearer { fingerprint: probe(thief(), FingerprintAction::Log), ..presented(false, T0) };
    let (b, w) = begin(Some(&stored), &stolen, T0 + S, &policy());
    let Begin::Active { record, fingerprint: Some(v), .. } = b else { panic!("no verdict") };
    assert!(v.acts && v.raised && v.score.score == 12, "{v:?}");
    assert!(matches!(w, Write::Put(_)), "the flag is stored");
    assert_eq!(record.flag.as_ref().map(|f| f.score), Some(12));
    assert_eq!(record.fingerprint, Some(at_home()), "log keeps the original");
    // The same change again: no new flag, no write; still reported (it is at the threshold).
    let (b, w) = begin(Some(&Stored::Live(record.clone())), &stolen, T0 + 2 * S, &policy());
    let Begin::Active { fingerprint: Some(v), .. } = b else { panic!() };
    assert!(!v.raised && matches!(w, Write::Nothing));
    // `end`: the session ends on this request, and its end event carries the flag.
    let ending = Bearer { fingerprint: probe(thief(), FingerprintAction::End), ..presented(false, T0) };
    let (b, w) = begin(Some(&Stored::Live(record.clone())), &ending, T0 + 3 * S, &policy());
    assert_eq!(b, Begin::Refused(Refusal::Fingerprint));
    let Write::Put(Stored::Ended(t)) = w else { panic!("not ended") };
    let event = t.pending.expect("an end event");
    assert_eq!(event.reason, Some(EndReason::Fingerprint));
    assert_eq!(event.fingerprint.map(|f| f.score), Some(12));
    // `rotate`: the new fingerprint is taken (the Worker moves the session to new ids).
    let rotating = Bearer { fingerprint: probe(thief(), FingerprintAction::Rotate), ..presented(false, T0) };
    let (b, _) = begin(Some(&Stored::Live(record)), &rotating, T0 + 4 * S, &policy());
    let Begin::Active { record, fingerprint: Some(v), .. } = b else { panic!() };
    assert!(v.acts && v.action == FingerprintAction::Rotate);
    assert_eq!(record.fingerprint, Some(thief()));
}

#[test]
fn ids_may_be_unclaimed_only_within_the_claim_window() {
    let p = policy(); // idle timeout 60 s
    assert!(may_be_unclaimed(T0, T0, &p));
    assert!(may_be_unclaimed(T0, T0 + 59 * S, &p));
    assert!(!may_be_unclaimed(T0, T0 + 60 * S, &p));
    let long = Timing { idle_timeout_s: 7 * 24 * 3600, ..policy() };
    assert!(!may_be_unclaimed(T0, T0 + MAX_CLAIM_WINDOW_MS, &long), "never past 24 h");
    // What the Worker decides matches what the object does: a claim inside the window, with
    // the hints, stores at once; past it the ids are unknown.
    let claim = |at| {
        let b = Bearer {
            cfid: "c1".into(),
            token_fp: "fp".into(),
            issued_at: T0,
            client: Some(ClientHints::default()),
            ..Bearer::default()
        };
        begin(None, &b, at, &p).0
    };
    assert!(matches!(claim(T0 + 59 * S), Begin::Active { stored_now: true, .. }));
    assert_eq!(claim(T0 + 60 * S), Begin::Refused(Refusal::Unknown));
    // The hints ride along for the claim's first minute only (and never past the window).
    let day = Timing { idle_timeout_s: 3600, ..policy() };
    assert!(sends_claim_hints(T0, T0 + CLAIM_HINTS_MS - 1, &day));
    assert!(!sends_claim_hints(T0, T0 + CLAIM_HINTS_MS, &day) && may_be_unclaimed(T0, T0 + CLAIM_HINTS_MS, &day));
    let short = Timing { idle_timeout_s: 30, ..policy() };
    assert!(!sends_claim_hints(T0, T0 + 30 * S, &short));
}
