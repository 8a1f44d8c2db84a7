//! The platform's clock.

use crate::core::clock::UnixMs;

/// The current time, ms since the epoch: `Date.now()` (on wasm32,
/// `std::time::SystemTime::now()` panics).
pub fn now_ms() -> UnixMs {
    worker::Date::now().as_millis()
}
