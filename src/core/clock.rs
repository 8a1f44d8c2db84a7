//! Time as the core sees it: milliseconds since the Unix epoch, supplied by the caller.
//!
//! `std::time::SystemTime::now()` panics on wasm32-unknown-unknown, so the edge reads the
//! platform clock (`Date.now()`, [`crate`]'s `edge::platform::now_ms`) and passes the value
//! in; tests pass the times they need.

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type UnixMs = u64;
