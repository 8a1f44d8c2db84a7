//! The session flow of a site request: find the session the client presents (or start one),
//! forward the request with the session attached, apply the origin's changes (see
//! [`changes`]), and set or expire cookies.

use worker::{console_log, console_warn, Context, Env, Request, Response};

use super::{
    ending::UNCONFIRMED_HEADER,
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
    kill::RequestSite,
    protocol::{parse_origin_changes, Attached},
    query,
    rpc::{BeginRequest, Ids, Reply, SessionView},
    session::{Refusal, SessionRecord},
};

mod changes;

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
    /// An end of this session could not be confirmed yet (the response says so).
    end_unconfirmed: bool,
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

/// What a request handler needs besides the request.
pub struct Edge<'a> {
    pub env: &'a Env,
    pub config: &'a Config,
    pub ctx: &'a Context,
    pub sessions: Sessions,
    pub key: TokenKey,
    pub now: UnixMs,
}

/// Handles a request for the site (anything outside the edge's own paths).
pub async fn handle(req: Request, env: &Env, config: &Config, ctx: &Context) -> Result<Response, EdgeError> {
    let now = now_ms();
    let key = TokenKey::derive(config.signing_key.expose());
    let url = req.url().map_err(EdgeError::internal)?;
    let method = req.inner().method();
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let cookie_header = header("cookie");
    let sessions = Sessions::from_env(env)?;
    let presented = presented(cookie_header.as_deref(), url.query(), config, &key);
    let edge = Edge { env, config, ctx, sessions, key, now };

    if let Some(trigger) = config.kill.trigger(url.path(), url.query()) {
        let (sfs, origin, referer) = (header("sec-fetch-site"), header("origin"), header("referer"));
        let host = forward::ForwardedFor::compute(&url, None, None).host;
        let from = RequestSite {
            sec_fetch_site: sfs.as_deref(),
            origin: origin.as_deref(),
            referer: referer.as_deref(),
            host: &host,
        };
        return kill::respond(&edge, &method, &url, trigger, &from, presented).await;
    }
    let config = edge.config;
    let sessions = &edge.sessions;

    let (resumed, quiet) = match presented {
        Some((cfid, token)) => resume(sessions, cfid, token, config).await?,
        None => (None, false),
    };
    let current = match resumed {
        Some(c) => c,
        None => start(sessions, config, &edge.key, now, quiet).await?,
    };

    // The CFID/CFTOKEN never reach the origin: not in the query string, not in cookies.
    let mut target = forward::target_url(config.origin.as_ref(), &url);
    target.set_query(query::without(url.query().unwrap_or(""), &[CFID, CFTOKEN]).as_deref());
    let hits = config.policy.count_hits.then_some(current.view.hits);
    let attached = Attached::new(current.cfid.as_str(), current.new, hits, &current.view.data);
    let session_headers =
        attached.headers(&config.origin_keys(), now / 1000, &method, target.path(), target.query().unwrap_or(""));
    let cookie = cookie_header.as_deref().and_then(strip_session_cookies);
    let referer = header("referer").and_then(|r| forward::clean_referer(&r));
    let reply = proxy::forward(req, Forward { target, session_headers, cookie, referer }).await?;

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
        changes::apply(&edge, current, &changes).await
    };
    set_cookies(&mut response, &current, config, now).map_err(EdgeError::internal)?;
    if current.end_unconfirmed {
        response.headers_mut().set(UNCONFIRMED_HEADER, "retrying").map_err(EdgeError::internal)?;
    }
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
    let mut cookies = read_session_cookies(cookie_header, config.cookie.host_prefix);
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
            let current =
                Current { cfid, token, view: session, new: false, quiet: false, cookies, end_unconfirmed: false };
            Ok((Some(current), false))
        }
        Reply::Refused { reason } => {
            console_log!("cfsession-edge: session {cfid} not resumed ({reason:?}); starting a new one");
            Ok((None, reason == Refusal::RotatedRecently))
        }
    }
}

/// New ids, from the platform CSPRNG.
pub(super) fn mint(key: &TokenKey, now: UnixMs) -> Result<(Cfid, CfToken), EdgeError> {
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
    Ok(Current { cfid, token, view, new: true, quiet, cookies, end_unconfirmed: false })
}

/// How a deferred (not yet stored) session looks on its first request: a new record, unsaved.
fn unstored_view(config: &Config, now: UnixMs) -> SessionView {
    SessionView::from(&SessionRecord::new(String::new(), now, now, &config.policy))
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
