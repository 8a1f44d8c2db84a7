//! The origin's changes to the session, applied after its response: data, user and timeout
//! (`update`), `invalidate` and `rotate`, and the rotation a login (a new `X-Session-User`)
//! gets with `ROTATE_ON_LOGIN`.
//!
//! Identity changes fail closed: when the object cannot confirm an `invalidate`, a login or a
//! rotation, the browser's cookies are expired anyway, the old ids are ended (retried until
//! confirmed, see [`crate::edge::ending`]) and the response carries `x-cfsession-end: retrying`.
//! Other failures (a data update) are logged; the origin's response is delivered either way.

use super::{
    context::RequestContext,
    current::{Applied, Current},
};
use crate::edge::platform::log::{self, LogLine};
use crate::{
    core::{
        config::SessionMode,
        end_reason::EndReason,
        guard::{response::CookieScope, OriginIds},
        outcome::Cookies,
        protocol::{Action, OriginChanges},
        rpc::{AdoptRequest, EndRequest, Ids, Refused, Reply, RotateOutReply, RotateOutRequest, UpdateRequest},
        session_state::{Declined, Refusal},
    },
    edge::ending,
};

/// What [`update`] did.
enum Updated {
    /// Applied (the data part may still have been refused for size: logged).
    Applied,
    /// The user's login was refused: the user has `MAX_SESSIONS_PER_USER` sessions.
    LoginRefused,
    /// Not applied (logged).
    Failed,
}

/// Applies the origin's changes: `invalidate` ends the session (and nothing else applies);
/// otherwise data, user and timeout are updated, then the session moves to new ids on
/// `rotate` or on a login (with `ROTATE_ON_LOGIN`).
pub(super) async fn apply(cx: &RequestContext<'_>, current: &mut Current, changes: &OriginChanges) -> Applied {
    if changes.has(Action::Invalidate) {
        return end_closed(cx, current, EndReason::Invalidated).await.into();
    }
    let login = changes.user.is_some() && changes.user != current.view.user;
    let timeout = changes.timeout();
    let mut cookies = Cookies::Kept;
    if changes.set.is_some() || changes.user.is_some() || timeout.is_some() {
        match update(cx, current, changes, timeout).await {
            Updated::Applied if timeout.is_some() => cookies = Cookies::Refreshed,
            Updated::Applied => {}
            Updated::LoginRefused => return Applied { cookies, login_refused: true },
            Updated::Failed if login => {
                // A login the edge could not record: never leave the browser holding ids
                // that may or may not carry the user. It logs in again on a fresh session.
                log::emit(
                    LogLine::warn("session.login_failed")
                        .msg(format!("session {}: login not recorded; ending the session", current.cfid)),
                );
                return end_closed(cx, current, EndReason::Invalidated).await.into();
            }
            Updated::Failed => {}
        }
    }
    // (In guard mode the origin's own ids are the session: it rotates them itself at login.)
    let rotate_login = login && cx.config.rotate_on_login && cx.config.mode == SessionMode::Edge;
    if changes.has(Action::Rotate) || rotate_login {
        cookies = cookies.then(rotate(cx, current, None).await);
    }
    cookies.into()
}

/// Ends the session, whether or not the object confirms the end now: its cookies are expired
/// either way ([`Cookies::Ended`]).
pub(super) async fn end_closed(cx: &RequestContext<'_>, current: &Current, reason: EndReason) -> Cookies {
    let req = EndRequest { cfid: current.cfid.to_string(), ids: Some(current.ids()), reason, only_user: None };
    let ending = ending::end_or_retry(&cx.sessions, &current.cfid, req, cx.env, cx.config, cx.ctx).await;
    Cookies::Ended { confirmed: ending.is_some() }
}

/// Sends data, user and timeout changes to the object; `current` gets the session as it is
/// after them.
async fn update(
    cx: &RequestContext<'_>,
    current: &mut Current,
    changes: &OriginChanges,
    timeout: Option<u64>,
) -> Updated {
    let config = cx.config;
    let req = UpdateRequest {
        ids: current.ids(),
        timing: cx.timing,
        data_limit: config.data_limit,
        set: changes.set.clone(),
        idle_timeout_s: timeout,
        user: changes.user.clone(),
    };
    match cx.sessions.update(&current.cfid, req).await {
        Ok(Reply::Active { session, data_refused, .. }) => {
            if data_refused {
                log::emit(LogLine::warn("origin.change_refused").msg(format!(
                    "session {}: X-Session-Set refused: data would exceed SESSION_DATA_LIMIT ({} bytes)",
                    current.cfid, config.data_limit
                )));
            }
            current.view = session;
            Updated::Applied
        }
        Ok(Reply::Refused { reason: Refused::Declined(Declined::TooManySessions) }) => {
            log::emit(LogLine::info("session.login_refused").cfid(&current.cfid).msg(format!(
                "session {}: login refused, the user has MAX_SESSIONS_PER_USER sessions (MAX_SESSIONS_POLICY=refuse)",
                current.cfid
            )));
            Updated::LoginRefused
        }
        Ok(Reply::Refused { reason }) => {
            log::emit(
                LogLine::warn("origin.change_refused")
                    .msg(format!("session {}: origin changes not applied ({reason:?})", current.cfid)),
            );
            Updated::Failed
        }
        Err(e) => {
            log::emit(
                LogLine::warn("origin.change_refused")
                    .msg(format!("session {}: origin changes not applied: {e}", current.cfid)),
            );
            Updated::Failed
        }
    }
}

/// ColdFusion's `sessionRotate()`: the session moves to new ids; the old pair is dead at once.
/// Guard mode passes the origin's new credential cookies and where it set them (`origin`),
/// which the new binding covers. When the move cannot be confirmed, the session ends instead
/// (fail closed). A rotation a parallel request already made changes nothing here.
pub(super) async fn rotate(
    cx: &RequestContext<'_>,
    current: &mut Current,
    origin: Option<(OriginIds, Vec<CookieScope>)>,
) -> Cookies {
    let old = current.cfid.clone();
    let out = RotateOutRequest { ids: current.ids(), timing: cx.timing };
    let (record, starts) = match cx.sessions.rotate_out(&old, out).await {
        Ok(RotateOutReply::Moved { record, starts }) => (record, starts),
        Ok(RotateOutReply::Refused { reason: Refusal::RotatedRecently }) => {
            log::emit(
                LogLine::info("session.rotate_raced")
                    .msg(format!("session {old}: already rotated by a parallel request")),
            );
            return Cookies::Kept;
        }
        Ok(RotateOutReply::Refused { reason }) => {
            log::emit(
                LogLine::warn("session.rotate_refused")
                    .msg(format!("session {old}: rotate refused ({reason:?}); cookies expired")),
            );
            return Cookies::Ended { confirmed: true };
        }
        Err(e) => {
            log::emit(
                LogLine::error("session.rotate_failed")
                    .msg(format!("session {old}: rotate failed ({e}); ending the session")),
            );
            return end_closed(cx, current, EndReason::Invalidated).await;
        }
    };
    let (origin, scopes) = origin.unwrap_or_else(|| (current.origin.clone(), Vec::new()));
    let adopted = match cx.mint(&origin) {
        Ok((cfid, token)) => {
            let ids = Ids::of(&cfid, &token, true).bound(origin.clone()).scoped(scopes);
            match cx.sessions.adopt(&cfid, AdoptRequest { ids, record, starts }).await {
                Ok(Reply::Active { session, .. }) => Some((cfid, token, session)),
                Ok(Reply::Refused { reason }) => {
                    log::emit(
                        LogLine::error("session.rotate_failed")
                            .msg(format!("session {old}: rotate could not store the new ids ({reason:?})")),
                    );
                    None
                }
                Err(e) => {
                    log::emit(
                        LogLine::error("session.rotate_failed")
                            .msg(format!("session {old}: rotate could not store the new ids: {e}")),
                    );
                    None
                }
            }
        }
        Err(e) => {
            log::emit(LogLine::error("session.rotate_failed").msg(format!("session {old}: rotate: {e}")));
            None
        }
    };
    match adopted {
        Some((cfid, token, view)) => {
            log::emit(
                LogLine::info("session.rotate")
                    .cfid(&old)
                    .field("new_cfid", cfid.to_string())
                    .msg(format!("session {old} rotated to {cfid}")),
            );
            current.cfid = cfid;
            current.token = token;
            current.origin = origin;
            current.view = view;
            current.new = false;
            Cookies::Issued
        }
        // The old ids are already dead (a rotated tombstone): fail closed, the browser forgets them.
        None => Cookies::Ended { confirmed: true },
    }
}
