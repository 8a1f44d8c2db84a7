//! The safety-net sweep (cron): ends sessions whose deadline passed but whose alarm never
//! ended them (a lost alarm; locally, alarms do not survive a wrangler restart), and drops
//! index entries of sessions that no longer exist.

use worker::{console_error, console_log, event, Env, ScheduleContext, ScheduledEvent};

use super::{
    platform::now_ms,
    store::{Index, Sessions},
};
use crate::core::{config::Config, error::EdgeError, ids::Cfid, index::IndexEntry};

/// Candidates taken from each shard per batch, and batches per shard per run.
const BATCH: u32 = 200;
const MAX_BATCHES: u32 = 50;

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match sweep(&env).await {
        Ok((checked, ended)) => {
            console_log!("cfsession-edge: sweep checked {checked} sessions past their deadline, ended {ended}")
        }
        Err(e) => console_error!("cfsession-edge: sweep failed: {e}"),
    }
}

/// Checks every indexed session whose recorded deadline passed. Returns (checked, ended).
pub async fn sweep(env: &Env) -> Result<(u64, u64), EdgeError> {
    let config = Config::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()))?;
    let index = Index::from_env(env, config.index_shards)?;
    let sessions = Sessions::from_env(env)?;
    let now = now_ms();
    let (mut checked, mut ended) = (0, 0);
    for shard in 0..index.count {
        for _ in 0..MAX_BATCHES {
            let due = index.expired(shard, now, BATCH).await?;
            let full = due.len() as u32 == BATCH;
            for raw in due {
                checked += 1;
                let live = match Cfid::parse(&raw) {
                    Some(cfid) => sessions.check(&cfid).await? && refresh(&index, &sessions, &cfid).await?,
                    None => false,
                };
                if !live {
                    ended += 1;
                    index.remove(&raw, None).await?; // the object removes itself when it ends; this catches strays
                }
            }
            if !full {
                break;
            }
        }
    }
    Ok((checked, ended))
}

/// Rewrites a live session's index entry (its recorded deadline was stale). `false` when the
/// session turned out not to be live after all.
async fn refresh(index: &Index, sessions: &Sessions, cfid: &Cfid) -> Result<bool, EdgeError> {
    match sessions.inspect(cfid).await? {
        Some(view) => {
            index.upsert(&IndexEntry::new(cfid.as_str(), &view)).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}
