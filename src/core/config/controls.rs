//! The session controls' settings: hijack detection, per-path modes, AJAX ends,
//! jurisdiction, abuse limits and the test-only client header.

use url::Url;

use super::{
    error::{err, ConfigError},
    parse::{parse_bool, parse_u64, Vars},
};
use crate::core::{
    ajax::AjaxEnds,
    faults,
    fingerprint::FingerprintPolicy,
    session_policy::{PathCase, SessionPolicy},
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

/// The session controls' settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controls {
    /// `SESSION_POLICY` and `PATH_CASE`: per-path timeouts and modes (none by default).
    pub session_policy: SessionPolicy,
    /// `SESSION_FINGERPRINT` and `FINGERPRINT_THRESHOLD`: hijack detection.
    pub fingerprint: FingerprintPolicy,
    /// `AJAX_ENDS`: what a non-navigation request whose session ended gets.
    pub ajax_ends: AjaxEnds,
    /// `SESSION_JURISDICTION`: where every Durable Object is created (`None`: anywhere).
    pub jurisdiction: Option<Jurisdiction>,
    /// `ABUSE_LIMITS`: per-client-address limits on new stored sessions and refused ids
    /// (the `NEW_SESSION_LIMIT` and `REFUSED_LIMIT` rate-limiting bindings).
    pub abuse_limits: bool,
    /// `TEST_CLIENT_HEADER`: the client's address, country and ASN come from the
    /// `X-Test-Client` header (tests only: refused unless `ORIGIN_URL` is a loopback address).
    pub test_client_header: bool,
}

impl Default for Controls {
    fn default() -> Self {
        Self {
            session_policy: SessionPolicy::default(),
            fingerprint: FingerprintPolicy::default(),
            ajax_ends: AjaxEnds::Unauthorized,
            jurisdiction: None,
            abuse_limits: true,
            test_client_header: false,
        }
    }
}

impl Controls {
    /// Reads the controls' variables, given `ORIGIN_URL` already read.
    pub(super) fn parse(get: Vars, origin: Option<&Url>) -> Result<Self, ConfigError> {
        let mut c = Self::default();
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
        c.session_policy = SessionPolicy::parse(&get("SESSION_POLICY").unwrap_or_default(), case)
            .map_err(|reason| err("SESSION_POLICY", reason))?;
        if let Some(v) = get("AJAX_ENDS") {
            c.ajax_ends = AjaxEnds::parse(&v).map_err(|reason| err("AJAX_ENDS", reason))?;
        }
        c.jurisdiction = Jurisdiction::parse(&get("SESSION_JURISDICTION").unwrap_or_default())?;
        if let Some(v) = get("ABUSE_LIMITS") {
            c.abuse_limits = parse_bool("ABUSE_LIMITS", &v)?;
        }
        if let Some(v) = get("TEST_CLIENT_HEADER") {
            c.test_client_header = parse_bool("TEST_CLIENT_HEADER", &v)?;
            if c.test_client_header && !origin.is_some_and(faults::is_loopback) {
                return Err(err("TEST_CLIENT_HEADER", "is for tests only: it needs ORIGIN_URL on a loopback address"));
            }
        }
        Ok(c)
    }
}
