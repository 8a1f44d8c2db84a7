//! The messages between the Worker and a session's Durable Object: the bodies of the
//! [`super::SessionCall`]s and their answers.

// Outcomes that carry a record are short-lived and moved once: boxing would only add an
// allocation.
#![allow(clippy::large_enum_variant)]

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::core::{
    clock::UnixMs,
    end_reason::EndReason,
    fingerprint::{Flag, Probe},
    guard::{response::CookieScope, OriginIds},
    hooks::Delivery,
    ids::{CfToken, Cfid},
    index::IndexEntry,
    record::{ClientHints, SessionRecord, Timing},
    session_state::{Bearer, Declined, Refusal, Update, Verdict},
};

/// The ids a request presents, as the object sees them (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ids {
    pub cfid: String,
    pub token_fp: String,
    pub issued_at: UnixMs,
    #[serde(default)]
    pub fresh: bool,
    /// Guard mode: the origin's session cookies the ids are bound to.
    #[serde(default, skip_serializing_if = "OriginIds::is_empty")]
    pub origin: OriginIds,
    /// Guard mode: where the application set those cookies in the response that bound them
    /// (merged into the session's record; a kill deletes each where it lives).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<CookieScope>,
    /// The token as sent, when it was made with `SESSION_SIGNING_KEY_PREVIOUS` (`token_fp`
    /// is then the token re-minted under the current key). See [`Bearer::previous_fp`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_fp: Option<String>,
}

impl Ids {
    /// The ids of `cfid` and its `token` (a guard id and its binding token in guard mode).
    pub fn of(cfid: &Cfid, token: &CfToken, fresh: bool) -> Self {
        Self {
            cfid: cfid.to_string(),
            token_fp: token.fingerprint(),
            issued_at: token.issued_at(),
            fresh,
            origin: OriginIds::default(),
            scopes: Vec::new(),
            previous_fp: None,
        }
    }

    /// These ids, for a token re-minted from one made with the previous key whose fingerprint
    /// is `previous_fp` (see [`Bearer::previous_fp`]).
    pub fn rekeyed_from(mut self, previous_fp: Option<String>) -> Self {
        self.previous_fp = previous_fp;
        self
    }

    /// These ids, bound to the origin's session cookies `origin` (guard mode).
    pub fn bound(mut self, origin: OriginIds) -> Self {
        self.origin = origin;
        self
    }

    /// These ids with the scopes of the cookies they are bound to.
    pub fn scoped(mut self, scopes: Vec<CookieScope>) -> Self {
        self.scopes = scopes;
        self
    }

    pub fn bearer(&self) -> Bearer {
        Bearer {
            cfid: self.cfid.clone(),
            token_fp: self.token_fp.clone(),
            issued_at: self.issued_at,
            fresh: self.fresh,
            origin: self.origin.clone(),
            scopes: self.scopes.clone(),
            client: None,
            fingerprint: None,
            previous_fp: self.previous_fp.clone(),
        }
    }
}

/// `begin`: a request arrives in this session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeginRequest {
    pub ids: Ids,
    #[serde(rename = "policy")]
    pub timing: Timing,
    /// The client's hints, sent when the session is created (fresh ids) or its ids are young
    /// enough to be claimed now ([`crate::core::session_state::sends_claim_hints`]): kept with the
    /// first write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientHints>,
    /// `SESSION_FINGERPRINT` on: the request's fingerprint, scored against the session's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Probe>,
    /// With `ABUSE_LIMITS`, the client's key for the new-session limit, sent with the hints:
    /// when this request claims a deferred session, the object counts the claim first
    /// ([`Declined::AbuseLimited`]). Absent from older Workers (they count before asking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abuse_key: Option<String>,
}

impl BeginRequest {
    /// The ids as presented, with the client's hints and fingerprint.
    pub fn bearer(&self) -> Bearer {
        Bearer { client: self.client.clone(), fingerprint: self.fingerprint.clone(), ..self.ids.bearer() }
    }
}

/// `update`: the origin's changes, after its response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateRequest {
    pub ids: Ids,
    #[serde(rename = "policy")]
    pub timing: Timing,
    pub data_limit: usize,
    #[serde(default)]
    pub set: Option<Map<String, Value>>,
    #[serde(default)]
    pub idle_timeout_s: Option<u64>,
    #[serde(default)]
    pub user: Option<String>,
}

impl UpdateRequest {
    pub fn update(&self) -> Update {
        Update { set: self.set.clone(), idle_timeout_s: self.idle_timeout_s, user: self.user.clone() }
    }
}

/// A session as the Worker (and the admin API) sees it: everything but the token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub hits: u64,
    pub data: Map<String, Value>,
    pub created: UnixMs,
    pub last_access: UnixMs,
    pub idle_timeout_s: u64,
    /// The earlier of the idle and absolute deadlines (ms).
    pub expires_at: UnixMs,
    pub user: Option<String>,
    /// Storage writes of this session so far.
    pub writes: u64,
    /// `edge`, or `guard` for a session of the origin's that the edge guards (no data).
    #[serde(default)]
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientHints>,
    /// The highest fingerprint change seen (`SESSION_FINGERPRINT`), shown by `inspect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Flag>,
}

impl SessionView {
    /// The session's entry in its index shard (never the token).
    pub fn index_entry(&self, cfid: &str) -> IndexEntry {
        IndexEntry {
            cfid: cfid.to_owned(),
            created: self.created,
            last_access: self.last_access,
            expires_at: self.expires_at,
            hits: self.hits,
            user: self.user.clone(),
            flag: self.fingerprint.as_ref().map(|f| f.score),
        }
    }
}

impl From<&SessionRecord> for SessionView {
    fn from(r: &SessionRecord) -> Self {
        Self {
            hits: r.hits,
            data: r.data.clone(),
            created: r.created,
            last_access: r.last_access,
            idle_timeout_s: r.idle_timeout_s,
            expires_at: r.next_deadline(),
            user: r.user.clone(),
            writes: r.writes,
            mode: if r.origin_cookies.is_empty() { "edge" } else { "guard" }.to_owned(),
            client: None,
            fingerprint: None,
        }
    }
}

impl SessionView {
    /// The view with the client's hints (for `inspect`: the admin and the origin API); `None`
    /// when the session has passed a deadline at `now`, whether or not its alarm has ended it
    /// yet (its ids are refused already). The answers to `begin` and `update` leave the hints
    /// out: the Worker never needs them.
    pub fn inspected(r: &SessionRecord, now: UnixMs) -> Option<Self> {
        r.expired(now).is_none().then(|| Self {
            client: r.client.clone(),
            fingerprint: r.flag.clone(),
            ..Self::from(r)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::record::Timing;

    #[test]
    fn a_session_past_its_idle_timeout_is_not_shown_as_live() {
        let policy = Timing { idle_timeout_s: 60, ..Timing::default() };
        let r = SessionRecord::new("fp".into(), 0, 0, &policy);
        assert!(SessionView::inspected(&r, 59_999).is_some());
        assert!(SessionView::inspected(&r, 60_000).is_none(), "shown as live until its alarm runs");
    }
}

/// The object's answer to `begin` and `update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Reply {
    Active {
        session: SessionView,
        /// This request stored the session for the first time.
        stored_now: bool,
        /// Refresh a sliding cookie.
        refresh_cookie: bool,
        /// The update's data part exceeded the size limit and was not applied.
        #[serde(default)]
        data_refused: bool,
        /// `begin`: the request's fingerprint change, when it raised the session's flag or
        /// reached the threshold.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fingerprint: Option<Verdict>,
    },
    Refused {
        reason: Refused,
    },
}

/// Why `begin` or `update` did not make the session active: the ids were refused, or the
/// object declined the request. The wire has one `reason` name for both ([`Refused::as_str`]),
/// as before the two were told apart, so Workers and objects of either side of that change
/// understand each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Ids(Refusal),
    Declined(Declined),
}

impl Refused {
    /// Every reason, for reading one from its name.
    const ALL: [Refused; 9] = [
        Refused::Ids(Refusal::Unknown),
        Refused::Ids(Refusal::Mismatch),
        Refused::Ids(Refusal::Ended),
        Refused::Ids(Refusal::Expired),
        Refused::Ids(Refusal::RotatedRecently),
        Refused::Ids(Refusal::Fingerprint),
        Refused::Declined(Declined::TooManySessions),
        Refused::Declined(Declined::NeedsClient),
        Refused::Declined(Declined::AbuseLimited),
    ];
}

impl Serialize for Refused {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Refused {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Refused::ALL
            .into_iter()
            .find(|r| r.as_str() == name)
            .ok_or_else(|| serde::de::Error::custom("unknown refusal reason"))
    }
}

/// A [`Refusal`] on the wire: its name, as in [`Refused`].
impl Serialize for Refusal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Refused::Ids(*self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Refusal {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Refused::deserialize(deserializer)? {
            Refused::Ids(r) => Ok(r),
            Refused::Declined(_) => Err(serde::de::Error::custom("not a refusal of the ids")),
        }
    }
}

impl Refused {
    /// The snake-case name used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::Ids(r) => r.as_str(),
            Refused::Declined(d) => d.as_str(),
        }
    }
}

impl Reply {
    /// The ids were refused.
    pub fn refused(reason: Refusal) -> Self {
        Reply::Refused { reason: Refused::Ids(reason) }
    }

    /// The object declined the request.
    pub fn declined(reason: Declined) -> Self {
        Reply::Refused { reason: Refused::Declined(reason) }
    }
}

/// `end`: end the session now (kill, invalidate, admin). `ids` is `None` for the admin,
/// which has no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndRequest {
    pub cfid: String,
    pub ids: Option<Ids>,
    pub reason: EndReason,
    /// End only if the session is tagged with this user (log-out-everywhere).
    #[serde(default)]
    pub only_user: Option<String>,
}

/// `rotate_out`: take the session out of its old ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotateOutRequest {
    pub ids: Ids,
    #[serde(rename = "policy")]
    pub timing: Timing,
}

/// The answer to `rotate_out`: the session's record (internal: it carries the old token's
/// fingerprint and never leaves the edge), or why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RotateOutReply {
    Moved {
        record: SessionRecord,
        /// Its undelivered start events: they move with it (a start always precedes its end).
        #[serde(default)]
        starts: Vec<Delivery>,
    },
    Refused {
        reason: Refusal,
    },
}

/// `adopt`: store a rotated session under its new ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdoptRequest {
    pub ids: Ids,
    pub record: SessionRecord,
    /// Undelivered start events moving with the session.
    #[serde(default)]
    pub starts: Vec<Delivery>,
}
