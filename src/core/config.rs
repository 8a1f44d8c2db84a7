//! The Worker's configuration: read once per request from `[vars]` and secrets, validated
//! into typed values. Every default lives in [`Config::default`]; every bad value becomes a
//! [`ConfigError`] that names the variable (never its value).

use std::fmt;

use url::Url;

use super::{
    cookie::{CookieExpiry, CookiePolicy},
    crypto::ct_eq,
    kill::KillPolicy,
    protocol::MAX_TIMEOUT_S,
    session::Policy,
};

/// The largest session data accepted (bytes of JSON). The data travels to the origin in a
/// header, base64url-encoded, and Workers allow 128 KB of request headers in total.
pub const MAX_DATA_LIMIT: usize = 64 * 1024;
/// The shortest accepted `SESSION_SIGNING_KEY` / `ADMIN_TOKEN`.
const MIN_SECRET_LEN: usize = 32;

/// Validated configuration. Build it with [`Config::from_lookup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `ORIGIN_URL`: where requests are forwarded. `None` (unset or empty) forwards to the
    /// request's own URL, the production pattern of a Worker on a route in front of its origin.
    pub origin: Option<Url>,
    /// `SESSION_SIGNING_KEY` (secret): keys the CFTOKEN MAC and the origin signatures.
    pub signing_key: Secret,
    /// `COOKIE_SECURE`, `COOKIE_DOMAIN`, `COOKIE_EXPIRY`.
    pub cookie: CookiePolicy,
    /// `SESSION_TIMEOUT`, `SESSION_MAX_LIFETIME`, `TOUCH_INTERVAL`, `SESSION_HITS`.
    pub policy: Policy,
    /// `SESSION_DEFER`: store a new session only when the client comes back with its cookies
    /// or the origin stores data in it.
    pub defer: bool,
    /// `URL_TOKENS`: accept CFID/CFTOKEN from the query string (cookieless clients).
    pub url_tokens: bool,
    /// `SESSION_DATA_LIMIT`: the largest session data, in bytes of JSON.
    pub data_limit: usize,
    /// `ADMIN_TOKEN` (secret): the admin API's bearer token; `None` turns the admin off.
    pub admin_token: Option<Secret>,
    /// `KILL_PARAM`, `KILL_PATH`, `KILL_REDIRECT`, `KILL_COOKIES`, `KILL_CLEAR_SITE_DATA`,
    /// `KILL_METHODS`.
    pub kill: KillPolicy,
    /// `SESSION_START_URL`: where session start events are POSTed (`None`: not sent).
    pub start_url: Option<Url>,
    /// `SESSION_END_URL`: where session end events are POSTed (`None`: not sent).
    pub end_url: Option<Url>,
    /// `APPLICATION_START_URL`: where application start events are POSTed.
    pub app_start_url: Option<Url>,
    /// `APP_NAME`: the application (ColdFusion's `this.name`); names its state object.
    pub app_name: String,
    /// `APPLICATION_TIMEOUT`: seconds without requests after which the application restarts
    /// (ColdFusion's `applicationTimeout`, two days by default).
    pub app_timeout_s: u64,
    /// `INDEX_SHARDS`: how many index objects share the list of live sessions.
    pub index_shards: u32,
    /// `ADMIN_PREFIX`: where the admin dashboard lives (its API under `<prefix>api/`).
    /// Paths under it are never forwarded to the origin.
    pub admin_prefix: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            origin: None,
            signing_key: Secret(String::new()),
            cookie: CookiePolicy::default(),
            policy: Policy::default(),
            defer: true,
            url_tokens: false,
            data_limit: MAX_DATA_LIMIT,
            admin_token: None,
            kill: KillPolicy::default(),
            start_url: None,
            end_url: None,
            app_start_url: None,
            app_name: "cfsession-edge".into(),
            app_timeout_s: 172_800,
            index_shards: 16,
            admin_prefix: "/__session/admin/".into(),
        }
    }
}

/// A secret value: redacted in `Debug`, compared in constant time.
#[derive(Clone, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret's bytes. Never log them.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Constant-time comparison with a presented value.
    pub fn matches(&self, presented: &str) -> bool {
        ct_eq(self.0.as_bytes(), presented.as_bytes())
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A configuration variable has a value the Worker cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable's name, e.g. `ORIGIN_URL`.
    pub variable: &'static str,
    /// What is wrong with it (never the value itself: it may be a secret).
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.variable, self.reason)
    }
}

impl std::error::Error for ConfigError {}

fn err(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { variable, reason: reason.into() }
}

impl Config {
    /// Builds the configuration from a variable lookup (the Worker passes `env.var`, which
    /// also sees secrets). Unset and empty variables take their defaults.
    ///
    /// # Errors
    /// The first variable whose value cannot be used.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut c = Config::default();
        if let Some(raw) = get("ORIGIN_URL") {
            c.origin = Some(parse_origin(&raw)?);
        }
        c.signing_key = match get("SESSION_SIGNING_KEY") {
            Some(k) if k.len() >= MIN_SECRET_LEN => Secret(k),
            Some(_) => return Err(err("SESSION_SIGNING_KEY", format!("must be at least {MIN_SECRET_LEN} characters"))),
            None => {
                return Err(err(
                    "SESSION_SIGNING_KEY",
                    "is not set (wrangler secret put SESSION_SIGNING_KEY; locally, .dev.vars)",
                ))
            }
        };
        c.admin_token = match get("ADMIN_TOKEN") {
            Some(t) if t.len() >= MIN_SECRET_LEN => Some(Secret(t)),
            Some(_) => return Err(err("ADMIN_TOKEN", format!("must be at least {MIN_SECRET_LEN} characters"))),
            None => None,
        };
        if let Some(v) = get("COOKIE_SECURE") {
            c.cookie.secure = parse_bool("COOKIE_SECURE", &v)?;
        }
        if let Some(v) = get("COOKIE_DOMAIN") {
            c.cookie.domain = Some(parse_domain(&v)?);
        }
        if let Some(v) = get("COOKIE_EXPIRY") {
            c.cookie.expiry = match v.to_ascii_lowercase().as_str() {
                "session" => CookieExpiry::Session,
                "sliding" => CookieExpiry::Sliding,
                "classic" => CookieExpiry::Classic,
                _ => return Err(err("COOKIE_EXPIRY", "must be session, sliding or classic")),
            };
        }
        if let Some(v) = get("SESSION_TIMEOUT") {
            c.policy.idle_timeout_s = parse_u64("SESSION_TIMEOUT", &v, 1, MAX_TIMEOUT_S)?;
        }
        if let Some(v) = get("SESSION_MAX_LIFETIME") {
            c.policy.max_lifetime_s = parse_u64("SESSION_MAX_LIFETIME", &v, 0, 10 * 365 * 24 * 3600)?;
        }
        if let Some(v) = get("TOUCH_INTERVAL") {
            c.policy.touch_interval_s = parse_u64("TOUCH_INTERVAL", &v, 0, 24 * 3600)?;
        }
        if let Some(v) = get("SESSION_HITS") {
            c.policy.count_hits = parse_bool("SESSION_HITS", &v)?;
        }
        if let Some(v) = get("SESSION_DEFER") {
            c.defer = parse_bool("SESSION_DEFER", &v)?;
        }
        if let Some(v) = get("URL_TOKENS") {
            c.url_tokens = parse_bool("URL_TOKENS", &v)?;
        }
        if let Some(v) = get("SESSION_DATA_LIMIT") {
            c.data_limit = usize::try_from(parse_u64("SESSION_DATA_LIMIT", &v, 2, MAX_DATA_LIMIT as u64)?)
                .unwrap_or(MAX_DATA_LIMIT);
        }
        parse_kill(&get, &mut c.kill)?;
        c.start_url =
            get("SESSION_START_URL").map(|v| hook_url("SESSION_START_URL", &v, c.origin.as_ref())).transpose()?;
        c.end_url = get("SESSION_END_URL").map(|v| hook_url("SESSION_END_URL", &v, c.origin.as_ref())).transpose()?;
        c.app_start_url = get("APPLICATION_START_URL")
            .map(|v| hook_url("APPLICATION_START_URL", &v, c.origin.as_ref()))
            .transpose()?;
        if let Some(v) = get("APP_NAME") {
            if v.len() > 128 || v.chars().any(char::is_control) {
                return Err(err("APP_NAME", "must be 1-128 printable characters"));
            }
            c.app_name = v;
        }
        if let Some(v) = get("APPLICATION_TIMEOUT") {
            c.app_timeout_s = parse_u64("APPLICATION_TIMEOUT", &v, 1, 365 * 24 * 3600)?;
        }
        if let Some(v) = get("ADMIN_PREFIX") {
            let ok = v.len() > 2
                && v.starts_with('/')
                && v.ends_with('/')
                && !v.starts_with("//")
                && !v.contains(['?', '#', ' ']);
            if !ok {
                return Err(err(
                    "ADMIN_PREFIX",
                    "must be a path that starts and ends with /, such as /__session/admin/",
                ));
            }
            c.admin_prefix = v;
        }
        if let Some(v) = get("INDEX_SHARDS") {
            c.index_shards = u32::try_from(parse_u64("INDEX_SHARDS", &v, 1, 256)?).unwrap_or(16);
        }
        Ok(c)
    }
}

/// The `KILL_*` settings. `KILL_PARAM=off` and `KILL_PATH=off` turn those triggers off.
fn parse_kill(get: &dyn Fn(&str) -> Option<String>, k: &mut KillPolicy) -> Result<(), ConfigError> {
    if let Some(v) = get("KILL_PARAM") {
        k.param = match v.as_str() {
            off if off.eq_ignore_ascii_case("off") => None,
            name if name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)) => Some(name.to_owned()),
            _ => return Err(err("KILL_PARAM", "must be a parameter name (letters, digits, _ - .) or off")),
        };
    }
    if let Some(v) = get("KILL_PATH") {
        k.path = match v.as_str() {
            off if off.eq_ignore_ascii_case("off") => None,
            p if p.starts_with('/') && !p.starts_with("//") && !p.contains(['?', '#', ' ']) => Some(p.to_owned()),
            _ => return Err(err("KILL_PATH", "must be a path starting with / (or off)")),
        };
    }
    if let Some(v) = get("KILL_REDIRECT") {
        let is_path = v.starts_with('/') && !v.starts_with("//");
        let is_url = Url::parse(&v).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !(is_path || is_url) || v.contains(['\r', '\n']) {
            return Err(err("KILL_REDIRECT", "must be a path starting with / or an absolute http(s) URL"));
        }
        k.redirect = Some(v);
    }
    if let Some(v) = get("KILL_COOKIES") {
        let names: Vec<String> = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let token = |n: &String| n.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
        if names.is_empty() || !names.iter().all(token) {
            return Err(err("KILL_COOKIES", "must be a comma-separated list of cookie names"));
        }
        k.cookies = names;
    }
    if let Some(v) = get("KILL_CLEAR_SITE_DATA") {
        k.clear_site_data = parse_bool("KILL_CLEAR_SITE_DATA", &v)?;
    }
    if let Some(v) = get("KILL_METHODS") {
        const KNOWN: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
        let methods: Vec<String> =
            v.split(',').map(|m| m.trim().to_ascii_uppercase()).filter(|m| !m.is_empty()).collect();
        if methods.is_empty() || !methods.iter().all(|m| KNOWN.contains(&m.as_str())) {
            return Err(err("KILL_METHODS", "must be a comma-separated list of GET, HEAD, POST, PUT, PATCH, DELETE"));
        }
        k.methods = methods;
    }
    Ok(())
}

fn parse_origin(raw: &str) -> Result<Url, ConfigError> {
    let bad = |reason: &str| err("ORIGIN_URL", reason);
    let url = Url::parse(raw).map_err(|_| bad("must be an absolute http:// or https:// URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad("must be an absolute http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query string or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain credentials"));
    }
    Ok(url)
}

/// A hook URL: absolute http(s), or relative to `ORIGIN_URL` (resolved like a link).
fn hook_url(variable: &'static str, raw: &str, origin: Option<&Url>) -> Result<Url, ConfigError> {
    let url = match Url::parse(raw) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => match origin {
            Some(o) => o.join(raw).map_err(|_| err(variable, "must be an http(s) URL or a path"))?,
            None => return Err(err(variable, "is relative, which needs ORIGIN_URL; use an absolute http(s) URL")),
        },
        Err(_) => return Err(err(variable, "must be an http(s) URL or a path")),
    };
    if matches!(url.scheme(), "http" | "https") && url.host().is_some() {
        Ok(url)
    } else {
        Err(err(variable, "must be an http(s) URL or a path"))
    }
}

fn parse_bool(variable: &'static str, raw: &str) -> Result<bool, ConfigError> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(err(variable, "must be true or false")),
    }
}

fn parse_u64(variable: &'static str, raw: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    match raw.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(err(variable, format!("must be a whole number from {min} to {max}"))),
    }
}

fn parse_domain(raw: &str) -> Result<String, ConfigError> {
    let d = raw.trim_start_matches('.').to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && !d.contains("..")
        && !d.ends_with('.')
        && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if ok {
        Ok(d)
    } else {
        Err(err("COOKIE_DOMAIN", "must be a host name such as example.com"))
    }
}

#[cfg(test)]
mod tests;
