//! A live session as its Durable Object stores it, and the policy its timeouts follow.
//!
//! Timeouts:
//! - idle: a session ends when `now >= last_access + idle_timeout`. Every forwarded request
//!   counts as activity.
//! - absolute: a session ends when `now >= created + SESSION_MAX_LIFETIME` (when enabled).
//!
//! With hit counting off, `last_access` is persisted at most once per touch interval; if the
//! object is evicted, the idle deadline is computed from the persisted value, so a session may
//! end up to one touch interval *early*, never late.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    clock::UnixMs,
    config::{
        error::ConfigError,
        parse::{parse_bool, parse_u64, Vars},
    },
    end_reason::EndReason,
    fingerprint::{Fingerprint, Flag},
    guard::{response::CookieScope, OriginIds},
    protocol::MAX_TIMEOUT_S,
    session_policy::PathRule,
};

/// How long a session lives and how often it is written: `SESSION_TIMEOUT`,
/// `SESSION_MAX_LIFETIME`, `TOUCH_INTERVAL`, `SESSION_HITS`, and per request what its path
/// sets (`SESSION_POLICY`: [`Timing::for_path`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    /// `SESSION_TIMEOUT`, seconds.
    pub idle_timeout_s: u64,
    /// `SESSION_MAX_LIFETIME`, seconds; `0` disables the absolute timeout.
    pub max_lifetime_s: u64,
    /// `TOUCH_INTERVAL`, seconds.
    pub touch_interval_s: u64,
    /// `SESSION_HITS`: count every request exactly (one storage write per request).
    pub count_hits: bool,
    /// `SESSION_POLICY`: the idle timeout (seconds) this request's path sets on its session,
    /// if any (per request: see [`Timing::for_path`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_timeout_s: Option<u64>,
    /// `SESSION_POLICY` `norefresh`: this request does not count as activity (its session's
    /// idle deadline and sliding cookie stay as they were).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_refresh: bool,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            idle_timeout_s: 1200,
            max_lifetime_s: 43_200,
            touch_interval_s: 60,
            count_hits: false,
            path_timeout_s: None,
            no_refresh: false,
        }
    }
}

impl Timing {
    /// `SESSION_TIMEOUT`, `SESSION_MAX_LIFETIME`, `TOUCH_INTERVAL` (seconds) and `SESSION_HITS`.
    pub fn parse(get: Vars) -> Result<Self, ConfigError> {
        let mut t = Self::default();
        if let Some(v) = get("SESSION_TIMEOUT") {
            t.idle_timeout_s = parse_u64("SESSION_TIMEOUT", &v, 1, MAX_TIMEOUT_S)?;
        }
        if let Some(v) = get("SESSION_MAX_LIFETIME") {
            t.max_lifetime_s = parse_u64("SESSION_MAX_LIFETIME", &v, 0, 10 * 365 * 24 * 3600)?;
        }
        if let Some(v) = get("TOUCH_INTERVAL") {
            t.touch_interval_s = parse_u64("TOUCH_INTERVAL", &v, 0, 24 * 3600)?;
        }
        if let Some(v) = get("SESSION_HITS") {
            t.count_hits = parse_bool("SESSION_HITS", &v)?;
        }
        Ok(t)
    }

    /// This policy for a request under a `SESSION_POLICY` entry.
    pub fn for_path(self, rule: &PathRule) -> Self {
        Self { path_timeout_s: rule.timeout_s, no_refresh: rule.no_refresh, ..self }
    }
}

/// A deferred session (never stored) can be claimed at most this long after it was issued,
/// even with a longer `SESSION_TIMEOUT`; tombstones of ended sessions are kept at least this
/// long after creation, so an ended session can never be claimed again.
pub const MAX_CLAIM_WINDOW_MS: u64 = 24 * 3600 * 1000;

/// A live session as stored in its Durable Object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The session's CFID (an object cannot always learn its own name from the runtime).
    #[serde(default)]
    pub cfid: String,
    /// Hex SHA-256 of the CFTOKEN (see [`crate::core::ids::CfToken::fingerprint`]).
    pub token_fp: String,
    /// The session variables: a JSON object.
    pub data: Map<String, Value>,
    /// When the session started (ms); for a deferred session, when its ids were issued.
    pub created: UnixMs,
    /// The last request (ms); may be newer in memory than in storage.
    pub last_access: UnixMs,
    /// `last_access` as of the last write (ms).
    pub persisted_access: UnixMs,
    /// Requests in this session, this one included.
    pub hits: u64,
    /// This session's idle timeout (seconds): `SESSION_TIMEOUT` unless the origin set one.
    pub idle_timeout_s: u64,
    /// `created + SESSION_MAX_LIFETIME`, or `None` when disabled.
    pub absolute_deadline: Option<UnixMs>,
    /// The user id the origin tagged the session with (`X-Session-User`).
    pub user: Option<String>,
    /// How many times this record was written to storage (observability for the write budget).
    pub writes: u64,
    /// The session's stable key for hook events: its first CFID, kept through rotations
    /// (empty in records stored before it existed: then `cfid`).
    #[serde(default)]
    pub session_key: String,
    /// When the current token was issued (ms): later than `created` after a rotation
    /// (0 in records stored before it existed: then `created`).
    #[serde(default)]
    pub issued_at: UnixMs,
    /// Guard mode: the origin's session cookies this session guards (never shown; sent only
    /// to `ORIGIN_KILL_URL` when the session ends). Empty in edge mode.
    #[serde(default, skip_serializing_if = "OriginIds::is_empty")]
    pub origin_cookies: OriginIds,
    /// Guard mode: where the application set those cookies (`Path`, `Domain`), so that a kill
    /// deletes each where it lives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origin_scopes: Vec<CookieScope>,
    /// What the client said about itself on the session's first stored request ("your
    /// sessions" lists show it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientHints>,
    /// `SESSION_FINGERPRINT`: what the client looked like when the session was stored (or
    /// last rotated for a fingerprint change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
    /// The highest fingerprint change seen so far, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<Flag>,
}

/// Client hints kept with a session: its user agent (at most [`ClientHints::MAX_UA`] bytes)
/// and the platform's two-letter country code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientHints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl ClientHints {
    pub const MAX_UA: usize = 200;

    /// The hints from a request's `User-Agent` and country; `None` when it gives neither.
    /// Control characters are dropped, the agent is cut at a character boundary, and a country
    /// that is not two ASCII letters is ignored.
    pub fn new(user_agent: Option<&str>, country: Option<&str>) -> Option<Self> {
        let user_agent = user_agent.map(|ua| {
            let mut out = String::new();
            for c in ua.chars().filter(|c| !c.is_control()) {
                if out.len() + c.len_utf8() > Self::MAX_UA {
                    break;
                }
                out.push(c);
            }
            out
        });
        let user_agent = user_agent.filter(|ua| !ua.is_empty());
        let country =
            country.filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic())).map(str::to_ascii_uppercase);
        (user_agent.is_some() || country.is_some()).then_some(Self { user_agent, country })
    }
}

impl SessionRecord {
    /// A new session issued at `created`, stored now. `hits` is 1 for a session stored on its
    /// first request, and counts the unstored first request when a deferred session is claimed.
    pub fn new(token_fp: String, created: UnixMs, now: UnixMs, policy: &Timing) -> Self {
        let absolute_deadline =
            (policy.max_lifetime_s > 0).then(|| created.saturating_add(policy.max_lifetime_s * 1000));
        Self {
            cfid: String::new(),
            token_fp,
            data: Map::new(),
            created,
            last_access: now,
            persisted_access: now,
            hits: 1,
            idle_timeout_s: policy.idle_timeout_s,
            absolute_deadline,
            user: None,
            writes: 0,
            session_key: String::new(),
            issued_at: created,
            origin_cookies: OriginIds::default(),
            origin_scopes: Vec::new(),
            client: None,
            fingerprint: None,
            flag: None,
        }
    }

    /// The stable key of this session (see [`SessionRecord::session_key`]), given its CFID.
    pub fn session_key<'a>(&'a self, cfid: &'a str) -> &'a str {
        if !self.session_key.is_empty() {
            &self.session_key
        } else if !self.cfid.is_empty() {
            &self.cfid
        } else {
            cfid
        }
    }

    /// When the current token was issued (ms).
    pub fn token_issued_at(&self) -> UnixMs {
        self.issued_at.max(self.created)
    }

    /// When the idle timeout ends the session (ms).
    pub fn idle_deadline(&self) -> UnixMs {
        self.last_access.saturating_add(self.idle_timeout_s.saturating_mul(1000))
    }

    /// The earlier of the idle and absolute deadlines (ms).
    pub fn next_deadline(&self) -> UnixMs {
        self.absolute_deadline.map_or(self.idle_deadline(), |a| a.min(self.idle_deadline()))
    }

    /// Why the session has ended at `now`, if it has. When both deadlines passed, the one
    /// that passed first is the reason.
    pub fn expired(&self, now: UnixMs) -> Option<EndReason> {
        let idle = self.idle_deadline();
        match self.absolute_deadline {
            Some(abs) if now >= abs && abs <= idle => Some(EndReason::Lifetime),
            _ if now >= idle => Some(EndReason::Timeout),
            Some(abs) if now >= abs => Some(EndReason::Lifetime),
            _ => None,
        }
    }

    /// Records a request at `now`. Returns whether to write the record and whether the
    /// browser's sliding cookie is due a refresh.
    /// A `norefresh` request (see [`Timing::no_refresh`]) only counts the hit.
    pub fn touch(&mut self, now: UnixMs, policy: &Timing) -> Touch {
        self.hits = self.hits.saturating_add(1);
        if policy.no_refresh {
            return Touch { persist: policy.count_hits, refresh_cookie: false };
        }
        self.last_access = self.last_access.max(now);
        let interval = self.touch_interval_ms(policy);
        let due = now.saturating_sub(self.persisted_access) >= interval;
        let persist = policy.count_hits || due;
        if persist {
            self.persisted_access = self.last_access;
        }
        Touch { persist, refresh_cookie: due }
    }

    /// The touch interval, never more than half the idle timeout (so a session in steady use
    /// cannot time out between two persisted accesses).
    fn touch_interval_ms(&self, policy: &Timing) -> u64 {
        (policy.touch_interval_s.saturating_mul(1000)).min(self.idle_timeout_s.saturating_mul(500))
    }
}

/// What a request did to a live session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    /// The record must be written.
    pub persist: bool,
    /// The touch interval passed since the last write: refresh a sliding cookie.
    pub refresh_cookie: bool,
}
