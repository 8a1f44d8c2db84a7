//! Carrying out what a session's changes set off ([`crate::core::effects`] decides): the
//! user tag and the session index, the sessions a login evicted, and delivering the hook
//! outbox.

use crate::edge::platform::log::{self, LogLine};
use worker::Result;

use super::SessionObject;
use crate::{
    core::{
        clock::UnixMs,
        config::Config,
        effects::{IndexChange, UserCap, UserTag},
        end_reason::EndReason,
        hooks::Failure,
        ids::Cfid,
        rpc::EndRequest,
    },
    edge::{
        ending, hooks,
        platform::now_ms,
        store::{Index, SessionObjects},
    },
};

impl SessionObject {
    /// Records the session's new user in the user's index object, before the session is
    /// stored with that user. `Ok(false)`: refused (`MAX_SESSIONS_POLICY=refuse`); an error
    /// means the tag must not be stored either.
    pub(super) async fn tag_user_first(&self, tag: &UserTag, cfid: &str, config: &Config, now: UnixMs) -> Result<bool> {
        let index = Index::from_env(&self.env, config.index_shards).map_err(|e| e.to_string())?;
        let failed = |e| worker::Error::from(format!("user index add failed: {e}"));
        match tag.cap {
            UserCap::Refuse(max) => index.add_user_within(&tag.user, cfid, now, max).await.map_err(failed),
            UserCap::Evict(max) => {
                let evicted = index.add_user(&tag.user, cfid, now, max).await.map_err(failed)?;
                self.evicted.borrow_mut().extend(evicted.into_iter().map(|c| (tag.user.clone(), c)));
                Ok(true)
            }
        }
    }

    /// Ends the sessions a login here pushed over `MAX_SESSIONS_PER_USER` (reason
    /// `replaced`, only while still tagged with that user). An end that fails is queued for
    /// the sweep, which retries it until the session's object confirms.
    pub(super) async fn end_evicted(&self) {
        let evicted = self.evicted.take();
        if evicted.is_empty() {
            return;
        }
        let (Some(config), Ok(sessions)) = (self.config(), SessionObjects::from_env(&self.env)) else { return };
        for (user, raw) in evicted {
            let Some(cfid) = Cfid::parse(&raw) else { continue };
            let req = EndRequest { cfid: raw, ids: None, reason: EndReason::Replaced, only_user: Some(user) };
            if let Err(e) = sessions.end(&cfid, req.clone()).await {
                log::emit(LogLine::warn("session.end_unconfirmed").cfid(&cfid).msg(format!("replaced session: {e}")));
                ending::queue_for_sweep(&self.env, config.index_shards, req).await;
            }
        }
    }

    /// Keeps the index shard and the user objects in step with the session (`change`, and
    /// the user it is no longer tagged with). Index failures are logged, never fatal: the
    /// sweep and the session object itself stay authoritative.
    pub(super) async fn reindex(
        &self,
        change: IndexChange,
        untag: Option<&str>,
        cfid: &str,
        config: &Config,
        now: UnixMs,
    ) {
        if change == IndexChange::Nothing && untag.is_none() {
            return;
        }
        let Ok(index) = Index::from_env(&self.env, config.index_shards) else { return };
        let log = |what: &str, r: std::result::Result<(), crate::core::error::EdgeError>| {
            if let Err(e) = r {
                log::emit(LogLine::warn("index.failed").msg(format!("session {cfid}: index {what} failed: {e}")));
            }
        };
        match change {
            IndexChange::Nothing => {}
            IndexChange::UpsertNow(entry) => {
                self.indexed_at.set(now);
                log("upsert", index.upsert(&entry).await);
            }
            IndexChange::UpsertLater(entry) => {
                // Off the request's path.
                self.indexed_at.set(now);
                let env = self.env.clone();
                let shards = config.index_shards;
                self.state.wait_until(log::carried(async move {
                    if let Ok(index) = Index::from_env(&env, shards) {
                        let _ = index.upsert(&entry).await;
                    }
                }));
            }
            IndexChange::Remove { ended } => log("remove", index.remove(cfid, ended).await),
        }
        // (A new user was added by `tag_user_first`, before the write.)
        if let Some(user) = untag {
            log("user remove", index.remove_user(user, cfid).await);
        }
    }

    /// Delivers the events that are due; failures are retried with backoff by the alarm.
    pub(super) async fn deliver_due(&self, now: UnixMs) -> Result<()> {
        let due: Vec<_> = self
            .load_outbox()
            .await?
            .due(now)
            .into_iter()
            .filter(|d| !self.in_flight.borrow().contains(&d.event.idempotency_key))
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let Some(config) = self.config() else {
            return Ok(()); // nothing can be sent; `arm` looks again later
        };
        for d in due {
            let key = d.event.idempotency_key.clone();
            let post = d.post(&config);
            self.in_flight.borrow_mut().push(key.clone());
            let result = match post {
                Some(p) => hooks::post(&p.url, &p.body, &config.origin_keys(), &key, p.cookie.as_deref(), now).await,
                None => Ok(()), // the hook was turned off since: nothing to deliver
            };
            self.in_flight.borrow_mut().retain(|k| *k != key);
            // (A failure's retry counts from when it was seen, after the attempt: the clock is
            // read again.)
            match result {
                Ok(()) => {
                    self.outbox_mut(|o| o.delivered(&key)).await?;
                    self.count(|c| c.hooks_delivered += 1);
                }
                Err(why) => match self.outbox_mut(|o| o.failed(&key, now_ms())).await? {
                    Failure::RetryAt(at) => {
                        self.count(|c| c.hook_failures += 1);
                        log::emit(
                            LogLine::warn("hook.failed")
                                .cfid(&d.event.cfid)
                                .field("hook", d.hook.as_str())
                                .field("key", key.clone())
                                .field("retry_at", at)
                                .msg(format!("hook {key} failed ({why}); retry at {at}")),
                        )
                    }
                    Failure::GaveUp => {
                        self.count(|c| {
                            c.hook_failures += 1;
                            c.hooks_given_up += 1;
                        });
                        log::emit(
                            LogLine::error("hook.given_up")
                                .cfid(&d.event.cfid)
                                .field("hook", d.hook.as_str())
                                .field("key", key.clone())
                                .msg(format!(
                                    "hook {key} failed ({why}); giving up after {} attempts",
                                    crate::core::hooks::MAX_ATTEMPTS
                                )),
                        )
                    }
                },
            }
            self.save_outbox().await?;
        }
        Ok(())
    }
}
