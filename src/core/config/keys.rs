//! The keys: `SESSION_SIGNING_KEY` (secret), what is derived from it, the previous key of a
//! rotation (`SESSION_SIGNING_KEY_PREVIOUS`) and `SIGNATURE_LEGACY`, parsed together.

use super::{
    error::{err, ConfigError},
    parse::{parse_bool, Vars},
    secret::{origin_key, Secret, MIN_SECRET_LEN},
};
use crate::core::ids::TokenKey;

/// The signing keys and what is derived from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// `SESSION_SIGNING_KEY` (secret): the edge's own key. CFTOKEN MACs are keyed from it; it
    /// never leaves the edge.
    pub signing: Secret,
    /// The origin's key, derived one-way from the signing key: signs what the origin receives
    /// (requests, hooks). Holding it verifies but cannot mint a CFTOKEN. See [`origin_key`].
    pub origin: Secret,
    /// The CFTOKEN key, derived from the signing key once, with the configuration.
    pub token: TokenKey,
    /// `SIGNATURE_LEGACY`: also sign with the signing key itself (`v1=`), for origins not yet
    /// moved to the origin key (`v2=`). A migration aid: off by default.
    pub legacy: bool,
    /// `SESSION_SIGNING_KEY_PREVIOUS` (secret): the CFTOKEN key of the previous signing key,
    /// whose tokens and bindings are still accepted and re-minted under the current key.
    pub previous_token: Option<TokenKey>,
    /// The origin key of `SESSION_SIGNING_KEY_PREVIOUS`: origin-API calls signed with it are
    /// accepted during the overlap (the edge signs with the current origin key only).
    pub previous_origin: Option<Secret>,
}

impl Default for Keys {
    /// No key: [`Keys::parse`] requires `SESSION_SIGNING_KEY`.
    fn default() -> Self {
        Self {
            signing: Secret(String::new()),
            origin: Secret(String::new()),
            token: TokenKey::derive(b""),
            legacy: false,
            previous_token: None,
            previous_origin: None,
        }
    }
}

impl Keys {
    /// `SESSION_SIGNING_KEY` (required, at least [`MIN_SECRET_LEN`] characters),
    /// `SESSION_SIGNING_KEY_PREVIOUS` (optional, as long, not the same) and `SIGNATURE_LEGACY`.
    pub(super) fn parse(get: Vars) -> Result<Self, ConfigError> {
        let signing = match get("SESSION_SIGNING_KEY") {
            Some(k) if k.len() >= MIN_SECRET_LEN => Secret(k),
            Some(_) => return Err(err("SESSION_SIGNING_KEY", format!("must be at least {MIN_SECRET_LEN} characters"))),
            None => {
                return Err(err(
                    "SESSION_SIGNING_KEY",
                    "is not set (wrangler secret put SESSION_SIGNING_KEY; locally, .dev.vars)",
                ))
            }
        };
        let legacy = get("SIGNATURE_LEGACY").map(|v| parse_bool("SIGNATURE_LEGACY", &v)).transpose()?.unwrap_or(false);
        let previous = match get("SESSION_SIGNING_KEY_PREVIOUS") {
            None => None,
            Some(k) if k.len() < MIN_SECRET_LEN => {
                return Err(err(
                    "SESSION_SIGNING_KEY_PREVIOUS",
                    format!("must be at least {MIN_SECRET_LEN} characters"),
                ))
            }
            Some(k) if signing.matches(&k) => {
                return Err(err("SESSION_SIGNING_KEY_PREVIOUS", "is the same as SESSION_SIGNING_KEY"))
            }
            Some(k) => Some(k),
        };
        Ok(Self {
            origin: Secret(origin_key(signing.expose())),
            token: TokenKey::derive(signing.expose()),
            legacy,
            previous_token: previous.as_ref().map(|k| TokenKey::derive(k.as_bytes())),
            previous_origin: previous.as_ref().map(|k| Secret(origin_key(k.as_bytes()))),
            signing,
        })
    }
}
