//! The session state machine, as it runs inside a session's Durable Object.
//!
//! Each function takes the stored state, a request and the current time, and returns what to
//! answer and what to write. The Durable Object glue only loads, calls and stores, so every
//! rule here is unit-tested with the times each case needs.
//!
//! Both timeouts ([`super::record`]) are checked on every request, so an expired session is
//! never revived, whatever any timer did.

// Outcomes that carry a record are short-lived and moved once: boxing would only add an
// allocation.
#![allow(clippy::large_enum_variant)]

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    clock::UnixMs,
    crypto::ct_eq,
    end_reason::EndReason,
    fingerprint::{FingerprintAction, Flag, Probe, Score},
    guard::{response::CookieScope, OriginIds},
    record::{ClientHints, SessionRecord, Timing, Touch, MAX_CLAIM_WINDOW_MS},
    tombstone::Tombstone,
};

/// The content of a session object's storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Stored {
    Live(SessionRecord),
    Ended(Tombstone),
}

/// The bearer of a session's ids, as the session object sees it (never the token itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bearer {
    /// The session's CFID (names the object; used in event keys).
    pub cfid: String,
    /// Fingerprint of the CFTOKEN the client sent (already MAC-verified by the Worker).
    pub token_fp: String,
    /// When the token was issued (from the verified token).
    pub issued_at: UnixMs,
    /// `true` for ids minted on this very request (stored at once when deferral is off).
    pub fresh: bool,
    /// Guard mode: the origin's session cookies the ids are bound to.
    pub origin: OriginIds,
    /// Guard mode: where the application set them (see [`CookieScope`]).
    pub scopes: Vec<CookieScope>,
    /// The client's hints, kept when this request stores the session for the first time
    /// (`None`: not sent; a claim asks for them first, see [`Declined::NeedsClient`]).
    pub client: Option<ClientHints>,
    /// `SESSION_FINGERPRINT` on: this request's fingerprint and the policy to score it by.
    pub fingerprint: Option<Probe>,
    /// `SESSION_SIGNING_KEY_PREVIOUS`: the fingerprint of the token as the client sent it,
    /// made with the previous key. `token_fp` is then the token re-minted under the current
    /// key; a record still holding this one moves to `token_fp` (one write).
    pub previous_fp: Option<String>,
}

impl Bearer {
    /// Whether the stored token fingerprint `stored_fp` is this request's token (under the
    /// current key, or the previous one). Constant time.
    pub fn holds(&self, stored_fp: &str) -> bool {
        ct_eq(stored_fp.as_bytes(), self.token_fp.as_bytes()) || self.rekeys(stored_fp)
    }

    /// Whether `stored_fp` is this request's token under the previous key (to be re-minted).
    fn rekeys(&self, stored_fp: &str) -> bool {
        self.previous_fp.as_ref().is_some_and(|p| ct_eq(stored_fp.as_bytes(), p.as_bytes()))
    }
}

/// Why the session object would not take a request's ids. On the wire by its name
/// ([`Refusal::as_str`]; serde: [`crate::core::rpc::Refused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such session, and the ids are too old to be a deferred session.
    Unknown,
    /// The token does not match the stored session's.
    Mismatch,
    /// The session has ended (tombstone).
    Ended,
    /// The session expired on this request.
    Expired,
    /// The session was rotated to new ids a moment ago (see [`super::tombstone::ROTATE_GRACE_MS`]):
    /// the Worker serves such a request without a session and without setting cookies, so a
    /// parallel request cannot overwrite the browser's new cookies.
    RotatedRecently,
    /// The request's fingerprint differed too much (`SESSION_FINGERPRINT=end`): the session
    /// ended on this request.
    Fingerprint,
}

/// Why the session object did not go on with a request whose ids are good: not a refusal of
/// the ids. On the wire it is a refusal's `reason` like a [`Refusal`]'s (see
/// [`crate::core::rpc::Refused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declined {
    /// The origin's login (`X-Session-User`) was refused because the user has
    /// `MAX_SESSIONS_PER_USER` sessions already (`MAX_SESSIONS_POLICY=refuse`). Nothing of the
    /// update was applied.
    TooManySessions,
    /// A deferred session is about to be stored and the request carried no client hints. The
    /// Worker asks again with them (Workers send them on young ids, [`sends_claim_hints`]:
    /// this is a late claim, or an older Worker).
    NeedsClient,
    /// A deferred session was about to be stored and its client is over the new-session limit
    /// (`ABUSE_LIMITS`, counted by the object on the claim). Nothing was stored; the Worker
    /// answers `429`.
    AbuseLimited,
}

impl Declined {
    /// The snake-case name used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Declined::TooManySessions => "too_many_sessions",
            Declined::NeedsClient => "needs_client",
            Declined::AbuseLimited => "abuse_limited",
        }
    }
}

impl Refusal {
    /// How a request with the ids of tombstone `t` is refused at `now`.
    pub fn of(t: &Tombstone, now: UnixMs) -> Self {
        if t.rotated_recently(now) {
            Refusal::RotatedRecently
        } else {
            Refusal::Ended
        }
    }

    /// The snake-case name used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Unknown => "unknown",
            Refusal::Mismatch => "mismatch",
            Refusal::Ended => "ended",
            Refusal::Expired => "expired",
            Refusal::RotatedRecently => "rotated_recently",
            Refusal::Fingerprint => "fingerprint",
        }
    }
}

/// The outcome of [`begin`].
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// The session is live; `record` is its state after this request. `stored_now` is true
    /// when this request stored it for the first time (fresh ids, or a deferred session's
    /// return): the session's start.
    /// `fingerprint`: the request's fingerprint change, when it raised the session's flag or
    /// reached the threshold.
    Active { record: SessionRecord, stored_now: bool, touch: Touch, fingerprint: Option<Verdict> },
    /// The ids are not (or no longer) a live session.
    Refused(Refusal),
    /// The ids would claim a deferred session, but the request carried no client hints
    /// ([`Declined::NeedsClient`]).
    NeedsClient,
}

/// What the object must write after a decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Nothing,
    Put(Stored),
}

/// Handles a request's arrival at the session object: validates the token, checks both
/// timeouts, claims a deferred session, counts the hit.
pub fn begin(stored: Option<&Stored>, presented: &Bearer, now: UnixMs, policy: &Timing) -> (Begin, Write) {
    match stored {
        Some(Stored::Ended(t)) => (Begin::Refused(Refusal::of(t, now)), Write::Nothing),
        Some(Stored::Live(record)) => {
            if !presented.holds(&record.token_fp) {
                return (Begin::Refused(Refusal::Mismatch), Write::Nothing);
            }
            if let Some(reason) = record.expired(now) {
                let tomb = Tombstone::ended(record, &presented.cfid, reason, now);
                return (Begin::Refused(Refusal::Expired), Write::Put(Stored::Ended(tomb)));
            }
            let mut record = record.clone();
            let mut touch = record.touch(now, policy);
            if presented.rekeys(&record.token_fp) {
                // Made with the previous key: the record moves to the re-minted token.
                record.token_fp = presented.token_fp.clone();
                touch = Touch { persist: true, refresh_cookie: true };
            }
            let verdict = presented.fingerprint.as_ref().and_then(|probe| judge(&mut record, probe, now));
            if let Some(v) = &verdict {
                touch.persist |= v.raised || (v.acts && v.action == FingerprintAction::Rotate);
                if v.acts && v.action == FingerprintAction::End {
                    let tomb = Tombstone::ended(&record, &presented.cfid, EndReason::Fingerprint, now);
                    return (Begin::Refused(Refusal::Fingerprint), Write::Put(Stored::Ended(tomb)));
                }
            }
            if let Some(t) = policy.path_timeout_s.filter(|t| *t != record.idle_timeout_s) {
                // The path's timeout applies from this request on (the check above used the
                // session's own): store it, and renew a cookie that follows the timeout.
                record.idle_timeout_s = t;
                record.persisted_access = record.last_access;
                touch = Touch { persist: true, refresh_cookie: true };
            }
            let write = if touch.persist { put_live(&mut record) } else { Write::Nothing };
            (Begin::Active { record, stored_now: false, touch, fingerprint: verdict }, write)
        }
        None => match claim(presented, now, policy) {
            Some(_) if !presented.fresh && presented.client.is_none() => (Begin::NeedsClient, Write::Nothing),
            Some(mut record) => {
                let touch = Touch { persist: true, refresh_cookie: false };
                record.fingerprint = presented.fingerprint.as_ref().map(|probe| probe.seen.clone());
                let write = put_live(&mut record);
                (Begin::Active { record, stored_now: true, touch, fingerprint: None }, write)
            }
            None => (Begin::Refused(Refusal::Unknown), Write::Nothing),
        },
    }
}

/// What a request's fingerprint change means for its session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub score: Score,
    /// The score reached the threshold: the action applies.
    pub acts: bool,
    /// `SESSION_FINGERPRINT`.
    pub action: FingerprintAction,
    /// The score is higher than any before in this session (the flag was raised: logged).
    pub raised: bool,
}

impl Verdict {
    /// The value of [`super::protocol::FINGERPRINT_HEADER`].
    pub fn header_value(&self) -> String {
        let action = match self.action {
            FingerprintAction::Off | FingerprintAction::Log => "log",
            FingerprintAction::Rotate => "rotate",
            FingerprintAction::End => "end",
        };
        format!("score={}; reasons={}; action={action}", self.score.score, self.score.reason_list())
    }
}

/// Scores `seen` against the session's fingerprint and records what it means: a raised flag,
/// and with `rotate` at the threshold the new fingerprint (the Worker moves the session to
/// new ids). A session stored without a fingerprint takes this one. `None`: nothing changed.
fn judge(record: &mut SessionRecord, probe: &Probe, now: UnixMs) -> Option<Verdict> {
    let (seen, policy) = (&probe.seen, &probe.policy);
    let Some(stored) = &record.fingerprint else {
        record.fingerprint = Some(seen.clone());
        return None;
    };
    let score = stored.score(seen);
    if score.score == 0 {
        return None;
    }
    let raised = record.flag.as_ref().is_none_or(|f| score.score > f.score);
    if raised {
        record.flag = Some(Flag { score: score.score, reasons: score.reasons.clone(), at: now });
    }
    let acts = score.score >= policy.threshold;
    if acts && policy.action == FingerprintAction::Rotate {
        record.fingerprint = Some(seen.clone());
    }
    (raised || acts).then_some(Verdict { score, acts, action: policy.action, raised })
}

/// Whether ids issued at `issued_at` may still be claimed at `now`: within the claim window
/// (the idle timeout, at most [`MAX_CLAIM_WINDOW_MS`]).
pub fn may_be_unclaimed(issued_at: UnixMs, now: UnixMs, policy: &Timing) -> bool {
    now < issued_at.saturating_add(policy.idle_timeout_s.saturating_mul(1000).min(MAX_CLAIM_WINDOW_MS))
}

/// How long after its ids were issued a request sends what a claim needs with `begin` (the
/// client's hints and abuse key), so that the claim takes one object call (ms). A deferred
/// session is claimed by its second request, nearly always within seconds; a later claim
/// costs a second call (the object asks, [`Declined::NeedsClient`]). Longer would make every
/// request of a young session carry the hints.
pub const CLAIM_HINTS_MS: u64 = 60_000;

/// Whether a request with ids issued at `issued_at` sends the claim's hints at `now`
/// ([`CLAIM_HINTS_MS`], within the claim window).
pub fn sends_claim_hints(issued_at: UnixMs, now: UnixMs, policy: &Timing) -> bool {
    now < issued_at.saturating_add(CLAIM_HINTS_MS) && may_be_unclaimed(issued_at, now, policy)
}

/// A new record for ids with no stored state: fresh ids (stored on their first request), or
/// a deferred session coming back within its claim window and lifetime.
pub(crate) fn claim(p: &Bearer, now: UnixMs, policy: &Timing) -> Option<SessionRecord> {
    let mut record = SessionRecord::new(p.token_fp.clone(), p.issued_at, now, policy);
    record.cfid = p.cfid.clone();
    record.session_key = p.cfid.clone();
    record.origin_cookies = p.origin.clone();
    record.origin_scopes = CookieScope::merged(&[], &p.scopes, &p.origin);
    record.client = p.client.clone();
    if let Some(t) = policy.path_timeout_s {
        record.idle_timeout_s = t;
    }
    if p.fresh {
        return Some(record);
    }
    let issued_ok = p.issued_at <= now.saturating_add(60_000) && may_be_unclaimed(p.issued_at, now, policy);
    if !issued_ok || record.absolute_deadline.is_some_and(|d| now >= d) {
        return None;
    }
    record.hits = 2; // the unstored first request, and this one
    Some(record)
}

/// Changes the origin asked for on a response (`X-Session-Set`, `timeout=`, `X-Session-User`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    /// Keys to merge into the session data; a `null` value deletes the key.
    pub set: Option<Map<String, Value>>,
    /// A new idle timeout for this session (seconds).
    pub idle_timeout_s: Option<u64>,
    /// Tag the session with this user id.
    pub user: Option<String>,
}

/// The outcome of [`apply_update`].
#[derive(Debug, Clone, PartialEq)]
pub enum Updated {
    /// Applied. `data_refused` when the merged data would exceed the size limit: the data
    /// was left as it was (the other changes were applied). `stored_now` as in [`Begin`].
    Applied {
        record: SessionRecord,
        data_refused: bool,
        stored_now: bool,
    },
    Refused(Refusal),
}

/// Applies the origin's changes to the session, atomically in its object (so concurrent
/// updates are all applied). A brand-new deferred session is stored by its first update.
pub fn apply_update(
    stored: Option<&Stored>,
    presented: &Bearer,
    update: &Update,
    now: UnixMs,
    policy: &Timing,
    data_limit: usize,
) -> (Updated, Write) {
    let (mut record, stored_now) = match stored {
        Some(Stored::Ended(t)) => return (Updated::Refused(Refusal::of(t, now)), Write::Nothing),
        Some(Stored::Live(r)) if !presented.holds(&r.token_fp) => {
            return (Updated::Refused(Refusal::Mismatch), Write::Nothing)
        }
        Some(Stored::Live(r)) => match r.expired(now) {
            Some(reason) => {
                let tomb = Tombstone::ended(r, &presented.cfid, reason, now);
                return (Updated::Refused(Refusal::Expired), Write::Put(Stored::Ended(tomb)));
            }
            None => (r.clone(), false),
        },
        None => match claim(presented, now, policy) {
            Some(r) => (r, true),
            None => return (Updated::Refused(Refusal::Unknown), Write::Nothing),
        },
    };
    let mut data_refused = false;
    if let Some(set) = &update.set {
        let mut data = record.data.clone();
        merge(&mut data, set);
        if serialized_len(&data) <= data_limit {
            record.data = data;
        } else {
            data_refused = true;
        }
    }
    if let Some(t) = update.idle_timeout_s {
        record.idle_timeout_s = t;
    }
    if let Some(user) = &update.user {
        record.user = Some(user.clone());
    }
    let write = put_live(&mut record);
    (Updated::Applied { record, data_refused, stored_now }, write)
}

/// Merges `set` into `data`: each key is replaced, and a `null` value removes the key.
pub fn merge(data: &mut Map<String, Value>, set: &Map<String, Value>) {
    for (k, v) in set {
        if v.is_null() {
            data.remove(k);
        } else {
            data.insert(k.clone(), v.clone());
        }
    }
}

/// The size of the data as JSON, in bytes: what the data limit counts.
pub fn serialized_len(data: &Map<String, Value>) -> usize {
    serde_json::to_string(data).map_or(usize::MAX, |s| s.len())
}

/// Marks the record written and returns the write.
pub fn put_live(record: &mut SessionRecord) -> Write {
    record.writes = record.writes.saturating_add(1);
    record.persisted_access = record.last_access;
    Write::Put(Stored::Live(record.clone()))
}

#[cfg(test)]
mod tests;
