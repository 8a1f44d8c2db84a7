//! The session attached to a request, as the request flow carries it from the object's answer
//! to the response's cookies.

use crate::core::{
    guard::OriginIds,
    ids::{CfToken, Cfid},
    rpc::{Ids, SessionView},
    session::Verdict,
};

/// What this response does to the session cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieAction {
    /// Nothing.
    Keep,
    /// Set the session's cookies: a new session, or new ids after a rotation.
    SetNew,
    /// Re-set them if the cookies slide (a touch or a new timeout).
    Refresh,
    /// Expire them: the session was invalidated.
    Expire,
}

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
    /// A stand-in for a request that still carried just-rotated ids (the browser already has
    /// the new ones) or none because it is cross-site: never stored, and the response sets no
    /// cookies.
    pub quiet: bool,
    pub cookies: CookieAction,
    /// An end of this session could not be confirmed yet (the response says so).
    pub end_unconfirmed: bool,
    /// The request's fingerprint change reached the threshold: the origin gets
    /// `X-Session-Fingerprint` (`score=…; reasons=…; action=…`).
    pub fingerprint: Option<Verdict>,
    /// The origin's login was refused (`MAX_SESSIONS_POLICY=refuse`): the client gets `409`
    /// instead of the origin's answer.
    pub login_refused: bool,
}

impl Current {
    pub fn ids(&self) -> Ids {
        Ids::of(&self.cfid, &self.token, self.new).bound(self.origin.clone())
    }
}
