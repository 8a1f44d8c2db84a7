//! A configuration variable the Worker cannot use.

use std::fmt;

/// A configuration variable has a value the Worker cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable's name, e.g. `ORIGIN_URL`.
    pub variable: &'static str,
    /// What is wrong with it (never the value itself: it may be a secret).
    pub reason: String,
}

impl ConfigError {
    /// `VARIABLE: reason` (what a warning or an optional feature's refusal says).
    pub fn named(&self) -> String {
        format!("{}: {}", self.variable, self.reason)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}", self.named())
    }
}

impl std::error::Error for ConfigError {}

pub(crate) fn err(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { variable, reason: reason.into() }
}
