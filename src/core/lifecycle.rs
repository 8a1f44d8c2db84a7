//! How sessions end and move: ending one now, and rotation to new ids. Like
//! [`super::session`], every function takes the stored state and the time and returns what to
//! answer and what to write (the tombstones it leaves: [`super::tombstone`]).

use serde::{Deserialize, Serialize};

use super::{
    clock::UnixMs,
    end_reason::EndReason,
    guard::response::CookieScope,
    record::{SessionRecord, Timing},
    session_state::{put_live, Bearer, Refusal, Stored, Write},
    tombstone::Tombstone,
};

/// The outcome of [`end`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Ending {
    /// The session ended now (`stored` is false for ids that were never stored). Guard mode:
    /// `scopes`, where the application set the cookies the session held (for the kill's
    /// deletions).
    Ended {
        stored: bool,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        scopes: Vec<CookieScope>,
    },
    /// It had already ended (or was rotated away): nothing to do.
    AlreadyGone,
    /// No session under this CFID (admin kills only).
    NotFound,
    /// The presented token is not this session's.
    Mismatch,
    /// The session is tagged with another user than the one being logged out (its user
    /// changed since the user index listed it): left alone.
    OtherUser,
}

/// Ends a session now: the kill flag or path, the origin's `invalidate`, or the admin API
/// (`presented` is `None`: no token to check). With `only_user`, a live session tagged with
/// any other user is left alone ("log out everywhere" acts on a possibly stale user index).
/// Idempotent. Ids that were never stored (a deferred session) still get a tombstone, so
/// they can never be claimed later.
pub fn end(
    stored: Option<&Stored>,
    presented: Option<&Bearer>,
    only_user: Option<&str>,
    reason: EndReason,
    now: UnixMs,
) -> (Ending, Write) {
    match (stored, presented) {
        (Some(Stored::Ended(_)), _) => (Ending::AlreadyGone, Write::Nothing),
        (Some(Stored::Live(r)), _) if only_user.is_some_and(|u| r.user.as_deref() != Some(u)) => {
            (Ending::OtherUser, Write::Nothing)
        }
        (Some(Stored::Live(r)), Some(p)) if !p.holds(&r.token_fp) => (Ending::Mismatch, Write::Nothing),
        (Some(Stored::Live(r)), p) => {
            let cfid = p.map(|p| p.cfid.clone()).unwrap_or_default();
            let tomb = Tombstone::ended(r, &cfid, reason, now);
            (Ending::Ended { stored: true, scopes: r.origin_scopes.clone() }, Write::Put(Stored::Ended(tomb)))
        }
        (None, Some(p)) => {
            let mut tomb = Tombstone::unstored(p.issued_at, reason, now);
            // A guarded session the edge never stored still exists at the origin.
            tomb.origin_kill = (!p.origin.is_empty()).then(|| p.origin.clone());
            (Ending::Ended { stored: false, scopes: p.scopes.clone() }, Write::Put(Stored::Ended(tomb)))
        }
        (None, None) => (Ending::NotFound, Write::Nothing),
    }
}

/// Takes a live session out of its old ids for rotation: returns its record and leaves a
/// `Rotated` tombstone. A deferred session that was never stored is claimed first.
pub fn rotate_out(
    stored: Option<&Stored>,
    presented: &Bearer,
    now: UnixMs,
    policy: &Timing,
) -> (Result<SessionRecord, Refusal>, Write) {
    let record = match stored {
        Some(Stored::Ended(t)) => return (Err(Refusal::of(t, now)), Write::Nothing),
        Some(Stored::Live(r)) if !presented.holds(&r.token_fp) => return (Err(Refusal::Mismatch), Write::Nothing),
        Some(Stored::Live(r)) => r.clone(),
        None => match super::session_state::claim(presented, now, policy) {
            Some(r) => r,
            None => return (Err(Refusal::Unknown), Write::Nothing),
        },
    };
    let tomb = Tombstone::rotated(&record, now);
    let mut record = record;
    record.session_key = record.session_key(&presented.cfid).to_owned();
    (Ok(record), Write::Put(Stored::Ended(tomb)))
}

/// Stores a rotated session under its new ids: same data, hits, user and timeouts; the new
/// CFID and token. Refused when the new ids already hold anything (they are fresh, so they
/// never do).
pub fn adopt(stored: Option<&Stored>, mut record: SessionRecord, new: &Bearer) -> (Option<SessionRecord>, Write) {
    if stored.is_some() {
        return (None, Write::Nothing);
    }
    if record.session_key.is_empty() {
        record.session_key = record.cfid.clone();
    }
    record.cfid = new.cfid.clone();
    record.token_fp = new.token_fp.clone();
    record.issued_at = new.issued_at;
    if !new.origin.is_empty() {
        record.origin_scopes = CookieScope::merged(&record.origin_scopes, &new.scopes, &new.origin);
        record.origin_cookies = new.origin.clone();
    }
    let write = put_live(&mut record);
    (Some(record), write)
}

#[cfg(test)]
mod tests;
