//! The Worker's configuration: read once per request from `[vars]` and secrets, validated
//! into typed values. Every default lives in [`Config::default`]; every bad value becomes a
//! [`ConfigError`] that names the variable.

use std::fmt;

use url::Url;

/// Validated configuration. Build it with [`Config::from_lookup`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// `ORIGIN_URL`: where requests are forwarded. `None` (unset or empty) forwards to the
    /// request's own URL, the production pattern of a Worker on a route in front of its origin.
    pub origin: Option<Url>,
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
        write!(
            f,
            "invalid configuration: {}: {}",
            self.variable, self.reason
        )
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Builds the configuration from a variable lookup (the Worker passes `env.var`).
    /// Unset and empty variables take their defaults.
    ///
    /// # Errors
    /// The first variable whose value cannot be used.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut config = Config::default();
        if let Some(raw) = get("ORIGIN_URL") {
            config.origin = Some(parse_origin(&raw)?);
        }
        Ok(config)
    }
}

fn parse_origin(raw: &str) -> Result<Url, ConfigError> {
    let err = |reason: &str| ConfigError {
        variable: "ORIGIN_URL",
        reason: reason.to_owned(),
    };
    let url = Url::parse(raw).map_err(|_| err("must be an absolute http:// or https:// URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(err("must be an absolute http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(err("must not have a query string or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err("must not contain credentials"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        assert_eq!(Config::from_lookup(lookup(&[])).unwrap(), Config::default());
    }

    #[test]
    fn empty_origin_means_unset() {
        let c = Config::from_lookup(lookup(&[("ORIGIN_URL", "  ")])).unwrap();
        assert_eq!(c.origin, None);
    }

    #[test]
    fn origin_accepts_http_and_https_with_path_prefix() {
        for ok in ["http://127.0.0.1:8080", "https://example.com/app/"] {
            let c = Config::from_lookup(lookup(&[("ORIGIN_URL", ok)])).unwrap();
            assert!(c.origin.is_some(), "{ok}");
        }
    }

    #[test]
    fn origin_rejections_name_the_variable_and_hide_the_value() {
        for bad in [
            "not a url",
            "ftp://example.com",
            "/relative",
            "http://example.com/?q=1",
            "http://user:pw@example.com",
        ] {
            let e = Config::from_lookup(lookup(&[("ORIGIN_URL", bad)])).unwrap_err();
            assert_eq!(e.variable, "ORIGIN_URL");
            assert!(!e.to_string().contains(bad), "{e}");
        }
    }
}
