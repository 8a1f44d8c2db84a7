//! What a change of a session's stored state sets off, decided in one place ([`effects`]):
//! the hook events queued, the user tag recorded first, the session index kept in step (now,
//! or after the response, or not), and whether the alarm moves. The session object carries
//! the answer out in that order.

use super::{
    clock::UnixMs,
    config::Config,
    hooks::{Delivery, Hook},
    index::{EndedEntry, IndexEntry, MaxSessionsPolicy},
    rpc::SessionView,
    session_state::{Stored, Write},
    tombstone::{Cause, SessionEvent},
};

/// What a state change is, besides its write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// The session is stored for the first time: its start event, and its index entry now.
    Start,
    /// A rotated session arrives under its new ids: its index entry now.
    Adoption,
    /// Anything else: the index entry is refreshed at most once per touch interval.
    Other,
}

impl Occasion {
    /// [`Occasion::Start`] when the session was `stored_now`.
    pub fn first_store(stored_now: bool) -> Self {
        if stored_now {
            Occasion::Start
        } else {
            Occasion::Other
        }
    }
}

/// A session's new user, recorded in the user's index object before the session is stored
/// with it (a session is never tagged without "log out everywhere" being able to find it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTag {
    pub user: String,
    pub cap: UserCap,
}

/// What `MAX_SESSIONS_PER_USER` does to a new user tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCap {
    /// `MAX_SESSIONS_POLICY=refuse`: the tag (and the whole change) is refused when the user
    /// already has this many sessions.
    Refuse(u32),
    /// The user's oldest sessions beyond this many end (`None`: no cap).
    Evict(Option<u32>),
}

/// What happens to the session's entry in its index shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexChange {
    Nothing,
    /// Written before the operation answers: a new session, new ids, a new user, timeout or
    /// fingerprint flag.
    UpsertNow(IndexEntry),
    /// Refreshed after the answer (a touch or data, once per touch interval).
    UpsertLater(IndexEntry),
    /// The session is gone (ended or rotated away); `ended` goes to the shard's log of ended
    /// sessions.
    Remove {
        ended: Option<EndedEntry>,
    },
}

/// Everything a state change sets off, in the order the object carries it out.
#[derive(Debug, Clone, PartialEq)]
pub struct Effects {
    /// The session's CFID.
    pub cfid: String,
    /// The write, with an ended tombstone's events taken out (they go to the outbox; the
    /// tombstone keeps no data and no cookies).
    pub write: Write,
    /// The state afterwards (what the object caches).
    pub after: Option<Stored>,
    /// The session was stored for the first time (counted as a start).
    pub started: bool,
    /// The session ended: its end event (logged and counted).
    pub ended: Option<SessionEvent>,
    /// Hook deliveries to queue (start, end, `ORIGIN_KILL_URL`), for the hooks configured.
    pub hooks: Vec<Delivery>,
    /// A new user tag to record first.
    pub tag_user: Option<UserTag>,
    /// The user the session was tagged with before, to remove from that user's index.
    pub untag_user: Option<String>,
    pub index: IndexChange,
    /// The alarm may need to move earlier (a write, or an event queued).
    pub arm: bool,
}

/// The inputs of [`effects`] besides the state change.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The isolate's configuration; `None` when it is invalid (then no hooks, no index).
    pub config: Option<&'a Config>,
    /// The session's CFID before the change: its stored record's, else the object's name
    /// (the CFID when the new state carries none).
    pub cfid_before: &'a str,
    /// When this object last refreshed the index entry (ms; 0: never).
    pub indexed_at: UnixMs,
    pub now: UnixMs,
}

/// What changing the state from `before` to `in_memory` (written as `write`) on `occasion`
/// sets off.
pub fn effects(
    before: &Option<Stored>,
    in_memory: Option<Stored>,
    mut write: Write,
    occasion: Occasion,
    cx: Context,
) -> Effects {
    let Context { config, now, .. } = cx;
    let cfid = match &in_memory {
        Some(Stored::Live(r)) if !r.cfid.is_empty() => r.cfid.clone(),
        _ => cx.cfid_before.to_owned(),
    };
    let mut ended = None;
    let mut origin_kill = None;
    if let Write::Put(Stored::Ended(t)) = &mut write {
        ended = t.pending.take();
        let reason = match t.cause {
            Cause::Ended(r) => Some(r),
            Cause::Rotated => None,
        };
        origin_kill = t.origin_kill.take().map(|ids| (ids, reason));
    }
    let after = match &write {
        Write::Put(s) => Some(s.clone()),
        Write::Nothing => in_memory,
    };

    let mut hooks = Vec::new();
    let started = occasion == Occasion::Start && matches!(after, Some(Stored::Live(_))) && config.is_some();
    if let (true, Some(Stored::Live(r)), Some(c)) = (started, &after, config) {
        if c.hooks.start_url.is_some() {
            hooks.push(Delivery::new(Hook::Start, SessionEvent::start(r, &cfid, now), Default::default(), now));
        }
    }
    if let (Some(ev), Some(true)) = (&ended, config.map(|c| c.hooks.end_url.is_some())) {
        hooks.push(Delivery::new(Hook::End, ev.clone(), Default::default(), now));
    }
    if let (Some((cookies, reason)), Some(true)) = (origin_kill, config.map(|c| c.hooks.origin_kill_url.is_some())) {
        let call = SessionEvent::origin_kill(ended.as_ref(), &cfid, reason, now);
        hooks.push(Delivery::new(Hook::OriginKill, call, cookies, now));
    }

    let user_of = |s: &Option<Stored>| match s {
        Some(Stored::Live(r)) => r.user.clone(),
        _ => None,
    };
    let (old_user, new_user) = (user_of(before), user_of(&after));
    let user_changed = old_user != new_user;
    let tag_user = match (config, &new_user) {
        (Some(c), Some(user)) if user_changed => Some(UserTag { user: user.clone(), cap: cap(c) }),
        _ => None,
    };
    let was_live = matches!(before, Some(Stored::Live(_)));
    let (index, untag_user) = match (config, &after) {
        (None, _) => (IndexChange::Nothing, None),
        (Some(c), Some(Stored::Live(r))) => {
            // (Built only for an upsert: the view copies the session's data.)
            let entry = || SessionView { fingerprint: r.flag.clone(), ..SessionView::from(r) }.index_entry(&cfid);
            let (timeout_changed, flag_raised) = match before {
                Some(Stored::Live(b)) => (b.idle_timeout_s != r.idle_timeout_s, b.flag != r.flag),
                _ => (false, false),
            };
            let touched = matches!(write, Write::Put(Stored::Live(_)));
            let refresh_due = now.saturating_sub(cx.indexed_at) >= c.timing.touch_interval_s * 1000;
            let index = if occasion != Occasion::Other || user_changed || timeout_changed || flag_raised {
                IndexChange::UpsertNow(entry())
            } else if touched && refresh_due {
                IndexChange::UpsertLater(entry())
            } else {
                IndexChange::Nothing
            };
            (index, old_user.filter(|_| user_changed))
        }
        (Some(_), _) if was_live => {
            let logged = ended.as_ref().and_then(|ev| {
                Some(EndedEntry { cfid: cfid.clone(), reason: ev.reason?, at: ev.at, user: ev.user.clone() })
            });
            (IndexChange::Remove { ended: logged }, old_user)
        }
        (Some(_), _) => (IndexChange::Nothing, None),
    };
    let arm = !hooks.is_empty() || matches!(write, Write::Put(_));
    Effects { cfid, write, after, started, ended, hooks, tag_user, untag_user, index, arm }
}

/// What `MAX_SESSIONS_PER_USER` and `MAX_SESSIONS_POLICY` do to a new user tag.
fn cap(config: &Config) -> UserCap {
    match (config.sessions_per_user.policy, config.sessions_per_user.max) {
        (MaxSessionsPolicy::Refuse, Some(max)) => UserCap::Refuse(max),
        (_, max) => UserCap::Evict(max),
    }
}

#[cfg(test)]
mod tests;
