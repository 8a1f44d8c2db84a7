//! The safety-net sweep (cron): ends sessions whose deadline passed but whose alarm never
//! ended them (a lost alarm; locally, alarms do not survive a wrangler restart), and drops
//! index entries of sessions that no longer exist.

use crate::edge::platform::log::{self, LogLine};
use serde::Serialize;
use worker::{event, Env, ScheduleContext, ScheduledEvent};

use super::{
    app_object, ending,
    platform::now_ms,
    store::{Index, SessionObjects},
};
use crate::core::{config::Config, error::EdgeError, ids::Cfid};

/// Candidates taken from each shard per batch, and batches per shard per run.
const BATCH: u32 = 200;
const MAX_BATCHES: u32 = 50;

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let id = super::platform::request_id(None, "cron-");
    match log::with_request(id, sweep(&env)).await {
        Ok(r) => log::emit(LogLine::info("sweep.done").msg(format!(
            "sweep checked {} sessions past their deadline, ended {}, failed {}, queued ends confirmed {}, live {}",
            r.checked,
            r.ended,
            r.failed,
            r.ends_confirmed,
            r.live.map_or("not counted".to_owned(), |n| n.to_string())
        ))),
        Err(e) => log::emit(LogLine::error("sweep.failed").msg(format!("sweep failed: {e}"))),
    }
}

/// What a sweep did.
#[derive(Debug, Default, Serialize)]
pub struct SweepReport {
    /// Indexed sessions past their recorded deadline.
    pub checked: u64,
    /// Of those, how many were not live (ended now, or already gone).
    pub ended: u64,
    /// Entries (or whole shards) that failed: logged and skipped, retried next time.
    pub failed: u64,
    /// Queued ends (see `ending`) the session objects confirmed.
    pub ends_confirmed: u64,
    /// The live sessions the index shards record after the sweep: the dashboard's `live`
    /// gauge is set to it (`None` when a shard could not be counted; the gauge is left alone).
    pub live: Option<u64>,
}

/// Retries queued ends, then checks every indexed session whose recorded deadline passed.
/// An error on one entry or shard is logged and skipped: the rest is still swept.
pub async fn sweep(env: &Env) -> Result<SweepReport, EdgeError> {
    let config = super::platform::config(env)?;
    super::faults::install(&config.faults);
    let index = Index::from_env(env, config.index_shards)?;
    let sessions = SessionObjects::from_env(env)?;
    let now = now_ms();
    let mut r = SweepReport { ends_confirmed: ending::retry_queued(&index, &sessions).await, ..SweepReport::default() };
    for shard in 0..index.count {
        for _ in 0..MAX_BATCHES {
            let due = match index.expired(shard, now, BATCH).await {
                Ok(due) => due,
                Err(e) => {
                    log::emit(LogLine::error("sweep.shard_skipped").msg(format!("sweep: shard {shard} skipped: {e}")));
                    r.failed += 1;
                    break;
                }
            };
            let full = due.len() as u32 == BATCH;
            for raw in due {
                r.checked += 1;
                let live = match Cfid::parse(&raw) {
                    Some(cfid) => match live_after_check(&index, &sessions, &cfid).await {
                        Ok(live) => live,
                        Err(e) => {
                            log::emit(
                                LogLine::warn("sweep.session_skipped")
                                    .msg(format!("sweep: session {cfid} skipped: {e}")),
                            );
                            r.failed += 1;
                            continue;
                        }
                    },
                    None => false,
                };
                if !live {
                    r.ended += 1;
                    // The object removes itself when it ends; this catches strays.
                    if let Err(e) = index.remove(&raw, None).await {
                        log::emit(
                            LogLine::warn("sweep.index_failed")
                                .msg(format!("sweep: index entry {raw} not removed: {e}")),
                        );
                        r.failed += 1;
                    }
                }
            }
            if !full {
                break;
            }
        }
    }
    r.live = correct_live(env, &config, &index).await;
    Ok(r)
}

/// Sets the dashboard's `live` gauge to what the index shards record. The gauge is moved by
/// starts minus ends as isolates report them, and drifts when an isolate's counts are lost
/// (an isolate evicted before it sent them); the shards are the truth. `None` when a shard
/// could not be counted or the gauge not set (logged): nothing changes then.
async fn correct_live(env: &Env, config: &Config, index: &Index) -> Option<u64> {
    let mut live = 0;
    for shard in 0..index.count {
        match index.count(shard).await {
            Ok(n) => live += n,
            Err(e) => {
                log::emit(
                    LogLine::warn("sweep.count_failed").msg(format!("live gauge not corrected: shard {shard}: {e}")),
                );
                return None;
            }
        }
    }
    match app_object::correct_live(env, &config.app.name, live).await {
        Ok(()) => Some(live),
        Err(e) => {
            log::emit(LogLine::warn("sweep.count_failed").msg(format!("live gauge not corrected: {e}")));
            None
        }
    }
}

/// Ends the session if its deadline passed; refreshes the index entry of one still live.
async fn live_after_check(index: &Index, sessions: &SessionObjects, cfid: &Cfid) -> Result<bool, EdgeError> {
    Ok(sessions.check(cfid).await? && refresh(index, sessions, cfid).await?)
}

/// Rewrites a live session's index entry (its recorded deadline was stale). `false` when the
/// session turned out not to be live after all.
async fn refresh(index: &Index, sessions: &SessionObjects, cfid: &Cfid) -> Result<bool, EdgeError> {
    match sessions.inspect(cfid).await? {
        Some(view) => {
            index.upsert(&view.index_entry(cfid.as_str())).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}
