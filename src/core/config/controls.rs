//! The session controls' settings: hijack detection, per-path modes, AJAX ends, key
//! rotation, jurisdiction, abuse limits and the per-user session cap's policy.

use super::{
    err, origin_key,
    parse::{parse_bool, parse_u64},
    Config, ConfigError, Secret, MIN_SECRET_LEN,
};
use crate::core::{
    ajax::AjaxEnds,
    faults,
    fingerprint::FingerprintPolicy,
    ids::TokenKey,
    index::MaxSessionsPolicy,
    path_policy::{PathCase, PathPolicy},
};

/// Where the Durable Objects live (`SESSION_JURISDICTION`): every session, index, user and
/// application object is created in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jurisdiction {
    Eu,
    Fedramp,
}

impl Jurisdiction {
    /// The platform's name for it (`namespace.jurisdiction(name)`).
    pub fn as_str(self) -> &'static str {
        match self {
            Jurisdiction::Eu => "eu",
            Jurisdiction::Fedramp => "fedramp",
        }
    }

    /// Parses `SESSION_JURISDICTION` (`eu`, `fedramp`; empty or `none`: no restriction).
    pub fn parse(raw: &str) -> Result<Option<Self>, ConfigError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "" | "none" => Ok(None),
            "eu" => Ok(Some(Self::Eu)),
            "fedramp" => Ok(Some(Self::Fedramp)),
            _ => Err(err("SESSION_JURISDICTION", "must be eu or fedramp (or empty)")),
        }
    }
}

/// Reads the controls' variables into `c` (after the signing key and `ORIGIN_URL`).
pub(super) fn parse_controls(get: &dyn Fn(&str) -> Option<String>, c: &mut Config) -> Result<(), ConfigError> {
    if let Some(v) = get("SESSION_FINGERPRINT") {
        c.fingerprint.action =
            FingerprintPolicy::parse_action(&v).map_err(|reason| err("SESSION_FINGERPRINT", reason))?;
    }
    if let Some(v) = get("FINGERPRINT_THRESHOLD") {
        c.fingerprint.threshold = u32::try_from(parse_u64("FINGERPRINT_THRESHOLD", &v, 1, 100)?).unwrap_or(5);
    }
    let case = match get("PATH_CASE").map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("insensitive") => PathCase::Insensitive,
        Some("sensitive") => PathCase::Sensitive,
        Some(_) => return Err(err("PATH_CASE", "must be insensitive or sensitive")),
    };
    c.paths = PathPolicy::parse(&get("SESSION_POLICY").unwrap_or_default(), case)
        .map_err(|reason| err("SESSION_POLICY", reason))?;
    c.bypass = std::mem::take(&mut c.bypass).with_case(case);
    if let Some(v) = get("AJAX_ENDS") {
        c.ajax_ends = AjaxEnds::parse(&v).map_err(|reason| err("AJAX_ENDS", reason))?;
    }
    let previous = match get("SESSION_SIGNING_KEY_PREVIOUS") {
        None => None,
        Some(k) if k.len() < MIN_SECRET_LEN => {
            return Err(err("SESSION_SIGNING_KEY_PREVIOUS", format!("must be at least {MIN_SECRET_LEN} characters")))
        }
        Some(k) if c.signing_key.matches(&k) => {
            return Err(err("SESSION_SIGNING_KEY_PREVIOUS", "is the same as SESSION_SIGNING_KEY"))
        }
        Some(k) => Some(k),
    };
    c.previous_token_key = previous.as_ref().map(|k| TokenKey::derive(k.as_bytes()));
    c.previous_origin_key = previous.as_ref().map(|k| Secret(origin_key(k.as_bytes())));
    c.jurisdiction = Jurisdiction::parse(&get("SESSION_JURISDICTION").unwrap_or_default())?;
    if let Some(v) = get("ABUSE_LIMITS") {
        c.abuse_limits = parse_bool("ABUSE_LIMITS", &v)?;
    }
    if let Some(v) = get("MAX_SESSIONS_POLICY") {
        c.max_sessions_policy = match v.to_ascii_lowercase().as_str() {
            "evict-oldest" => MaxSessionsPolicy::EvictOldest,
            "refuse" => MaxSessionsPolicy::Refuse,
            _ => return Err(err("MAX_SESSIONS_POLICY", "must be evict-oldest or refuse")),
        };
    }
    if let Some(v) = get("TEST_CLIENT_HEADER") {
        c.test_client_header = parse_bool("TEST_CLIENT_HEADER", &v)?;
        if c.test_client_header && !c.origin.as_ref().is_some_and(faults::is_loopback) {
            return Err(err("TEST_CLIENT_HEADER", "is for tests only: it needs ORIGIN_URL on a loopback address"));
        }
    }
    Ok(())
}
