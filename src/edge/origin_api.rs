//! The origin API (see [`crate::core::origin_api`]): the application lists and ends the
//! sessions of the user of one of its requests. Answers are JSON; errors are
//! `{"error": "<reason>"}`. Never a CFTOKEN, never another user's session.

use serde::Serialize;
use worker::{Env, Request, Response};

use super::{platform::now_ms, respond, store::SessionObjects, users};
use crate::core::{
    config::{Config, Secret},
    end_reason::EndReason,
    error::EdgeError,
    ids::Cfid,
    origin_api::{self, ApiCall, ApiRefusal, Signed},
    record::ClientHints,
    rpc::SessionView,
};
use crate::edge::platform::log::{self, LogLine};

/// One session as the application sees it.
#[derive(Serialize)]
struct Listed {
    /// The CFID (public): what `DELETE sessions/<id>` takes.
    id: String,
    /// The session of the calling request.
    current: bool,
    created: u64,
    last_access: u64,
    expires_at: u64,
    hits: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<ClientHints>,
}

impl Listed {
    fn new(cfid: &Cfid, view: &SessionView, caller: &Cfid) -> Self {
        Self {
            id: cfid.to_string(),
            current: cfid == caller,
            created: view.created,
            last_access: view.last_access,
            expires_at: view.expires_at,
            hits: view.hits,
            client: view.client.clone(),
        }
    }
}

/// Handles `rest`, the path after [`origin_api::API_PREFIX`].
pub async fn handle(req: &Request, rest: &str, env: &Env, config: &Config) -> Result<Response, EdgeError> {
    let method = req.inner().method();
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let call = origin_api::route(&method, rest).map_err(refused)?;
    let (id, sig, nonce) = (header("x-session-id"), header("x-session-signature"), header("x-session-nonce"));
    let url = req.url().map_err(EdgeError::internal)?;
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => String::new(),
    };
    let path = req.path();
    let signed = Signed {
        host: &host,
        method: &method,
        path: &path,
        session_id: id.as_deref().unwrap_or(""),
        nonce: nonce.as_deref().unwrap_or(""),
    };
    let log_refused = |r: ApiRefusal| {
        log::emit(LogLine::warn("origin_api.refused").reason(r.as_str()).msg("origin API call refused"));
        refused(r)
    };
    let now_s = now_ms() / 1000;
    // During a key rotation, calls signed with the previous origin key are accepted too.
    let verify = |key: &Secret| origin_api::verify(key.expose(), &signed, sig.as_deref(), now_s);
    let caller = match (verify(&config.keys.origin), &config.keys.previous_origin) {
        (Err(ApiRefusal::BadSignature), Some(previous)) => verify(previous),
        (result, _) => result,
    }
    .map_err(log_refused)?;
    let sessions = SessionObjects::from_env(env)?;
    let me = sessions.inspect(&caller).await?.ok_or(EdgeError::NotFound("the calling session is not live"))?;
    // (After `inspect`: only a live session's object keeps nonces, and its purge drops them.)
    if !sessions.use_nonce(&caller, signed.nonce).await? {
        return Err(log_refused(ApiRefusal::Replayed));
    }
    let user = me.user.clone();
    let json = |body: &serde_json::Value| respond::json(200, body).map_err(EdgeError::internal);
    match (call, user) {
        (ApiCall::List, None) => {
            json(&serde_json::json!({ "user": null, "items": [Listed::new(&caller, &me, &caller)] }))
        }
        (ApiCall::List, Some(user)) => {
            let found = users::list(env, config, &user).await?;
            let mut items: Vec<Listed> = found.live.iter().map(|(c, v)| Listed::new(c, v, &caller)).collect();
            items.sort_by_key(|s| std::cmp::Reverse(s.last_access));
            json(&serde_json::json!({ "user": user, "items": items, "failed": found.failed }))
        }
        (ApiCall::End(target), user) => {
            // Only a session of the caller's user (or, without a user, the caller itself).
            let ended = match &user {
                Some(u) => users::end(&sessions, &target, EndReason::Revoked, Some(u)).await?,
                None if target == caller => users::end(&sessions, &target, EndReason::Revoked, None).await?,
                None => false,
            };
            if !ended {
                return Err(EdgeError::NotFound("no live session of this user with this id"));
            }
            log::emit(LogLine::info("origin_api.end").cfid(&target).field("by", caller.to_string()));
            json(&serde_json::json!({ "ended": [target.to_string()] }))
        }
        (ApiCall::EndOthers, None) => json(&serde_json::json!({ "ended": [], "failed": [] })),
        (ApiCall::EndOthers, Some(user)) => {
            let done = users::end_all(env, config, &user, Some(&caller), EndReason::Revoked).await?;
            log::emit(LogLine::info("origin_api.end_others").cfid(&caller).field("ended", done.ended.len()));
            let status = if done.failed.is_empty() { 200 } else { 503 };
            respond::json(status, &done).map_err(EdgeError::internal)
        }
    }
}

fn refused(r: ApiRefusal) -> EdgeError {
    match r {
        ApiRefusal::NoRoute => EdgeError::NotFound(r.as_str()),
        ApiRefusal::BadSession => EdgeError::BadRequest(r.as_str()),
        ApiRefusal::BadSignature | ApiRefusal::Replayed => EdgeError::Unauthorized,
    }
}
