//! The admin API and dashboard: `ADMIN_TOKEN` (secret; optional: an invalid value turns the
//! admin off) and `ADMIN_PREFIX`.

use super::{
    error::{err, ConfigError},
    parse::Vars,
    secret::{Secret, MIN_SECRET_LEN},
};

/// The admin's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// `ADMIN_TOKEN` (secret): the admin API's bearer token; `None` turns the admin off.
    pub token: Option<Secret>,
    /// `ADMIN_PREFIX`: where the admin dashboard lives (its API under `<prefix>api/`). Paths
    /// under it are never forwarded to the origin.
    pub prefix: String,
}

impl Default for Admin {
    /// Off, under `/__session/admin/`.
    fn default() -> Self {
        Self { token: None, prefix: "/__session/admin/".into() }
    }
}

impl Admin {
    /// `ADMIN_TOKEN` (at least [`MIN_SECRET_LEN`] characters, else the admin is off and the
    /// error pushed to `disabled`) and `ADMIN_PREFIX` (a path that starts and ends with `/`).
    pub(super) fn parse(get: Vars, disabled: &mut Vec<ConfigError>) -> Result<Self, ConfigError> {
        let token = match get("ADMIN_TOKEN") {
            Some(t) if t.len() >= MIN_SECRET_LEN => Some(Secret(t)),
            Some(_) => {
                let why = format!("must be at least {MIN_SECRET_LEN} characters: the admin API and dashboard are off");
                disabled.push(err("ADMIN_TOKEN", why));
                None
            }
            None => None,
        };
        let mut a = Self { token, ..Self::default() };
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
            a.prefix = v;
        }
        Ok(a)
    }
}
