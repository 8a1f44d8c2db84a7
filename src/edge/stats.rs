//! Counting session events for the dashboard's history. Each isolate (the Worker's and the
//! objects') counts into one [`Pending`] batch and sends it to the application object at
//! most once per [`FLUSH_AFTER`], after the response (`waitUntil`): counting costs the
//! request no call. A batch that cannot be sent is kept for the next one.

use std::{
    cell::{Cell, RefCell},
    future::Future,
    time::Duration,
};

use worker::{Delay, Env};

use super::{app_object, platform::now_ms};
use crate::core::stats::{Counts, Pending};
use crate::edge::log::{self, LogLine};

/// How long an isolate gathers counts before sending them.
pub const FLUSH_AFTER: Duration = Duration::from_secs(1);

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
}

/// Counts one event now. Returns the future that sends the batch when one must be scheduled:
/// the caller hands it to `waitUntil` (the request's or the object's).
#[must_use = "hand the returned future to wait_until"]
pub fn count(env: &Env, event: impl FnOnce(&mut Counts)) -> Option<impl Future<Output = ()> + 'static> {
    PENDING.with(|p| p.borrow_mut().add(now_ms(), event));
    if SCHEDULED.with(|s| s.replace(true)) {
        return None;
    }
    let env = env.clone();
    Some(async move {
        Delay::from(FLUSH_AFTER).await;
        SCHEDULED.with(|s| s.set(false));
        let batch = PENDING.with(|p| p.borrow_mut().take());
        if batch.is_empty() {
            return;
        }
        let Ok(config) = super::config(&env) else { return };
        let sent = match super::faults::hit("app.record").await {
            Ok(()) => app_object::record(&env, &config.app_name, &batch).await,
            Err(e) => Err(crate::core::error::EdgeError::SessionStore(e.to_string())),
        };
        if let Err(e) = sent {
            log::emit(LogLine::warn("stats.send_failed").msg(format!("history counts kept for the next batch: {e}")));
            PENDING.with(|p| {
                let mut p = p.borrow_mut();
                for (minute, counts) in batch {
                    p.add(minute * 60_000, |c| c.merge(&counts));
                }
            });
        }
    })
}
