//! Counting session events for the dashboard's history. Each isolate (the Worker's and the
//! objects') counts into one [`Pending`] batch and sends it to the application object after
//! the response (`waitUntil`): counting costs the request no call. The object paces the
//! isolates: each answer says how long until the next batch (one second when few isolates
//! send, up to two minutes when many do: [`crate::core::pacing`]); counts made meanwhile wait
//! in the batch, and the first event after the wait schedules it. A batch that cannot be sent
//! is kept for the next one. With a `METRICS`
//! Analytics Engine dataset bound, the same counts are written there too
//! ([`crate::core::metrics`]).

use std::{
    cell::{Cell, RefCell},
    future::Future,
    time::Duration,
};

use worker::{Delay, Env};

use super::{app_object, platform::now_ms};
use crate::core::{
    metrics::{data_point, METRICS_BINDING},
    pacing::{Batch, MIN_WAIT_MS},
    stats::{Counts, Pending},
};
use crate::edge::platform::log::{self, LogLine};

/// How long an isolate gathers counts once a batch is scheduled.
const GATHER: Duration = Duration::from_millis(MIN_WAIT_MS);

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
    /// The same counts for Analytics Engine, written once each (never again with a batch the
    /// application object refused and gets again).
    static METRICS: RefCell<Pending> = RefCell::new(Pending::default());
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
    static METRICS_ON: Cell<bool> = const { Cell::new(false) };
    /// No batch is scheduled before this (ms): the application object's pacing. (A batch is
    /// then sent [`GATHER`] after the event that schedules it; `waitUntil` work must be short,
    /// so the wait is not spent inside it.)
    static NOT_BEFORE: Cell<u64> = const { Cell::new(0) };
    /// This isolate's caller id for the pacing (random, picked on the first batch).
    static CALLER: RefCell<String> = const { RefCell::new(String::new()) };
}

/// This isolate's caller id.
fn caller() -> String {
    CALLER.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_empty() {
            *c = super::platform::request_id(None, "isolate-").to_string();
        }
        c.clone()
    })
}

#[wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    inline_js = "export function writeMetrics(env, binding, points) {
        const dataset = env[binding];
        if (!dataset || typeof dataset.writeDataPoint !== 'function') return false;
        for (const p of JSON.parse(points)) dataset.writeDataPoint(p);
        return true;
    }"
)]
extern "C" {
    /// Writes the data points (a JSON array) to the Analytics Engine dataset bound as
    /// `binding`; `false` when there is none.
    #[wasm_bindgen(catch, js_name = writeMetrics)]
    fn write_metrics(env: &wasm_bindgen::JsValue, binding: &str, points: &str) -> Result<bool, wasm_bindgen::JsValue>;
}

/// Writes `batch` to the `METRICS` dataset, if the Worker has one (one log line per isolate
/// the first time; a failure is logged, the counts are not retried).
fn write_to_analytics_engine(env: &Env, app: &str, batch: &[(u64, Counts)]) {
    let points: Vec<_> = batch.iter().map(|(minute, c)| data_point(app, *minute, c)).collect();
    let Ok(json) = serde_json::to_string(&points) else { return };
    match write_metrics(env.as_ref(), METRICS_BINDING, &json) {
        Ok(true) if !METRICS_ON.with(|m| m.replace(true)) => {
            log::emit(
                LogLine::info("metrics.writing")
                    .msg("per-minute counts go to the METRICS Analytics Engine dataset too"),
            );
        }
        Ok(_) => {}
        Err(e) => log::emit(
            LogLine::warn("metrics.write_failed").msg(format!("Analytics Engine: {}", super::incoming::js_message(&e))),
        ),
    }
}

/// Counts one event now. Returns the future that sends the batch when one must be scheduled:
/// the caller hands it to `waitUntil` (the request's or the object's).
#[must_use = "hand the returned future to wait_until"]
pub fn count(env: &Env, event: impl FnOnce(&mut Counts)) -> Option<impl Future<Output = ()> + 'static> {
    let mut counts = Counts::default();
    event(&mut counts);
    let now = now_ms();
    PENDING.with(|p| p.borrow_mut().add(now, |c| c.merge(&counts)));
    METRICS.with(|p| p.borrow_mut().add(now, |c| c.merge(&counts)));
    if NOT_BEFORE.with(Cell::get) > now || SCHEDULED.with(|s| s.replace(true)) {
        return None;
    }
    let env = env.clone();
    Some(async move {
        Delay::from(GATHER).await;
        SCHEDULED.with(|s| s.set(false));
        let batch = PENDING.with(|p| p.borrow_mut().take());
        let fresh = METRICS.with(|p| p.borrow_mut().take());
        if batch.is_empty() {
            return;
        }
        let Ok(config) = super::platform::config(&env) else { return };
        if !fresh.is_empty() {
            write_to_analytics_engine(&env, &config.app.name, &fresh);
        }
        let sent = app_object::record(&env, &config.app.name, Batch { caller: caller(), minutes: batch.clone() }).await;
        if let Ok(wait) = sent {
            NOT_BEFORE.with(|n| n.set(now_ms() + wait.saturating_sub(GATHER.as_millis() as u64)));
        }
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
