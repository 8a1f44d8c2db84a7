//! The session's Durable Object: one per CFID, serialising every read and update of that
//! session. It loads the stored state, lets [`crate::core::session`] and
//! [`crate::core::lifecycle`] decide, and carries out what they say: storage writes, the
//! hook outbox, the session index, and its alarm (the next deadline, delivery or purge).
//! The state is cached in memory; the cache is updated before any write is awaited, so
//! requests queued behind a write see it.

use crate::edge::platform::log::{self, LogLine};
use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use wasm_bindgen::prelude::wasm_bindgen;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use super::{
    abuse, faults,
    object_rpc::{not_over_http, rpc_call},
    platform::now_ms,
    stats,
};
use crate::core::{
    alarm,
    client::AbuseLimit,
    clock::UnixMs,
    config::Config,
    effects::{effects, Context, Occasion},
    hooks::Outbox,
    lifecycle::{self, Ending},
    origin_api,
    rpc::{
        AdoptRequest, BeginRequest, Call, EndRequest, Ids, Reply, RotateOutReply, RotateOutRequest, SessionCall,
        SessionView, UpdateRequest,
    },
    session_state::{self, Begin, Declined, Refusal, Stored, Updated, Write},
    stats::Counts,
    tombstone::Tombstone,
};

mod carry_out;
mod storage;
mod turns;

/// Storage keys (JSON strings).
const SESSION: &str = "session";
const OUTBOX: &str = "outbox";
const NONCES: &str = "nonces";

#[durable_object]
pub struct SessionObject {
    state: State,
    env: Env,
    /// The stored state (`None`: nothing stored), once read.
    cached: RefCell<Cached<Option<Stored>>>,
    /// The hook outbox, once read.
    outbox: RefCell<Cached<Outbox>>,
    /// The alarm as last set (`None`: no alarm), once read.
    alarm_at: Cell<Cached<Option<u64>>>,
    /// When this instance last refreshed the session's index entry (ms; 0: never).
    indexed_at: Cell<u64>,
    /// Idempotency keys being delivered right now: a concurrent delivery pass (the alarm and
    /// the sweep's check, say) skips them instead of sending them twice.
    in_flight: RefCell<Vec<String>>,
    /// One state change at a time (see [`turns`]).
    turns: turns::Turns,
    /// Sessions a login here pushed over `MAX_SESSIONS_PER_USER` (user, CFID): ended once
    /// this operation's turn is over.
    evicted: RefCell<Vec<(String, String)>>,
}

/// A value this instance reads from storage once, then keeps in step with its writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cached<T> {
    Unread,
    Read(T),
}

/// What [`SessionObject::commit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Committed {
    /// The change is stored, and what it sets off is done or queued.
    Stored,
    /// A login beyond `MAX_SESSIONS_PER_USER` with `MAX_SESSIONS_POLICY=refuse`: nothing of
    /// the change was stored.
    LoginRefused,
}

impl Committed {
    /// For the operations that cannot log a user in: a refused login is an error there.
    fn stored(self) -> Result<()> {
        match self {
            Committed::Stored => Ok(()),
            Committed::LoginRefused => Err(worker::Error::from("MAX_SESSIONS_POLICY=refuse")),
        }
    }
}

impl DurableObject for SessionObject {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            cached: RefCell::new(Cached::Unread),
            outbox: RefCell::new(Cached::Unread),
            alarm_at: Cell::new(Cached::Unread),
            indexed_at: Cell::new(0),
            in_flight: RefCell::new(Vec::new()),
            turns: turns::Turns::default(),
            evicted: RefCell::new(Vec::new()),
        }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        not_over_http()
    }

    /// The alarm: end the session if its deadline passed (re-checked: alarms are
    /// at-least-once and may be early or late), deliver due events, purge a finished
    /// tombstone, and set the next alarm.
    async fn alarm(&self) -> Result<Response> {
        self.alarm_at.set(Cached::Read(None));
        log::with_request(super::platform::request_id(None, "alarm-"), self.check(now_ms())).await?;
        Response::ok("")
    }
}

/// The log line of a session stored for the first time: `session.start` for ids minted on this
/// request (deferral off), `session.claim` for a deferred session (its second request, or its
/// first when the origin changed it). Ids that are never stored get no line.
fn log_stored(ids: &Ids, view: &SessionView) {
    let event = if ids.fresh { "session.start" } else { "session.claim" };
    log::emit(LogLine::info(event).cfid(&ids.cfid).field("mode", view.mode.clone()));
}

rpc_call!(SessionObject);

impl SessionObject {
    /// One operation ([`SessionCall`]): its fault point first (tests), then the work, in a
    /// turn of its own when it changes state. `Ok(None)`: nothing there.
    async fn dispatch(&self, op: &str, body: &str) -> Result<Option<String>> {
        let call = SessionCall::parse(op, body).map_err(|e| e.to_string())?;
        let now = now_ms();
        if let Some(point) = call.fault_point() {
            if let Some(config) = self.config() {
                faults::install(&config.faults);
            }
            faults::hit(point).await.map_err(|e| e.to_string())?;
        }
        let turn = if call.changes_state() { Some(self.turns.take().await) } else { None };
        let answer = self.operation(call, now).await;
        drop(turn);
        self.end_evicted().await;
        answer
    }

    async fn operation(&self, call: SessionCall, now: UnixMs) -> Result<Option<String>> {
        Ok(Some(match call {
            SessionCall::Begin(r) => serde_json::to_string(&self.begin(&r, now).await?)?,
            SessionCall::Update(r) => serde_json::to_string(&self.update(&r, now).await?)?,
            SessionCall::End(r) => serde_json::to_string(&self.end(&r, now).await?)?,
            SessionCall::RotateOut(r) => serde_json::to_string(&self.rotate_out(&r, now).await?)?,
            SessionCall::Adopt(r) => serde_json::to_string(&self.adopt(r, now).await?)?,
            SessionCall::Check => serde_json::to_string(&self.check(now).await?)?,
            SessionCall::Nonce(n) => serde_json::to_string(&self.nonce(&n, now).await?)?,
            SessionCall::Ping => serde_json::to_string(&true)?,
            SessionCall::Inspect => match self.load(now).await? {
                Some(Stored::Live(record)) => match SessionView::inspected(&record, now) {
                    Some(view) => serde_json::to_string(&view)?,
                    None => return Ok(None),
                },
                _ => return Ok(None),
            },
        }))
    }

    async fn begin(&self, r: &BeginRequest, now: UnixMs) -> Result<Reply> {
        let before = self.load(now).await?;
        let (outcome, write) = session_state::begin(before.as_ref(), &r.bearer(), now, &r.timing);
        Ok(match outcome {
            Begin::Active { record, stored_now, touch, fingerprint } => {
                if stored_now && !r.ids.fresh && !self.may_claim(r.abuse_key.as_deref()).await {
                    return Ok(Reply::declined(Declined::AbuseLimited));
                }
                let view = SessionView::from(&record);
                if stored_now {
                    log_stored(&r.ids, &view);
                }
                let occasion = Occasion::first_store(stored_now);
                self.commit(&before, Some(Stored::Live(record)), write, occasion, now).await?.stored()?;
                let refresh_cookie = touch.refresh_cookie;
                Reply::Active { session: view, stored_now, refresh_cookie, data_refused: false, fingerprint }
            }
            Begin::Refused(reason) => {
                self.commit(&before, before.clone(), write, Occasion::Other, now).await?.stored()?;
                Reply::refused(reason)
            }
            Begin::NeedsClient => Reply::declined(Declined::NeedsClient),
        })
    }

    async fn update(&self, r: &UpdateRequest, now: UnixMs) -> Result<Reply> {
        let before = self.load(now).await?;
        let (outcome, write) =
            session_state::apply_update(before.as_ref(), &r.ids.bearer(), &r.update(), now, &r.timing, r.data_limit);
        Ok(match outcome {
            Updated::Applied { record, data_refused, stored_now } => {
                let view = SessionView::from(&record);
                let occasion = Occasion::first_store(stored_now);
                if self.commit(&before, Some(Stored::Live(record)), write, occasion, now).await?
                    == Committed::LoginRefused
                {
                    // Nothing of this update was stored: the session stays as it was.
                    return Ok(Reply::declined(Declined::TooManySessions));
                }
                if stored_now {
                    log_stored(&r.ids, &view);
                }
                Reply::Active { session: view, stored_now, refresh_cookie: false, data_refused, fingerprint: None }
            }
            Updated::Refused(reason) => {
                self.commit(&before, before.clone(), write, Occasion::Other, now).await?.stored()?;
                Reply::refused(reason)
            }
        })
    }

    async fn end(&self, r: &EndRequest, now: UnixMs) -> Result<Ending> {
        let before = self.load(now).await?;
        let presented = r.ids.as_ref().map(|ids| ids.bearer());
        let (ending, write) =
            lifecycle::end(before.as_ref(), presented.as_ref(), r.only_user.as_deref(), r.reason, now);
        let after = match &write {
            Write::Put(s) => Some(s.clone()),
            _ => before.clone(),
        };
        self.commit(&before, after, write, Occasion::Other, now).await?.stored()?;
        Ok(ending)
    }

    async fn rotate_out(&self, r: &RotateOutRequest, now: UnixMs) -> Result<RotateOutReply> {
        let before = self.load(now).await?;
        let (outcome, write) = lifecycle::rotate_out(before.as_ref(), &r.ids.bearer(), now, &r.timing);
        let after = match &write {
            Write::Put(s) => Some(s.clone()),
            _ => before.clone(),
        };
        self.commit(&before, after, write, Occasion::Other, now).await?.stored()?;
        Ok(match outcome {
            Ok(record) => {
                // Undelivered start events go with the session: its end (from the new
                // object) must never reach the receiver before its start.
                let starts = self.outbox_mut(|o| o.take_starts()).await?;
                if !starts.is_empty() {
                    self.save_outbox().await?;
                }
                RotateOutReply::Moved { record, starts }
            }
            Err(reason) => RotateOutReply::Refused { reason },
        })
    }

    async fn adopt(&self, r: AdoptRequest, now: UnixMs) -> Result<Reply> {
        let before = self.load(now).await?;
        let (adopted, write) = lifecycle::adopt(before.as_ref(), r.record, &r.ids.bearer());
        Ok(match adopted {
            Some(record) => {
                let view = SessionView::from(&record);
                if !r.starts.is_empty() {
                    self.outbox_mut(|o| o.extend(r.starts)).await?;
                    self.save_outbox().await?;
                }
                self.commit(&before, Some(Stored::Live(record)), write, Occasion::Adoption, now).await?.stored()?;
                Reply::Active {
                    session: view,
                    stored_now: false,
                    refresh_cookie: true,
                    data_refused: false,
                    fingerprint: None,
                }
            }
            None => Reply::refused(Refusal::Mismatch),
        })
    }

    /// Whether a deferred session may be claimed for the client whose abuse key is `key`: the
    /// claim counts against its new-session limit (`ABUSE_LIMITS`; no key: not limited here,
    /// an older Worker counted it before asking).
    async fn may_claim(&self, key: Option<&str>) -> bool {
        let Some(config) = self.config() else { return true };
        abuse::count(&self.env, &config, key, AbuseLimit::NewSessions).await.is_ok()
    }

    /// Remembers an origin-API call's nonce for its window ([`origin_api::remember_nonce`]);
    /// `false` for a replay. Stored, so a restarted object still refuses it.
    async fn nonce(&self, nonce: &str, now: UnixMs) -> Result<bool> {
        let storage = self.state.storage();
        let mut seen: Vec<(String, u64)> = storage.get(NONCES).await?.unwrap_or_default();
        let fresh = origin_api::remember_nonce(&mut seen, nonce, now);
        if fresh {
            storage.put(NONCES, &seen).await?;
        }
        Ok(fresh)
    }

    /// Ends the session if a deadline passed, delivers due events, purges a finished
    /// tombstone, and sets the next alarm. Returns whether the session is live.
    async fn check(&self, now: UnixMs) -> Result<bool> {
        let turn = self.turns.take().await;
        let before = self.load(now).await?;
        if let Some(Stored::Live(r)) = &before {
            if let Some(reason) = r.expired(now) {
                let tomb = Stored::Ended(Tombstone::ended(r, &self.cfid(&before), reason, now));
                self.commit(&before, Some(tomb.clone()), Write::Put(tomb), Occasion::Other, now).await?.stored()?;
            }
        }
        drop(turn);
        // (Deliveries hold no turn: a hook's receiver may call back into this session.)
        self.deliver_due(now).await?;
        let _turn = self.turns.take().await;
        let after = self.load(now).await?;
        if let Some(Stored::Ended(t)) = &after {
            if now >= t.purge_at && self.load_outbox().await?.is_empty() {
                self.state.storage().delete_all().await?;
                *self.cached.borrow_mut() = Cached::Read(None);
                *self.outbox.borrow_mut() = Cached::Read(Outbox::default());
                self.alarm_at.set(Cached::Read(None));
                return Ok(false);
            }
        }
        self.arm(true, now).await?;
        Ok(matches!(after, Some(Stored::Live(_))))
    }

    /// Carries out a state change: what it sets off is decided by [`effects`]; this queues
    /// the hook events, records a new user tag first, caches and writes the new state, keeps
    /// the index in step, and moves the alarm earlier if needed.
    async fn commit(
        &self,
        before: &Option<Stored>,
        in_memory: Option<Stored>,
        write: Write,
        occasion: Occasion,
        now: UnixMs,
    ) -> Result<Committed> {
        let config = self.config();
        // (The object's name, a call into the runtime, only when the record has no CFID.)
        let cfid_before = self.cfid(before);
        let cx =
            Context { config: config.as_deref(), cfid_before: &cfid_before, indexed_at: self.indexed_at.get(), now };
        let fx = effects(before, in_memory, write, occasion, cx);
        if fx.started {
            self.count(|c| c.starts += 1);
        }
        if let Some(ev) = &fx.ended {
            let reason = ev.reason.map_or("", |r| r.as_str());
            log::emit(
                LogLine::info("session.end")
                    .cfid(&ev.cfid)
                    .reason(reason)
                    .field("user", ev.user.clone())
                    .msg(format!("ENDED: {} ({reason})", ev.cfid)),
            );
            self.count(|c| *c.ends.entry(reason.to_owned()).or_default() += 1);
        }
        if !fx.hooks.is_empty() {
            let queued = fx.hooks.len() as u64;
            self.outbox_mut(|o| fx.hooks.iter().cloned().for_each(|d| o.push(d))).await?;
            self.count(|c| c.hooks_queued += queued);
        }
        if let (Some(tag), Some(config)) = (&fx.tag_user, &config) {
            match self.tag_user_first(tag, &fx.cfid, config, now).await {
                Ok(true) => {}
                Ok(false) => {
                    *self.outbox.borrow_mut() = Cached::Unread;
                    return Ok(Committed::LoginRefused);
                }
                Err(e) => {
                    *self.outbox.borrow_mut() = Cached::Unread;
                    return Err(e);
                }
            }
        }
        *self.cached.borrow_mut() = Cached::Read(fx.after.clone());
        if let Write::Put(stored) = &fx.write {
            let json = serde_json::to_string(stored).map_err(|e| e.to_string())?;
            let put = match faults::hit("storage.put").await {
                Ok(()) => self.state.storage().put(SESSION, json).await,
                Err(e) => Err(worker::Error::from(e.to_string())),
            };
            if let Err(e) = put {
                // Nothing half-way: the cache and the outbox reload from storage next time.
                *self.cached.borrow_mut() = Cached::Unread;
                *self.outbox.borrow_mut() = Cached::Unread;
                return Err(e);
            }
        }
        if !fx.hooks.is_empty() {
            self.save_outbox().await?;
        }
        if let Some(config) = &config {
            self.reindex(fx.index, fx.untag_user.as_deref(), &fx.cfid, config, now).await;
        }
        if fx.arm {
            self.arm(false, now).await?;
        }
        Ok(Committed::Stored)
    }

    /// Sets the alarm to the earliest of: the session's deadline, its tombstone's purge time,
    /// the next delivery. Unless `force`, only moves it earlier (an early alarm re-arms itself).
    async fn arm(&self, force: bool, now: UnixMs) -> Result<()> {
        let stored = self.load(now).await?;
        let outbox = self.load_outbox().await?;
        let Some(at) = alarm::next(stored.as_ref(), &outbox, self.config().is_some(), now, force) else {
            return Ok(());
        };
        let current = match self.alarm_at.get() {
            Cached::Read(known) => known,
            Cached::Unread => self.state.storage().get_alarm().await?.map(|ms| ms.max(0) as u64),
        };
        if force || current.is_none_or(|c| at < c) {
            self.state.storage().set_alarm(at.max(now) as i64 - now as i64).await?;
            self.alarm_at.set(Cached::Read(Some(at)));
        } else {
            self.alarm_at.set(Cached::Read(current));
        }
        Ok(())
    }

    /// Counts an event for the dashboard's history (sent after this call, see [`stats`]).
    pub(super) fn count(&self, event: impl FnOnce(&mut Counts)) {
        if let Some(flush) = stats::count(&self.env, event) {
            self.state.wait_until(log::carried(flush));
        }
    }

    /// The isolate's configuration (see [`super::platform::config`]); `None` (logged) when invalid.
    pub(super) fn config(&self) -> Option<Rc<Config>> {
        match super::platform::config(&self.env) {
            Ok(c) => Some(c),
            Err(e) => {
                log::emit(LogLine::error("config.invalid").msg(format!("session object: {e}")));
                None
            }
        }
    }

    /// This object's CFID: from the record when it has one, else the object's name.
    pub(super) fn cfid(&self, stored: &Option<Stored>) -> String {
        match stored {
            Some(Stored::Live(r)) if !r.cfid.is_empty() => r.cfid.clone(),
            _ => self.state.id().name().unwrap_or_default(),
        }
    }
}
