//! Finding the request's session: resuming the one its verified ids name (with hijack
//! detection and key rotation), or starting a new one.

use super::{
    changes,
    context::RequestContext,
    current::{Current, Served},
};
use crate::core::{
    client::AbuseLimit,
    clock::UnixMs,
    config::Config,
    error::EdgeError,
    fingerprint::{FingerprintAction, Probe},
    guard::{response::CookieScope, OriginIds},
    mode::VerifiedIds,
    outcome::Cookies,
    record::SessionRecord,
    rpc::{BeginRequest, Ids, Refused, Reply, SessionView},
    session_state::{sends_claim_hints, Declined, Refusal, Verdict},
};
use crate::edge::{
    abuse,
    platform::log::{self, LogLine},
};

/// What became of the ids a request presented (short-lived, moved once: boxing `Live` would
/// only add an allocation).
#[allow(clippy::large_enum_variant)]
pub(super) enum Resumed {
    /// The session is live.
    Live(Served),
    /// The ids were rotated a moment ago: the request is served by a stand-in
    /// ([`crate::core::outcome::Outcome::StandIn`]).
    Quiet,
    /// The object refused them (or declined the request).
    Refused(Refused),
}

impl RequestContext<'_> {
    /// The request's fingerprint to judge, with `SESSION_FINGERPRINT` on.
    fn probe(&self) -> Option<Probe> {
        let policy = self.config.controls.fingerprint;
        policy.is_on().then(|| Probe { seen: self.fingerprint(), policy })
    }

    /// Counts a session about to be stored against the client's limit (`ABUSE_LIMITS`).
    async fn may_store(&self) -> Result<(), EdgeError> {
        abuse::count(self.env, self.config, self.client().limit_key().as_deref(), AbuseLimit::NewSessions).await
    }

    /// With `ABUSE_LIMITS`, the client's key for the limits (`None` without an address).
    fn abuse_key(&self) -> Option<String> {
        self.config.controls.abuse_limits.then(|| self.client().limit_key()).flatten()
    }
}

/// The live session for verified ids, in one object call. Ids issued in the last minute
/// ([`sends_claim_hints`]) carry what a deferred session's claim needs: the client's hints and,
/// with `ABUSE_LIMITS`, its key, which the object counts when it claims. A later claim (or an
/// older object) asks for the hints instead (`NeedsClient`): then the claim is counted here
/// and sent again, a second call.
pub(super) async fn resume(cx: &RequestContext<'_>, p: VerifiedIds) -> Result<Resumed, EdgeError> {
    let claimable = sends_claim_hints(p.token.issued_at(), cx.now, &cx.timing);
    let begin = |client, abuse_key| BeginRequest {
        ids: p.ids(),
        timing: cx.timing,
        client,
        fingerprint: cx.probe(),
        abuse_key,
    };
    let first = begin(claimable.then(|| cx.client_hints()), if claimable { cx.abuse_key() } else { None });
    let mut reply = cx.sessions.begin(&p.cfid, first).await?;
    if matches!(reply, Reply::Refused { reason: Refused::Declined(Declined::NeedsClient) }) {
        // (Rare: built again rather than cloned on every request.)
        log::emit(LogLine::info("session.needs_client").cfid(&p.cfid).msg("the object asked for the client's hints"));
        cx.may_store().await?;
        reply = cx.sessions.begin(&p.cfid, begin(Some(cx.client_hints()), None)).await?;
    }
    if matches!(reply, Reply::Refused { reason: Refused::Declined(Declined::AbuseLimited) }) {
        return Err(EdgeError::TooManyRequests(AbuseLimit::NewSessions));
    }
    match reply {
        Reply::Active { session, refresh_cookie, fingerprint, .. } => {
            let cookies = if p.previous_fp.is_some() {
                // Re-minted under the current key: the browser gets the new token.
                log::emit(LogLine::info("session.rekeyed").cfid(&p.cfid).msg("token re-minted under the current key"));
                Cookies::Issued
            } else if refresh_cookie {
                Cookies::Refreshed
            } else {
                Cookies::Kept
            };
            let VerifiedIds { cfid, token, origin, .. } = p;
            let current = Current { cfid, token, origin, view: session, new: false, fingerprint: None };
            let mut served = Served::new(current, cookies);
            if let Some(verdict) = fingerprint {
                let rotated = judged(cx, &mut served.current, verdict).await;
                served.then(rotated);
            }
            Ok(Resumed::Live(served))
        }
        Reply::Refused { reason } => {
            let rotated = reason == Refused::Ids(Refusal::RotatedRecently);
            if !rotated {
                cx.count(|c| c.refused += 1);
            }
            log::emit(
                LogLine::info("session.refused")
                    .cfid(&p.cfid)
                    .reason(reason.as_str())
                    .msg(format!("session {} not resumed ({reason:?})", p.cfid)),
            );
            Ok(if rotated { Resumed::Quiet } else { Resumed::Refused(reason) })
        }
    }
}

/// Acts on a fingerprint change the object reported: a log line (a warning at the
/// threshold), and with `rotate` new ids (what that did to the cookies is returned). The
/// origin hears of it through `X-Session-Fingerprint` (see [`Current::fingerprint`]).
async fn judged(cx: &RequestContext<'_>, current: &mut Current, verdict: Verdict) -> Cookies {
    let line = if verdict.acts { LogLine::warn("session.fingerprint") } else { LogLine::info("session.fingerprint") };
    let action = match verdict.action {
        FingerprintAction::Rotate if verdict.acts => "rotate",
        FingerprintAction::End if verdict.acts => "end",
        _ => "log",
    };
    log::emit(
        line.cfid(&current.cfid)
            .reason(verdict.score.reason_list())
            .field("score", verdict.score.score)
            .field("action", action)
            .msg(format!("session {}: the client's fingerprint changed (score {})", current.cfid, verdict.score.score)),
    );
    let rotated = if verdict.acts && verdict.action == FingerprintAction::Rotate {
        changes::rotate(cx, current, None).await
    } else {
        Cookies::Kept
    };
    if verdict.acts {
        current.fingerprint = Some(verdict);
    }
    rotated
}

/// A brand-new session (guard mode: bound to `origin`). Stored at once only when
/// [`RequestContext::stores_new_sessions`] (and never when `quiet`: a stand-in); a stored one counts
/// against `ABUSE_LIMITS` first.
pub(super) async fn start(
    cx: &RequestContext<'_>,
    origin: OriginIds,
    scopes: Vec<CookieScope>,
    quiet: bool,
) -> Result<Current, EdgeError> {
    let (config, now) = (cx.config, cx.now);
    let (cfid, token) = cx.mint(&origin)?;
    let view = if quiet || !(cx.stores_new_sessions() || CookieScope::store_now(&scopes)) {
        unstored_view(config, now)
    } else {
        cx.may_store().await?;
        let ids = Ids::of(&cfid, &token, true).bound(origin.clone()).scoped(scopes);
        let begin = BeginRequest {
            ids,
            timing: cx.timing,
            client: Some(cx.client_hints()),
            fingerprint: cx.probe(),
            abuse_key: None,
        };
        match cx.sessions.begin(&cfid, begin).await? {
            Reply::Active { session, .. } => session,
            Reply::Refused { reason } => return Err(EdgeError::Internal(format!("new session refused: {reason:?}"))),
        }
    };
    Ok(Current { cfid, token, origin, view, new: true, fingerprint: None })
}

/// How a deferred (not yet stored) session looks on its first request: a new record, unsaved.
fn unstored_view(config: &Config, now: UnixMs) -> SessionView {
    SessionView::from(&SessionRecord::new(String::new(), now, now, &config.timing))
}
