//! The application scope (ColdFusion's `Application.cfc` application): its own start time and
//! `APPLICATION_TIMEOUT`, independent of sessions. One object per `APP_NAME`. The Worker
//! touches it at most once a minute per isolate, off the request path; a touch after more than
//! `APPLICATION_TIMEOUT` without one restarts the application. `applicationStop` (admin)
//! restarts it at once; sessions are not affected, as in ColdFusion.

use crate::edge::platform::log::{self, LogLine};
use std::cell::{Cell, RefCell};

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::wasm_bindgen;
use worker::{durable_object, Context, DurableObject, Env, ListOptions, Request, Response, Result, State};

use super::{
    hooks,
    object_rpc::{not_over_http, rpc_call},
    platform::now_ms,
    store,
};
use crate::core::{
    config::Config,
    error::EdgeError,
    pacing::{Batch, Callers, NextBatch},
    rpc::{AppCall, Call},
    stats::{self, Counts, Gauges, Minute},
};

/// The application's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppState {
    pub name: String,
    /// When the application (re)started (ms).
    pub started_at: u64,
    /// The last touch (ms): requests, to within a minute.
    pub last_request: u64,
    /// Starts so far (1 for the first).
    pub generation: u64,
    /// Why it last started: `first_request`, `timeout` or `stop`.
    pub reason: String,
}

#[durable_object]
pub struct AppObject {
    state: State,
    env: Env,
    /// Minutes before this one are already deleted (by this instance; 0: not yet).
    pruned_before: Cell<u64>,
    /// The isolates that sent batches recently, for pacing them ([`crate::core::pacing`]).
    callers: RefCell<Callers>,
}

const KEY: &str = "app";

impl DurableObject for AppObject {
    fn new(state: State, env: Env) -> Self {
        Self { state, env, pruned_before: Cell::new(0), callers: RefCell::new(Callers::default()) }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        not_over_http()
    }
}

rpc_call!(AppObject);

impl AppObject {
    /// One operation ([`AppCall`]): `get`, `touch` and `stop` answer the application's state
    /// (`None` for `get` before the first start); `record`, `record_batch` and `history`: see
    /// [`crate::core::stats`]; `live`: the sweep's count.
    async fn dispatch(&self, op: &str, body: &str) -> Result<Option<String>> {
        let call = AppCall::parse(op, body).map_err(|e| e.to_string())?;
        let config = super::platform::config(&self.env).map_err(|e| e.to_string())?;
        let now = now_ms();
        let stored = match call {
            AppCall::Record(minutes) => return self.record(minutes, now).await.map(|()| Some("true".into())),
            AppCall::RecordBatch(batch) => {
                self.record(batch.minutes, now).await?;
                let next = NextBatch { in_ms: self.callers.borrow_mut().batch_from(&batch.caller, now) };
                return Ok(Some(serde_json::to_string(&next)?));
            }
            AppCall::History => return Ok(Some(serde_json::to_string(&self.history(now).await?)?)),
            AppCall::Live(live) => return self.correct_live(live).await.map(|()| Some("true".into())),
            AppCall::Get | AppCall::Touch | AppCall::Stop => self.stored().await?,
        };
        let next = match (call, stored) {
            (AppCall::Get, Some(s)) => return Ok(Some(serde_json::to_string(&s)?)),
            (AppCall::Get, None) => return Ok(None),
            (AppCall::Touch, Some(s)) if now.saturating_sub(s.last_request) < config.app.timeout_s * 1000 => {
                AppState { last_request: now, ..s }
            }
            (AppCall::Touch, Some(s)) => start(&config, now, s.generation + 1, "timeout"),
            (AppCall::Touch, None) => start(&config, now, 1, "first_request"),
            (_, s) => start(&config, now, s.map_or(1, |s| s.generation + 1), "stop"),
        };
        self.state.storage().put(KEY, serde_json::to_string(&next)?).await?;
        if next.started_at == now {
            log::emit(
                LogLine::info("application.start").msg(format!("application {} started ({})", next.name, next.reason)),
            );
            if let Some(url) = &config.hooks.app_start_url {
                let body = serde_json::json!({ "event": "application_start", "app": next.name, "started_at": now,
                    "generation": next.generation, "reason": next.reason, "idempotency_key": format!("{}:start:{}", next.name, next.generation) });
                if let Err(why) = hooks::post(
                    url,
                    &body.to_string(),
                    &config.origin_keys(),
                    &format!("{}:start:{}", next.name, next.generation),
                    None,
                    now,
                )
                .await
                {
                    log::emit(
                        LogLine::warn("application.hook_failed")
                            .msg(format!("APPLICATION_START_URL failed ({why}); not retried")),
                    );
                }
            }
        }
        Ok(Some(serde_json::to_string(&next)?))
    }
}

/// The kept history: minutes oldest first, and the gauges now.
#[derive(Debug, Serialize, Deserialize)]
pub struct History {
    pub minutes: Vec<Minute>,
    pub gauges: Gauges,
    /// The newest minute (unix minutes) at the time of the answer.
    pub now_minute: u64,
}

impl AppObject {
    /// The application's state as stored (`None` before the first start, or unreadable).
    async fn stored(&self) -> Result<Option<AppState>> {
        Ok(self.state.storage().get::<String>(KEY).await?.and_then(|json| serde_json::from_str(&json).ok()))
    }

    async fn gauges(&self) -> Result<Gauges> {
        Ok(self.state.storage().get::<Gauges>(GAUGES).await?.unwrap_or_default())
    }

    /// Adds a batch to its minutes and moves the gauges; drops minutes older than the history.
    async fn record(&self, batch: Vec<(u64, Counts)>, now: u64) -> Result<()> {
        let storage = self.state.storage();
        let mut gauges = self.gauges().await?;
        for (minute, delta) in batch {
            let key = stats::minute_key(minute);
            let stored = storage.get::<String>(&key).await.ok().flatten().and_then(|j| serde_json::from_str(&j).ok());
            let (kept, next) = stats::record(stored, gauges, minute, &delta, now);
            gauges = next;
            if let Some(m) = kept {
                storage.put(&key, serde_json::to_string(&m)?).await?;
            }
        }
        storage.put(GAUGES, gauges).await?;
        // Minutes age out one a minute: look for them only when the window has moved.
        let oldest_kept = stats::oldest_kept(now);
        if oldest_kept <= self.pruned_before.get() {
            return Ok(());
        }
        self.pruned_before.set(oldest_kept);
        let oldest = stats::minute_key(oldest_kept);
        let old = storage.list_with_options(ListOptions::new().prefix("m:").end(&oldest)).await?;
        let old: Vec<String> = old.keys().into_iter().filter_map(|k| k.ok()?.as_string()).collect();
        if !old.is_empty() {
            storage.delete_multiple(old).await?;
        }
        Ok(())
    }

    /// Sets the `live` gauge to `live` (the index shards' count, from the sweep).
    async fn correct_live(&self, live: u64) -> Result<()> {
        let gauges = self.gauges().await?;
        if gauges.live != live {
            log::emit(
                LogLine::info("stats.live_corrected")
                    .field("from", gauges.live)
                    .field("to", live)
                    .msg(format!("live gauge corrected from {} to {live} (the index shards' count)", gauges.live)),
            );
        }
        self.state.storage().put(GAUGES, Gauges { live, ..gauges }).await
    }

    async fn history(&self, now: u64) -> Result<History> {
        let start = stats::minute_key(stats::oldest_kept(now));
        let kept = self.state.storage().list_with_options(ListOptions::new().prefix("m:").start(&start)).await?;
        let minutes =
            kept.values().into_iter().filter_map(|v| serde_json::from_str(&v.ok()?.as_string()?).ok()).collect();
        Ok(History { minutes, gauges: self.gauges().await?, now_minute: stats::minute_of(now) })
    }
}

/// Where the gauges are stored.
const GAUGES: &str = "gauges";

fn start(config: &Config, now: u64, generation: u64, reason: &str) -> AppState {
    AppState { name: config.app.name.clone(), started_at: now, last_request: now, generation, reason: reason.into() }
}

thread_local! {
    /// When this isolate last touched the application object (ms).
    static LAST_TOUCH: Cell<u64> = const { Cell::new(0) };
}

/// Touches the application at most once a minute per isolate, after the response.
pub fn touch(env: &Env, config: &Config, ctx: &Context) {
    let now = now_ms();
    if now.saturating_sub(LAST_TOUCH.with(Cell::get)) < 60_000 {
        return;
    }
    LAST_TOUCH.with(|t| t.set(now));
    let (env, name) = (env.clone(), config.app.name.clone());
    ctx.wait_until(log::carried(async move {
        if let Err(e) = call(&env, &name, AppCall::Touch).await {
            log::emit(LogLine::warn("application.touch_failed").msg(format!("application touch failed: {e}")));
        }
    }));
}

/// Sends an isolate's batch of per-minute counts to the application object (fault point
/// `app.record`); the wait before the next batch (ms).
pub async fn record(env: &Env, name: &str, batch: Batch) -> std::result::Result<u64, EdgeError> {
    let ns = store::namespace(env, "APP")?;
    let next: NextBatch = store::must_at(&ns, name, &AppCall::RecordBatch(batch)).await?;
    Ok(next.in_ms)
}

/// Sets the dashboard's `live` gauge to `live` (the sweep's count of the index shards).
pub async fn correct_live(env: &Env, name: &str, live: u64) -> std::result::Result<(), EdgeError> {
    let ns = store::namespace(env, "APP")?;
    store::must_at::<_, bool>(&ns, name, &AppCall::Live(live)).await.map(drop)
}

/// The application's kept history.
pub async fn history(env: &Env, name: &str) -> std::result::Result<History, EdgeError> {
    let ns = store::namespace(env, "APP")?;
    store::must_at(&ns, name, &AppCall::History).await
}

/// `get`, `touch` or `stop` on the application object: its state (`None` for `get` before the
/// first start).
pub async fn call(env: &Env, name: &str, call: AppCall) -> std::result::Result<Option<AppState>, EdgeError> {
    let ns = store::namespace(env, "APP")?;
    store::call(&ns, name, &call).await
}
