//! Readiness (`GET /__session/ready`): whether this edge can serve sessions now — its
//! configuration is valid, a session object and an index shard answer — as a small JSON
//! document for an external monitor (`200` ready, `503` not). It never holds a secret, a
//! variable's value or a session.

use serde::Serialize;

use super::config::{Config, ConfigError};

/// The path of the readiness check (never forwarded to the origin).
pub const READY_PATH: &str = "/__session/ready";

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `config`, `session_object` or `index`.
    pub name: &'static str,
    pub ok: bool,
    /// Why it failed (the edge's public error text: names a variable, never its value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long the round trip took (ms), for the object checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
}

/// The readiness answer: `ready` when every check passed. `warnings` do not make it unready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub checks: Vec<Check>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Readiness {
    pub fn new(checks: Vec<Check>) -> Self {
        Self { ready: checks.iter().all(|c| c.ok), checks, warnings: Vec::new() }
    }

    /// The same, with `config`'s [`warnings`].
    pub fn warned_by(self, config: &Config) -> Self {
        Self { warnings: warnings(config), ..self }
    }

    /// `200` when ready, else `503`.
    pub fn status(&self) -> u16 {
        if self.ready {
            200
        } else {
            503
        }
    }
}

impl Check {
    /// The outcome of check `name` that took `ms` (`None` for checks without a round trip).
    pub fn of<E: std::fmt::Display>(name: &'static str, outcome: Result<(), E>, ms: Option<u64>) -> Self {
        match outcome {
            Ok(()) => Self { name, ok: true, error: None, ms },
            Err(e) => Self { name, ok: false, error: Some(e.to_string().trim_end().to_owned()), ms },
        }
    }
}

/// What an operator should know that does not stop the edge: optional features an invalid
/// value turned off, and variables that look like misspelled settings.
pub fn warnings(config: &Config) -> Vec<String> {
    let off = config.disabled.iter().map(ConfigError::named);
    off.chain(config.hints.iter().map(ToString::to_string)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_check_passed() {
        let ok = Check::of::<String>("config", Ok(()), None);
        let failed = Check::of("index", Err("session store unavailable, try again\n"), Some(8000));
        assert_eq!(Readiness::new(vec![ok.clone()]).status(), 200);
        let r = Readiness::new(vec![ok, failed]);
        assert_eq!((r.ready, r.status()), (false, 503));
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"ready":false,"checks":[{"name":"config","ok":true},{"name":"index","ok":false,"error":"session store unavailable, try again","ms":8000}]}"#
        );
    }
}
