//! The protocol between the Worker and its Durable Objects. Every operation is a variant of
//! its object's call enum ([`SessionCall`], [`IndexCall`], [`UserCall`], [`AppCall`]), which
//! owns the operation's name on the wire, its `TEST_FAULTS` point, whether it changes state,
//! and its JSON body ([`Call`]). On the wire a call is `call(op, body)`: the name and the JSON
//! text, one crossing each way. Fields only get added, with defaults, and names never change,
//! so a new Worker can talk to an old object during a rollout and back.

mod app;
mod call;
mod index;
mod messages;
mod session_call;

pub use app::AppCall;
pub use call::{Call, CallError};
pub use index::{AddUser, CfidOf, Due, IndexCall, Limit, ListAfter, PendingEnd, Removal, UserCall};
pub use messages::{
    AdoptRequest, BeginRequest, EndRequest, Ids, Refused, Reply, RotateOutReply, RotateOutRequest, SessionView,
    UpdateRequest,
};
pub use session_call::SessionCall;

#[cfg(test)]
mod tests;
