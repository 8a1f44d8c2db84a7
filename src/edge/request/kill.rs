//! Kill requests (the kill flag or the kill path): end the session server-side at once, then
//! answer with a redirect that expires every session cookie. The origin is not contacted, and
//! no new session cookies are set (a session cannot be destroyed and created in one request).
//!
//! A kill request from another site (`KILL_CROSS_SITE=confirm`, the default) gets a small
//! page with a button instead, and nothing ends until the user presses it. When the object
//! cannot confirm the end, the cookies are expired anyway and the end is retried
//! ([`crate::edge::ending`]); the response carries `x-cfsession-end: retrying`. A kill by a
//! non-navigation request (`fetch()`) is answered `401` with JSON instead of the redirect
//! (`AJAX_ENDS`, see [`crate::core::ajax`]). A kill that found no session to end says so
//! (a page, `X-Session-Ended: none`) instead of redirecting as if it had logged out
//! ([`kill::outcome`]). In guard mode the binding cookie alone finds the session, wherever
//! the application's cookies live (`Path=/app`).

use crate::edge::platform::log::{self, LogLine};
use url::Url;
use worker::Response;

use super::context::RequestContext;
use crate::core::{
    cookie::{CFID, CFTOKEN},
    end_reason::EndReason,
    error::EdgeError,
    headers::Edits,
    kill::{self, confirm_page, no_session_page, same_site_path, KillOutcome, RequestSite, Trigger},
    lifecycle::Ending,
    mode::Identified,
    outcome, query,
    rpc::{EndRequest, Ids},
};
use crate::edge::{ending, respond};

/// Answers a kill request. Idempotent: with no session, or an unknown or ended one, the
/// cookies are still expired and the browser redirected.
pub async fn respond(
    cx: &RequestContext<'_>,
    method: &str,
    url: &Url,
    trigger: Trigger,
    from: &RequestSite<'_>,
    identified: Identified,
) -> Result<Response, EdgeError> {
    let config = cx.config;
    if !config.kill.allows(method) {
        let mut resp = respond::text(405, "cfsession-edge: this method cannot end a session\n")?;
        resp.headers_mut().set("allow", &config.kill.methods.join(", ")).map_err(EdgeError::internal)?;
        return Ok(resp);
    }
    if config.kill.needs_confirmation(from) {
        log::emit(LogLine::info("kill.confirm_asked").msg("cross-site kill request: asking the user to confirm"));
        return confirmation(url, config.kill.allows("POST"));
    }
    // The session: verified ids (guard mode: they carry the application's cookies, for
    // ORIGIN_KILL_URL), or guard mode's binding alone (the object has the cookies).
    let target = match (identified.presented, identified.binding_alone) {
        (Some(p), _) => Some((p.cfid.clone(), p.ids())),
        (None, Some(b)) => Some((b.gid.clone(), Ids::of(&b.gid, &b.token, false))),
        (None, None) => None,
    };
    let mut answer = None;
    if let Some((cfid, ids)) = &target {
        let req =
            EndRequest { cfid: cfid.to_string(), ids: Some(ids.clone()), reason: EndReason::Killed, only_user: None };
        answer = ending::end_or_retry(&cx.sessions, cfid, req, cx.env, config, cx.ctx).await;
    }
    let outcome = kill::outcome(target.is_some(), answer.as_ref());
    let scopes = match &answer {
        Some(Ending::Ended { scopes, .. }) => scopes.as_slice(),
        _ => &[],
    };
    let line = LogLine::info("session.kill").field("outcome", format!("{outcome:?}").to_ascii_lowercase());
    match &target {
        Some((cfid, _)) => log::emit(line.cfid(cfid).msg("kill request")),
        None => log::emit(line.msg("kill request without a session: nothing ended, cookies expired")),
    }
    cx.count(|c| c.kills += 1);
    let ended = outcome::ended(config, scopes, outcome != KillOutcome::Unconfirmed);
    let remaining = query::without(url.query().unwrap_or(""), &[CFID, CFTOKEN]);
    let location = config.kill.location(trigger, url.path(), remaining.as_deref());
    let mut edits = Edits::default();
    let mut resp = match (outcome, cx.ajax_401) {
        // (A fetch() would follow the redirect to an HTML page it cannot show.)
        (KillOutcome::NoSession, true) => respond::session_ended("none", ended)?,
        (_, true) => respond::session_ended("killed", ended)?,
        (KillOutcome::NoSession, false) => {
            edits.set("x-session-ended", "none");
            edits.set("content-type", "text/html; charset=utf-8");
            edits.extend(ended);
            respond::text(200, &no_session_page(&location))?
        }
        (_, false) => {
            edits.set("location", location);
            edits.extend(ended);
            respond::text(302, "cfsession-edge: session ended\n")?
        }
    };
    respond::apply_edits(resp.headers_mut(), &edits).map_err(EdgeError::internal)?;
    Ok(resp)
}

/// The same-site confirmation page for a cross-site kill request (200, never cached, framing
/// refused, no script).
fn confirmation(url: &Url, post: bool) -> Result<Response, EdgeError> {
    let mut action = same_site_path(url.path());
    if let Some(q) = url.query() {
        action.push('?');
        action.push_str(q);
    }
    let page = confirm_page(&action, if post { "POST" } else { "GET" });
    let mut resp = Response::from_html(page).map_err(EdgeError::internal)?;
    let h = resp.headers_mut();
    let set = |k: &str, v: &str| h.set(k, v).map_err(EdgeError::internal);
    set("cache-control", "no-store")?;
    set("content-security-policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")?;
    set("x-frame-options", "DENY")?;
    set("referrer-policy", "same-origin")?;
    Ok(resp)
}
