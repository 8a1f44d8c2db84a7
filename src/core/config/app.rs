//! The application (ColdFusion's `this.name` and `applicationTimeout`): `APP_NAME` and
//! `APPLICATION_TIMEOUT`.

use super::{
    error::{err, ConfigError},
    parse::{parse_u64, Vars},
};

/// The application's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// `APP_NAME`: the application; names its state object (default `cfsession-edge`).
    pub name: String,
    /// `APPLICATION_TIMEOUT`: seconds without requests after which the application restarts
    /// (ColdFusion's `applicationTimeout`, two days by default).
    pub timeout_s: u64,
}

impl Default for App {
    fn default() -> Self {
        Self { name: "cfsession-edge".into(), timeout_s: 172_800 }
    }
}

impl App {
    /// `APP_NAME` (1-128 printable characters) and `APPLICATION_TIMEOUT` (1 s to a year).
    pub(super) fn parse(get: Vars) -> Result<Self, ConfigError> {
        let mut a = Self::default();
        if let Some(v) = get("APP_NAME") {
            if v.len() > 128 || v.chars().any(char::is_control) {
                return Err(err("APP_NAME", "must be 1-128 printable characters"));
            }
            a.name = v;
        }
        if let Some(v) = get("APPLICATION_TIMEOUT") {
            a.timeout_s = parse_u64("APPLICATION_TIMEOUT", &v, 1, 365 * 24 * 3600)?;
        }
        Ok(a)
    }
}
