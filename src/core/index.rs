//! The session index: Durable Objects cannot be listed, so live sessions are recorded in
//! `INDEX_SHARDS` index objects (SQLite), chosen by CFID, and in one object per user id.
//! Why this design: `docs/architecture.md` ("The session index").

use serde::{Deserialize, Serialize};

use super::{
    clock::UnixMs,
    config::{
        error::{err, ConfigError},
        parse::{parse_u64, Vars},
    },
    end_reason::EndReason,
};

/// One live session in an index shard (never the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub cfid: String,
    pub created: UnixMs,
    pub last_access: UnixMs,
    pub expires_at: UnixMs,
    pub hits: u64,
    pub user: Option<String>,
    /// The session's highest fingerprint change score, if flagged (`SESSION_FINGERPRINT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<u32>,
}

/// A recently ended session, for the admin's ended-session log (the seeds' `log.cfm`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedEntry {
    pub cfid: String,
    pub reason: EndReason,
    /// When it ended (ms).
    pub at: UnixMs,
    pub user: Option<String>,
}

/// How many live sessions a user may have (`MAX_SESSIONS_PER_USER`), and what a login
/// beyond that does (`MAX_SESSIONS_POLICY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionsPerUser {
    /// `MAX_SESSIONS_PER_USER`: at most this many live sessions per user id. `None` (`off`,
    /// the default): no limit.
    pub max: Option<u32>,
    /// `MAX_SESSIONS_POLICY`: `evict-oldest` (default) or `refuse`.
    pub policy: MaxSessionsPolicy,
}

impl SessionsPerUser {
    /// `MAX_SESSIONS_PER_USER` (1-1000 or `off`) and `MAX_SESSIONS_POLICY`.
    pub fn parse(get: Vars) -> Result<Self, ConfigError> {
        let mut s = Self::default();
        if let Some(v) = get("MAX_SESSIONS_PER_USER").filter(|v| v != "off") {
            s.max = u32::try_from(parse_u64("MAX_SESSIONS_PER_USER", &v, 1, 1000)?).ok();
        }
        if let Some(v) = get("MAX_SESSIONS_POLICY") {
            s.policy = match v.to_ascii_lowercase().as_str() {
                "evict-oldest" => MaxSessionsPolicy::EvictOldest,
                "refuse" => MaxSessionsPolicy::Refuse,
                _ => return Err(err("MAX_SESSIONS_POLICY", "must be evict-oldest or refuse")),
            };
        }
        Ok(s)
    }
}

/// What a login beyond `MAX_SESSIONS_PER_USER` does (`MAX_SESSIONS_POLICY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MaxSessionsPolicy {
    /// The user's oldest other session ends (reason `replaced`).
    #[default]
    EvictOldest,
    /// The new login is refused: the session stays as it was, without the user, and the
    /// client gets `409` (see `docs/origin-protocol.md`, "Too many sessions").
    Refuse,
}

/// The sessions to end so that a user keeps at most `max` once `keeping` is tagged: the
/// oldest by tag time (then by CFID), never `keeping` itself. `tagged` lists the user's
/// sessions with the time each was tagged (ms), `keeping` included.
pub fn over_limit(tagged: &[(String, UnixMs)], keeping: &str, max: usize) -> Vec<String> {
    let excess = tagged.len().saturating_sub(max.max(1));
    let mut others: Vec<&(String, UnixMs)> = tagged.iter().filter(|(cfid, _)| cfid != keeping).collect();
    others.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    others.into_iter().take(excess).map(|(cfid, _)| cfid.clone()).collect()
}

/// Ended entries each shard keeps (the oldest go first).
pub const ENDED_PER_SHARD: u32 = 200;

/// The name of the index shard that records `cfid`. CFIDs are random, so the first 32 bits
/// spread sessions evenly.
pub fn shard_for(cfid: &str, shards: u32) -> String {
    let n = cfid.get(..8).and_then(|h| u32::from_str_radix(h, 16).ok()).unwrap_or(0);
    format!("shard-{}", n % shards.max(1))
}

/// The name of a user's index object.
pub fn user_object(user: &str) -> String {
    format!("user:{user}")
}

/// A page of a shard's entries, in CFID order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub items: Vec<IndexEntry>,
    /// The CFID to continue after, when there may be more.
    pub next: Option<String>,
}

/// A cursor over all shards: `<shard number>:<last CFID>`, opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub shard: u32,
    pub after: Option<String>,
}

impl Cursor {
    pub fn start() -> Self {
        Self { shard: 0, after: None }
    }

    /// Parses a cursor a client sent back; `None` for anything this edge did not produce.
    pub fn parse(s: &str) -> Option<Self> {
        let (shard, after) = s.split_once(':')?;
        let shard = shard.parse().ok()?;
        let after = (!after.is_empty()).then(|| after.to_owned());
        if after.as_deref().is_some_and(|a| a.len() != 32 || !a.bytes().all(|b| b.is_ascii_hexdigit())) {
            return None;
        }
        Some(Self { shard, after })
    }

    pub fn encode(&self) -> String {
        format!("{}:{}", self.shard, self.after.as_deref().unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_in_range() {
        assert_eq!(shard_for("0000000a0000000000000000000000000", 16), "shard-10");
        assert_eq!(shard_for("ffffffff", 16), "shard-15");
        assert_eq!(shard_for("zz", 16), "shard-0");
        assert_eq!(shard_for("00000005", 1), "shard-0");
    }

    #[test]
    fn cursors_roundtrip_and_reject_garbage() {
        let c = Cursor { shard: 3, after: Some("0123456789abcdef0123456789abcdef".into()) };
        assert_eq!(Cursor::parse(&c.encode()), Some(c));
        assert_eq!(Cursor::parse("2:"), Some(Cursor { shard: 2, after: None }));
        for bad in ["", "x:y", "1:'; drop table", "1:abc", "-1:"] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn over_the_limit_the_oldest_others_go_and_the_new_session_stays() {
        let tagged = |v: &[(&str, u64)]| v.iter().map(|(c, t)| (c.to_string(), *t)).collect::<Vec<_>>();
        let t = tagged(&[("c", 30), ("a", 10), ("b", 20), ("new", 5)]);
        assert_eq!(over_limit(&t, "new", 2), vec!["a", "b"]);
        assert_eq!(over_limit(&t, "new", 4), Vec::<String>::new());
        assert_eq!(over_limit(&t, "new", 1), vec!["a", "b", "c"]);
        assert_eq!(over_limit(&t, "new", 0), vec!["a", "b", "c"], "0 counts as 1: the new session stays");
        let ties = tagged(&[("y", 1), ("x", 1), ("z", 2)]);
        assert_eq!(over_limit(&ties, "z", 2), vec!["x"], "ties go by CFID");
    }
}
