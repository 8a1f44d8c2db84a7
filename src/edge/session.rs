//! The session flow of a site request: find the session the client presents (or start one),
//! forward the request with the session attached, apply the origin's changes (including
//! `invalidate` and `rotate`), and set or expire cookies.

use worker::{console_error, console_log, console_warn, Env, Request, Response};

use super::{
    kill,
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
    lifecycle::EndReason,
    protocol::{parse_origin_changes, Action, Attached, OriginChanges},
    query,
    rpc::{
        AdoptRequest, BeginRequest, EndRequest, Ids, Reply, RotateOutReply, RotateOutRequest, SessionView,
        UpdateRequest,
    },
    session::{Refusal, SessionRecord},
};

/// What this response does to the session cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CookieAction {
    /// Nothing.
    Keep,
    /// Set CFID and CFTOKEN: a new session, or new ids after a rotation.
    SetNew,
    /// Re-set them if the cookies slide (a touch or a new timeout).
    Refresh,
    /// Expire them: the session was invalidated.
    Expire,
}

/// The session attached to this request.
struct Current {
    cfid: Cfid,
    token: CfToken,
    view: SessionView,
    /// Started on this request.
    new: bool,
    /// A stand-in for a request that still carried just-rotated ids: never stored, and the
    /// response sets no cookies (the browser already has the new ones).
    quiet: bool,
    cookies: CookieAction,
}

impl Current {
    fn ids(&self) -> Ids {
        Ids {
            cfid: self.cfid.to_string(),
            token_fp: self.token.fingerprint(),
            issued_at: self.token.issued_at(),
            fresh: self.new,
        }
    }
}

/// Handles a request for the site (anything outside the edge's own paths).
pub async fn handle(req: Request, env: &Env, config: &Config) -> Result<Response, EdgeError> {
    let now = now_ms();
    let key = TokenKey::derive(config.signing_key.expose());
    let url = req.url().map_err(EdgeError::internal)?;
    let method = req.inner().method();
    let cookie_header = req.headers().get("cookie").ok().flatten();
    let sessions = Sessions::from_env(env)?;
    let presented = presented(cookie_header.as_deref(), url.query(), config, &key);

    if let Some(trigger) = config.kill.trigger(url.path(), url.query()) {
        return kill::respond(&method, &url, trigger, presented, &sessions, config).await;
    }

    let (resumed, quiet) = match presented {
        Some((cfid, token)) => resume(&sessions, cfid, token, config).await?,
        None => (None, false),
    };
    let current = match resumed {
        Some(c) => c,
        None => start(&sessions, config, &key, now, quiet).await?,
    };

    // The CFID/CFTOKEN never reach the origin: not in the query string, not in cookies.
    let mut target = forward::target_url(config.origin.as_ref(), &url);
    target.set_query(query::without(url.query().unwrap_or(""), &[CFID, CFTOKEN]).as_deref());
    let hits = config.policy.count_hits.then_some(current.view.hits);
    let attached = Attached::new(current.cfid.as_str(), current.new, hits, &current.view.data);
    let session_headers =
        attached.headers(config.signing_key.expose(), now / 1000, &method, target.path(), target.query().unwrap_or(""));
    let cookie = cookie_header.as_deref().and_then(strip_session_cookies);
    let reply = proxy::forward(req, Forward { target, session_headers, cookie }).await?;

    let changes = parse_origin_changes(reply.set.as_deref(), reply.action.as_deref(), reply.user.as_deref());
    for problem in &changes.problems {
        console_warn!("cfsession-edge: session {}: {problem}", current.cfid);
    }
    let mut response = reply.response;
    let current = if current.quiet {
        if changes.changes_session() {
            console_warn!("cfsession-edge: origin changes ignored: the request carried just-rotated ids");
        }
        current
    } else {
        apply_changes(&sessions, current, &changes, config, &key, now).await
    };
    set_cookies(&mut response, &current, config, now).map_err(EdgeError::internal)?;
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

/// The live session for a verified pair, or `None` when its object refuses it (then `true`
/// when the ids were rotated a moment ago: see [`Current::quiet`]).
async fn resume(
    sessions: &Sessions,
    cfid: Cfid,
    token: CfToken,
    config: &Config,
) -> Result<(Option<Current>, bool), EdgeError> {
    let ids = Ids { cfid: cfid.to_string(), token_fp: token.fingerprint(), issued_at: token.issued_at(), fresh: false };
    match sessions.begin(&cfid, &BeginRequest { ids, policy: config.policy }).await? {
        Reply::Active { session, refresh_cookie, .. } => {
            let cookies = if refresh_cookie { CookieAction::Refresh } else { CookieAction::Keep };
            Ok((Some(Current { cfid, token, view: session, new: false, quiet: false, cookies }), false))
        }
        Reply::Refused { reason } => {
            console_log!("cfsession-edge: session {cfid} not resumed ({reason:?}); starting a new one");
            Ok((None, reason == Refusal::RotatedRecently))
        }
    }
}

/// New ids, from the platform CSPRNG.
fn mint(key: &TokenKey, now: UnixMs) -> Result<(Cfid, CfToken), EdgeError> {
    let mut rng = PlatformRandom;
    let no_random = |_| EdgeError::Internal("no randomness for session ids".into());
    let cfid = Cfid::generate(&mut rng).map_err(no_random)?;
    let token = CfToken::mint(&cfid, key, now, &mut rng).map_err(no_random)?;
    Ok((cfid, token))
}

/// A brand-new session. Stored at once only when deferral is off (and never when `quiet`).
async fn start(
    sessions: &Sessions,
    config: &Config,
    key: &TokenKey,
    now: UnixMs,
    quiet: bool,
) -> Result<Current, EdgeError> {
    let (cfid, token) = mint(key, now)?;
    let view = if config.defer || quiet {
        unstored_view(config, now)
    } else {
        let ids = Ids { cfid: cfid.to_string(), token_fp: token.fingerprint(), issued_at: now, fresh: true };
        match sessions.begin(&cfid, &BeginRequest { ids, policy: config.policy }).await? {
            Reply::Active { session, .. } => session,
            Reply::Refused { reason } => return Err(EdgeError::Internal(format!("new session refused: {reason:?}"))),
        }
    };
    let cookies = if quiet { CookieAction::Keep } else { CookieAction::SetNew };
    Ok(Current { cfid, token, view, new: true, quiet, cookies })
}

/// How a deferred (not yet stored) session looks on its first request: a new record, unsaved.
fn unstored_view(config: &Config, now: UnixMs) -> SessionView {
    SessionView::from(&SessionRecord::new(String::new(), now, now, &config.policy))
}

/// Applies the origin's changes: `invalidate` ends the session (and nothing else applies);
/// otherwise data, user and timeout are updated, then `rotate` moves the session to new ids.
/// Failures are logged: the origin's response is delivered whatever happens here.
async fn apply_changes(
    sessions: &Sessions,
    mut current: Current,
    changes: &OriginChanges,
    config: &Config,
    key: &TokenKey,
    now: UnixMs,
) -> Current {
    if changes.has(Action::Invalidate) {
        let req =
            EndRequest { cfid: current.cfid.to_string(), ids: Some(current.ids()), reason: EndReason::Invalidated };
        match sessions.end(&current.cfid, &req).await {
            Ok(_) => current.cookies = CookieAction::Expire,
            Err(e) => console_error!("cfsession-edge: session {}: invalidate failed: {e}", current.cfid),
        }
        return current;
    }
    let timeout = changes.timeout();
    if changes.set.is_some() || changes.user.is_some() || timeout.is_some() {
        current = update(sessions, current, changes, timeout, config).await;
    }
    if changes.has(Action::Rotate) {
        current = rotate(sessions, current, config, key, now).await;
    }
    current
}

async fn update(
    sessions: &Sessions,
    mut current: Current,
    changes: &OriginChanges,
    timeout: Option<u64>,
    config: &Config,
) -> Current {
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
            if timeout.is_some() && current.cookies == CookieAction::Keep {
                current.cookies = CookieAction::Refresh;
            }
            current.view = session;
        }
        Ok(Reply::Refused { reason }) => {
            console_warn!("cfsession-edge: session {}: origin changes not applied ({reason:?})", current.cfid)
        }
        Err(e) => console_warn!("cfsession-edge: session {}: origin changes not applied: {e}", current.cfid),
    }
    current
}

/// ColdFusion's `sessionRotate()`: the session moves to new ids; the old pair is dead at once.
async fn rotate(sessions: &Sessions, mut current: Current, config: &Config, key: &TokenKey, now: UnixMs) -> Current {
    let old = current.cfid.clone();
    let out = RotateOutRequest { ids: current.ids(), policy: config.policy };
    let record = match sessions.rotate_out(&old, &out).await {
        Ok(RotateOutReply::Moved { record }) => record,
        Ok(RotateOutReply::Refused { reason }) => {
            console_warn!("cfsession-edge: session {old}: rotate refused ({reason:?})");
            return current;
        }
        Err(e) => {
            console_error!("cfsession-edge: session {old}: rotate failed: {e}");
            return current;
        }
    };
    let minted = mint(key, now);
    let adopted = match minted {
        Ok((cfid, token)) => {
            let ids = Ids { cfid: cfid.to_string(), token_fp: token.fingerprint(), issued_at: now, fresh: true };
            match sessions.adopt(&cfid, &AdoptRequest { ids, record }).await {
                Ok(Reply::Active { session, .. }) => Some((cfid, token, session)),
                Ok(Reply::Refused { reason }) => {
                    console_error!("cfsession-edge: session {old}: rotate could not store the new ids ({reason:?})");
                    None
                }
                Err(e) => {
                    console_error!("cfsession-edge: session {old}: rotate could not store the new ids: {e}");
                    None
                }
            }
        }
        Err(e) => {
            console_error!("cfsession-edge: session {old}: rotate: {e}");
            None
        }
    };
    match adopted {
        Some((cfid, token, view)) => {
            console_log!("cfsession-edge: session {old} rotated to {cfid}");
            current.cfid = cfid;
            current.token = token;
            current.view = view;
            current.new = false;
            current.cookies = CookieAction::SetNew;
        }
        // The old ids are already dead: fail closed, the browser forgets them.
        None => current.cookies = CookieAction::Expire,
    }
    current
}

/// Sets, refreshes or expires the session cookies as the request's outcome says.
fn set_cookies(response: &mut Response, current: &Current, config: &Config, now: UnixMs) -> worker::Result<()> {
    let headers = response.headers_mut();
    let set = match current.cookies {
        CookieAction::Keep => false,
        CookieAction::SetNew => true,
        CookieAction::Refresh => config.cookie.expiry == CookieExpiry::Sliding,
        CookieAction::Expire => {
            super::respond::apply_expiry(headers, &config.kill.expiry_headers(&config.cookie))?;
            false
        }
    };
    if set {
        let idle = current.view.idle_timeout_s;
        headers.append("set-cookie", &config.cookie.set(CFID, current.cfid.as_str(), idle, now))?;
        headers.append("set-cookie", &config.cookie.set(CFTOKEN, current.token.expose(), idle, now))?;
    }
    Ok(())
}
