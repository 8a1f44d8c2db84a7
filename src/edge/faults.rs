//! Carries out `TEST_FAULTS` (see [`crate::core::faults`]): the configuration installs the
//! faults of this isolate, and each fault point calls [`hit`] before doing its work.
//! With no faults configured (always, in a real deployment) [`hit`] returns at once.

use crate::edge::platform::log::{self, LogLine};
use std::{cell::RefCell, time::Duration};

use worker::Delay;

use crate::core::faults::{Fault, Faults};

thread_local! {
    /// The faults in force, and how many calls each point has seen (for `fail*N`).
    static ACTIVE: RefCell<(Faults, Vec<(&'static str, u32)>)> = RefCell::new(Default::default());
}

/// Makes `faults` the ones in force (called wherever the configuration is read; the counts
/// of points whose fault did not change are kept).
pub fn install(faults: &Faults) {
    ACTIVE.with(|a| {
        let mut a = a.borrow_mut();
        if a.0 != *faults {
            *a = (faults.clone(), Vec::new());
        }
    });
}

/// Applies the fault at `point`, if any: waits, or fails with a reason for the log.
pub async fn hit(point: &'static str) -> Result<(), String> {
    let fault = ACTIVE.with(|a| {
        let mut a = a.borrow_mut();
        let fault = a.0.at(point)?;
        let calls = match a.1.iter_mut().find(|(p, _)| *p == point) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                a.1.push((point, 1));
                1
            }
        };
        Some((fault, calls))
    });
    match fault {
        None => Ok(()),
        Some((Fault::Delay(ms), _)) => {
            Delay::from(Duration::from_millis(ms)).await;
            Ok(())
        }
        Some((Fault::Fail { times }, calls)) if times.is_none_or(|t| calls <= t) => {
            log::emit(LogLine::warn("fault.injected").msg(format!("TEST_FAULTS: {point} fails (call {calls})")));
            Err(format!("injected fault at {point}"))
        }
        Some(_) => Ok(()),
    }
}
