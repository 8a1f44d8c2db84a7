//! The origin's changes to the session, applied after its response: data, user and timeout
//! (`update`), `invalidate` and `rotate`, and the rotation a login (a new `X-Session-User`)
//! gets with `ROTATE_ON_LOGIN`.
//!
//! Identity changes fail closed: when the object cannot confirm an `invalidate`, a login or a
//! rotation, the browser's cookies are expired anyway, the old ids are ended (retried until
//! confirmed, see [`crate::edge::ending`]) and the response carries `x-cfsession-end: retrying`.
//! Other failures (a data update) are logged; the origin's response is delivered either way.

use super::{
    context::Edge,
    current::{CookieAction, Current},
};
use crate::edge::platform::log::{self, LogLine};
use crate::{
    core::{
        config::SessionMode,
        end_reason::EndReason,
        guard::{response::CookieScope, OriginIds},
        protocol::{Action, OriginChanges},
        rpc::{AdoptRequest, EndRequest, Ids, Reply, RotateOutReply, RotateOutRequest, UpdateRequest},
        session::Refusal,
    },
    edge::ending,
};

/// Applies the origin's changes: `invalidate` ends the session (and nothing else applies);
/// otherwise data, user and timeout are updated, then the session moves to new ids on
/// `rotate` or on a login (with `ROTATE_ON_LOGIN`).
pub(super) async fn apply(edge: &Edge<'_>, mut current: Current, changes: &OriginChanges) -> Current {
    if changes.has(Action::Invalidate) {
        end_closed(edge, &mut current, EndReason::Invalidated).await;
        return current;
    }
    let user_before = current.view.user.clone();
    let login = changes.user.is_some() && changes.user != user_before;
    let timeout = changes.timeout();
    if changes.set.is_some() || changes.user.is_some() || timeout.is_some() {
        let applied = update(edge, &mut current, changes, timeout).await;
        if login && !applied && current.login_refused {
            return current;
        }
        if login && !applied {
            // A login the edge could not record: never leave the browser holding ids that
            // may or may not carry the user. It logs in again on a fresh session.
            log::emit(
                LogLine::warn("session.login_failed")
                    .msg(format!("session {}: login not recorded; ending the session", current.cfid)),
            );
            end_closed(edge, &mut current, EndReason::Invalidated).await;
            return current;
        }
    }
    // (In guard mode the origin's own ids are the session: it rotates them itself at login.)
    let rotate_login = login && edge.config.rotate_on_login && edge.config.mode == SessionMode::Edge;
    if changes.has(Action::Rotate) || rotate_login {
        rotate(edge, &mut current, None).await;
    }
    current
}

/// Ends the session and expires its cookies, whether or not the object confirms the end now.
pub(super) async fn end_closed(edge: &Edge<'_>, current: &mut Current, reason: EndReason) {
    let req = EndRequest { cfid: current.cfid.to_string(), ids: Some(current.ids()), reason, only_user: None };
    let ending = ending::end_or_retry(&edge.sessions, &current.cfid, req, edge.env, edge.config, edge.ctx).await;
    current.end_unconfirmed = ending.is_none();
    current.cookies = CookieAction::Expire;
}

/// Sends data, user and timeout changes to the object. `true` when they were applied (the
/// data part may still have been refused for size: logged).
async fn update(edge: &Edge<'_>, current: &mut Current, changes: &OriginChanges, timeout: Option<u64>) -> bool {
    let config = edge.config;
    let req = UpdateRequest {
        ids: current.ids(),
        policy: edge.policy,
        data_limit: config.data_limit,
        set: changes.set.clone(),
        idle_timeout_s: timeout,
        user: changes.user.clone(),
    };
    match edge.sessions.update(&current.cfid, req).await {
        Ok(Reply::Active { session, data_refused, .. }) => {
            if data_refused {
                log::emit(LogLine::warn("origin.change_refused").msg(format!(
                    "session {}: X-Session-Set refused: data would exceed SESSION_DATA_LIMIT ({} bytes)",
                    current.cfid, config.data_limit
                )));
            }
            if timeout.is_some() && current.cookies == CookieAction::Keep {
                current.cookies = CookieAction::Refresh;
            }
            current.view = session;
            true
        }
        Ok(Reply::Refused { reason: Refusal::TooManySessions }) => {
            log::emit(LogLine::info("session.login_refused").cfid(&current.cfid).msg(format!(
                "session {}: login refused, the user has MAX_SESSIONS_PER_USER sessions (MAX_SESSIONS_POLICY=refuse)",
                current.cfid
            )));
            current.login_refused = true;
            false
        }
        Ok(Reply::Refused { reason }) => {
            log::emit(
                LogLine::warn("origin.change_refused")
                    .msg(format!("session {}: origin changes not applied ({reason:?})", current.cfid)),
            );
            false
        }
        Err(e) => {
            log::emit(
                LogLine::warn("origin.change_refused")
                    .msg(format!("session {}: origin changes not applied: {e}", current.cfid)),
            );
            false
        }
    }
}

/// ColdFusion's `sessionRotate()`: the session moves to new ids; the old pair is dead at once.
/// Guard mode passes the origin's new credential cookies and where it set them (`origin`),
/// which the new binding covers. When the move cannot be confirmed, the session ends instead
/// (fail closed).
pub(super) async fn rotate(edge: &Edge<'_>, current: &mut Current, origin: Option<(OriginIds, Vec<CookieScope>)>) {
    let old = current.cfid.clone();
    let out = RotateOutRequest { ids: current.ids(), policy: edge.policy };
    let (record, starts) = match edge.sessions.rotate_out(&old, out).await {
        Ok(RotateOutReply::Moved { record, starts }) => (record, starts),
        Ok(RotateOutReply::Refused { reason: Refusal::RotatedRecently }) => {
            log::emit(
                LogLine::info("session.rotate_raced")
                    .msg(format!("session {old}: already rotated by a parallel request")),
            );
            return;
        }
        Ok(RotateOutReply::Refused { reason }) => {
            log::emit(
                LogLine::warn("session.rotate_refused")
                    .msg(format!("session {old}: rotate refused ({reason:?}); cookies expired")),
            );
            current.cookies = CookieAction::Expire;
            return;
        }
        Err(e) => {
            log::emit(
                LogLine::error("session.rotate_failed")
                    .msg(format!("session {old}: rotate failed ({e}); ending the session")),
            );
            end_closed(edge, current, EndReason::Invalidated).await;
            return;
        }
    };
    let (origin, scopes) = origin.unwrap_or_else(|| (current.origin.clone(), Vec::new()));
    let adopted = match edge.mint(&origin) {
        Ok((cfid, token)) => {
            let ids = Ids::of(&cfid, &token, true).bound(origin.clone()).scoped(scopes);
            match edge.sessions.adopt(&cfid, AdoptRequest { ids, record, starts }).await {
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
            current.cookies = CookieAction::SetNew;
        }
        // The old ids are already dead (a rotated tombstone): fail closed, the browser forgets them.
        None => current.cookies = CookieAction::Expire,
    }
}
