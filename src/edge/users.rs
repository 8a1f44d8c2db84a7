//! A user's sessions, as the per-user index object lists them: read (each checked against
//! its own session object, which stays authoritative) and ended. Shared by the admin API,
//! the origin API and the concurrent-session limit.

use super::store::{Index, SessionObjects};
use crate::core::{
    config::Config,
    end_reason::EndReason,
    error::EdgeError,
    ids::Cfid,
    lifecycle::Ending,
    rpc::{EndRequest, SessionView},
};
use crate::edge::platform::log::{self, LogLine};
use worker::Env;

/// The live sessions tagged with `user`, and the CFIDs whose object could not be read.
pub struct UserSessions {
    pub live: Vec<(Cfid, SessionView)>,
    pub failed: Vec<String>,
}

/// Lists `user`'s live sessions. An index entry whose session is gone or now tagged with
/// another user is left out.
pub async fn list(env: &Env, config: &Config, user: &str) -> Result<UserSessions, EdgeError> {
    let sessions = SessionObjects::from_env(env)?;
    let mut out = UserSessions { live: Vec::new(), failed: Vec::new() };
    for raw in Index::from_env(env, config.index_shards)?.user_sessions(user).await? {
        let Some(cfid) = Cfid::parse(&raw) else { continue };
        match sessions.inspect(&cfid).await {
            Ok(Some(view)) if view.user.as_deref() == Some(user) => out.live.push((cfid, view)),
            Ok(_) => {}
            Err(e) => {
                log::emit(
                    LogLine::warn("users.session_skipped").cfid(&cfid).msg(format!("session unreadable, skipped: {e}")),
                );
                out.failed.push(raw);
            }
        }
    }
    Ok(out)
}

/// Ends one session for `reason`, only while it is still tagged with `only_user` (when
/// given). `Ok(false)`: it was not live (or belongs to someone else now).
pub async fn end(
    sessions: &SessionObjects,
    cfid: &Cfid,
    reason: EndReason,
    only_user: Option<&str>,
) -> Result<bool, EdgeError> {
    let req = EndRequest { cfid: cfid.to_string(), ids: None, reason, only_user: only_user.map(str::to_owned) };
    Ok(matches!(sessions.end(cfid, req).await?, Ending::Ended { .. }))
}

/// What ending several sessions did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Ended {
    pub ended: Vec<String>,
    pub failed: Vec<String>,
}

/// Ends every session of `user` but `except`, each only while still tagged with `user`.
/// Every one is tried; failures are named.
pub async fn end_all(
    env: &Env,
    config: &Config,
    user: &str,
    except: Option<&Cfid>,
    reason: EndReason,
) -> Result<Ended, EdgeError> {
    let sessions = SessionObjects::from_env(env)?;
    let mut out = Ended::default();
    for raw in Index::from_env(env, config.index_shards)?.user_sessions(user).await? {
        let Some(cfid) = Cfid::parse(&raw) else { continue };
        if Some(&cfid) == except {
            continue;
        }
        match end(&sessions, &cfid, reason, Some(user)).await {
            Ok(true) => out.ended.push(raw),
            Ok(false) => {}
            Err(e) => {
                log::emit(
                    LogLine::warn("users.end_failed")
                        .cfid(&cfid)
                        .msg(format!("session of a user could not be ended: {e}")),
                );
                out.failed.push(raw);
            }
        }
    }
    Ok(out)
}
