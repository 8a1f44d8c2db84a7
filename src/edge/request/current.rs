//! The session attached to a request, as the request flow carries it from the object's answer
//! to the response, and what the flow's steps did to its cookies.

use crate::core::{
    clock::UnixMs,
    guard::OriginIds,
    ids::{CfToken, Cfid},
    outcome::{Cookies, Outcome, SessionIds},
    rpc::{Ids, SessionView},
    session_state::Verdict,
};

/// The session attached to this request.
pub struct Current {
    /// The CFID (guard mode: the guard id).
    pub cfid: Cfid,
    /// The CFTOKEN (guard mode: the binding token).
    pub token: CfToken,
    /// Guard mode: the origin's session cookies it is bound to (empty in edge mode).
    pub origin: OriginIds,
    pub view: SessionView,
    /// Started on this request.
    pub new: bool,
    /// The request's fingerprint change reached the threshold: the origin gets
    /// `X-Session-Fingerprint` (`score=…; reasons=…; action=…`).
    pub fingerprint: Option<Verdict>,
}

impl Current {
    pub fn ids(&self) -> Ids {
        Ids::of(&self.cfid, &self.token, self.new).bound(self.origin.clone())
    }
}

/// A session after some of the request's steps: which one, and what they did to it.
pub struct Served {
    pub current: Current,
    pub cookies: Cookies,
    /// The origin's login was refused (`MAX_SESSIONS_POLICY=refuse`).
    pub login_refused: bool,
}

impl Served {
    pub fn new(current: Current, cookies: Cookies) -> Self {
        Self { current, cookies, login_refused: false }
    }

    /// Folds a later step's effect on the cookies in ([`Cookies::then`]).
    pub fn then(&mut self, later: Cookies) {
        self.cookies = self.cookies.then(later);
    }

    /// Folds the origin's changes in ([`super::changes::apply`]).
    pub fn absorb(&mut self, applied: Applied) {
        self.then(applied.cookies);
        self.login_refused |= applied.login_refused;
    }

    /// The request's outcome at `now`, for the response ([`crate::core::outcome::response`]).
    pub fn outcome(&self, now: UnixMs) -> Outcome<'_> {
        let ids = SessionIds {
            cfid: &self.current.cfid,
            token: &self.current.token,
            idle_timeout_s: self.current.view.idle_timeout_s,
            now,
        };
        Outcome::Session { ids, cookies: self.cookies, login_refused: self.login_refused }
    }

    /// Whether the session ended on this request.
    pub fn ended(&self) -> bool {
        matches!(self.cookies, Cookies::Ended { .. })
    }
}

/// What applying the origin's changes did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub cookies: Cookies,
    /// The login was refused (`MAX_SESSIONS_POLICY=refuse`): nothing else was applied.
    pub login_refused: bool,
}

impl From<Cookies> for Applied {
    fn from(cookies: Cookies) -> Self {
        Self { cookies, login_refused: false }
    }
}
