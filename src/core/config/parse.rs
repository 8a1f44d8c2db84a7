//! Parsers for single configuration values, for every concern's `parse`. Each returns a
//! [`ConfigError`] naming the variable (never its value).

use url::Url;

use super::error::{err, ConfigError};

/// How the configuration reads a variable: its trimmed value, `None` when unset or empty.
pub type Vars<'a> = &'a dyn Fn(&str) -> Option<String>;

pub(crate) fn parse_origin(raw: &str) -> Result<Url, ConfigError> {
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
pub(crate) fn hook_url(variable: &'static str, raw: &str, origin: Option<&Url>) -> Result<Url, ConfigError> {
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

pub(crate) fn parse_bool(variable: &'static str, raw: &str) -> Result<bool, ConfigError> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(err(variable, "must be true or false")),
    }
}

pub(crate) fn parse_u64(variable: &'static str, raw: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    match raw.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(err(variable, format!("must be a whole number from {min} to {max}"))),
    }
}

pub(crate) fn parse_domain(raw: &str) -> Result<String, ConfigError> {
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

/// A comma-separated list of cookie names (`KILL_COOKIES`, `GUARD_COOKIES`).
pub(crate) fn parse_cookie_names(variable: &'static str, raw: &str) -> Result<Vec<String>, ConfigError> {
    let names: Vec<String> = raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let token = |n: &String| n.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
    if names.is_empty() || !names.iter().all(token) {
        return Err(err(variable, "must be a comma-separated list of cookie names"));
    }
    Ok(names)
}
