//! Time as the core sees it: milliseconds since the Unix epoch, supplied by the caller.
//!
//! `std::time::SystemTime::now()` panics on wasm32-unknown-unknown, so the edge reads the
//! platform clock (`Date.now()`) and tests use [`FakeClock`].

use std::cell::Cell;

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type UnixMs = u64;

/// A source of the current time.
pub trait Clock {
    /// The current time in milliseconds since the Unix epoch.
    fn now_ms(&self) -> UnixMs;
}

/// A clock that only moves when told to; for tests.
#[derive(Debug, Default)]
pub struct FakeClock {
    now: Cell<UnixMs>,
}

impl FakeClock {
    /// A clock frozen at `now` (ms since the epoch).
    pub fn at(now: UnixMs) -> Self {
        Self { now: Cell::new(now) }
    }

    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get().saturating_add(ms));
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> UnixMs {
        self.now.get()
    }
}

/// Seconds to milliseconds, saturating.
pub fn secs(s: u64) -> u64 {
    s.saturating_mul(1000)
}
