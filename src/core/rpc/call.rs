//! What every object call is: a name, a fault point, whether it changes state, a JSON body.

use std::fmt;

use serde::{de::DeserializeOwned, Serialize};

/// One operation on one kind of Durable Object, as the Worker sends it and the object reads it.
pub trait Call: Sized {
    /// The operation's name on the wire (`begin`, `upsert`, …).
    fn op(&self) -> &'static str;

    /// Its `TEST_FAULTS` point (`session.begin`, …), if it has one. A session object hits its
    /// own points when the call arrives; the index, user and application calls are hit by
    /// their caller before the call is sent.
    fn fault_point(&self) -> Option<&'static str>;

    /// Whether it may change the object's state (the session object runs those one at a time).
    fn changes_state(&self) -> bool;

    /// The JSON body (`null` for an operation without one).
    fn body(&self) -> Result<String, CallError>;

    /// The call named `op` with JSON body `body`: the object's side of [`Call::body`]. A body
    /// an operation does not need is not read (older callers sent `null` or nothing).
    fn parse(op: &str, body: &str) -> Result<Self, CallError>;
}

/// A call the object cannot take: an unknown operation or a body that is not its JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    UnknownOperation { object: &'static str, op: String },
    Body { op: &'static str, reason: String },
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::UnknownOperation { object, op } => write!(f, "unknown {object} operation {op:?}"),
            CallError::Body { op, reason } => write!(f, "{op}: bad body: {reason}"),
        }
    }
}

impl std::error::Error for CallError {}

/// The JSON text of `value`, the body of operation `op`.
pub(super) fn to_body<T: Serialize>(op: &'static str, value: &T) -> Result<String, CallError> {
    serde_json::to_string(value).map_err(|e| CallError::Body { op, reason: e.to_string() })
}

/// Operation `op`'s body `body`, read as a `T`.
pub(super) fn from_body<T: DeserializeOwned>(op: &'static str, body: &str) -> Result<T, CallError> {
    serde_json::from_str(body).map_err(|e| CallError::Body { op, reason: e.to_string() })
}
