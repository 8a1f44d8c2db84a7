//! The session's Durable Object: one per CFID, serialising every read and update of that
//! session. It loads the stored state, lets [`crate::core::session`] decide, and writes
//! what the core says to write. The state is cached in memory between requests; the cache
//! is always updated before a write is awaited, so requests queued behind the write see it.

use std::cell::RefCell;

use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use super::platform::now_ms;
use crate::core::{
    lifecycle::{self, Ending},
    rpc::{
        AdoptRequest, BeginRequest, EndRequest, Reply, RotateOutReply, RotateOutRequest, SessionView, UpdateRequest,
    },
    session::{self, Begin, Stored, Updated, Write},
};

/// The storage key of the session's state (a JSON string of [`Stored`]).
const KEY: &str = "session";

#[durable_object]
pub struct SessionObject {
    state: State,
    /// `None`: not loaded yet. `Some(None)`: nothing stored.
    cached: RefCell<Option<Option<Stored>>>,
}

impl DurableObject for SessionObject {
    fn new(state: State, _env: Env) -> Self {
        Self { state, cached: RefCell::new(None) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let now = now_ms();
        match req.path().as_str() {
            "/begin" => {
                let r: BeginRequest = req.json().await?;
                Response::from_json(&self.begin(&r, now).await?)
            }
            "/update" => {
                let r: UpdateRequest = req.json().await?;
                Response::from_json(&self.update(&r, now).await?)
            }
            "/end" => {
                let r: EndRequest = req.json().await?;
                Response::from_json(&self.end(&r, now).await?)
            }
            "/rotate_out" => {
                let r: RotateOutRequest = req.json().await?;
                Response::from_json(&self.rotate_out(&r, now).await?)
            }
            "/adopt" => {
                let r: AdoptRequest = req.json().await?;
                Response::from_json(&self.adopt(r).await?)
            }
            "/inspect" => match self.load().await? {
                Some(Stored::Live(record)) => Response::from_json(&SessionView::from(&record)),
                _ => Response::error("no live session", 404),
            },
            _ => Response::error("unknown session operation", 404),
        }
    }
}

impl SessionObject {
    async fn begin(&self, r: &BeginRequest, now: u64) -> Result<Reply> {
        let stored = self.load().await?;
        let (outcome, write) = session::begin(stored.as_ref(), &r.ids.presented(), now, &r.policy);
        Ok(match outcome {
            Begin::Active { record, stored_now, touch } => {
                let view = SessionView::from(&record);
                self.save(Some(Stored::Live(record)), write).await?;
                Reply::Active { session: view, stored_now, refresh_cookie: touch.refresh_cookie, data_refused: false }
            }
            Begin::Refused(reason) => {
                self.save(stored, write).await?;
                Reply::Refused { reason }
            }
        })
    }

    async fn update(&self, r: &UpdateRequest, now: u64) -> Result<Reply> {
        let stored = self.load().await?;
        let (outcome, write) =
            session::apply_update(stored.as_ref(), &r.ids.presented(), &r.update(), now, &r.policy, r.data_limit);
        Ok(match outcome {
            Updated::Applied { record, data_refused, stored_now } => {
                let view = SessionView::from(&record);
                self.save(Some(Stored::Live(record)), write).await?;
                Reply::Active { session: view, stored_now, refresh_cookie: false, data_refused }
            }
            Updated::Refused(reason) => {
                self.save(stored, write).await?;
                Reply::Refused { reason }
            }
        })
    }

    async fn end(&self, r: &EndRequest, now: u64) -> Result<Ending> {
        let stored = self.load().await?;
        let presented = r.ids.as_ref().map(|ids| ids.presented());
        let (ending, write) = lifecycle::end(stored.as_ref(), presented.as_ref(), r.reason, now);
        self.save(stored, write).await?;
        if let Ending::Ended { .. } = ending {
            worker::console_log!("cfsession-edge: session {} ended ({:?})", r.cfid, r.reason);
        }
        Ok(ending)
    }

    async fn rotate_out(&self, r: &RotateOutRequest, now: u64) -> Result<RotateOutReply> {
        let stored = self.load().await?;
        let (outcome, write) = lifecycle::rotate_out(stored.as_ref(), &r.ids.presented(), now, &r.policy);
        self.save(stored, write).await?;
        Ok(match outcome {
            Ok(record) => RotateOutReply::Moved { record },
            Err(reason) => RotateOutReply::Refused { reason },
        })
    }

    async fn adopt(&self, r: AdoptRequest) -> Result<Reply> {
        let stored = self.load().await?;
        let (adopted, write) = lifecycle::adopt(stored.as_ref(), r.record, &r.ids.token_fp);
        Ok(match adopted {
            Some(record) => {
                let view = SessionView::from(&record);
                self.save(Some(Stored::Live(record)), write).await?;
                Reply::Active { session: view, stored_now: false, refresh_cookie: true, data_refused: false }
            }
            None => Reply::Refused { reason: session::Refusal::Mismatch },
        })
    }

    async fn load(&self) -> Result<Option<Stored>> {
        if let Some(cached) = self.cached.borrow().clone() {
            return Ok(cached);
        }
        let raw: Option<String> = self.state.storage().get(KEY).await?;
        let stored = match raw {
            Some(json) => Some(serde_json::from_str(&json).map_err(|e| worker::Error::RustError(e.to_string()))?),
            None => None,
        };
        *self.cached.borrow_mut() = Some(stored.clone());
        Ok(stored)
    }

    /// Caches `in_memory` (the state after this request, possibly newer than storage) and
    /// performs `write`.
    async fn save(&self, in_memory: Option<Stored>, write: Write) -> Result<()> {
        let next = match &write {
            Write::Put(stored) => Some(stored.clone()),
            Write::Nothing => in_memory,
        };
        *self.cached.borrow_mut() = Some(next);
        if let Write::Put(stored) = write {
            let json = serde_json::to_string(&stored).map_err(|e| worker::Error::RustError(e.to_string()))?;
            if let Err(e) = self.state.storage().put(KEY, json).await {
                *self.cached.borrow_mut() = None; // reload from storage next time
                return Err(e);
            }
        }
        Ok(())
    }
}
