//! The side effects of a session's changes: keeping the session index in step, and
//! delivering the hook outbox.

use crate::edge::platform::log::{self, LogLine};
use worker::Result;

use super::SessionObject;
use crate::{
    core::{
        config::Config,
        end_reason::EndReason,
        hooks::{Failure, Hook},
        ids::Cfid,
        index::{EndedEntry, MaxSessionsPolicy},
        rpc::{EndRequest, SessionView},
        session::Stored,
        tombstone::SessionEvent,
    },
    edge::{
        ending, hooks,
        platform::now_ms,
        store::{Index, Sessions},
    },
};

impl SessionObject {
    /// Adds the session to its new user's index object, before the session is stored with
    /// that user; an error means the tag must not be stored.
    pub(super) async fn tag_user_first(
        &self,
        before: &Option<Stored>,
        after: &Option<Stored>,
        cfid: &str,
        config: Option<&Config>,
    ) -> Result<()> {
        let (Some(config), Some(Stored::Live(r))) = (config, after) else { return Ok(()) };
        let Some(user) = &r.user else { return Ok(()) };
        let old = match before {
            Some(Stored::Live(b)) => b.user.as_ref(),
            _ => None,
        };
        if old == Some(user) {
            return Ok(());
        }
        let index = Index::from_env(&self.env, config.index_shards).map_err(|e| e.to_string())?;
        if let (MaxSessionsPolicy::Refuse, Some(max)) =
            (config.controls.max_sessions_policy, config.max_sessions_per_user)
        {
            let within = index
                .add_user_within(user, cfid, now_ms(), max)
                .await
                .map_err(|e| worker::Error::from(format!("user index add failed: {e}")))?;
            if !within {
                self.login_refused.set(true);
                return Err(worker::Error::from(format!(
                    "user already has {max} sessions (MAX_SESSIONS_POLICY=refuse)"
                )));
            }
            return Ok(());
        }
        let evicted = index
            .add_user(user, cfid, now_ms(), config.max_sessions_per_user)
            .await
            .map_err(|e| worker::Error::from(format!("user index add failed: {e}")))?;
        self.evicted.borrow_mut().extend(evicted.into_iter().map(|c| (user.clone(), c)));
        Ok(())
    }

    /// Ends the sessions a login here pushed over `MAX_SESSIONS_PER_USER` (reason
    /// `replaced`, only while still tagged with that user). An end that fails is queued for
    /// the sweep, which retries it until the session's object confirms.
    pub(super) async fn end_evicted(&self) {
        let evicted = self.evicted.take();
        if evicted.is_empty() {
            return;
        }
        let (Some(config), Ok(sessions)) = (self.config(), Sessions::from_env(&self.env)) else { return };
        for (user, raw) in evicted {
            let Some(cfid) = Cfid::parse(&raw) else { continue };
            let req = EndRequest { cfid: raw, ids: None, reason: EndReason::Replaced, only_user: Some(user) };
            if let Err(e) = sessions.end(&cfid, req.clone()).await {
                log::emit(LogLine::warn("session.end_unconfirmed").cfid(&cfid).msg(format!("replaced session: {e}")));
                ending::queue_for_sweep(&self.env, config.index_shards, req).await;
            }
        }
    }

    /// Keeps the index shard and the user objects in step with the session. Index failures
    /// are logged, never fatal: the sweep and the session object itself stay authoritative.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn reindex(
        &self,
        before: &Option<Stored>,
        after: &Option<Stored>,
        cfid: &str,
        now: bool,
        touched: bool,
        ended: Option<&SessionEvent>,
        config: Option<&Config>,
    ) {
        let Some(config) = config else { return };
        let Ok(index) = Index::from_env(&self.env, config.index_shards) else { return };
        let user_of = |s: &Option<Stored>| match s {
            Some(Stored::Live(r)) => r.user.clone(),
            _ => None,
        };
        let (old_user, new_user) = (user_of(before), user_of(after));
        let log = |what: &str, r: std::result::Result<(), crate::core::error::EdgeError>| {
            if let Err(e) = r {
                log::emit(LogLine::warn("index.failed").msg(format!("session {cfid}: index {what} failed: {e}")));
            }
        };
        match after {
            Some(Stored::Live(r)) => {
                if old_user != new_user {
                    // (the new user was added by `tag_user_first`, before the write)
                    if let Some(u) = &old_user {
                        log("user remove", index.remove_user(u, cfid).await);
                    }
                }
                let entry = SessionView { fingerprint: r.flag.clone(), ..SessionView::from(r) }.index_entry(cfid);
                let (timeout_changed, flag_raised) = match before {
                    Some(Stored::Live(b)) => (b.idle_timeout_s != r.idle_timeout_s, b.flag != r.flag),
                    _ => (false, false),
                };
                let at = now_ms();
                let refresh_due = at.saturating_sub(self.indexed_at.get()) >= config.policy.touch_interval_s * 1000;
                if now || old_user != new_user || timeout_changed || flag_raised {
                    self.indexed_at.set(at);
                    log("upsert", index.upsert(&entry).await);
                } else if touched && refresh_due {
                    // Other writes (touches, data) refresh the entry at most once per touch
                    // interval, off the request's path.
                    self.indexed_at.set(at);
                    let env = self.env.clone();
                    let shards = config.index_shards;
                    self.state.wait_until(log::carried(async move {
                        if let Ok(index) = Index::from_env(&env, shards) {
                            let _ = index.upsert(&entry).await;
                        }
                    }));
                }
            }
            _ if matches!(before, Some(Stored::Live(_))) => {
                let ended = ended.and_then(|ev| {
                    Some(EndedEntry { cfid: cfid.to_owned(), reason: ev.reason?, at: ev.at, user: ev.user.clone() })
                });
                log("remove", index.remove(cfid, ended).await);
                if let Some(u) = &old_user {
                    log("user remove", index.remove_user(u, cfid).await);
                }
            }
            _ => {}
        }
    }

    /// Delivers the events that are due; failures are retried with backoff by the alarm.
    pub(super) async fn deliver_due(&self, now: u64) -> Result<()> {
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
            let url = match d.hook {
                Hook::Start => config.start_url.as_ref(),
                Hook::End => config.end_url.as_ref(),
                Hook::OriginKill => config.origin_kill_url.as_ref(),
            };
            let cookie = (d.hook == Hook::OriginKill).then(|| d.cookies.cookie_header());
            let mut body = serde_json::to_value(&d.event).map_err(|e| e.to_string())?;
            if let Some(obj) = body.as_object_mut() {
                obj.insert("app".into(), config.app_name.clone().into());
            }
            let body = body.to_string();
            self.in_flight.borrow_mut().push(key.clone());
            let result = match url {
                Some(url) => hooks::post(url, &body, &config.origin_keys(), &key, cookie.as_deref(), now).await,
                None => Ok(()), // the hook was turned off since: nothing to deliver
            };
            self.in_flight.borrow_mut().retain(|k| *k != key);
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
                                .field("hook", hook_name(d.hook))
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
                                .field("hook", hook_name(d.hook))
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

/// The hook's name in logs.
fn hook_name(hook: Hook) -> &'static str {
    match hook {
        Hook::Start => "start",
        Hook::End => "end",
        Hook::OriginKill => "origin_kill",
    }
}
