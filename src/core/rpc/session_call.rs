//! The session object's operations.

use super::{
    call::{from_body, to_body, Call, CallError},
    messages::{AdoptRequest, BeginRequest, EndRequest, RotateOutRequest, UpdateRequest},
};

/// An operation on a session's Durable Object (one per CFID). (Short-lived and moved once:
/// boxing the large variants would only add an allocation.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum SessionCall {
    /// A request arrives in this session. Answer: [`super::Reply`].
    Begin(BeginRequest),
    /// The origin's changes, after its response. Answer: [`super::Reply`].
    Update(UpdateRequest),
    /// End the session now. Answer: [`crate::core::lifecycle::Ending`].
    End(EndRequest),
    /// Take the session out of its old ids. Answer: [`super::RotateOutReply`].
    RotateOut(RotateOutRequest),
    /// Store a rotated session under its new ids. Answer: [`super::Reply`].
    Adopt(AdoptRequest),
    /// End the session if its deadline passed (the sweep). Answer: whether it is live.
    Check,
    /// The live session for the admin and the origin API. Answer: [`super::SessionView`] or
    /// nothing.
    Inspect,
    /// Record an origin-API call's nonce. Answer: `false` for a replay.
    Nonce(String),
    /// Readiness: the object answers `true` (its storage is not touched).
    Ping,
}

impl Call for SessionCall {
    fn op(&self) -> &'static str {
        match self {
            SessionCall::Begin(_) => "begin",
            SessionCall::Update(_) => "update",
            SessionCall::End(_) => "end",
            SessionCall::RotateOut(_) => "rotate_out",
            SessionCall::Adopt(_) => "adopt",
            SessionCall::Check => "check",
            SessionCall::Inspect => "inspect",
            SessionCall::Nonce(_) => "nonce",
            SessionCall::Ping => "ping",
        }
    }

    fn fault_point(&self) -> Option<&'static str> {
        Some(match self {
            SessionCall::Begin(_) => "session.begin",
            SessionCall::Update(_) => "session.update",
            SessionCall::End(_) => "session.end",
            SessionCall::RotateOut(_) => "session.rotate_out",
            SessionCall::Adopt(_) => "session.adopt",
            SessionCall::Check => "session.check",
            SessionCall::Inspect => "session.inspect",
            SessionCall::Nonce(_) => "session.nonce",
            SessionCall::Ping => "session.ping",
        })
    }

    fn changes_state(&self) -> bool {
        match self {
            SessionCall::Begin(_)
            | SessionCall::Update(_)
            | SessionCall::End(_)
            | SessionCall::RotateOut(_)
            | SessionCall::Adopt(_)
            | SessionCall::Nonce(_) => true,
            // `check` takes its own turns (its deliveries hold none).
            SessionCall::Check | SessionCall::Inspect | SessionCall::Ping => false,
        }
    }

    fn body(&self) -> Result<String, CallError> {
        let op = self.op();
        match self {
            SessionCall::Begin(r) => to_body(op, r),
            SessionCall::Update(r) => to_body(op, r),
            SessionCall::End(r) => to_body(op, r),
            SessionCall::RotateOut(r) => to_body(op, r),
            SessionCall::Adopt(r) => to_body(op, r),
            SessionCall::Nonce(n) => to_body(op, n),
            SessionCall::Check | SessionCall::Inspect | SessionCall::Ping => Ok("null".into()),
        }
    }

    fn parse(op: &str, body: &str) -> Result<Self, CallError> {
        Ok(match op {
            "begin" => SessionCall::Begin(from_body("begin", body)?),
            "update" => SessionCall::Update(from_body("update", body)?),
            "end" => SessionCall::End(from_body("end", body)?),
            "rotate_out" => SessionCall::RotateOut(from_body("rotate_out", body)?),
            "adopt" => SessionCall::Adopt(from_body("adopt", body)?),
            "check" => SessionCall::Check,
            "inspect" => SessionCall::Inspect,
            "nonce" => SessionCall::Nonce(from_body("nonce", body)?),
            "ping" => SessionCall::Ping,
            _ => return Err(CallError::UnknownOperation { object: "session", op: op.to_owned() }),
        })
    }
}
