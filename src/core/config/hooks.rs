//! Where the edge sends its events: `SESSION_START_URL`, `SESSION_END_URL`,
//! `APPLICATION_START_URL` (optional features: an invalid value turns the hook off) and
//! `ORIGIN_KILL_URL` (guard mode; an invalid value is an error). Absolute http(s) URLs, or
//! paths relative to `ORIGIN_URL`.

use url::Url;

use super::{
    error::ConfigError,
    parse::{hook_url, Vars},
};

/// The hooks' URLs (`None`: not sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookUrls {
    /// `SESSION_START_URL`: where session start events are POSTed.
    pub start_url: Option<Url>,
    /// `SESSION_END_URL`: where session end events are POSTed.
    pub end_url: Option<Url>,
    /// `APPLICATION_START_URL`: where application start events are POSTed.
    pub app_start_url: Option<Url>,
    /// `ORIGIN_KILL_URL` (guard mode): where the edge POSTs an ended session's cookies, so
    /// the application ends its own session (`sessionInvalidate()`, `onSessionEnd`).
    pub origin_kill_url: Option<Url>,
}

impl HookUrls {
    /// The hooks' variables, relative ones resolved against `origin`. An optional hook with an
    /// invalid value is turned off and its error pushed to `disabled`.
    pub(super) fn parse(get: Vars, origin: Option<&Url>, disabled: &mut Vec<ConfigError>) -> Result<Self, ConfigError> {
        let mut optional = |name: &'static str| {
            let url = get(name).map(|v| hook_url(name, &v, origin)).transpose();
            url.unwrap_or_else(|mut e| {
                e.reason.push_str(": the hook is off");
                disabled.push(e);
                None
            })
        };
        let start_url = optional("SESSION_START_URL");
        let end_url = optional("SESSION_END_URL");
        let app_start_url = optional("APPLICATION_START_URL");
        let origin_kill_url = get("ORIGIN_KILL_URL").map(|v| hook_url("ORIGIN_KILL_URL", &v, origin)).transpose()?;
        Ok(Self { start_url, end_url, app_start_url, origin_kill_url })
    }
}
