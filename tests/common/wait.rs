//! Polling with a deadline: the only way tests wait for anything.

use std::time::{Duration, Instant};

/// Calls `probe` every `every` until it returns `Some`, or panics with `what` at the deadline.
pub fn until<T>(what: &str, deadline: Duration, every: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + deadline;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < end, "timed out after {deadline:?} waiting for {what}");
        std::thread::sleep(every);
    }
}

/// Like [`until`], but returns `None` at the deadline instead of panicking.
pub fn until_or_none<T>(deadline: Duration, every: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + deadline;
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(every);
    }
}
