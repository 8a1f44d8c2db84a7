//! The session flow of a site request, for both modes: find the session the client presents
//! (or start one), forward the request with the session attached, apply the origin's changes
//! (see [`changes`]; guard mode's origin cookies: [`guard`]), and set or expire cookies. What
//! differs between the modes is decided in [`crate::core::mode`].

use crate::edge::log::{self, LogLine};
use std::cell::Cell;

use url::Url;
use worker::{Context, Env};

use super::{
    ending::UNCONFIRMED_HEADER,
    incoming::Incoming,
    kill,
    platform::{now_ms, PlatformRandom},
    proxy::{self, OriginReply},
    respond, stats,
    store::Sessions,
};
use crate::core::{
    clock::UnixMs,
    config::{Config, SessionMode},
    cookie::CookieExpiry,
    cookie_header::Removed,
    cross_site::{withholds_lax_cookies, CrossSiteRequests},
    error::EdgeError,
    forward,
    guard::{Binding, OriginIds},
    headers::{Additions, Edits},
    ids::{CfToken, Cfid, TokenKey},
    kill::RequestSite,
    mode::{self, Presented},
    protocol::{parse_origin_changes, Attached},
    rpc::{BeginRequest, Ids, Reply, SessionView},
    session::{ClientHints, Policy, Refusal, SessionRecord},
    stats::Counts,
};

mod changes;
mod guard;

/// What this response does to the session cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CookieAction {
    /// Nothing.
    Keep,
    /// Set the session's cookies: a new session, or new ids after a rotation.
    SetNew,
    /// Re-set them if the cookies slide (a touch or a new timeout).
    Refresh,
    /// Expire them: the session was invalidated.
    Expire,
}

/// The session attached to this request.
struct Current {
    /// The CFID (guard mode: the guard id).
    cfid: Cfid,
    /// The CFTOKEN (guard mode: the binding token).
    token: CfToken,
    /// Guard mode: the origin's session cookies it is bound to (empty in edge mode).
    origin: OriginIds,
    view: SessionView,
    /// Started on this request.
    new: bool,
    /// A stand-in for a request that still carried just-rotated ids (the browser already has
    /// the new ones) or none because it is cross-site: never stored, and the response sets no
    /// cookies.
    quiet: bool,
    cookies: CookieAction,
    /// An end of this session could not be confirmed yet (the response says so).
    end_unconfirmed: bool,
}

impl Current {
    fn ids(&self) -> Ids {
        Ids::of(&self.cfid, &self.token, self.new).bound(self.origin.clone())
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
    /// The session policy for this request: the configuration's, with the idle timeout its
    /// path sets (`SESSION_POLICY`).
    pub policy: Policy,
}

impl Edge<'_> {
    /// Whether a session started on this request is stored at once: with deferral off, and on
    /// a path that sets its own timeout (a deferred session could otherwise be claimed within
    /// `SESSION_TIMEOUT` instead of the path's timeout).
    fn stores_new_sessions(&self) -> bool {
        !self.config.defer || self.policy.path_timeout_s.is_some()
    }

    /// Counts an event for the dashboard's history (sent after the response, see [`stats`]).
    pub fn count(&self, event: impl FnOnce(&mut Counts)) {
        if let Some(flush) = stats::count(self.env, event) {
            self.ctx.wait_until(flush);
        }
    }
}

/// Handles a request for the site (anything outside the edge's own paths).
pub async fn handle(req: Incoming, env: &Env, config: &Config, ctx: &Context) -> Result<web_sys::Response, EdgeError> {
    let url = &req.url;
    let cookie_header = req.header("cookie");
    let trigger = config.kill.trigger(url.path(), url.query());
    if trigger.is_none() && config.bypass.matches(url.path()) {
        return bypass(&req, config).await;
    }
    let now = now_ms();
    let key = config.token_key.clone();
    let policy = config.policy.for_path(config.path_timeouts.timeout_for(url.path()));
    let edge = Edge { env, config, ctx, sessions: Sessions::from_env(env)?, key, now, policy };
    // Read only when a session is about to be stored (once per session).
    let client = || ClientHints::new(req.header("user-agent"), req.country().as_deref()).unwrap_or_default();
    let identified = mode::identify(config, cookie_header, url.query(), &edge.key);
    if let Some(why) = identified.ignored {
        edge.count(|c| c.refused += 1);
        log::emit(LogLine::info("session.refused").reason("invalid").msg(format!("ignored {why}")));
    }

    if let Some(trigger) = trigger {
        let host = request_host(url);
        let from = request_site(&req, &host);
        let resp = kill::respond(&edge, &req.method, url, trigger, &from, identified.presented).await?;
        return Ok(resp.into());
    }

    // `quiet`: nothing this request starts is stored or set in the browser (it carried ids
    // rotated a moment ago, or it is a cross-site request the browser sent without them).
    let (resumed, quiet) = match identified.presented {
        Some(p) => resume(&edge, p, &client).await?,
        None => (None, withheld_session(config, &req)),
    };
    // Edge mode starts a session now; guard mode when the origin sets its session cookies.
    let current = match (resumed, config.mode) {
        (Some(c), _) => Some(c),
        (None, SessionMode::Edge) => {
            let stores = !quiet && edge.stores_new_sessions();
            Some(start(&edge, OriginIds::default(), quiet, stores.then(client)).await?)
        }
        (None, SessionMode::Guard) => None,
    };

    let live = current.as_ref().map(|c| &c.origin);
    let target = origin_target(config, url, live);
    let session = match (&current, config.mode) {
        (Some(c), SessionMode::Edge) => {
            let hits = config.policy.count_hits.then_some(c.view.hits);
            let attached = Attached::new(c.cfid.as_str(), c.new, hits, &c.view.data);
            attached.headers(
                &config.origin_keys(),
                now / 1000,
                &req.method,
                target.path(),
                target.query().unwrap_or(""),
            )
        }
        _ => Vec::new(),
    };
    let cookie = forwarded_cookie(config, cookie_header, live);
    let referer = req.header("referer").and_then(forward::clean_referer);
    let mut reply = proxy::forward(&req, &target, Additions { session, cookie, referer }).await?;

    let changes = parse_origin_changes(reply.set.as_deref(), reply.action.as_deref(), reply.user.as_deref());
    for problem in &changes.problems {
        log::emit(LogLine::warn("origin.change_refused").msg(problem.to_string()));
    }
    let current = match config.mode {
        SessionMode::Edge => {
            let current = current.ok_or_else(|| EdgeError::internal("edge mode without a session"))?;
            Some(if current.quiet {
                if changes.changes_session() {
                    log::emit(
                        LogLine::warn("origin.change_refused")
                            .msg("origin changes ignored: a stand-in session (just-rotated ids, or cross-site)"),
                    );
                }
                current
            } else {
                changes::apply(&edge, current, &changes).await
            })
        }
        SessionMode::Guard => guard::after_response(&edge, current, &reply.set_cookies, &changes, quiet).await,
    };
    // (Guard mode, quiet: the browser holds the rotated session's cookies, or its own.)
    pass_origin_cookies(&mut reply, config, quiet);
    if let Some(current) = &current {
        set_cookies(&mut reply.edits, current, config, now);
        if current.end_unconfirmed {
            reply.edits.set(UNCONFIRMED_HEADER, "retrying");
        }
    }
    reply.into_response()
}

/// Whether this request is served without a session of its own because the browser withheld
/// its session cookies from it (`CROSS_SITE_REQUESTS=sessionless`, see
/// [`crate::core::cross_site`]). Logged, since the origin sees a fresh session.
fn withheld_session(config: &Config, req: &Incoming) -> bool {
    let withheld = config.cross_site == CrossSiteRequests::Sessionless && {
        let host = request_host(&req.url);
        withholds_lax_cookies(&req.method, req.header("sec-fetch-mode"), &request_site(req, &host))
    };
    if withheld {
        log::emit(LogLine::info("session.cross_site").msg(
            "a cross-site request without the session cookies: served without a session of its own \
             (CROSS_SITE_REQUESTS=sessionless)",
        ));
    }
    withheld
}

/// The host (and port) the client asked for, as the site checks compare it.
fn request_host(url: &Url) -> String {
    forward::ForwardedFor::compute(url, None, None).host
}

/// What the request says about where it came from (read only for kills and for requests that
/// present no session).
fn request_site<'a>(req: &'a Incoming, host: &'a str) -> RequestSite<'a> {
    RequestSite {
        sec_fetch_site: req.header("sec-fetch-site"),
        origin: req.header("origin"),
        referer: req.header("referer"),
        host,
    }
}

/// A request for a path without a session (`SESSION_BYPASS`): no object call, no session
/// headers, no cookies set; the session's cookies are still removed before forwarding, and the
/// origin's answer cannot change them.
async fn bypass(req: &Incoming, config: &Config) -> Result<web_sys::Response, EdgeError> {
    let target = origin_target(config, &req.url, None);
    let cookie = forwarded_cookie(config, req.header("cookie"), None);
    let referer = req.header("referer").and_then(forward::clean_referer);
    let mut reply = proxy::forward(req, &target, Additions { session: Vec::new(), cookie, referer }).await?;
    pass_origin_cookies(&mut reply, config, true);
    reply.into_response()
}

/// The origin's URL for this request: without the session ids in its query and path
/// parameters that the origin must not see ([`mode::forward_query`], [`mode::forward_path`]).
fn origin_target(config: &Config, url: &Url, live: Option<&OriginIds>) -> Url {
    let mut target = forward::target_url(config.origin.as_ref(), url);
    target.set_query(mode::forward_query(config, url.query(), live).as_deref());
    if let Some(path) = mode::forward_path(config, target.path(), live) {
        target.set_path(&path);
    }
    target
}

/// The `Cookie` header for the origin ([`mode::forward_cookie`]), with a log line when it
/// removed a session cookie some server would have read though the edge's own reading hid it
/// (smuggled) or a copy of a forwarded one. Names the reasons, never a value.
fn forwarded_cookie(config: &Config, header: Option<&str>, live: Option<&OriginIds>) -> Option<String> {
    let rebuilt = mode::forward_cookie(config, header, live);
    let notable: Vec<&str> = rebuilt.removed.iter().filter(|r| **r != Removed::Session).map(|r| r.as_str()).collect();
    if !notable.is_empty() {
        log::emit(
            LogLine::warn("cookie.removed")
                .reason(notable.join(","))
                .msg("session cookies some origin server would read were removed before forwarding"),
        );
    }
    rebuilt.header
}

/// Appends the origin's `Set-Cookie`s the browser may have. Edge mode drops the origin's own
/// CFID/CFTOKEN (with a log line); in guard mode, `drop_guarded` drops those for its session
/// cookies (an asset's answer, or one to a request that carried a just-rotated binding).
fn pass_origin_cookies(reply: &mut OriginReply, config: &Config, drop_guarded: bool) {
    for sc in std::mem::take(&mut reply.set_cookies) {
        if !mode::keep_origin_set_cookie(config, &sc) {
            warn_origin_cookies_once();
        } else if !(drop_guarded && config.mode == SessionMode::Guard && guard::is_guarded(config, &sc)) {
            reply.edits.append("set-cookie", sc);
        }
    }
}

thread_local! {
    static WARNED_ORIGIN_COOKIES: Cell<bool> = const { Cell::new(false) };
}

/// One log line per isolate when the origin sets session cookies the edge drops (edge mode).
fn warn_origin_cookies_once() {
    if !WARNED_ORIGIN_COOKIES.with(|w| w.replace(true)) {
        log::emit(LogLine::warn("origin.cookies_dropped").msg(
            "the origin sets its own CFID/CFTOKEN cookies; they are dropped (the edge owns the \
             session). Fix the origin: this.setClientCookies = false or this.sessionManagement = false in \
             Application.cfc, or put the edge in guard mode (SESSION_MODE=guard) to keep the origin's sessions.",
        ));
    }
}

/// The live session for verified ids, or `None` when its object refuses them (then `true`
/// when the ids were rotated a moment ago: see [`Current::quiet`]).
/// A deferred session's claim costs one more object call: the object asks for the client's
/// hints (`NeedsClient`), which are then read and sent; other requests never read them.
async fn resume(
    edge: &Edge<'_>,
    p: Presented,
    client: &dyn Fn() -> ClientHints,
) -> Result<(Option<Current>, bool), EdgeError> {
    let ids = Ids::of(&p.cfid, &p.token, false).bound(p.origin.clone());
    let mut begin = BeginRequest { ids, policy: edge.policy, client: None };
    let mut reply = edge.sessions.begin(&p.cfid, &begin).await?;
    if matches!(reply, Reply::Refused { reason: Refusal::NeedsClient }) {
        begin.client = Some(client());
        reply = edge.sessions.begin(&p.cfid, &begin).await?;
    }
    match reply {
        Reply::Active { session, refresh_cookie, .. } => {
            let cookies = if refresh_cookie { CookieAction::Refresh } else { CookieAction::Keep };
            let Presented { cfid, token, origin } = p;
            let current = Current {
                cfid,
                token,
                origin,
                view: session,
                new: false,
                quiet: false,
                cookies,
                end_unconfirmed: false,
            };
            Ok((Some(current), false))
        }
        Reply::Refused { reason } => {
            if reason != Refusal::RotatedRecently {
                edge.count(|c| c.refused += 1);
            }
            log::emit(
                LogLine::info("session.refused")
                    .cfid(&p.cfid)
                    .reason(reason.as_str())
                    .msg(format!("session {} not resumed ({reason:?})", p.cfid)),
            );
            Ok((None, reason == Refusal::RotatedRecently))
        }
    }
}

/// New ids from the platform CSPRNG: a CFID and CFTOKEN, or (for `origin` cookies, guard
/// mode) a guard id and a binding token over them.
pub(super) fn mint(key: &TokenKey, origin: &OriginIds, now: UnixMs) -> Result<(Cfid, CfToken), EdgeError> {
    let mut rng = PlatformRandom;
    let no_random = |_| EdgeError::Internal("no randomness for session ids".into());
    if origin.is_empty() {
        let cfid = Cfid::generate(&mut rng).map_err(no_random)?;
        let token = CfToken::mint(&cfid, key, now, &mut rng).map_err(no_random)?;
        Ok((cfid, token))
    } else {
        let b = Binding::mint(origin, key, now, &mut rng).map_err(no_random)?;
        Ok((b.gid, b.token))
    }
}

/// A brand-new session (guard mode: bound to `origin`). Stored at once only when
/// [`Edge::stores_new_sessions`] (and never when `quiet`).
/// `client`: the client's hints, for a session stored at once.
async fn start(
    edge: &Edge<'_>,
    origin: OriginIds,
    quiet: bool,
    client: Option<ClientHints>,
) -> Result<Current, EdgeError> {
    let (config, now) = (edge.config, edge.now);
    let (cfid, token) = mint(&edge.key, &origin, now)?;
    let view = if quiet || !edge.stores_new_sessions() {
        unstored_view(config, now)
    } else {
        let ids = Ids::of(&cfid, &token, true).bound(origin.clone());
        match edge.sessions.begin(&cfid, &BeginRequest { ids, policy: edge.policy, client }).await? {
            Reply::Active { session, .. } => session,
            Reply::Refused { reason } => return Err(EdgeError::Internal(format!("new session refused: {reason:?}"))),
        }
    };
    let cookies = if quiet { CookieAction::Keep } else { CookieAction::SetNew };
    Ok(Current { cfid, token, origin, view, new: true, quiet, cookies, end_unconfirmed: false })
}

/// How a deferred (not yet stored) session looks on its first request: a new record, unsaved.
fn unstored_view(config: &Config, now: UnixMs) -> SessionView {
    SessionView::from(&SessionRecord::new(String::new(), now, now, &config.policy))
}

/// Sets, refreshes or expires the session cookies as the request's outcome says.
fn set_cookies(headers: &mut Edits, current: &Current, config: &Config, now: UnixMs) {
    let set = match current.cookies {
        CookieAction::Keep => false,
        CookieAction::SetNew => true,
        CookieAction::Refresh => config.cookie.expiry == CookieExpiry::Sliding,
        CookieAction::Expire => {
            respond::add_expiry(headers, mode::expiry(config));
            false
        }
    };
    if set {
        for c in mode::session_cookies(config, &current.cfid, &current.token, current.view.idle_timeout_s, now) {
            headers.append("set-cookie", c);
        }
    }
}
