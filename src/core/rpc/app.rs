//! The application object's operations.

use super::call::{from_body, to_body, Call, CallError};
use crate::core::{pacing::Batch, stats::Counts};

/// An operation on the application's Durable Object (one per `APPLICATION_NAME`).
#[derive(Debug, Clone, PartialEq)]
pub enum AppCall {
    /// The application's state, `None` before its first start.
    Get,
    /// A request arrived: restarts the application after `APPLICATION_TIMEOUT`. Answer: the
    /// state.
    Touch,
    /// `applicationStop()` (admin): the next request starts it again. Answer: the state.
    Stop,
    /// An isolate's per-minute counts, from Workers older than the pacing (their isolates send
    /// every second). Answer: `true`.
    Record(Vec<(u64, Counts)>),
    /// An isolate's batch of per-minute counts. Answer: [`crate::core::pacing::NextBatch`].
    RecordBatch(Batch),
    /// The kept minutes and the gauges. Answer: the history.
    History,
    /// Set the `live` gauge (the sweep's count of the index shards). Answer: `true`.
    Live(u64),
}

impl Call for AppCall {
    fn op(&self) -> &'static str {
        match self {
            AppCall::Get => "get",
            AppCall::Touch => "touch",
            AppCall::Stop => "stop",
            AppCall::Record(_) => "record",
            AppCall::RecordBatch(_) => "record_batch",
            AppCall::History => "history",
            AppCall::Live(_) => "live",
        }
    }

    fn fault_point(&self) -> Option<&'static str> {
        match self {
            AppCall::Record(_) | AppCall::RecordBatch(_) => Some("app.record"),
            AppCall::Get | AppCall::Touch | AppCall::Stop | AppCall::History | AppCall::Live(_) => None,
        }
    }

    fn changes_state(&self) -> bool {
        !matches!(self, AppCall::Get | AppCall::History)
    }

    fn body(&self) -> Result<String, CallError> {
        let op = self.op();
        match self {
            AppCall::Record(minutes) => to_body(op, minutes),
            AppCall::RecordBatch(b) => to_body(op, b),
            AppCall::Live(n) => to_body(op, n),
            AppCall::Get | AppCall::Touch | AppCall::Stop | AppCall::History => Ok("null".into()),
        }
    }

    fn parse(op: &str, body: &str) -> Result<Self, CallError> {
        Ok(match op {
            "get" => AppCall::Get,
            "touch" => AppCall::Touch,
            "stop" => AppCall::Stop,
            "record" => AppCall::Record(from_body("record", body)?),
            "record_batch" => AppCall::RecordBatch(from_body("record_batch", body)?),
            "history" => AppCall::History,
            "live" => AppCall::Live(from_body("live", body)?),
            _ => return Err(CallError::UnknownOperation { object: "application", op: op.to_owned() }),
        })
    }
}
