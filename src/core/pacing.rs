//! Pacing the batches of history counts isolates send to the application object
//! ([`super::stats`]), so that the calls it gets do not grow with the number of isolates. The
//! object remembers who sent a batch in the last [`CALLER_WINDOW_MS`] and answers each batch
//! with how long that isolate waits before its next one ([`next_batch_in_ms`]). One isolate
//! sends every second; a thousand send every 100 s each. The total stays at about
//! [`MAX_BATCHES_PER_S`]. Counts are not lost: they wait in the isolate's batch, and the
//! dashboard sees them up to that much later.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{clock::UnixMs, stats::Counts};

/// `record_batch`: an isolate's batch of per-minute counts, and who sends it (a random id the
/// isolate picks once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub caller: String,
    pub minutes: Vec<(u64, Counts)>,
}

/// The answer to a batch: how long the isolate waits before its next one (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextBatch {
    pub in_ms: u64,
}

/// The batches per second the application object is paced to, from all isolates together.
pub const MAX_BATCHES_PER_S: u64 = 10;

/// The shortest wait between two batches of one isolate (ms).
pub const MIN_WAIT_MS: u64 = 1_000;

/// The longest wait (ms): counts reach the history within this, however many isolates send.
pub const MAX_WAIT_MS: u64 = 120_000;

/// A caller counts as active for this long after its last batch (ms).
pub const CALLER_WINDOW_MS: u64 = 2 * MAX_WAIT_MS;

/// The wait before an isolate's next batch, with `active` isolates sending.
pub fn next_batch_in_ms(active: usize) -> u64 {
    ((active as u64).saturating_mul(1000) / MAX_BATCHES_PER_S).clamp(MIN_WAIT_MS, MAX_WAIT_MS)
}

/// The isolates that sent batches recently (id → last batch, ms), as the object keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Callers(BTreeMap<String, UnixMs>);

impl Callers {
    /// Records a batch from `caller` at `now` and answers its wait before the next one (ms).
    pub fn batch_from(&mut self, caller: &str, now: UnixMs) -> u64 {
        self.0.retain(|_, last| now.saturating_sub(*last) < CALLER_WINDOW_MS);
        self.0.insert(caller.to_owned(), now);
        next_batch_in_ms(self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `isolates` that always have counts, each sending when its wait is over, for `seconds`:
    /// the batches per second the object got in the last minute.
    fn simulate(isolates: usize, seconds: u64) -> f64 {
        let mut callers = Callers::default();
        let mut next: Vec<u64> = (0..isolates).map(|i| (i as u64 * 1000) / isolates.max(1) as u64).collect();
        let (end, mut last_minute) = (seconds * 1000, 0u64);
        for now in (0..end).step_by(10) {
            for (i, at) in next.iter_mut().enumerate() {
                if *at <= now {
                    *at = now + callers.batch_from(&format!("isolate-{i}"), now);
                    if now >= end - 60_000 {
                        last_minute += 1;
                    }
                }
            }
        }
        last_minute as f64 / 60.0
    }

    #[test]
    fn the_object_gets_a_bounded_number_of_batches_whatever_the_number_of_isolates() {
        let rates: Vec<(usize, f64)> = [1, 5, 10, 100, 1000].iter().map(|n| (*n, simulate(*n, 600))).collect();
        println!("isolates -> batches per second at the application object: {rates:?}");
        assert!((rates[0].1 - 1.0).abs() < 0.05, "one isolate still sends every second: {rates:?}");
        for (n, rate) in &rates {
            assert!(*rate <= MAX_BATCHES_PER_S as f64 * 1.1, "{n} isolates: {rate} batches/s");
        }
        assert!(rates[4].1 >= MAX_BATCHES_PER_S as f64 * 0.8, "1000 isolates use the budget: {rates:?}");
    }

    #[test]
    fn waits_grow_with_callers_within_bounds_and_forget_idle_ones() {
        assert_eq!(next_batch_in_ms(1), MIN_WAIT_MS);
        assert_eq!(next_batch_in_ms(100), 10_000);
        assert_eq!(next_batch_in_ms(1_000_000), MAX_WAIT_MS);
        let mut c = Callers::default();
        for i in 0..50 {
            c.batch_from(&format!("i{i}"), 0);
        }
        assert_eq!(c.batch_from("i0", 1), 5_000);
        assert_eq!(c.batch_from("late", CALLER_WINDOW_MS + 1), MIN_WAIT_MS, "idle callers are forgotten");
    }
}
