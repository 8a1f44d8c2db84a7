//! The session index's operations: the index shards' ([`IndexCall`]) and the user indexes'
//! ([`UserCall`]).

use serde::{Deserialize, Serialize};

use super::{
    call::{from_body, to_body, Call, CallError},
    messages::EndRequest,
};
use crate::core::{
    clock::UnixMs,
    index::{EndedEntry, IndexEntry},
};

/// `remove`: a session's entry goes; `ended` (set when it ended, not when it rotated away)
/// goes to the shard's log of ended sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    pub cfid: String,
    #[serde(default)]
    pub ended: Option<EndedEntry>,
}

/// `list`: up to `limit` entries after CFID `after`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListAfter {
    pub after: Option<String>,
    pub limit: u32,
}

/// `expired`: up to `limit` CFIDs whose recorded deadline is at or before `before` (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub before: u64,
    pub limit: u32,
}

/// At most `limit` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub limit: u32,
}

/// A CFID alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CfidOf {
    pub cfid: String,
}

/// An operation on an index shard (one of `INDEX_SHARDS`; the shard of a CFID:
/// [`crate::core::index::shard_for`]).
#[derive(Debug, Clone, PartialEq)]
pub enum IndexCall {
    /// Insert or refresh a live session's entry. Answer: `true`.
    Upsert(IndexEntry),
    /// Remove an entry. Answer: `true`.
    Remove(Removal),
    /// CFIDs past their deadline, for the sweep. Answer: the CFIDs.
    Expired(Due),
    /// A page of entries. Answer: [`crate::core::index::Page`].
    List(ListAfter),
    /// The most recently ended sessions, newest first. Answer: the entries.
    Ended(Limit),
    /// Queue an end the session object could not confirm. Answer: `true`.
    QueueEnd(EndRequest),
    /// Queued ends, oldest first. Answer: [`PendingEnd`]s.
    PendingEnds(Limit),
    /// Drop a queued end its object confirmed. Answer: `true`.
    EndConfirmed(CfidOf),
    /// How many sessions the shard records. Answer: the number.
    Count,
}

impl Call for IndexCall {
    fn op(&self) -> &'static str {
        match self {
            IndexCall::Upsert(_) => "upsert",
            IndexCall::Remove(_) => "remove",
            IndexCall::Expired(_) => "expired",
            IndexCall::List(_) => "list",
            IndexCall::Ended(_) => "ended",
            IndexCall::QueueEnd(_) => "queue_end",
            IndexCall::PendingEnds(_) => "pending_ends",
            IndexCall::EndConfirmed(_) => "end_confirmed",
            IndexCall::Count => "count",
        }
    }

    fn fault_point(&self) -> Option<&'static str> {
        match self {
            IndexCall::Upsert(_) => Some("index.upsert"),
            IndexCall::Remove(_) => Some("index.remove"),
            IndexCall::List(_) => Some("index.list"),
            IndexCall::QueueEnd(_) => Some("index.queue_end"),
            IndexCall::Expired(_)
            | IndexCall::Ended(_)
            | IndexCall::PendingEnds(_)
            | IndexCall::EndConfirmed(_)
            | IndexCall::Count => None,
        }
    }

    fn changes_state(&self) -> bool {
        match self {
            IndexCall::Upsert(_) | IndexCall::Remove(_) | IndexCall::QueueEnd(_) | IndexCall::EndConfirmed(_) => true,
            IndexCall::Expired(_) | IndexCall::List(_) | IndexCall::Ended(_) | IndexCall::PendingEnds(_) => false,
            IndexCall::Count => false,
        }
    }

    fn body(&self) -> Result<String, CallError> {
        let op = self.op();
        match self {
            IndexCall::Upsert(e) => to_body(op, e),
            IndexCall::Remove(r) => to_body(op, r),
            IndexCall::Expired(d) => to_body(op, d),
            IndexCall::List(l) => to_body(op, l),
            IndexCall::Ended(l) | IndexCall::PendingEnds(l) => to_body(op, l),
            IndexCall::QueueEnd(e) => to_body(op, e),
            IndexCall::EndConfirmed(c) => to_body(op, c),
            IndexCall::Count => Ok("null".into()),
        }
    }

    fn parse(op: &str, body: &str) -> Result<Self, CallError> {
        Ok(match op {
            "upsert" => IndexCall::Upsert(from_body("upsert", body)?),
            "remove" => IndexCall::Remove(from_body("remove", body)?),
            "expired" => IndexCall::Expired(from_body("expired", body)?),
            "list" => IndexCall::List(from_body("list", body)?),
            "ended" => IndexCall::Ended(from_body("ended", body)?),
            "queue_end" => IndexCall::QueueEnd(from_body("queue_end", body)?),
            "pending_ends" => IndexCall::PendingEnds(from_body("pending_ends", body)?),
            "end_confirmed" => IndexCall::EndConfirmed(from_body("end_confirmed", body)?),
            "count" => IndexCall::Count,
            _ => return Err(CallError::UnknownOperation { object: "index", op: op.to_owned() }),
        })
    }
}

/// `add` and `add_within`: tag `cfid` with the user at `at` (ms), with the user's cap `max`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddUser {
    pub cfid: String,
    /// When it was tagged (ms; 0 from callers older than the field).
    #[serde(default)]
    pub at: u64,
    #[serde(default)]
    pub max: Option<u32>,
}

/// An operation on a user's index (one object per user id: [`crate::core::index::user_object`]).
#[derive(Debug, Clone, PartialEq)]
pub enum UserCall {
    /// Tag a session; with `max`, the user's oldest other sessions beyond it are untagged in
    /// the same step. Answer: the CFIDs untagged (the caller ends them).
    Add(AddUser),
    /// Tag a session only while the user has fewer than `max` others
    /// (`MAX_SESSIONS_POLICY=refuse`). Answer: `false` when refused.
    AddWithin(AddUser),
    /// Untag a session. Answer: `true`.
    Remove(CfidOf),
    /// The user's CFIDs. Answer: the CFIDs.
    List,
}

impl Call for UserCall {
    fn op(&self) -> &'static str {
        match self {
            UserCall::Add(_) => "add",
            UserCall::AddWithin(_) => "add_within",
            UserCall::Remove(_) => "remove",
            UserCall::List => "list",
        }
    }

    fn fault_point(&self) -> Option<&'static str> {
        Some(match self {
            UserCall::Add(_) | UserCall::AddWithin(_) => "users.add",
            UserCall::Remove(_) => "users.remove",
            UserCall::List => "users.list",
        })
    }

    fn changes_state(&self) -> bool {
        !matches!(self, UserCall::List)
    }

    fn body(&self) -> Result<String, CallError> {
        let op = self.op();
        match self {
            UserCall::Add(a) | UserCall::AddWithin(a) => to_body(op, a),
            UserCall::Remove(c) => to_body(op, c),
            UserCall::List => Ok("null".into()),
        }
    }

    fn parse(op: &str, body: &str) -> Result<Self, CallError> {
        Ok(match op {
            "add" => UserCall::Add(from_body("add", body)?),
            "add_within" => UserCall::AddWithin(from_body("add_within", body)?),
            "remove" => UserCall::Remove(from_body("remove", body)?),
            "list" => UserCall::List,
            _ => return Err(CallError::UnknownOperation { object: "user index", op: op.to_owned() }),
        })
    }
}

/// An end the session object could not confirm when it was asked (a kill, an invalidate, a
/// failed login): queued in the index shard and retried by the sweep until confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEnd {
    pub request: EndRequest,
    /// When it was queued (ms).
    pub at: UnixMs,
}
