//! Guard mode after the origin answered: what its `Set-Cookie`s for its credential cookies
//! mean to the guarded session ([`origin_set`] decides).
//! - A request without a guarded session, answered with new credential cookies: a new
//!   session, bound to them (deferred like edge mode: stored when the browser comes back).
//! - A guarded session whose credentials change (`sessionRotate()`, a login, a remember-me
//!   cookie set or dropped): the binding moves to the new set, and the old one is dead.
//! - A guarded session whose session cookie is expired (a logout): the session ends.
//!
//! The origin's `X-Session-*` headers apply as in edge mode.

use super::{changes, context::RequestContext, current::Served, resume::start};
use crate::core::{
    end_reason::EndReason,
    guard::response::{origin_set, OriginSet},
    outcome::Cookies,
    protocol::OriginChanges,
};
use crate::edge::platform::log::{self, LogLine};

/// Applies the origin's answer to the guarded session (if any): the session afterwards, or
/// `None` without one. `quiet`: nothing is bound (the request carried a binding rotated away a
/// moment ago, and the browser has the new one; or it is a cross-site request the browser
/// sent without its cookies).
pub(super) async fn after_response(
    cx: &RequestContext<'_>,
    served: Option<Served>,
    set_cookies: &[String],
    changes: &OriginChanges,
    quiet: bool,
) -> Option<Served> {
    if quiet {
        if changes.changes_session() {
            log::emit(
                LogLine::info("origin.change_refused")
                    .msg("origin changes ignored: the request carried a just-rotated binding or none (cross-site)"),
            );
        }
        return None;
    }
    let held = served.as_ref().map(|s| s.current.origin.clone()).unwrap_or_default();
    let set = origin_set(&held, set_cookies, &cx.config.guard, cx.now);
    let Some(mut served) = served else {
        return match set {
            OriginSet::Rebind { ids, scopes } => match start(cx, ids, scopes, false).await {
                Ok(new) => {
                    let mut served = Served::new(new, Cookies::Issued);
                    let applied = changes::apply(cx, &mut served.current, changes).await;
                    served.absorb(applied);
                    Some(served)
                }
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
            let ended = changes::end_closed(cx, &served.current, EndReason::Invalidated).await;
            served.then(ended);
        }
        OriginSet::Rebind { ids, scopes } => {
            let applied = changes::apply(cx, &mut served.current, changes).await;
            served.absorb(applied);
            if !served.ended() {
                let rotated = changes::rotate(cx, &mut served.current, Some((ids, scopes))).await;
                served.then(rotated);
            }
        }
        OriginSet::Nothing => {
            let applied = changes::apply(cx, &mut served.current, changes).await;
            served.absorb(applied);
        }
    }
    Some(served)
}
