//! cfsession-edge: ColdFusion-style sessions (CFID/CFTOKEN) at the edge.
//!
//! The crate has two layers:
//! - [`core`]: pure logic with no `worker` imports (config, cookies, ids, timeouts, the
//!   session state machine, the origin header protocol). It builds and is unit-tested natively.
//! - `edge` (wasm32 only): the Worker and Durable Object glue: it feeds the core with the
//!   platform's clock (read once per request or operation), randomness, storage and network,
//!   and carries out what the core decides.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

pub mod core;

#[cfg(target_arch = "wasm32")]
mod edge;
