//! Lifecycle hooks: the outbox of events a session object must deliver to the origin
//! (`SESSION_START_URL`, `SESSION_END_URL`), with retries and backoff driven by the object's
//! alarm, and the signature receivers check.
//!
//! Delivery is at-least-once: an event stays in the outbox until its receiver answers 2xx, or
//! until [`MAX_ATTEMPTS`] attempts failed (then it is dropped with a log line). Receivers
//! dedupe by the `Idempotency-Key` header (the event's key).

use serde::{Deserialize, Serialize};

use url::Url;

use super::{clock::UnixMs, config::Config, guard::OriginIds, protocol::OriginKeys, tombstone::SessionEvent};

/// Attempts before an event is given up. With [`backoff_ms`] that is about an hour of retries.
pub const MAX_ATTEMPTS: u32 = 20;
/// The first retry waits this long; each next one twice as long, up to [`MAX_BACKOFF_MS`].
pub const FIRST_BACKOFF_MS: u64 = 1_000;
pub const MAX_BACKOFF_MS: u64 = 300_000;
/// An attempt whose receiver has not answered after this long fails (and is retried): the
/// session object waits for the answer in its alarm, billed as Durable Object duration.
pub const TIMEOUT_MS: u32 = 10_000;
/// Why an attempt failed when [`TIMEOUT_MS`] passed (for the log).
pub const TIMED_OUT: &str = "no answer within 10 s";

/// Which hook an event goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hook {
    Start,
    End,
    /// Guard mode: `ORIGIN_KILL_URL`, with the ended session's origin cookies.
    OriginKill,
}

/// An event waiting for delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub hook: Hook,
    pub event: SessionEvent,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When to try next (ms).
    pub next_at: UnixMs,
    /// `OriginKill` only: the origin's session cookies to present.
    #[serde(default, skip_serializing_if = "OriginIds::is_empty")]
    pub cookies: OriginIds,
}

impl Delivery {
    /// A first attempt at `now`; `cookies`: the origin's session cookies, for `OriginKill`.
    pub fn new(hook: Hook, event: SessionEvent, cookies: OriginIds, now: UnixMs) -> Self {
        Self { hook, event, attempts: 0, next_at: now, cookies }
    }

    /// The request that delivers this event under `config`: `None` when its hook has been
    /// turned off since it was queued (nothing to deliver).
    pub fn post(&self, config: &Config) -> Option<Post> {
        let url = match self.hook {
            Hook::Start => config.hooks.start_url.as_ref(),
            Hook::End => config.hooks.end_url.as_ref(),
            Hook::OriginKill => config.hooks.origin_kill_url.as_ref(),
        }?;
        let mut body = serde_json::to_value(&self.event).unwrap_or_default();
        if let Some(obj) = body.as_object_mut() {
            obj.insert("app".into(), config.app.name.clone().into());
        }
        Some(Post {
            url: url.clone(),
            body: body.to_string(),
            cookie: (self.hook == Hook::OriginKill).then(|| self.cookies.cookie_header()),
        })
    }
}

/// A hook's `POST`: to `url`, the event as JSON with the application's name (`app`), and for
/// `ORIGIN_KILL_URL` the origin's session cookies as a `Cookie` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub url: Url,
    pub body: String,
    pub cookie: Option<String>,
}

impl Hook {
    /// The hook's name in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Start => "start",
            Hook::End => "end",
            Hook::OriginKill => "origin_kill",
        }
    }
}

/// How long to wait after `attempts` failures.
pub fn backoff_ms(attempts: u32) -> u64 {
    FIRST_BACKOFF_MS.saturating_mul(1u64 << attempts.saturating_sub(1).min(20)).min(MAX_BACKOFF_MS)
}

/// The pending deliveries of one object, in the order they were queued.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbox(pub Vec<Delivery>);

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Retried at this time.
    RetryAt(UnixMs),
    /// Given up after [`MAX_ATTEMPTS`].
    GaveUp,
}

impl Outbox {
    /// Queues a delivery, unless an event with the same key is queued already (one logical
    /// event, one delivery).
    pub fn push(&mut self, delivery: Delivery) {
        if !self.0.iter().any(|d| d.event.idempotency_key == delivery.event.idempotency_key) {
            self.0.push(delivery);
        }
    }

    /// The deliveries due at `now`, start events first. An end event waits while its
    /// session's start event is still undelivered: a receiver always sees a session's start
    /// before its end.
    pub fn due(&self, now: UnixMs) -> Vec<Delivery> {
        let start_pending =
            |session: &str| self.0.iter().any(|d| d.hook == Hook::Start && d.event.session_key() == session);
        let mut due: Vec<Delivery> = self
            .0
            .iter()
            .filter(|d| d.next_at <= now)
            .filter(|d| d.hook == Hook::Start || !start_pending(d.event.session_key()))
            .cloned()
            .collect();
        due.sort_by_key(|d| d.hook != Hook::Start);
        due
    }

    /// Removes and returns the undelivered start events (they move with a rotated session,
    /// so its end can never overtake its start).
    pub fn take_starts(&mut self) -> Vec<Delivery> {
        let (starts, rest) = std::mem::take(&mut self.0).into_iter().partition(|d| d.hook == Hook::Start);
        self.0 = rest;
        starts
    }

    /// Queues deliveries taken from another outbox, keeping their attempts and times.
    pub fn extend(&mut self, deliveries: Vec<Delivery>) {
        for d in deliveries {
            if !self.0.iter().any(|q| q.event.idempotency_key == d.event.idempotency_key) {
                self.0.push(d);
            }
        }
    }

    /// Removes the delivered event.
    pub fn delivered(&mut self, key: &str) {
        self.0.retain(|d| d.event.idempotency_key != key);
    }

    /// Records a failed attempt for `key`.
    pub fn failed(&mut self, key: &str, now: UnixMs) -> Failure {
        let Some(pos) = self.0.iter().position(|d| d.event.idempotency_key == key) else {
            return Failure::GaveUp;
        };
        let attempts = self.0.get(pos).map_or(MAX_ATTEMPTS, |d| d.attempts.saturating_add(1));
        if attempts >= MAX_ATTEMPTS {
            self.0.remove(pos);
            return Failure::GaveUp;
        }
        let next_at = now.saturating_add(backoff_ms(attempts));
        if let Some(d) = self.0.get_mut(pos) {
            d.attempts = attempts;
            d.next_at = next_at;
        }
        Failure::RetryAt(next_at)
    }

    /// When the next delivery is due, if any (an end waiting for its start does not count).
    pub fn next_at(&self) -> Option<UnixMs> {
        self.due(UnixMs::MAX).iter().map(|d| d.next_at).min()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The `X-Session-Signature` of a hook request: `t=<unix seconds>,v2=<hex HMAC-SHA256>` over
/// `cfsession-hook-v1\n<t>\n<body>`, keyed with the origin key (see [`OriginKeys`]).
pub fn signature(keys: &OriginKeys<'_>, t: u64, body: &str) -> String {
    keys.sign(t, &[b"cfsession-hook-v1\n", t.to_string().as_bytes(), b"\n", body.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeouts_log_text_names_the_timeout() {
        assert_eq!(TIMED_OUT, format!("no answer within {} s", TIMEOUT_MS / 1000));
    }

    fn event(key: &str) -> SessionEvent {
        SessionEvent {
            event: "end".into(),
            idempotency_key: key.into(),
            session: key.split(':').next().unwrap_or_default().into(),
            cfid: "c".into(),
            mode: "edge".into(),
            reason: None,
            created: 0,
            last_access: 0,
            hits: 1,
            user: None,
            data: None,
            at: 0,
            fingerprint: None,
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!((backoff_ms(1), backoff_ms(2), backoff_ms(3)), (1_000, 2_000, 4_000));
        assert_eq!(backoff_ms(10), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(40), MAX_BACKOFF_MS);
        let total: u64 = (1..MAX_ATTEMPTS).map(backoff_ms).sum();
        assert!((3_000_000..5_000_000).contains(&total), "about an hour of retries: {total} ms");
    }

    #[test]
    fn one_delivery_per_key_and_starts_first() {
        let mut o = Outbox::default();
        o.push(Delivery::new(Hook::End, event("c:end"), OriginIds::default(), 10));
        o.push(Delivery::new(Hook::End, event("c:end"), OriginIds::default(), 11));
        o.push(Delivery::new(Hook::Start, event("d:start"), OriginIds::default(), 12));
        assert_eq!(o.0.len(), 2);
        let due = o.due(20);
        assert_eq!(due[0].hook, Hook::Start);
        assert!(o.due(5).is_empty());
        assert_eq!(o.next_at(), Some(10));
    }

    #[test]
    fn an_end_never_overtakes_its_start() {
        let mut o = Outbox::default();
        o.push(Delivery::new(Hook::Start, event("s:start"), OriginIds::default(), 0));
        assert_eq!(o.failed("s:start", 0), Failure::RetryAt(1_000));
        o.push(Delivery::new(Hook::End, event("s:end"), OriginIds::default(), 10));
        assert!(o.due(500).is_empty(), "the end waits for the start");
        assert_eq!(o.next_at(), Some(1_000));
        assert_eq!(o.due(1_000).len(), 1);
        o.delivered("s:start");
        assert_eq!(o.due(1_000)[0].hook, Hook::End);
        let mut moved = Outbox::default();
        moved.push(Delivery::new(Hook::Start, event("m:start"), OriginIds::default(), 0));
        moved.push(Delivery::new(Hook::End, event("x:end"), OriginIds::default(), 0));
        let starts = moved.take_starts();
        assert_eq!((starts.len(), moved.0.len()), (1, 1));
        o.extend(starts);
        assert!(o.0.iter().any(|d| d.event.idempotency_key == "m:start"));
    }

    #[test]
    fn failures_back_off_then_give_up() {
        let mut o = Outbox::default();
        o.push(Delivery::new(Hook::End, event("k"), OriginIds::default(), 0));
        assert_eq!(o.failed("k", 100), Failure::RetryAt(1_100));
        assert_eq!(o.failed("k", 1_100), Failure::RetryAt(3_100));
        for _ in 3..MAX_ATTEMPTS {
            assert!(matches!(o.failed("k", 0), Failure::RetryAt(_)));
        }
        assert_eq!(o.failed("k", 0), Failure::GaveUp);
        assert!(o.is_empty());
        o.push(Delivery::new(Hook::End, event("k2"), OriginIds::default(), 0));
        o.delivered("k2");
        assert!(o.is_empty());
    }

    #[test]
    fn signature_covers_time_and_body() {
        use crate::core::crypto::{hex, hmac_sha256};
        let keys = OriginKeys { origin: b"key", legacy: None };
        let s = signature(&keys, 7, "{}");
        let expected = hex(&hmac_sha256(b"key", &[b"cfsession-hook-v1\n7\n{}"]));
        assert_eq!(s, format!("t=7,v2={expected}"));
        assert_ne!(s, signature(&keys, 8, "{}"));
        assert_ne!(s, signature(&keys, 7, "{ }"));
    }

    #[test]
    fn a_delivery_posts_to_its_hook_with_the_app_and_only_origin_kill_sends_cookies() {
        let config = crate::core::config::for_tests(&[
            ("SESSION_END_URL", "http://127.0.0.1:1/end"),
            ("SESSION_MODE", "guard"),
            ("ORIGIN_KILL_URL", "http://127.0.0.1:1/kill"),
            ("APP_NAME", "shop"),
        ]);
        let cookies = OriginIds(vec![("JSESSIONID".into(), "j".into())]);
        let end = Delivery::new(Hook::End, event("e"), cookies.clone(), 0).post(&config).unwrap();
        assert_eq!((end.url.as_str(), end.cookie), ("http://127.0.0.1:1/end", None));
        let body: serde_json::Value = serde_json::from_str(&end.body).unwrap();
        assert_eq!((body["app"].as_str(), body["idempotency_key"].as_str()), (Some("shop"), Some("e")));
        let kill = Delivery::new(Hook::OriginKill, event("k"), cookies, 0).post(&config).unwrap();
        assert_eq!((kill.url.as_str(), kill.cookie.as_deref()), ("http://127.0.0.1:1/kill", Some("JSESSIONID=j")));
        // A hook turned off since the event was queued: nothing to deliver.
        assert_eq!(Delivery::new(Hook::Start, event("s"), OriginIds::default(), 0).post(&config), None);
    }
}
