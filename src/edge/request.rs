//! The flow of a site request, for both modes: find the session the client presents (or start
//! one), forward the request with the session attached, apply the origin's changes (see
//! [`changes`]; guard mode's origin cookies: [`guard`]), each step returning what it did to
//! the session's cookies, and answer with the edits [`crate::core::outcome::response`]
//! decides. What differs between the modes is decided in [`crate::core::mode`].

use crate::edge::platform::log::{self, LogLine};
use std::cell::Cell;

use url::Url;
use worker::{Context, Env};

use super::{
    incoming::Incoming,
    proxy::{self, OriginReply},
    respond,
};
use crate::core::{
    clock::UnixMs,
    config::{Config, SessionMode},
    cookie_header::{self, CookieHeader, Removed},
    cross_site::{withholds_lax_cookies, CrossSiteRequests},
    error::EdgeError,
    forward,
    guard::OriginIds,
    headers::Additions,
    kill::RequestSite,
    mode,
    outcome::{self, Cookies, Outcome},
    protocol::{parse_origin_changes, Attached, FINGERPRINT_HEADER},
    rpc::Refused,
    session_state::Refusal,
};

mod changes;
mod context;
mod current;
mod guard;
mod kill;
mod resume;

use context::RequestContext;
use current::{Current, Served};
use resume::{resume, start, Resumed};

/// Handles a request for the site (anything outside the edge's own paths).
pub async fn handle(req: Incoming, env: &Env, config: &Config, ctx: &Context) -> Result<web_sys::Response, EdgeError> {
    let url = &req.url;
    let cookie_header = cookie_header_of(&req)?;
    let cookie_header = cookie_header.as_ref();
    let path = config.controls.session_policy.normalize(url.path());
    let trigger = config.kill.trigger(&path, url.query());
    let rule = config.controls.session_policy.rule_for(&path);
    if trigger.is_none() && (rule.sessionless || config.bypass.matches(&path)) {
        return bypass(&req, config, cookie_header).await;
    }
    let cx = RequestContext::new(env, config, ctx, &req, &rule)?;
    let now = cx.now;
    let identified = mode::identify(config, cookie_header, url.query(), &cx.key);
    if let Some(why) = identified.ignored {
        cx.count(|c| c.refused += 1);
        log::emit(LogLine::info("session.refused").reason("invalid").msg(format!("ignored {why}")));
        let ended = cx.refused("refused").await?;
        if let (None, Some(resp)) = (&trigger, ended) {
            return Ok(resp.into());
        }
    }

    if let Some(trigger) = trigger {
        let host = request_host(url);
        let from = request_site(&req, &host);
        let resp = kill::respond(&cx, &req.method, url, trigger, &from, identified).await?;
        return Ok(resp.into());
    }

    // `quiet`: nothing this request starts is stored or set in the browser (it carried ids
    // rotated a moment ago, or it is a cross-site request the browser sent without them).
    let (resumed, quiet) = match identified.presented {
        Some(p) => match resume(&cx, p).await? {
            Resumed::Live(current) => (Some(current), false),
            Resumed::Quiet => (None, true),
            Resumed::Refused(reason) => match cx.refused(ended_reason(reason)).await? {
                Some(resp) => return Ok(resp.into()),
                None => (None, false),
            },
        },
        None => (None, withheld_session(config, &req)),
    };
    // Edge mode starts a session now; guard mode when the origin sets its session cookies.
    let served = match (resumed, config.mode) {
        (Some(served), _) => Some(served),
        (None, SessionMode::Edge) => {
            let new = start(&cx, OriginIds::default(), Vec::new(), quiet).await?;
            Some(Served::new(new, Cookies::Issued))
        }
        (None, SessionMode::Guard) => None,
    };

    let current = served.as_ref().map(|s| &s.current);
    let live = current.map(|c| &c.origin);
    let target = origin_target(config, url, live);
    let session = session_headers(config, current, &req.method, &target, now);
    let cookie = forwarded_cookie(config, cookie_header, live);
    let referer = req.header("referer").and_then(forward::clean_referer);
    let reply = proxy::forward(&req, &target, Additions { session, cookie, referer }).await?;

    let served = after_origin(&cx, served, &reply, quiet).await?;
    let outcome = match &served {
        Some(served) => served.outcome(now),
        None if quiet => Outcome::StandIn,
        None => Outcome::Sessionless,
    };
    respond_with(reply, &outcome, config)
}

/// The headers the origin gets about the session: edge mode's signed session headers
/// ([`Attached`]), and `X-Session-Fingerprint` for a fingerprint change at the threshold.
fn session_headers(
    config: &Config,
    current: Option<&Current>,
    method: &str,
    target: &Url,
    now: UnixMs,
) -> Vec<(&'static str, String)> {
    let mut session = match (current, config.mode) {
        (Some(c), SessionMode::Edge) => {
            let hits = config.timing.count_hits.then_some(c.view.hits);
            let attached = Attached::new(c.cfid.as_str(), c.new, hits, &c.view.data);
            let query = target.query().unwrap_or("");
            attached.headers(&config.origin_keys(), now / 1000, method, target.path(), query)
        }
        _ => Vec::new(),
    };
    if let Some(v) = current.and_then(|c| c.fingerprint.as_ref()) {
        session.push((FINGERPRINT_HEADER, v.header_value()));
    }
    session
}

/// Applies the origin's answer to the session (`X-Session-*`; in guard mode also its session
/// cookies): the session afterwards, or `None` without one. A stand-in (`quiet`) takes no
/// changes.
async fn after_origin(
    cx: &RequestContext<'_>,
    served: Option<Served>,
    reply: &OriginReply,
    quiet: bool,
) -> Result<Option<Served>, EdgeError> {
    let changes = parse_origin_changes(reply.set.as_deref(), reply.action.as_deref(), reply.user.as_deref());
    for problem in &changes.problems {
        log::emit(LogLine::warn("origin.change_refused").msg(problem.to_string()));
    }
    Ok(match cx.config.mode {
        SessionMode::Edge => {
            let mut served = served.ok_or_else(|| EdgeError::internal("edge mode without a session"))?;
            if quiet {
                if changes.changes_session() {
                    log::emit(
                        LogLine::warn("origin.change_refused")
                            .msg("origin changes ignored: a stand-in session (just-rotated ids, or cross-site)"),
                    );
                }
                None
            } else {
                let applied = changes::apply(cx, &mut served.current, &changes).await;
                served.absorb(applied);
                Some(served)
            }
        }
        SessionMode::Guard => guard::after_response(cx, served, &reply.set_cookies, &changes, quiet).await,
    })
}

/// The client's response: the origin's `reply` with the edits [`outcome::response`] decides
/// for `outcome`, or `409` for a refused login.
fn respond_with(mut reply: OriginReply, outcome: &Outcome, config: &Config) -> Result<web_sys::Response, EdgeError> {
    let decided = outcome::response(outcome, std::mem::take(&mut reply.set_cookies), config);
    if decided.dropped_origin_ids {
        warn_origin_cookies_once();
    }
    if let Some(max) = decided.login_refused {
        return Ok(respond::too_many_sessions(max, &decided.edits)?.into());
    }
    reply.edits.extend(decided.edits);
    reply.into_response()
}

/// The `reason` of the `401` a non-navigation request gets when its session was refused.
fn ended_reason(refused: Refused) -> &'static str {
    match refused {
        Refused::Ids(Refusal::Expired | Refusal::Unknown) => "expired",
        Refused::Ids(Refusal::Ended) => "ended",
        Refused::Ids(Refusal::Fingerprint) => "fingerprint",
        Refused::Ids(Refusal::Mismatch | Refusal::RotatedRecently) | Refused::Declined(_) => "refused",
    }
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
async fn bypass(
    req: &Incoming,
    config: &Config,
    cookie_header: Option<&CookieHeader<'_>>,
) -> Result<web_sys::Response, EdgeError> {
    let target = origin_target(config, &req.url, None);
    let cookie = forwarded_cookie(config, cookie_header, None);
    let referer = req.header("referer").and_then(forward::clean_referer);
    let additions = Additions { session: Vec::new(), cookie, referer };
    let reply = proxy::forward(req, &target, additions).await?;
    respond_with(reply, &Outcome::Bypassed, config)
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

/// The request's `Cookie` header (the platform joins several with `, `), parsed once; `431`
/// past [`cookie_header::MAX_COOKIE_BYTES`], before any parse.
fn cookie_header_of(req: &Incoming) -> Result<Option<CookieHeader<'_>>, EdgeError> {
    let text = req.header("cookie");
    cookie_header::check_size(text.map_or(0, str::len)).map_err(|_| EdgeError::CookiesTooLarge)?;
    Ok(text.map(CookieHeader::new))
}

/// The `Cookie` header for the origin ([`mode::forward_cookie`]), with a log line when it
/// removed a pair a server may read as a session cookie other than as the plain, expected
/// name (another spelling, smuggled inside a pair, a copy). Names the reasons, never a value.
fn forwarded_cookie(config: &Config, header: Option<&CookieHeader>, live: Option<&OriginIds>) -> Option<String> {
    let rebuilt = mode::forward_cookie(config, header, live);
    let notable: Vec<&str> = rebuilt.removed.iter().filter(|r| **r != Removed::Session).map(|r| r.as_str()).collect();
    if !notable.is_empty() {
        log::emit(
            LogLine::warn("cookie.removed")
                .reason(notable.join(","))
                .msg("pairs some origin server may read as a session cookie were removed before forwarding"),
        );
    }
    rebuilt.header
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
