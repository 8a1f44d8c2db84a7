use super::*;
use crate::core::config::for_tests as config;
use crate::core::{end_reason::EndReason, guard::OriginIds, record::SessionRecord, tombstone::Tombstone};

const NOW: UnixMs = 1_800_000_000_000;

fn hooked() -> Config {
    config(&[
        ("SESSION_START_URL", "http://127.0.0.1:1/start"),
        ("SESSION_END_URL", "http://127.0.0.1:1/end"),
        ("SESSION_MODE", "guard"),
        ("ORIGIN_KILL_URL", "http://127.0.0.1:1/kill"),
    ])
}

fn record(config: &Config, user: Option<&str>) -> SessionRecord {
    let mut r = SessionRecord::new("fp".into(), NOW - 60_000, NOW - 60_000, &config.timing);
    r.cfid = "c1".into();
    r.user = user.map(str::to_owned);
    r
}

fn cx(config: Option<&Config>, indexed_at: UnixMs) -> Context<'_> {
    Context { config, cfid_before: "c1", indexed_at, now: NOW }
}

fn live(r: &SessionRecord) -> Option<Stored> {
    Some(Stored::Live(r.clone()))
}

fn hooks_of(fx: &Effects) -> Vec<Hook> {
    fx.hooks.iter().map(|d| d.hook).collect()
}

#[test]
fn a_start_queues_its_event_and_indexes_now() {
    let c = hooked();
    let r = record(&c, None);
    let fx = effects(&None, live(&r), Write::Put(Stored::Live(r.clone())), Occasion::Start, cx(Some(&c), 0));
    assert_eq!((fx.cfid.as_str(), fx.started, fx.arm), ("c1", true, true));
    assert_eq!(hooks_of(&fx), [Hook::Start]);
    assert!(matches!(fx.index, IndexChange::UpsertNow(ref e) if e.cfid == "c1"));
    assert_eq!((fx.tag_user, fx.untag_user, fx.ended), (None, None, None));
    // Without SESSION_START_URL: counted, indexed, no event.
    let plain = config(&[]);
    let fx = effects(&None, live(&r), Write::Put(Stored::Live(r.clone())), Occasion::Start, cx(Some(&plain), 0));
    assert!(fx.started && fx.hooks.is_empty() && matches!(fx.index, IndexChange::UpsertNow(_)));
}

#[test]
fn an_adoption_indexes_now_without_a_start() {
    let c = hooked();
    let r = record(&c, None);
    let fx = effects(&None, live(&r), Write::Put(Stored::Live(r.clone())), Occasion::Adoption, cx(Some(&c), NOW));
    assert!(!fx.started && fx.hooks.is_empty());
    assert!(matches!(fx.index, IndexChange::UpsertNow(_)));
}

#[test]
fn a_touch_refreshes_the_index_once_per_touch_interval_after_the_answer() {
    let c = config(&[]);
    let before = record(&c, None);
    let mut after = before.clone();
    after.last_access = NOW;
    let write = || Write::Put(Stored::Live(after.clone()));
    let interval_ms = c.timing.touch_interval_s * 1000;
    let due = effects(&live(&before), live(&after), write(), Occasion::Other, cx(Some(&c), NOW - interval_ms));
    assert!(matches!(due.index, IndexChange::UpsertLater(_)));
    assert!(due.arm);
    let recent = effects(&live(&before), live(&after), write(), Occasion::Other, cx(Some(&c), NOW - interval_ms + 1));
    assert_eq!(recent.index, IndexChange::Nothing);
    // In memory only (nothing written): nothing indexed, no alarm to move.
    let read = effects(&live(&before), live(&after), Write::Nothing, Occasion::Other, cx(Some(&c), 0));
    assert_eq!((read.index, read.arm), (IndexChange::Nothing, false));
}

#[test]
fn a_new_timeout_or_flag_indexes_now() {
    let c = config(&[]);
    let before = record(&c, None);
    let mut longer = before.clone();
    longer.idle_timeout_s += 60;
    let fx = effects(
        &live(&before),
        live(&longer),
        Write::Put(Stored::Live(longer.clone())),
        Occasion::Other,
        cx(Some(&c), NOW),
    );
    assert!(matches!(fx.index, IndexChange::UpsertNow(_)));
    let mut flagged = before.clone();
    flagged.flag = Some(crate::core::fingerprint::Flag { score: 5, reasons: vec![], at: NOW });
    let fx = effects(
        &live(&before),
        live(&flagged),
        Write::Put(Stored::Live(flagged.clone())),
        Occasion::Other,
        cx(Some(&c), NOW),
    );
    assert!(matches!(fx.index, IndexChange::UpsertNow(ref e) if e.flag == Some(5)));
}

#[test]
fn a_login_tags_the_user_first_and_a_new_user_untags_the_old() {
    let c = config(&[("MAX_SESSIONS_PER_USER", "2")]);
    let before = record(&c, None);
    let alice = record(&c, Some("alice"));
    let fx = effects(
        &live(&before),
        live(&alice),
        Write::Put(Stored::Live(alice.clone())),
        Occasion::Other,
        cx(Some(&c), NOW),
    );
    assert_eq!(fx.tag_user, Some(UserTag { user: "alice".into(), cap: UserCap::Evict(Some(2)) }));
    assert_eq!(fx.untag_user, None);
    assert!(matches!(fx.index, IndexChange::UpsertNow(_)));
    let bob = record(&c, Some("bob"));
    let refuse = config(&[("MAX_SESSIONS_PER_USER", "2"), ("MAX_SESSIONS_POLICY", "refuse")]);
    let fx = effects(
        &live(&alice),
        live(&bob),
        Write::Put(Stored::Live(bob.clone())),
        Occasion::Other,
        cx(Some(&refuse), NOW),
    );
    assert_eq!(fx.tag_user, Some(UserTag { user: "bob".into(), cap: UserCap::Refuse(2) }));
    assert_eq!(fx.untag_user.as_deref(), Some("alice"));
    // The same user again: nothing to tag.
    let fx = effects(
        &live(&alice),
        live(&alice),
        Write::Put(Stored::Live(alice.clone())),
        Occasion::Other,
        cx(Some(&c), NOW),
    );
    assert_eq!((fx.tag_user, fx.untag_user), (None, None));
}

#[test]
fn an_end_queues_its_events_and_leaves_the_index() {
    let c = hooked();
    let mut r = record(&c, Some("alice"));
    r.origin_cookies = OriginIds(vec![("JSESSIONID".into(), "j".into())]);
    let tomb = Stored::Ended(Tombstone::ended(&r, "c1", EndReason::Killed, NOW));
    let fx = effects(&live(&r), Some(tomb.clone()), Write::Put(tomb), Occasion::Other, cx(Some(&c), NOW));
    assert_eq!(hooks_of(&fx), [Hook::End, Hook::OriginKill]);
    assert_eq!(fx.hooks[1].cookies, r.origin_cookies);
    let ended = fx.ended.as_ref().expect("an end event");
    assert_eq!((ended.reason, ended.user.as_deref()), (Some(EndReason::Killed), Some("alice")));
    // The tombstone written keeps neither the event nor the cookies.
    let Write::Put(Stored::Ended(t)) = &fx.write else { panic!("a tombstone") };
    assert!(t.pending.is_none() && t.origin_kill.is_none());
    assert_eq!(
        fx.index,
        IndexChange::Remove {
            ended: Some(EndedEntry {
                cfid: "c1".into(),
                reason: EndReason::Killed,
                at: NOW,
                user: Some("alice".into())
            })
        }
    );
    assert_eq!(fx.untag_user.as_deref(), Some("alice"));
    assert!(fx.arm && !fx.started);
    // Without the hooks configured: logged and counted (ended), no deliveries.
    let plain = config(&[]);
    let tomb = Stored::Ended(Tombstone::ended(&r, "c1", EndReason::Killed, NOW));
    let fx = effects(&live(&r), Some(tomb.clone()), Write::Put(tomb), Occasion::Other, cx(Some(&plain), NOW));
    assert!(fx.hooks.is_empty() && fx.ended.is_some());
}

#[test]
fn a_rotation_away_leaves_the_index_without_an_end() {
    let c = hooked();
    let r = record(&c, None);
    let tomb = Stored::Ended(Tombstone::rotated(&r, NOW));
    let fx = effects(&live(&r), Some(tomb.clone()), Write::Put(tomb), Occasion::Other, cx(Some(&c), NOW));
    assert!(fx.hooks.is_empty() && fx.ended.is_none());
    assert_eq!(fx.index, IndexChange::Remove { ended: None });
    // A tombstone carries no CFID: the one known before (the record's, else the object's name).
    assert_eq!(fx.cfid, "c1");
    let tomb = Stored::Ended(Tombstone::rotated(&r, NOW));
    let named = Context { cfid_before: "object", ..cx(Some(&c), NOW) };
    let fx = effects(&None, Some(tomb.clone()), Write::Put(tomb), Occasion::Other, named);
    assert_eq!((fx.cfid.as_str(), fx.index), ("object", IndexChange::Nothing));
}

#[test]
fn an_invalid_configuration_writes_and_arms_but_sends_and_indexes_nothing() {
    let c = hooked();
    let r = record(&c, Some("alice"));
    let fx = effects(&None, live(&r), Write::Put(Stored::Live(r.clone())), Occasion::Start, cx(None, 0));
    assert!(!fx.started && fx.hooks.is_empty() && fx.tag_user.is_none());
    assert_eq!(fx.index, IndexChange::Nothing);
    assert!(fx.arm);
    let tomb = Stored::Ended(Tombstone::ended(&r, "c1", EndReason::Timeout, NOW));
    let fx = effects(&live(&r), Some(tomb.clone()), Write::Put(tomb), Occasion::Other, cx(None, 0));
    assert!(fx.ended.is_some() && fx.hooks.is_empty() && fx.index == IndexChange::Nothing);
}
