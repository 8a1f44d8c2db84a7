//! What a request did to its session, as a value, and the one function that turns it into the
//! response's cookie and header edits ([`response`], and [`ended`] for the answers the edge
//! writes itself: kills, refused ids). The request flow only finds out what happened; every
//! `Set-Cookie` the edge sends is decided here.

use super::{
    clock::UnixMs,
    config::{Config, SessionMode},
    cookie::{cookie_name, CookieExpiry},
    guard::response::CookieScope,
    headers::Edits,
    ids::{CfToken, Cfid},
    mode,
};

/// The response header that says a session end is not confirmed yet (value `retrying`): the
/// cookies are expired and the end is being retried.
pub const UNCONFIRMED_HEADER: &str = "x-cfsession-end";

/// What became of a live session's cookies. A request can do several things in turn (resume,
/// a new timeout, a rotation, an end); [`Cookies::then`] folds them into the one that counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cookies {
    /// The browser's cookies stay as they are.
    Kept,
    /// The session was touched or given a new timeout: re-set when cookies slide
    /// (`COOKIE_EXPIRY=sliding`).
    Refreshed,
    /// The browser gets new ids: a new session, a rotation, a token re-minted under the
    /// current key.
    Issued,
    /// The session ended (an invalidate, a log-out, a login or rotation that could not be
    /// recorded): its cookies are expired. `confirmed: false`: the object has not confirmed
    /// the end yet; it is being retried and the response says so ([`UNCONFIRMED_HEADER`]).
    Ended { confirmed: bool },
}

impl Cookies {
    /// This, then `later`: an end outlasts everything (an unconfirmed one wins over a
    /// confirmed one), new ids outlast a refresh, a refresh outlasts nothing.
    pub fn then(self, later: Cookies) -> Cookies {
        let rank = |c: Cookies| match c {
            Cookies::Kept => 0,
            Cookies::Refreshed => 1,
            Cookies::Issued => 2,
            Cookies::Ended { confirmed: true } => 3,
            Cookies::Ended { confirmed: false } => 4,
        };
        if rank(later) >= rank(self) {
            later
        } else {
            self
        }
    }
}

/// The ids a session's cookies carry.
#[derive(Debug, Clone, Copy)]
pub struct SessionIds<'a> {
    /// The CFID (guard mode: the guard id).
    pub cfid: &'a Cfid,
    /// The CFTOKEN (guard mode: the binding token).
    pub token: &'a CfToken,
    /// The session's idle timeout (s): the cookies' `Max-Age` when they are persistent.
    pub idle_timeout_s: u64,
    /// The request's time: when cookies set now expire is counted from it.
    pub now: UnixMs,
}

/// How a site request was served, as far as its response's cookies go.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// A path without a session (`SESSION_BYPASS`, a `sessionless` rule): nothing set, and
    /// in guard mode the origin cannot set its session cookies either.
    Bypassed,
    /// A stand-in session: the request carried ids rotated away a moment ago (the browser
    /// already has the new ones), or it is a cross-site request the browser sent without
    /// them. Nothing set; in guard mode the origin's session cookies are dropped.
    StandIn,
    /// No session (guard mode: the origin set no session cookies, or they could not be
    /// bound). The origin's cookies pass.
    Sessionless,
    /// A session: what became of its cookies. `login_refused`: the origin's login was refused
    /// (`MAX_SESSIONS_POLICY=refuse`), and the client gets `409` instead of the origin's
    /// answer; the session lives on without the user.
    Session { ids: SessionIds<'a>, cookies: Cookies, login_refused: bool },
}

/// The response's edits, as [`response`] decides them.
#[derive(Debug, PartialEq, Eq)]
pub struct ResponseEdits {
    /// In order: the origin's `Set-Cookie`s that pass, then the session's cookies (or their
    /// expiry, with its `Cache-Control: no-store`), then [`UNCONFIRMED_HEADER`].
    pub edits: Edits,
    /// `Some(MAX_SESSIONS_PER_USER)`: answer `409` (login refused) with `edits`, not the
    /// origin's response.
    pub login_refused: Option<u32>,
    /// The origin set CFID/CFTOKEN itself in edge mode; they were dropped (worth a warning).
    pub dropped_origin_ids: bool,
}

/// The response's cookie and header edits for a site request served as `outcome`, given the
/// origin's `Set-Cookie`s.
/// - Edge mode drops the origin's own CFID/CFTOKEN (the edge owns them).
/// - Guard mode drops the origin's session cookies on a bypassed path or a stand-in.
/// - The session's cookies are set for new ids, re-set for a refresh when they slide, and
///   expired for an end.
/// - A refused login answers `409` with the session's cookies and none of the origin's.
pub fn response(outcome: &Outcome, origin_set_cookies: Vec<String>, config: &Config) -> ResponseEdits {
    let mut out = ResponseEdits { edits: Edits::default(), login_refused: None, dropped_origin_ids: false };
    let refused = matches!(outcome, Outcome::Session { login_refused: true, .. });
    if refused {
        out.login_refused = Some(config.sessions_per_user.max.unwrap_or(0));
    } else {
        let drop_guarded = matches!(outcome, Outcome::Bypassed | Outcome::StandIn) && config.mode == SessionMode::Guard;
        for set_cookie in origin_set_cookies {
            if !mode::keep_origin_set_cookie(config, &set_cookie) {
                out.dropped_origin_ids = true;
            } else if !(drop_guarded && config.guard.is_guarded(cookie_name(&set_cookie))) {
                out.edits.append("set-cookie", set_cookie);
            }
        }
    }
    if let Outcome::Session { ids, cookies, .. } = outcome {
        let set = match cookies {
            Cookies::Kept => false,
            Cookies::Refreshed => config.cookie.expiry == CookieExpiry::Sliding,
            Cookies::Issued => true,
            Cookies::Ended { confirmed } => {
                add_ended(&mut out.edits, config, &[], *confirmed);
                false
            }
        };
        if set {
            for c in mode::session_cookies(config, ids.cfid, ids.token, ids.idle_timeout_s, ids.now) {
                out.edits.append("set-cookie", c);
            }
        }
    }
    out
}

/// The edits that end a session in the browser, for an answer the edge writes itself (a
/// kill, refused ids): every session cookie expired ([`mode::expiry`]; in guard mode also
/// where the application set its cookies, `scopes`), never cached, and with `confirmed:
/// false` [`UNCONFIRMED_HEADER`].
pub fn ended(config: &Config, scopes: &[CookieScope], confirmed: bool) -> Edits {
    let mut edits = Edits::default();
    add_ended(&mut edits, config, scopes, confirmed);
    edits
}

/// Appends [`ended`]'s edits: every `Set-Cookie` is appended, other headers replace any value
/// already there (an origin's `Cache-Control` becomes `no-store`).
fn add_ended(edits: &mut Edits, config: &Config, scopes: &[CookieScope], confirmed: bool) {
    for (name, value) in mode::expiry(config, scopes) {
        if name == "set-cookie" {
            edits.append(name, value);
        } else {
            edits.set(name, value);
        }
    }
    if !confirmed {
        edits.set(UNCONFIRMED_HEADER, "retrying");
    }
}

#[cfg(test)]
mod tests;
