//! The session flow of a site request: find the session the client presents (or start one),
//! forward the request with the session attached, apply the origin's changes, set cookies.

use worker::{console_log, console_warn, Env, Request, Response};

use super::{
    platform::{now_ms, PlatformRandom},
    proxy::{self, Forward},
    store::Sessions,
};
use crate::core::{
    clock::UnixMs,
    config::Config,
    cookie::{read_session_cookies, strip_session_cookies, CookieExpiry, CFID, CFTOKEN},
    error::EdgeError,
    forward,
    ids::{CfToken, Cfid, TokenKey},
    protocol::{parse_origin_changes, Action, Attached, OriginChanges},
    query,
    rpc::{BeginRequest, Ids, Reply, SessionView, UpdateRequest},
};

/// The session attached to this request.
struct Current {
    cfid: Cfid,
    token: CfToken,
    view: SessionView,
    /// Started on this request (its cookies must be set).
    new: bool,
    /// Refresh the sliding cookies on this response.
    refresh_cookie: bool,
}

impl Current {
    fn ids(&self) -> Ids {
        Ids { token_fp: self.token.fingerprint(), issued_at: self.token.issued_at(), fresh: self.new }
    }
}

fn internal(e: impl std::fmt::Display) -> EdgeError {
    EdgeError::Internal(e.to_string())
}

/// Handles a request for the site (anything outside the edge's own paths).
pub async fn handle(req: Request, env: &Env, config: &Config) -> Result<Response, EdgeError> {
    let now = now_ms();
    let key = TokenKey::derive(config.signing_key.expose());
    let url = req.url().map_err(internal)?;
    let cookie_header = req.headers().get("cookie").ok().flatten();
    let sessions = Sessions::from_env(env)?;

    let resumed = match presented(cookie_header.as_deref(), url.query(), config, &key) {
        Some((cfid, token)) => resume(&sessions, cfid, token, config).await?,
        None => None,
    };
    let current = match resumed {
        Some(c) => c,
        None => start(&sessions, config, &key, now).await?,
    };

    // The CFID/CFTOKEN never reach the origin: not in the query string, not in cookies.
    let mut target = forward::target_url(config.origin.as_ref(), &url);
    target.set_query(query::without(url.query().unwrap_or(""), &[CFID, CFTOKEN]).as_deref());
    let hits = config.policy.count_hits.then_some(current.view.hits);
    let attached = Attached::new(current.cfid.as_str(), current.new, hits, &current.view.data);
    let method = req.inner().method();
    let session_headers =
        attached.headers(config.signing_key.expose(), now / 1000, &method, target.path(), target.query().unwrap_or(""));
    let cookie = cookie_header.as_deref().and_then(strip_session_cookies);
    let reply = proxy::forward(req, Forward { target, session_headers, cookie }).await?;

    let changes = parse_origin_changes(reply.set.as_deref(), reply.action.as_deref(), reply.user.as_deref());
    for problem in &changes.problems {
        console_warn!("cfsession-edge: session {}: {problem}", current.cfid);
    }
    let mut response = reply.response;
    let current = apply_changes(&sessions, current, &changes, config).await;
    set_cookies(&mut response, &current, config, now).map_err(internal)?;
    Ok(response)
}

/// The first CFID/CFTOKEN pair this edge issued, from the cookies (and from the query string
/// when `URL_TOKENS` is on). Forged, malformed and foreign pairs are never presented.
fn presented(
    cookie_header: Option<&str>,
    query: Option<&str>,
    config: &Config,
    key: &TokenKey,
) -> Option<(Cfid, CfToken)> {
    let mut cookies = read_session_cookies(cookie_header);
    if config.url_tokens {
        let q = query.unwrap_or("");
        cookies.cfid.extend(query::get(q, CFID));
        cookies.cftoken.extend(query::get(q, CFTOKEN));
    }
    for cfid in cookies.cfid.iter().filter_map(|c| Cfid::parse(c)) {
        for token in cookies.cftoken.iter().filter_map(|t| CfToken::parse(t)) {
            if token.verify(&cfid, key) {
                return Some((cfid, token));
            }
        }
    }
    if !cookies.cfid.is_empty() || !cookies.cftoken.is_empty() {
        console_log!("cfsession-edge: ignored session ids that this edge did not issue (malformed or forged)");
    }
    None
}

/// The live session for a verified pair, or `None` when its object refuses it.
async fn resume(
    sessions: &Sessions,
    cfid: Cfid,
    token: CfToken,
    config: &Config,
) -> Result<Option<Current>, EdgeError> {
    let ids = Ids { token_fp: token.fingerprint(), issued_at: token.issued_at(), fresh: false };
    match sessions.begin(&cfid, &BeginRequest { ids, policy: config.policy }).await? {
        Reply::Active { session, refresh_cookie, .. } => {
            Ok(Some(Current { cfid, token, view: session, new: false, refresh_cookie }))
        }
        Reply::Refused { reason } => {
            console_log!("cfsession-edge: session {cfid} not resumed ({reason:?}); starting a new one");
            Ok(None)
        }
    }
}

/// A brand-new session. Stored at once only when deferral is off.
async fn start(sessions: &Sessions, config: &Config, key: &TokenKey, now: UnixMs) -> Result<Current, EdgeError> {
    let mut rng = PlatformRandom;
    let no_random = |_| EdgeError::Internal("no randomness for session ids".into());
    let cfid = Cfid::generate(&mut rng).map_err(no_random)?;
    let token = CfToken::mint(&cfid, key, now, &mut rng).map_err(no_random)?;
    let view = if config.defer {
        unstored_view(config, now)
    } else {
        let ids = Ids { token_fp: token.fingerprint(), issued_at: now, fresh: true };
        match sessions.begin(&cfid, &BeginRequest { ids, policy: config.policy }).await? {
            Reply::Active { session, .. } => session,
            Reply::Refused { reason } => return Err(EdgeError::Internal(format!("new session refused: {reason:?}"))),
        }
    };
    Ok(Current { cfid, token, view, new: true, refresh_cookie: false })
}

/// How a deferred (not yet stored) session looks on its first request.
fn unstored_view(config: &Config, now: UnixMs) -> SessionView {
    let p = &config.policy;
    let idle_deadline = now + p.idle_timeout_s * 1000;
    let expires_at =
        if p.max_lifetime_s > 0 { idle_deadline.min(now + p.max_lifetime_s * 1000) } else { idle_deadline };
    SessionView {
        hits: 1,
        data: Default::default(),
        created: now,
        last_access: now,
        idle_timeout_s: p.idle_timeout_s,
        expires_at,
        user: None,
        writes: 0,
    }
}

/// Applies the origin's changes in the session's object. Failures are logged: the origin's
/// response is delivered whatever happens here.
async fn apply_changes(sessions: &Sessions, mut current: Current, changes: &OriginChanges, config: &Config) -> Current {
    for action in [Action::Invalidate, Action::Rotate] {
        if changes.has(action) {
            console_warn!("cfsession-edge: X-Session-Action {action:?} is not supported yet; ignored");
        }
    }
    let timeout = changes.timeout();
    if changes.set.is_none() && changes.user.is_none() && timeout.is_none() {
        return current;
    }
    let req = UpdateRequest {
        ids: current.ids(),
        policy: config.policy,
        data_limit: config.data_limit,
        set: changes.set.clone(),
        idle_timeout_s: timeout,
        user: changes.user.clone(),
    };
    match sessions.update(&current.cfid, &req).await {
        Ok(Reply::Active { session, data_refused, .. }) => {
            if data_refused {
                console_warn!(
                    "cfsession-edge: session {}: X-Session-Set refused: data would exceed SESSION_DATA_LIMIT ({} bytes)",
                    current.cfid,
                    config.data_limit
                );
            }
            current.refresh_cookie |= timeout.is_some();
            current.view = session;
        }
        Ok(Reply::Refused { reason }) => {
            console_warn!("cfsession-edge: session {}: origin changes not applied ({reason:?})", current.cfid)
        }
        Err(e) => console_warn!("cfsession-edge: session {}: origin changes not applied: {e}", current.cfid),
    }
    current
}

/// Sets the session cookies: on a new session, and on a due refresh of sliding cookies.
fn set_cookies(response: &mut Response, current: &Current, config: &Config, now: UnixMs) -> worker::Result<()> {
    let refresh = config.cookie.expiry == CookieExpiry::Sliding && current.refresh_cookie;
    if !current.new && !refresh {
        return Ok(());
    }
    let idle = current.view.idle_timeout_s;
    let headers = response.headers_mut();
    headers.append("set-cookie", &config.cookie.set(CFID, current.cfid.as_str(), idle, now))?;
    headers.append("set-cookie", &config.cookie.set(CFTOKEN, current.token.expose(), idle, now))?;
    Ok(())
}
