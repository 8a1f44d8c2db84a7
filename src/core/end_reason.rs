//! Why a session ended: the reason its end event, the admin API and the logs give.

use serde::{Deserialize, Serialize};

/// Why a session ended. Serialised lower-case (`"timeout"`, …) in hooks and the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndReason {
    /// Idle timeout passed.
    Timeout,
    /// Absolute lifetime passed.
    Lifetime,
    /// The kill flag or kill path.
    Killed,
    /// The origin's `X-Session-Action: invalidate`.
    Invalidated,
    /// The admin API.
    Admin,
    /// The stored state could not be read (it is ended rather than left stuck).
    Unreadable,
    /// Its user logged in once more than `MAX_SESSIONS_PER_USER` allows: the oldest goes.
    Replaced,
    /// The user ended it from another of their sessions (the origin API).
    Revoked,
    /// A request's fingerprint differed too much (`SESSION_FINGERPRINT=end`).
    Fingerprint,
}

impl EndReason {
    /// Every reason, in a fixed order (the metrics' layout depends on it: only append).
    pub const ALL: [EndReason; 9] = [
        EndReason::Timeout,
        EndReason::Lifetime,
        EndReason::Killed,
        EndReason::Invalidated,
        EndReason::Admin,
        EndReason::Unreadable,
        EndReason::Replaced,
        EndReason::Revoked,
        EndReason::Fingerprint,
    ];

    /// The reason named `name` ([`EndReason::as_str`]).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The lower-case name used in hooks, logs and the admin API.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::Lifetime => "lifetime",
            EndReason::Killed => "killed",
            EndReason::Invalidated => "invalidated",
            EndReason::Admin => "admin",
            EndReason::Unreadable => "unreadable",
            EndReason::Replaced => "replaced",
            EndReason::Revoked => "revoked",
            EndReason::Fingerprint => "fingerprint",
        }
    }
}
