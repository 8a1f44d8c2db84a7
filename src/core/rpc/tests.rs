//! Mixed versions: every message an older Worker sends (captured from its `store.rs`, which
//! built index and user bodies with `serde_json::json!`) is still a call the new objects take,
//! and every call the new Worker sends reads the same as before, field for field, so an older
//! object (reading with its private structs, mirrored here) takes it too.

use serde::Deserialize;
use serde_json::{json, Value};

use super::*;
use crate::core::{
    end_reason::EndReason,
    index::{EndedEntry, IndexEntry},
    pacing::Batch,
    record::Timing,
    stats::Counts,
};

/// `op` with `body`, as the new object reads it.
fn session(op: &str, body: &str) -> SessionCall {
    SessionCall::parse(op, body).unwrap_or_else(|e| panic!("{op} {body}: {e}"))
}

fn same_json(call: &impl Call, expected: Value) {
    let sent: Value = serde_json::from_str(&call.body().unwrap()).unwrap();
    assert_eq!(sent, expected, "{}", call.op());
}

#[test]
fn a_begin_from_before_fingerprints_and_path_policies_is_taken() {
    // A Worker from before `client`, `fingerprint`, `origin`, `previous_fp`, `path_timeout_s`
    // and `no_refresh` existed.
    let old = r#"{"ids":{"cfid":"c1","token_fp":"fp","issued_at":5,"fresh":true},
                  "policy":{"idle_timeout_s":1200,"max_lifetime_s":0,"touch_interval_s":60,"count_hits":false}}"#;
    let SessionCall::Begin(b) = session("begin", old) else { panic!("not a begin") };
    assert_eq!((b.ids.cfid.as_str(), b.ids.issued_at, b.ids.fresh), ("c1", 5, true));
    assert!(b.client.is_none() && b.fingerprint.is_none() && b.ids.previous_fp.is_none() && b.abuse_key.is_none());
    assert_eq!(b.timing.path_timeout_s, None);
}

#[test]
fn the_operations_without_a_body_ignore_what_older_callers_sent() {
    for body in ["null", "", "{}"] {
        assert_eq!(session("check", body), SessionCall::Check);
        assert_eq!(session("inspect", body), SessionCall::Inspect);
        assert_eq!(session("ping", body), SessionCall::Ping);
        assert_eq!(IndexCall::parse("count", body).unwrap(), IndexCall::Count);
        assert_eq!(UserCall::parse("list", body).unwrap(), UserCall::List);
        assert_eq!(AppCall::parse("touch", body).unwrap(), AppCall::Touch);
    }
    assert_eq!(session("nonce", r#""n-1""#), SessionCall::Nonce("n-1".into()));
}

#[test]
fn old_index_and_user_bodies_are_taken() {
    let cases: [(&str, Value, IndexCall); 6] = [
        (
            "remove",
            json!({ "cfid": "c1", "ended": null }),
            IndexCall::Remove(Removal { cfid: "c1".into(), ended: None }),
        ),
        ("remove", json!({ "cfid": "c1" }), IndexCall::Remove(Removal { cfid: "c1".into(), ended: None })),
        ("expired", json!({ "before": 9, "limit": 3 }), IndexCall::Expired(Due { before: 9, limit: 3 })),
        ("list", json!({ "after": null, "limit": 50 }), IndexCall::List(ListAfter { after: None, limit: 50 })),
        ("pending_ends", json!({ "limit": 500 }), IndexCall::PendingEnds(Limit { limit: 500 })),
        ("end_confirmed", json!({ "cfid": "c1" }), IndexCall::EndConfirmed(CfidOf { cfid: "c1".into() })),
    ];
    for (op, body, expected) in cases {
        assert_eq!(IndexCall::parse(op, &body.to_string()).unwrap(), expected, "{op} {body}");
    }
    // A user index call from before the tag time and the cap were sent.
    let old_add = UserCall::parse("add", r#"{"cfid":"c1"}"#).unwrap();
    assert_eq!(old_add, UserCall::Add(AddUser { cfid: "c1".into(), at: 0, max: None }));
    // The application's `record`, from Workers older than the pacing.
    let old_record = AppCall::parse("record", r#"[[29000000,{"starts":1,"ends":{}}]]"#).unwrap();
    let AppCall::Record(minutes) = old_record else { panic!("not a record") };
    assert_eq!(minutes[0].0, 29_000_000);
    assert_eq!(minutes[0].1.starts, 1);
}

#[test]
fn new_bodies_read_as_the_old_worker_wrote_them() {
    let entry =
        IndexEntry { cfid: "c1".into(), created: 1, last_access: 2, expires_at: 3, hits: 4, user: None, flag: None };
    same_json(
        &IndexCall::Upsert(entry),
        json!({ "cfid": "c1", "created": 1, "last_access": 2, "expires_at": 3, "hits": 4, "user": null }),
    );
    let ended = EndedEntry { cfid: "c1".into(), reason: EndReason::Killed, at: 7, user: Some("u".into()) };
    same_json(
        &IndexCall::Remove(Removal { cfid: "c1".into(), ended: Some(ended) }),
        json!({ "cfid": "c1", "ended": { "cfid": "c1", "reason": "killed", "at": 7, "user": "u" } }),
    );
    same_json(&IndexCall::Expired(Due { before: 9, limit: 3 }), json!({ "before": 9, "limit": 3 }));
    same_json(&IndexCall::List(ListAfter { after: Some("c0".into()), limit: 5 }), json!({ "after": "c0", "limit": 5 }));
    same_json(&IndexCall::Ended(Limit { limit: 20 }), json!({ "limit": 20 }));
    same_json(&IndexCall::EndConfirmed(CfidOf { cfid: "c1".into() }), json!({ "cfid": "c1" }));
    same_json(&IndexCall::Count, json!(null));
    same_json(
        &UserCall::Add(AddUser { cfid: "c1".into(), at: 8, max: Some(2) }),
        json!({ "cfid": "c1", "at": 8, "max": 2 }),
    );
    same_json(&UserCall::Remove(CfidOf { cfid: "c1".into() }), json!({ "cfid": "c1" }));
    same_json(&UserCall::List, json!(null));
    same_json(&SessionCall::Nonce("n".into()), json!("n"));
    same_json(&SessionCall::Check, json!(null));
    same_json(&AppCall::Live(3), json!(3));
    same_json(&AppCall::Stop, json!(null));
    let batch = Batch { caller: "i1".into(), minutes: vec![(1, Counts::default())] };
    let sent: Value = serde_json::from_str(&AppCall::RecordBatch(batch).body().unwrap()).unwrap();
    assert_eq!(sent["caller"], "i1");
}

#[test]
fn an_older_object_reads_the_new_bodies_with_its_own_structs() {
    // The private structs of the index objects before the typed protocol.
    #[derive(Deserialize)]
    struct AddBody {
        cfid: String,
        #[serde(default)]
        at: u64,
        #[serde(default)]
        max: Option<u32>,
    }
    #[derive(Deserialize)]
    struct ListBody {
        after: Option<String>,
        limit: u32,
    }
    let add: AddBody =
        serde_json::from_str(&UserCall::AddWithin(AddUser { cfid: "c1".into(), at: 8, max: Some(2) }).body().unwrap())
            .unwrap();
    assert_eq!((add.cfid.as_str(), add.at, add.max), ("c1", 8, Some(2)));
    // `pending_ends` and `ended` were read with `ListBody`: `after` absent is `None`.
    let list: ListBody = serde_json::from_str(&IndexCall::PendingEnds(Limit { limit: 500 }).body().unwrap()).unwrap();
    assert_eq!((list.after, list.limit), (None, 500));
}

#[test]
fn every_operation_names_itself_and_parses_back() {
    let ids = Ids {
        cfid: "c1".into(),
        token_fp: "fp".into(),
        issued_at: 1,
        fresh: false,
        origin: Default::default(),
        scopes: Vec::new(),
        previous_fp: None,
    };
    let policy = Timing::default();
    let calls = [
        SessionCall::Begin(BeginRequest {
            ids: ids.clone(),
            timing: policy,
            client: None,
            fingerprint: None,
            abuse_key: None,
        }),
        SessionCall::RotateOut(RotateOutRequest { ids: ids.clone(), timing: policy }),
        SessionCall::End(EndRequest { cfid: "c1".into(), ids: Some(ids), reason: EndReason::Killed, only_user: None }),
        SessionCall::Check,
        SessionCall::Inspect,
        SessionCall::Nonce("n".into()),
        SessionCall::Ping,
    ];
    let changing: Vec<bool> = calls.iter().map(Call::changes_state).collect();
    assert_eq!(changing, [true, true, true, false, false, true, false]);
    for call in calls {
        let back = SessionCall::parse(call.op(), &call.body().unwrap()).unwrap();
        assert_eq!(back, call);
        assert!(call.fault_point().is_some_and(|p| p == format!("session.{}", call.op())));
    }
}

#[test]
fn an_unknown_operation_or_a_bad_body_is_an_error_naming_it() {
    let e = SessionCall::parse("teleport", "null").unwrap_err();
    assert_eq!(e.to_string(), "unknown session operation \"teleport\"");
    let e = IndexCall::parse("list", r#"{"limit":"many"}"#).unwrap_err();
    assert!(e.to_string().starts_with("list: bad body:"), "{e}");
    assert!(UserCall::parse("add", "not json").is_err());
    assert!(AppCall::parse("live", "-1").is_err());
}

#[test]
fn refusals_and_declines_keep_one_wire_reason() {
    use crate::core::session_state::{Declined, Refusal};
    // Every reason as objects and Workers from before the split wrote it.
    let cases = [
        ("unknown", Refused::Ids(Refusal::Unknown)),
        ("mismatch", Refused::Ids(Refusal::Mismatch)),
        ("ended", Refused::Ids(Refusal::Ended)),
        ("expired", Refused::Ids(Refusal::Expired)),
        ("rotated_recently", Refused::Ids(Refusal::RotatedRecently)),
        ("fingerprint", Refused::Ids(Refusal::Fingerprint)),
        ("too_many_sessions", Refused::Declined(Declined::TooManySessions)),
        ("needs_client", Refused::Declined(Declined::NeedsClient)),
        ("abuse_limited", Refused::Declined(Declined::AbuseLimited)),
    ];
    for (wire, reason) in cases {
        let text = format!(r#"{{"status":"refused","reason":"{wire}"}}"#);
        let reply: Reply = serde_json::from_str(&text).unwrap();
        assert_eq!(reply, Reply::Refused { reason }, "{wire}");
        assert_eq!(serde_json::to_value(&reply).unwrap(), json!({ "status": "refused", "reason": wire }));
        assert_eq!(reason.as_str(), wire);
    }
    assert!(serde_json::from_str::<Reply>(r#"{"status":"refused","reason":"later"}"#).is_err());
    // `rotate_out` refuses ids only, under the same names.
    let rotated = RotateOutReply::Refused { reason: Refusal::RotatedRecently };
    let text = r#"{"status":"refused","reason":"rotated_recently"}"#;
    assert_eq!(serde_json::to_value(&rotated).unwrap(), serde_json::from_str::<Value>(text).unwrap());
    assert_eq!(serde_json::from_str::<RotateOutReply>(text).unwrap(), rotated);
    assert!(serde_json::from_str::<RotateOutReply>(r#"{"status":"refused","reason":"needs_client"}"#).is_err());
}
