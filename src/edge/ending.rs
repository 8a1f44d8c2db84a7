//! Ending a session, failing closed: when its object cannot confirm an end (a kill, an
//! `invalidate`, a failed login or rotation), the browser's cookies are expired anyway and
//! the end is retried until the object confirms it: a few times at once (in the background,
//! after the response), then from a queue in the session's index shard that the sweep works
//! through. While the object keeps failing, requests with those ids fail too (503), so they
//! are never served as a session.

use crate::edge::platform::log::{self, LogLine};
use std::time::Duration;

use worker::{Context, Delay, Env};

use super::store::{Index, SessionObjects};
use crate::core::{config::Config, ids::Cfid, lifecycle::Ending, rpc::EndRequest};

/// Waits before each retry in the background (ms).
const RETRIES_MS: &[u64] = &[250, 1_000, 3_000];

/// Ends a session now. `Some`: the object's answer. `None`: not confirmed; the end is being
/// retried in the background (the caller expires the cookies and says so).
pub async fn end_or_retry(
    sessions: &SessionObjects,
    cfid: &Cfid,
    req: EndRequest,
    env: &Env,
    config: &Config,
    ctx: &Context,
) -> Option<Ending> {
    match sessions.end(cfid, req.clone()).await {
        Ok(ending) => {
            if ending == Ending::Mismatch {
                log::emit(
                    LogLine::info("session.end_refused")
                        .msg(format!("session {cfid}: end refused (not this session's token)")),
                );
            }
            Some(ending)
        }
        Err(e) => {
            log::emit(
                LogLine::error("session.end_unconfirmed")
                    .msg(format!("session {cfid}: end not confirmed ({e}); cookies expired, retrying")),
            );
            let (env, shards) = (env.clone(), config.index_shards);
            ctx.wait_until(log::carried(async move { retry(env, shards, req).await }));
            None
        }
    }
}

async fn retry(env: Env, shards: u32, req: EndRequest) {
    let Some(cfid) = Cfid::parse(&req.cfid) else { return };
    let Ok(sessions) = SessionObjects::from_env(&env) else { return };
    for wait in RETRIES_MS {
        Delay::from(Duration::from_millis(*wait)).await;
        match sessions.end(&cfid, req.clone()).await {
            Ok(_) => {
                log::emit(
                    LogLine::info("session.end_confirmed").msg(format!("session {cfid}: end confirmed on retry")),
                );
                return;
            }
            Err(e) => log::emit(
                LogLine::warn("session.end_retry_failed").msg(format!("session {cfid}: end retry failed: {e}")),
            ),
        }
    }
    queue_for_sweep(&env, shards, req).await;
}

/// Queues an end the object did not confirm in its index shard, where every sweep retries it
/// until the object confirms. Logged either way.
pub async fn queue_for_sweep(env: &Env, shards: u32, req: EndRequest) {
    let cfid = req.cfid.clone();
    let queued = match Index::from_env(env, shards) {
        Ok(index) => index.queue_end(req).await,
        Err(e) => Err(e),
    };
    match queued {
        Ok(()) => log::emit(
            LogLine::warn("session.end_queued").cfid(&cfid).msg(format!("session {cfid}: end queued for the sweep")),
        ),
        Err(e) => log::emit(
            LogLine::error("session.end_queue_failed")
                .cfid(&cfid)
                .msg(format!("session {cfid}: end could not be queued ({e}); ids stay refused while the object fails")),
        ),
    }
}

/// The sweep's part: retries every queued end; drops those the object confirms. Returns how
/// many were confirmed. Errors are logged per entry, never fatal.
pub async fn retry_queued(index: &Index, sessions: &SessionObjects) -> u64 {
    let mut confirmed = 0;
    for shard in 0..index.count {
        let pending = match index.pending_ends(shard, 500).await {
            Ok(p) => p,
            Err(e) => {
                log::emit(
                    LogLine::error("sweep.failed").msg(format!("sweep: shard {shard}: queued ends unreadable: {e}")),
                );
                continue;
            }
        };
        for p in pending {
            let Some(cfid) = Cfid::parse(&p.request.cfid) else { continue };
            match sessions.end(&cfid, p.request).await {
                Ok(_) => match index.end_confirmed(cfid.as_str()).await {
                    Ok(()) => confirmed += 1,
                    Err(e) => log::emit(
                        LogLine::warn("sweep.queue_failed")
                            .msg(format!("sweep: session {cfid}: end confirmed, queue not updated: {e}")),
                    ),
                },
                Err(e) => log::emit(
                    LogLine::warn("sweep.end_failed")
                        .msg(format!("sweep: session {cfid}: queued end still failing: {e}")),
                ),
            }
        }
    }
    confirmed
}
