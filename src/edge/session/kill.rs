//! Kill requests (the kill flag or the kill path): end the session server-side at once, then
//! answer with a redirect that expires every session cookie. The origin is not contacted, and
//! no new session cookies are set (a session cannot be destroyed and created in one request).
//!
//! A kill request from another site (`KILL_CROSS_SITE=confirm`, the default) gets a small
//! page with a button instead, and nothing ends until the user presses it. When the object
//! cannot confirm the end, the cookies are expired anyway and the end is retried
//! ([`crate::edge::ending`]); the response carries `x-cfsession-end: retrying`. A kill by a
//! non-navigation request (`fetch()`) is answered `401` with JSON instead of the redirect
//! (`AJAX_ENDS`, see [`crate::core::ajax`]).

use crate::edge::platform::log::{self, LogLine};
use url::Url;
use worker::Response;

use super::context::Edge;
use crate::core::{
    cookie::{CFID, CFTOKEN},
    end_reason::EndReason,
    error::EdgeError,
    headers::Edits,
    kill::{confirm_page, same_site_path, RequestSite, Trigger},
    mode::{self, VerifiedIds},
    query,
    rpc::EndRequest,
};
use crate::edge::{
    ending::{self, UNCONFIRMED_HEADER},
    respond,
};

/// Answers a kill request. Idempotent: with no session, or an unknown or ended one, the
/// cookies are still expired and the browser redirected.
pub async fn respond(
    edge: &Edge<'_>,
    method: &str,
    url: &Url,
    trigger: Trigger,
    from: &RequestSite<'_>,
    presented: Option<VerifiedIds>,
) -> Result<Response, EdgeError> {
    let config = edge.config;
    if !config.kill.allows(method) {
        let mut resp = respond::text(405, "cfsession-edge: this method cannot end a session\n")?;
        resp.headers_mut().set("allow", &config.kill.methods.join(", ")).map_err(EdgeError::internal)?;
        return Ok(resp);
    }
    if config.kill.needs_confirmation(from) {
        log::emit(LogLine::info("kill.confirm_asked").msg("cross-site kill request: asking the user to confirm"));
        return confirmation(url, config.kill.allows("POST"));
    }
    let mut confirmed = true;
    if let Some(p) = presented {
        // (Guard mode: the ids carry the origin's cookies, for ORIGIN_KILL_URL.)
        let req =
            EndRequest { cfid: p.cfid.to_string(), ids: Some(p.ids()), reason: EndReason::Killed, only_user: None };
        confirmed = ending::end_or_retry(&edge.sessions, &p.cfid, req, edge.env, config, edge.ctx).await?;
        log::emit(LogLine::info("session.kill").cfid(&p.cfid).field("confirmed", confirmed).msg("kill request"));
    } else {
        log::emit(LogLine::info("session.kill").msg("kill request without a session: cookies expired"));
    }
    edge.count(|c| c.kills += 1);
    if edge.ajax_401 {
        // (A fetch() would follow the redirect to an HTML page it cannot show.)
        let mut resp = respond::session_ended("killed", mode::expiry(config))?;
        if !confirmed {
            resp.headers_mut().set(UNCONFIRMED_HEADER, "retrying").map_err(EdgeError::internal)?;
        }
        return Ok(resp);
    }
    let remaining = query::without(url.query().unwrap_or(""), &[CFID, CFTOKEN]);
    let location = config.kill.location(trigger, url.path(), remaining.as_deref());
    let mut resp = respond::text(302, "cfsession-edge: session ended\n")?;
    let mut edits = Edits::default();
    edits.set("location", location);
    if !confirmed {
        edits.set(UNCONFIRMED_HEADER, "retrying");
    }
    respond::add_expiry(&mut edits, mode::expiry(config));
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
