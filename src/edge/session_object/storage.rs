//! The session object's storage: the state and the hook outbox, each cached in memory and
//! read from storage once per instance.

use crate::edge::platform::log::{self, LogLine};
use worker::Result;

use super::{Cached, SessionObject, OUTBOX, SESSION};
use crate::core::{clock::UnixMs, end_reason::EndReason, hooks::Outbox, session_state::Stored, tombstone::Tombstone};

impl SessionObject {
    /// The stored state (`None`: nothing stored), read once; `now` dates the tombstone of a
    /// state that cannot be read.
    pub(super) async fn load(&self, now: UnixMs) -> Result<Option<Stored>> {
        if let Cached::Read(cached) = &*self.cached.borrow() {
            return Ok(cached.clone());
        }
        let raw: Option<String> = self.state.storage().get(SESSION).await?;
        let stored = match raw.map(|json| serde_json::from_str::<Stored>(&json)).transpose() {
            Ok(stored) => stored,
            Err(e) => {
                // Never a session that cannot load (no end, no purge, 503 forever): its ids
                // are refused from now on and the object cleans itself up like any ended one.
                log::emit(
                    LogLine::error("session.unreadable")
                        .msg(format!("session {}: stored state unreadable ({e}); ending it", self.cfid(&None))),
                );
                let tomb = Stored::Ended(Tombstone::unstored(now, EndReason::Unreadable, now));
                self.state.storage().put(SESSION, serde_json::to_string(&tomb)?).await?;
                Some(tomb)
            }
        };
        *self.cached.borrow_mut() = Cached::Read(stored.clone());
        Ok(stored)
    }

    pub(super) async fn load_outbox(&self) -> Result<Outbox> {
        if let Cached::Read(o) = &*self.outbox.borrow() {
            return Ok(o.clone());
        }
        let raw: Option<String> = self.state.storage().get(OUTBOX).await?;
        let outbox: Outbox = match raw.map(|json| serde_json::from_str(&json)).transpose() {
            Ok(outbox) => outbox.unwrap_or_default(),
            Err(e) => {
                log::emit(
                    LogLine::error("hook.outbox_unreadable")
                        .msg(format!("session {}: hook outbox unreadable ({e}); dropped", self.cfid(&None))),
                );
                Outbox::default()
            }
        };
        *self.outbox.borrow_mut() = Cached::Read(outbox.clone());
        Ok(outbox)
    }

    /// Changes the cached outbox (call [`Self::save_outbox`] to persist it).
    pub(super) async fn outbox_mut<T>(&self, f: impl FnOnce(&mut Outbox) -> T) -> Result<T> {
        let mut outbox = self.load_outbox().await?;
        let out = f(&mut outbox);
        *self.outbox.borrow_mut() = Cached::Read(outbox);
        Ok(out)
    }

    pub(super) async fn save_outbox(&self) -> Result<()> {
        let outbox = self.load_outbox().await?;
        let storage = self.state.storage();
        if outbox.is_empty() {
            storage.delete(OUTBOX).await.map(drop)
        } else {
            storage.put(OUTBOX, serde_json::to_string(&outbox)?).await
        }
    }
}
