//! Guard mode after the origin answered: what its `Set-Cookie`s for its credential cookies
//! mean to the guarded session ([`origin_set`] decides).
//! - A request without a guarded session, answered with new credential cookies: a new
//!   session, bound to them (deferred like edge mode: stored when the browser comes back).
//! - A guarded session whose credentials change (`sessionRotate()`, a login, a remember-me
//!   cookie set or dropped): the binding moves to the new set, and the old one is dead.
//! - A guarded session whose session cookie is expired (a logout): the session ends.
//!
//! The origin's `X-Session-*` headers apply as in edge mode.

use super::{
    changes,
    context::Edge,
    current::{CookieAction, Current},
    resume::start,
};
use crate::core::{
    config::Config,
    cookie::cookie_name,
    end_reason::EndReason,
    guard::response::{origin_set, OriginSet},
    protocol::OriginChanges,
};
use crate::edge::platform::log::{self, LogLine};

/// Whether an origin `Set-Cookie` is for one of its guarded session cookies.
pub(super) fn is_guarded(config: &Config, set_cookie: &str) -> bool {
    config.guard.is_guarded(cookie_name(set_cookie))
}

/// Applies the origin's answer to the guarded session (if any). `quiet`: nothing is bound (the
/// request carried a binding rotated away a moment ago, and the browser has the new one; or it
/// is a cross-site request the browser sent without its cookies).
pub(super) async fn after_response(
    edge: &Edge<'_>,
    current: Option<Current>,
    set_cookies: &[String],
    changes: &OriginChanges,
    quiet: bool,
) -> Option<Current> {
    if quiet {
        if changes.changes_session() {
            log::emit(
                LogLine::info("origin.change_refused")
                    .msg("origin changes ignored: the request carried a just-rotated binding or none (cross-site)"),
            );
        }
        return None;
    }
    let held = current.as_ref().map(|c| c.origin.clone()).unwrap_or_default();
    let set = origin_set(&held, set_cookies, &edge.config.guard, edge.now);
    let Some(mut current) = current else {
        return match set {
            OriginSet::Rebind { ids, scopes } => match start(edge, ids, scopes, false).await {
                Ok(new) => Some(changes::apply(edge, new, changes).await),
                Err(e) => {
                    log::emit(LogLine::info("guard.bind_failed").msg(format!("origin session cookies not bound: {e}")));
                    None
                }
            },
            _ => {
                if changes.changes_session() {
                    log::emit(
                        LogLine::info("origin.change_refused")
                            .msg("origin changes ignored: no guarded session on this request"),
                    );
                }
                None
            }
        };
    };
    match set {
        OriginSet::LoggedOut => {
            changes::end_closed(edge, &mut current, EndReason::Invalidated).await;
            Some(current)
        }
        OriginSet::Rebind { ids, scopes } => {
            let mut current = changes::apply(edge, current, changes).await;
            if current.cookies != CookieAction::Expire {
                changes::rotate(edge, &mut current, Some((ids, scopes))).await;
            }
            Some(current)
        }
        OriginSet::Nothing => Some(changes::apply(edge, current, changes).await),
    }
}
