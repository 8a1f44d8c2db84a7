//! What a request handler needs besides the request: the request's context ([`RequestContext`]).

use std::cell::OnceCell;

use worker::{Context, Env};

use crate::core::{
    ajax::{is_ajax, AjaxEnds},
    client::{AbuseLimit, ClientNetwork},
    clock::UnixMs,
    config::Config,
    error::EdgeError,
    fingerprint::Fingerprint,
    guard::{Binding, OriginIds},
    ids::{CfToken, Cfid, TokenKey},
    outcome,
    record::{ClientHints, Timing},
    session_policy::PathRule,
    stats::Counts,
};
use crate::edge::{
    abuse,
    incoming::Incoming,
    platform::{log, now_ms, PlatformRandom},
    respond, stats,
    store::SessionObjects,
};

/// What a request handler needs besides the request.
pub struct RequestContext<'a> {
    pub env: &'a Env,
    pub config: &'a Config,
    pub ctx: &'a Context,
    pub req: &'a Incoming,
    pub sessions: SessionObjects,
    pub key: TokenKey,
    pub now: UnixMs,
    /// The session timing for this request: the configuration's, with what its path sets
    /// (`SESSION_POLICY`: a timeout, `norefresh`).
    pub timing: Timing,
    /// A non-navigation request whose session ended gets `401` (`AJAX_ENDS`, per path).
    pub ajax_401: bool,
    /// The client's network, read when first needed.
    client: OnceCell<ClientNetwork>,
}

impl<'a> RequestContext<'a> {
    /// The context of request `req`, whose path has policy rule `rule` (`SESSION_POLICY`).
    pub fn new(
        env: &'a Env,
        config: &'a Config,
        ctx: &'a Context,
        req: &'a Incoming,
        rule: &PathRule,
    ) -> Result<Self, EdgeError> {
        let ajax_401 = rule.ajax.unwrap_or(config.controls.ajax_ends) == AjaxEnds::Unauthorized
            && is_ajax(req.header("sec-fetch-mode"), req.header("x-requested-with"), req.header("accept"));
        Ok(Self {
            env,
            config,
            ctx,
            req,
            sessions: SessionObjects::from_env(env)?,
            key: config.keys.token.clone(),
            now: now_ms(),
            timing: config.timing.for_path(rule),
            ajax_401,
            client: OnceCell::new(),
        })
    }
}

impl RequestContext<'_> {
    /// The client's network (`CF-Connecting-IP`, `request.cf`), read once.
    pub fn client(&self) -> &ClientNetwork {
        self.client.get_or_init(|| self.req.client_network(self.config.controls.test_client_header))
    }

    /// What the client looks like now (hijack detection).
    pub fn fingerprint(&self) -> Fingerprint {
        let net = self.client();
        Fingerprint::of(
            net.address.as_deref(),
            net.country.as_deref(),
            net.asn,
            self.req.header("user-agent"),
            self.req.header("accept-language"),
        )
    }

    /// The client's hints, kept with a session when it is stored.
    pub fn client_hints(&self) -> ClientHints {
        ClientHints::new(self.req.header("user-agent"), self.client().country.as_deref()).unwrap_or_default()
    }

    /// Counts refused ids against the client's limit (`ABUSE_LIMITS`); for a non-navigation
    /// request with `AJAX_ENDS=401`, the `401` that says why (`reason`) instead of going on.
    pub async fn refused(&self, reason: &'static str) -> Result<Option<worker::Response>, EdgeError> {
        abuse::count(self.env, self.config, self.client().limit_key().as_deref(), AbuseLimit::Refused).await?;
        self.ajax_401.then(|| respond::session_ended(reason, outcome::ended(self.config, &[], true))).transpose()
    }

    /// Whether a session started on this request is stored at once: with deferral off, and on
    /// a path that sets its own timeout (a deferred session could otherwise be claimed within
    /// `SESSION_TIMEOUT` instead of the path's timeout).
    pub fn stores_new_sessions(&self) -> bool {
        !self.config.defer || self.timing.path_timeout_s.is_some()
    }

    /// Counts an event for the dashboard's history (sent after the response, see [`stats`]).
    pub fn count(&self, event: impl FnOnce(&mut Counts)) {
        if let Some(flush) = stats::count(self.env, event) {
            self.ctx.wait_until(log::carried(flush));
        }
    }

    /// New ids from the platform CSPRNG: a CFID and CFTOKEN, or (for `origin` cookies, guard
    /// mode) a guard id and a binding token over them.
    pub fn mint(&self, origin: &OriginIds) -> Result<(Cfid, CfToken), EdgeError> {
        let mut rng = PlatformRandom;
        let no_random = |_| EdgeError::Internal("no randomness for session ids".into());
        if origin.is_empty() {
            let cfid = Cfid::generate(&mut rng).map_err(no_random)?;
            let token = CfToken::mint(&cfid, &self.key, self.now, &mut rng).map_err(no_random)?;
            Ok((cfid, token))
        } else {
            let b = Binding::mint(origin, &self.key, self.now, &mut rng).map_err(no_random)?;
            Ok((b.gid, b.token))
        }
    }
}
