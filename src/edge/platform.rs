//! The platform's clock and randomness, behind the core's seams.

use crate::core::{
    clock::{Clock, UnixMs},
    random::{RandomError, RandomSource},
};

/// `Date.now()`: on wasm32, `std::time::SystemTime::now()` panics.
pub struct PlatformClock;

impl Clock for PlatformClock {
    fn now_ms(&self) -> UnixMs {
        worker::Date::now().as_millis()
    }
}

/// The current time, ms since the epoch.
pub fn now_ms() -> UnixMs {
    PlatformClock.now_ms()
}

/// `crypto.getRandomValues`, through `getrandom`.
pub struct PlatformRandom;

impl RandomSource for PlatformRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(buf).map_err(|_| RandomError)
    }
}
