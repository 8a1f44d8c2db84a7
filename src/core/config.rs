//! The Worker's configuration: read from `vars` (`wrangler.toml`) and secrets, validated
//! into typed values. Each concern parses its own variables, beside its type and its defaults
//! (`Timing::parse` in `record.rs`, `CookiePolicy::parse` in `cookie.rs`, `KillPolicy::parse`
//! in `kill.rs`, [`Keys::parse`], `SessionsPerUser::parse` in `index.rs`, [`Controls::parse`]
//! `GuardPolicy::parse`, `CrossSiteRequests::parse`, and here [`Admin`], [`App`], [`HookUrls`]
//! …); [`Config::parse`] is the one place that calls them all, in order, and reads the few
//! settings of the configuration's own (`ORIGIN_URL`, `SESSION_MODE`, `ROTATE_ON_LOGIN`,
//! `SESSION_DEFER`, `URL_TOKENS`, `SESSION_DATA_LIMIT`, `INDEX_SHARDS`, `SESSION_BYPASS`,
//! `TEST_FAULTS`). Every bad value becomes a [`ConfigError`] that names
//! the variable (never its value).

use std::cell::RefCell;

use url::Url;

use self::error::err;
use self::parse::{parse_bool, parse_origin, parse_u64};
pub use self::{
    admin::Admin,
    app::App,
    controls::{Controls, Jurisdiction},
    error::ConfigError,
    hints::{hints, Hint},
    hooks::HookUrls,
    keys::Keys,
    secret::{origin_key, Secret},
};
use super::{
    bypass::Bypass,
    cookie::CookiePolicy,
    cross_site::CrossSiteRequests,
    faults::{self, Faults},
    guard::GuardPolicy,
    index::SessionsPerUser,
    kill::KillPolicy,
    protocol::OriginKeys,
    record::Timing,
};

/// The optional features: an invalid value turns the feature off (in [`Config::disabled`])
/// instead of failing every request. Every other variable's invalid value is a [`ConfigError`].
pub const OPTIONAL: [&str; 4] = ["ADMIN_TOKEN", "SESSION_START_URL", "SESSION_END_URL", "APPLICATION_START_URL"];

/// The largest `SESSION_DATA_LIMIT` (bytes of JSON). The data travels to the origin in a
/// header, base64url-encoded, and Workers allow 128 KB of request headers in total.
pub const MAX_DATA_LIMIT: usize = 64 * 1024;
/// The default `SESSION_DATA_LIMIT` (bytes of JSON). Base64url makes 4,096 header bytes of
/// it, so every request still fits the smallest common origin limit (Tomcat, under ACF and
/// Lucee: 8 KB for the request line and all headers) with room for cookies and the rest;
/// nginx allows 8 KB per header line, IIS 16 KB in all. `docs/security.md`, "Header budget".
pub const DEFAULT_DATA_LIMIT: usize = 3 * 1024;

/// Who owns the session (`SESSION_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionMode {
    /// The edge owns it: CFID/CFTOKEN are the edge's, the origin gets signed headers.
    #[default]
    Edge,
    /// The origin owns it (its own session cookies); the edge guards it. See
    /// [`crate::core::guard`].
    Guard,
}

/// Validated configuration. Build it with [`Config::from_lookup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `SESSION_MODE`: `edge` or `guard`.
    pub mode: SessionMode,
    /// `GUARD_COOKIES` (guard mode): the origin's session cookies.
    pub guard: GuardPolicy,
    /// `SESSION_BYPASS`: paths that have no session (static assets by default).
    pub bypass: Bypass,
    /// The session controls: per-path modes, hijack detection, AJAX ends, key rotation,
    /// jurisdiction, abuse limits (see [`Controls`]).
    pub controls: Controls,
    /// `ORIGIN_URL`: where requests are forwarded. `None` (unset or empty) forwards to the
    /// request's own URL, the production pattern of a Worker on a route in front of its origin.
    pub origin: Option<Url>,
    /// `SESSION_SIGNING_KEY`, `SESSION_SIGNING_KEY_PREVIOUS`, `SIGNATURE_LEGACY`: the keys and
    /// what is derived from them.
    pub keys: Keys,
    /// `ROTATE_ON_LOGIN`: new ids when `X-Session-User` first tags a session or changes its
    /// user (OWASP: a new session id on every privilege change).
    pub rotate_on_login: bool,
    /// `COOKIE_SECURE`, `COOKIE_DOMAIN`, `COOKIE_EXPIRY`.
    pub cookie: CookiePolicy,
    /// `SESSION_TIMEOUT`, `SESSION_MAX_LIFETIME`, `TOUCH_INTERVAL`, `SESSION_HITS`.
    pub timing: Timing,
    /// `SESSION_DEFER`: store a new session only when the client comes back with its cookies
    /// or the origin stores data in it.
    pub defer: bool,
    /// `URL_TOKENS`: accept CFID/CFTOKEN from the query string (cookieless clients).
    pub url_tokens: bool,
    /// `CROSS_SITE_REQUESTS`: what a cross-site request without the session cookies gets.
    pub cross_site: CrossSiteRequests,
    /// `SESSION_DATA_LIMIT`: the largest session data, in bytes of JSON.
    pub data_limit: usize,
    /// `ADMIN_TOKEN`, `ADMIN_PREFIX`: the admin API and dashboard.
    pub admin: Admin,
    /// `KILL_PARAM`, `KILL_PATH`, `KILL_REDIRECT`, `KILL_COOKIES`, `KILL_CLEAR_SITE_DATA`,
    /// `KILL_METHODS`.
    pub kill: KillPolicy,
    /// `SESSION_START_URL`, `SESSION_END_URL`, `APPLICATION_START_URL`, `ORIGIN_KILL_URL`.
    pub hooks: HookUrls,
    /// `APP_NAME`, `APPLICATION_TIMEOUT`: the application.
    pub app: App,
    /// `INDEX_SHARDS`: how many index objects share the list of live sessions.
    pub index_shards: u32,
    /// `MAX_SESSIONS_PER_USER` and `MAX_SESSIONS_POLICY`: at most this many live sessions per
    /// user id, and what a login beyond it does (by default the user's oldest session ends,
    /// reason `replaced`).
    pub sessions_per_user: SessionsPerUser,
    /// `TEST_FAULTS`: injected faults, for tests only (refused unless `ORIGIN_URL` is a
    /// loopback address). See [`crate::core::faults`].
    pub faults: Faults,
    /// Optional features turned off because their variable is invalid ([`OPTIONAL`]): the site
    /// runs without them, and `/__session/ready` and the log name each.
    pub disabled: Vec<ConfigError>,
    /// Variables that are not settings but look like one (see [`hints`]): set by the Worker,
    /// which knows the environment's names.
    pub hints: Vec<Hint>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mode: SessionMode::Edge,
            guard: GuardPolicy::default(),
            bypass: Bypass::default(),
            controls: Controls::default(),
            origin: None,
            keys: Keys::default(),
            rotate_on_login: true,
            cookie: CookiePolicy::default(),
            timing: Timing::default(),
            defer: true,
            url_tokens: false,
            cross_site: CrossSiteRequests::Sessionless,
            data_limit: DEFAULT_DATA_LIMIT,
            admin: Admin::default(),
            kill: KillPolicy::default(),
            hooks: HookUrls::default(),
            app: App::default(),
            index_shards: 16,
            sessions_per_user: SessionsPerUser::default(),
            faults: Faults::default(),
            disabled: Vec::new(),
            hints: Vec::new(),
        }
    }
}

impl Config {
    /// The keys requests and hooks for the origin are signed with.
    pub fn origin_keys(&self) -> OriginKeys<'_> {
        OriginKeys { origin: self.keys.origin.expose(), legacy: self.keys.legacy.then(|| self.keys.signing.expose()) }
    }

    /// Builds the configuration from a variable lookup (the Worker passes `env.var`, which
    /// also sees secrets). Unset and empty variables take their defaults.
    ///
    /// # Errors
    /// The first variable whose value cannot be used.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::parse(&lookup)
    }

    /// [`Config::from_lookup`], compiled once whatever the lookup (the Worker's and
    /// [`known_variables`]'s share it).
    fn parse(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut c = Config::default();
        if let Some(raw) = get("ORIGIN_URL") {
            c.origin = Some(parse_origin(&raw)?);
        }
        c.keys = Keys::parse(&get)?;
        if let Some(v) = get("ROTATE_ON_LOGIN") {
            c.rotate_on_login = parse_bool("ROTATE_ON_LOGIN", &v)?;
        }
        c.admin = Admin::parse(&get, &mut c.disabled)?;
        c.cookie = CookiePolicy::parse(&get)?;
        c.timing = Timing::parse(&get)?;
        if let Some(v) = get("SESSION_DEFER") {
            c.defer = parse_bool("SESSION_DEFER", &v)?;
        }
        if let Some(v) = get("URL_TOKENS") {
            c.url_tokens = parse_bool("URL_TOKENS", &v)?;
        }
        c.cross_site = CrossSiteRequests::parse(&get)?;
        if let Some(v) = get("SESSION_DATA_LIMIT") {
            c.data_limit = usize::try_from(parse_u64("SESSION_DATA_LIMIT", &v, 2, MAX_DATA_LIMIT as u64)?)
                .unwrap_or(MAX_DATA_LIMIT);
        }
        c.kill = KillPolicy::parse(&get)?;
        c.hooks = HookUrls::parse(&get, c.origin.as_ref(), &mut c.disabled)?;
        c.app = App::parse(&get)?;
        if let Some(v) = get("SESSION_MODE") {
            c.mode = match v.to_ascii_lowercase().as_str() {
                "edge" => SessionMode::Edge,
                "guard" => SessionMode::Guard,
                _ => return Err(err("SESSION_MODE", "must be edge or guard")),
            };
        }
        c.guard = GuardPolicy::parse(&get)?;
        // In guard mode a kill expires the application's credential cookies (mode::expiry),
        // not ColdFusion's names, unless KILL_COOKIES says otherwise.
        if c.mode == SessionMode::Guard && get("KILL_COOKIES").is_none() {
            c.kill.cookies = Vec::new();
        }
        if let Some(v) = get("SESSION_BYPASS") {
            c.bypass = Bypass::parse(&v).map_err(|reason| err("SESSION_BYPASS", reason))?;
        }
        if let Some(v) = get("INDEX_SHARDS") {
            c.index_shards = u32::try_from(parse_u64("INDEX_SHARDS", &v, 1, 256)?).unwrap_or(16);
        }
        c.sessions_per_user = SessionsPerUser::parse(&get)?;
        if let Some(v) = get("TEST_FAULTS") {
            if !c.origin.as_ref().is_some_and(faults::is_loopback) {
                return Err(err("TEST_FAULTS", "is for tests only: it needs ORIGIN_URL on a loopback address"));
            }
            c.faults = Faults::parse(&v).map_err(|reason| err("TEST_FAULTS", reason))?;
        }
        c.controls = Controls::parse(&get, c.origin.as_ref())?;
        c.bypass = std::mem::take(&mut c.bypass).with_case(c.controls.session_policy.case);
        c.kill = std::mem::take(&mut c.kill).with_case(c.controls.session_policy.case);
        Ok(c)
    }
}

/// A configuration for unit tests: a signing key, `COOKIE_SECURE=false`, then `pairs` (later
/// pairs win).
#[cfg(test)]
pub(crate) fn for_tests(pairs: &[(&str, &str)]) -> Config {
    let mut all = vec![("SESSION_SIGNING_KEY", "0123456789abcdef0123456789abcdef"), ("COOKIE_SECURE", "false")];
    all.extend_from_slice(pairs);
    Config::from_lookup(|n| all.iter().rev().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned()))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Every variable [`Config::from_lookup`] reads, in the order it asks for them (secrets included).
pub fn known_variables() -> Vec<String> {
    let asked: RefCell<Vec<String>> = RefCell::new(Vec::new());
    // A lookup that answers only the one required variable: every other is read as unset,
    // which every variable can be, so the parse reaches all of them.
    let _ = Config::from_lookup(|name| {
        let mut asked = asked.borrow_mut();
        if !asked.iter().any(|a| a == name) {
            asked.push(name.to_owned());
        }
        (name == "SESSION_SIGNING_KEY").then(|| "k".repeat(64))
    });
    asked.into_inner()
}

mod admin;
mod app;
mod controls;
pub(crate) mod error;
mod hints;
mod hooks;
mod keys;
pub(crate) mod parse;
mod secret;
#[cfg(test)]
mod tests;
