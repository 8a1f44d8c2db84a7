//! Counting session events for the dashboard's history. Each isolate (the Worker's and the
//! objects') counts into one [`Pending`] batch and sends it to the application object at
//! most once per [`FLUSH_AFTER`], after the response (`waitUntil`): counting costs the
//! request no call. A batch that cannot be sent is kept for the next one. With a `METRICS`
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
    stats::{Counts, Pending},
};
use crate::edge::log::{self, LogLine};

/// How long an isolate gathers counts before sending them.
pub const FLUSH_AFTER: Duration = Duration::from_secs(1);

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
    /// The same counts for Analytics Engine, written once each (never again with a batch the
    /// application object refused and gets again).
    static METRICS: RefCell<Pending> = RefCell::new(Pending::default());
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
    static METRICS_ON: Cell<bool> = const { Cell::new(false) };
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
    if SCHEDULED.with(|s| s.replace(true)) {
        return None;
    }
    let env = env.clone();
    Some(async move {
        Delay::from(FLUSH_AFTER).await;
        SCHEDULED.with(|s| s.set(false));
        let batch = PENDING.with(|p| p.borrow_mut().take());
        let fresh = METRICS.with(|p| p.borrow_mut().take());
        if batch.is_empty() {
            return;
        }
        let Ok(config) = super::config(&env) else { return };
        if !fresh.is_empty() {
            write_to_analytics_engine(&env, &config.app_name, &fresh);
        }
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
