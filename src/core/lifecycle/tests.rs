use serde_json::json;

use super::*;
use crate::core::{
    record::{ClientHints, MAX_CLAIM_WINDOW_MS},
    session_state::{begin, Begin},
    tombstone::{Cause, SessionEvent, ROTATE_GRACE_MS},
};

const T0: UnixMs = 1_800_000_000_000;

/// Ids as the Worker presents them when the object may store them (with empty client hints).
fn presented(fp: &str) -> Bearer {
    let client = Some(ClientHints::default());
    Bearer { cfid: "c1".into(), token_fp: fp.into(), issued_at: T0, client, ..Bearer::default() }
}

fn live() -> (Stored, SessionRecord) {
    let mut r = SessionRecord::new("fp".into(), T0, T0, &Timing::default());
    r.data = json!({"file": "stamp-1.jpg"}).as_object().unwrap().clone();
    r.hits = 7;
    r.user = Some("u1".into());
    put_live(&mut r);
    (Stored::Live(r.clone()), r)
}

#[test]
fn killing_a_stored_session_leaves_a_tombstone_with_its_end_event() {
    let (stored, record) = live();
    let (out, w) = end(Some(&stored), Some(&presented("fp")), None, EndReason::Killed, T0 + 5);
    assert_eq!(out, Ending::Ended { stored: true, scopes: Vec::new() });
    let Write::Put(Stored::Ended(t)) = w else { panic!("{w:?}") };
    assert_eq!(t.cause, Cause::Ended(EndReason::Killed));
    let ev = t.pending.expect("an end event");
    assert_eq!(ev.idempotency_key, "c1:end");
    assert_eq!(ev.reason, Some(EndReason::Killed));
    assert_eq!(ev.hits, 7);
    assert_eq!(ev.data, Some(record.data));
    assert_eq!(ev.user.as_deref(), Some("u1"));
    let shown = serde_json::to_string(&ev).unwrap();
    assert!(!shown.contains("\"fp\""), "the token fingerprint leaked into the event: {shown}");
}

#[test]
fn admin_kills_name_the_session_from_its_record() {
    let (_, mut record) = live();
    record.cfid = "from-record".into();
    let (_, w) = end(Some(&Stored::Live(record)), None, None, EndReason::Admin, T0);
    let Write::Put(Stored::Ended(t)) = w else { panic!() };
    assert_eq!(t.pending.unwrap().idempotency_key, "from-record:end");
}

#[test]
fn ending_is_idempotent_and_checks_the_token() {
    let (stored, _) = live();
    let (_, w) = end(Some(&stored), Some(&presented("fp")), None, EndReason::Killed, T0);
    let Write::Put(ended) = w else { panic!() };
    assert_eq!(
        end(Some(&ended), Some(&presented("fp")), None, EndReason::Killed, T0),
        (Ending::AlreadyGone, Write::Nothing)
    );
    assert_eq!(
        end(Some(&stored), Some(&presented("other")), None, EndReason::Killed, T0),
        (Ending::Mismatch, Write::Nothing)
    );
    assert_eq!(end(None, None, None, EndReason::Admin, T0), (Ending::NotFound, Write::Nothing));
    let (out, _) = end(Some(&stored), None, None, EndReason::Admin, T0);
    assert_eq!(out, Ending::Ended { stored: true, scopes: Vec::new() });
}

#[test]
fn killing_unstored_ids_makes_them_unclaimable() {
    let p = presented("fp");
    let (out, w) = end(None, Some(&p), None, EndReason::Killed, T0 + 1000);
    assert_eq!(out, Ending::Ended { stored: false, scopes: Vec::new() });
    let Write::Put(tomb) = w else { panic!() };
    let Stored::Ended(t) = &tomb else { panic!() };
    assert!(t.pending.is_none(), "a session that never started has no end event");
    let (b, _) = begin(Some(&tomb), &p, T0 + 2000, &Timing::default());
    assert_eq!(b, Begin::Refused(Refusal::Ended));
}

#[test]
fn rotation_moves_everything_but_the_token() {
    let (stored, record) = live();
    let (out, w) = rotate_out(Some(&stored), &presented("fp"), T0 + 10, &Timing::default());
    let moved = out.unwrap();
    let Write::Put(old) = w else { panic!() };
    let new =
        Bearer { cfid: "c2".into(), token_fp: "new-fp".into(), issued_at: T0 + 10, fresh: true, ..Bearer::default() };
    let (adopted, w2) = adopt(None, moved, &new);
    let adopted = adopted.unwrap();
    assert_eq!((adopted.cfid.as_str(), adopted.token_fp.as_str()), ("c2", "new-fp"));
    assert_eq!((adopted.data.clone(), adopted.hits, adopted.created), (record.data, record.hits, record.created));
    assert!(matches!(w2, Write::Put(Stored::Live(_))));
    // The old ids: refused quietly during the grace period, ended after it.
    let (b, _) = begin(Some(&old), &presented("fp"), T0 + 20, &Timing::default());
    assert_eq!(b, Begin::Refused(Refusal::RotatedRecently));
    let (b, _) = begin(Some(&old), &presented("fp"), T0 + 10 + ROTATE_GRACE_MS, &Timing::default());
    assert_eq!(b, Begin::Refused(Refusal::Ended));
    let Stored::Ended(t) = old else { panic!() };
    assert!(t.pending.is_none(), "rotation is not an end");
}

#[test]
fn rotation_of_a_deferred_session_claims_it_first() {
    let p = presented("fp");
    let (out, _) = rotate_out(None, &p, T0 + 1000, &Timing::default());
    let claimed = out.unwrap();
    assert_eq!((claimed.hits, claimed.cfid.as_str()), (2, "c1"));
    let (out, _) = rotate_out(Some(&live().0), &presented("x"), T0, &Timing::default());
    assert_eq!(out, Err(Refusal::Mismatch));
}

#[test]
fn adopt_never_overwrites() {
    let (stored, record) = live();
    assert_eq!(adopt(Some(&stored), record, &presented("x")), (None, Write::Nothing));
}

#[test]
fn a_pair_rotated_late_and_killed_never_comes_back() {
    // No absolute lifetime: a session may live for days, then rotate and be killed.
    let policy = Timing { max_lifetime_s: 0, idle_timeout_s: 30 * 24 * 3600, ..Timing::default() };
    let (stored, _) = live();
    let later = T0 + 3 * 24 * 3600 * 1000;
    let (moved, _) = rotate_out(Some(&stored), &presented("fp"), later, &policy);
    let new =
        Bearer { cfid: "c2".into(), token_fp: "new-fp".into(), issued_at: later, fresh: true, ..Bearer::default() };
    let (adopted, _) = adopt(None, moved.unwrap(), &new);
    let adopted = adopted.unwrap();
    assert_eq!((adopted.session_key.as_str(), adopted.issued_at), ("c1", later));
    let (_, w) = end(Some(&Stored::Live(adopted)), Some(&new), None, EndReason::Killed, later + 1000);
    let Write::Put(Stored::Ended(t)) = w else { panic!() };
    // The tombstone outlives the new token's claim window (not the session's creation's).
    assert!(t.purge_at >= later + MAX_CLAIM_WINDOW_MS, "purge at {} is inside the claim window", t.purge_at);
    let after_purge = t.purge_at + 1;
    let claim_again = Bearer { fresh: false, ..new.clone() };
    let (b, _) = begin(None, &claim_again, after_purge, &policy);
    assert_eq!(b, Begin::Refused(Refusal::Unknown), "a purged, killed pair was accepted again");
    // The end event is keyed by the session's first CFID, like its start.
    let ev = t.pending.unwrap();
    assert_eq!((ev.idempotency_key.as_str(), ev.session.as_str(), ev.cfid.as_str()), ("c1:end", "c1", "c2"));
}

#[test]
fn logging_a_user_out_leaves_sessions_of_other_users_alone() {
    let (_, mut record) = live();
    record.user = Some("bob".into());
    let stored = Stored::Live(record);
    assert_eq!(end(Some(&stored), None, Some("alice"), EndReason::Admin, T0), (Ending::OtherUser, Write::Nothing));
    assert!(matches!(end(Some(&stored), None, Some("bob"), EndReason::Admin, T0).0, Ending::Ended { .. }));
}

fn origin(pairs: &[(&str, &str)]) -> crate::core::guard::OriginIds {
    crate::core::guard::OriginIds(pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect())
}

#[test]
fn a_guarded_session_keeps_its_origin_cookies_for_the_kill_call_and_events_carry_no_data() {
    let acf = origin(&[("CFID", "42"), ("CFTOKEN", "12345678")]);
    let p = Bearer { origin: acf.clone(), ..presented("fp") };
    let (b, _) = begin(None, &p, T0 + 1_000, &Timing::default());
    let Begin::Active { record, .. } = b else { panic!("not claimed") };
    assert_eq!(record.origin_cookies, acf);
    let start = SessionEvent::start(&record, "c1", T0);
    assert_eq!((start.mode.as_str(), start.data.is_none()), ("guard", true));
    let (_, w) = end(Some(&Stored::Live(record)), Some(&p), None, EndReason::Killed, T0 + 2_000);
    let Write::Put(Stored::Ended(t)) = w else { panic!() };
    assert_eq!(t.origin_kill, Some(acf.clone()));
    let ev = t.pending.unwrap();
    assert_eq!((ev.mode.as_str(), ev.data.is_none()), ("guard", true), "guard-mode events carry no data");
    let kill = SessionEvent::origin_kill(Some(&ev), "c1", None, T0 + 2_000);
    assert_eq!(kill.idempotency_key, "c1:origin_kill");
    assert_eq!(kill.reason, Some(EndReason::Killed));
}

#[test]
fn a_guarded_session_never_stored_still_gets_its_origin_kill_call() {
    let p = Bearer { origin: origin(&[("cfid", "u-1"), ("cftoken", "0")]), ..presented("fp") };
    let (out, w) = end(None, Some(&p), None, EndReason::Killed, T0 + 10);
    assert_eq!(out, Ending::Ended { stored: false, scopes: Vec::new() });
    let Write::Put(Stored::Ended(t)) = w else { panic!() };
    assert_eq!(t.origin_kill, Some(p.origin.clone()));
    assert!(t.pending.is_none());
    // Edge mode: nothing to call.
    let (_, w) = end(None, Some(&presented("fp")), None, EndReason::Killed, T0 + 10);
    let Write::Put(Stored::Ended(t)) = w else { panic!() };
    assert_eq!(t.origin_kill, None);
}

#[test]
fn an_origin_rotation_moves_the_guarded_session_to_its_new_cookies() {
    let old = Bearer { origin: origin(&[("CFID", "1"), ("CFTOKEN", "11111111")]), ..presented("fp") };
    let (b, _) = begin(None, &old, T0 + 1, &Timing::default());
    let Begin::Active { record, .. } = b else { panic!() };
    let (moved, w) = rotate_out(Some(&Stored::Live(record)), &old, T0 + 5, &Timing::default());
    let Write::Put(Stored::Ended(t)) = w else { panic!() };
    assert_eq!(t.origin_kill, None, "a rotation does not end the origin's session");
    let new = Bearer {
        cfid: "c2".into(),
        token_fp: "fp2".into(),
        issued_at: T0 + 5,
        fresh: true,
        origin: origin(&[("CFID", "2"), ("CFTOKEN", "22222222")]),
        ..Bearer::default()
    };
    let (adopted, _) = adopt(None, moved.unwrap(), &new);
    assert_eq!(adopted.unwrap().origin_cookies, new.origin);
}
