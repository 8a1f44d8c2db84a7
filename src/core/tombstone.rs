//! What stays of a session whose ids stopped working (ended or rotated away), and the start
//! and end events a session leaves behind.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    clock::UnixMs,
    end_reason::EndReason,
    fingerprint::Flag,
    guard::OriginIds,
    record::{SessionRecord, MAX_CLAIM_WINDOW_MS},
};

/// For this long after a rotation, a request still carrying the old pair is answered without
/// a session and without `Set-Cookie` (see [`crate::core::session_state::Refusal::RotatedRecently`]), so parallel requests
/// in flight during a login cannot overwrite the browser's new cookies.
pub const ROTATE_GRACE_MS: u64 = 10_000;

/// Why ids stopped working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", content = "reason", rename_all = "lowercase")]
pub enum Cause {
    /// The session ended.
    Ended(EndReason),
    /// The session moved to new ids (it lives on under them).
    Rotated,
}

/// The end of a session, as delivered to `SESSION_END_URL` (ColdFusion's `onSessionEnd` gets
/// the session scope: so does this). Never contains the CFTOKEN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEvent {
    /// `"start"` or `"end"`.
    pub event: String,
    /// Receivers dedupe by this: one key per logical event (`<session>:start`, `<session>:end`).
    pub idempotency_key: String,
    /// The session's stable key: its first CFID, kept through rotations, so a receiver can
    /// pair a start with its end.
    #[serde(default)]
    pub session: String,
    /// The CFID at the time of the event (differs from `session` after a rotation). In guard
    /// mode, the guard id (the origin's own ids are never in an event).
    pub cfid: String,
    /// `edge` or `guard` (who owns the session; guard-mode events carry no data).
    #[serde(default = "edge_mode")]
    pub mode: String,
    pub reason: Option<EndReason>,
    pub created: UnixMs,
    pub last_access: UnixMs,
    pub hits: u64,
    pub user: Option<String>,
    /// The final session data (end events only).
    pub data: Option<Map<String, Value>>,
    /// When it happened (ms).
    pub at: UnixMs,
    /// The highest fingerprint change the session saw (`SESSION_FINGERPRINT`; end events of
    /// flagged sessions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Flag>,
}

fn edge_mode() -> String {
    "edge".into()
}

/// The mode a record belongs to, for its events.
fn mode_of(record: &SessionRecord) -> String {
    if record.origin_cookies.is_empty() {
        edge_mode()
    } else {
        "guard".into()
    }
}

impl SessionEvent {
    /// The session's stable key (`cfid` for events queued before it existed).
    pub fn session_key(&self) -> &str {
        if self.session.is_empty() {
            &self.cfid
        } else {
            &self.session
        }
    }

    /// The start of `record` (when it is first stored).
    pub fn start(record: &SessionRecord, cfid: &str, at: UnixMs) -> Self {
        let session = record.session_key(cfid).to_owned();
        Self {
            event: "start".into(),
            idempotency_key: format!("{session}:start"),
            session,
            cfid: cfid.to_owned(),
            mode: mode_of(record),
            reason: None,
            created: record.created,
            last_access: record.last_access,
            hits: record.hits,
            user: record.user.clone(),
            data: None,
            at,
            fingerprint: None,
        }
    }

    /// The end of `record`, under `cfid`.
    pub fn end(record: &SessionRecord, cfid: &str, reason: EndReason, at: UnixMs) -> Self {
        let session = record.session_key(cfid).to_owned();
        Self {
            event: "end".into(),
            idempotency_key: format!("{session}:end"),
            session,
            cfid: cfid.to_owned(),
            mode: mode_of(record),
            reason: Some(reason),
            created: record.created,
            last_access: record.last_access,
            hits: record.hits,
            user: record.user.clone(),
            data: (record.origin_cookies.is_empty()).then(|| record.data.clone()),
            at,
            fingerprint: record.flag.clone(),
        }
    }

    /// The call to `ORIGIN_KILL_URL` for a guarded session ending (its body; the cookies go in
    /// the request's `Cookie` header). `cfid` is the guard id.
    pub fn origin_kill(end: Option<&SessionEvent>, cfid: &str, reason: Option<EndReason>, at: UnixMs) -> Self {
        let session = end.map_or(cfid, |e| e.session_key()).to_owned();
        Self {
            event: "origin_kill".into(),
            idempotency_key: format!("{session}:origin_kill"),
            session,
            cfid: cfid.to_owned(),
            mode: "guard".into(),
            reason: end.and_then(|e| e.reason).or(reason),
            created: end.map_or(at, |e| e.created),
            last_access: end.map_or(at, |e| e.last_access),
            hits: end.map_or(0, |e| e.hits),
            user: end.and_then(|e| e.user.clone()),
            data: None,
            at,
            fingerprint: end.and_then(|e| e.fingerprint.clone()),
        }
    }
}

/// What stays of a session whose ids stopped working: enough to refuse them, the pending end
/// event, and no session data otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tombstone {
    pub at: UnixMs,
    pub cause: Cause,
    /// When the tombstone may be deleted (ms): after any claim window of these ids.
    pub purge_at: UnixMs,
    /// The end event still to be delivered (only for sessions that were stored).
    #[serde(default)]
    pub pending: Option<SessionEvent>,
    /// Guard mode: the origin's session cookies, still to be sent to `ORIGIN_KILL_URL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_kill: Option<OriginIds>,
}

impl Tombstone {
    /// The end of a stored session, with its end event. The record's own CFID wins over
    /// `cfid` (records stored before it was kept have none).
    pub fn ended(record: &SessionRecord, cfid: &str, reason: EndReason, now: UnixMs) -> Self {
        let cfid = if record.cfid.is_empty() { cfid } else { record.cfid.as_str() };
        Self {
            at: now,
            cause: Cause::Ended(reason),
            purge_at: purge_at(record.token_issued_at(), now),
            pending: Some(SessionEvent::end(record, cfid, reason, now)),
            origin_kill: (!record.origin_cookies.is_empty()).then(|| record.origin_cookies.clone()),
        }
    }

    /// The end of ids that were never stored (a deferred session): no event, but the ids
    /// must never be claimed afterwards.
    pub fn unstored(issued_at: UnixMs, reason: EndReason, now: UnixMs) -> Self {
        Self {
            at: now,
            cause: Cause::Ended(reason),
            purge_at: purge_at(issued_at, now),
            pending: None,
            origin_kill: None,
        }
    }

    /// Ids a session was rotated away from.
    pub fn rotated(record: &SessionRecord, now: UnixMs) -> Self {
        Self {
            at: now,
            cause: Cause::Rotated,
            purge_at: purge_at(record.token_issued_at(), now),
            pending: None,
            origin_kill: None,
        }
    }

    /// Whether these ids were rotated away less than [`ROTATE_GRACE_MS`] before `now`.
    pub fn rotated_recently(&self, now: UnixMs) -> bool {
        self.cause == Cause::Rotated && now < self.at.saturating_add(ROTATE_GRACE_MS)
    }
}

/// When a tombstone may go: after the claim window of the newest token these ids had
/// (`issued`: a rotated session's token is newer than the session), and not before `now`.
fn purge_at(issued: UnixMs, now: UnixMs) -> UnixMs {
    issued.saturating_add(MAX_CLAIM_WINDOW_MS).max(now).saturating_add(60_000)
}
