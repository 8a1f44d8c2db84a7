//! Per-minute counters for the dashboard's history: what happened to sessions each minute
//! (starts, ends by reason, kills, refused pairs, hook deliveries) and two gauges taken at
//! the end of each minute (live sessions, hooks waiting). The Worker and the session objects
//! count into a [`Pending`] batch per isolate and send it to the application object, which
//! keeps the last [`HISTORY_MINUTES`] minutes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::clock::UnixMs;

/// How many minutes of history the application object keeps (24 hours).
pub const HISTORY_MINUTES: u64 = 24 * 60;

/// What happened in one minute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    /// Sessions stored for the first time (new, or a deferred session's second request).
    pub starts: u64,
    /// Sessions ended, by reason (`timeout`, `killed`, `replaced`, …).
    pub ends: BTreeMap<String, u64>,
    /// Kill requests answered (`?killSession`, the kill path).
    pub kills: u64,
    /// Presented CFID/CFTOKEN pairs the edge refused (forged, ended, expired, unknown).
    pub refused: u64,
    /// Hook events queued for delivery.
    pub hooks_queued: u64,
    /// Hook events delivered.
    pub hooks_delivered: u64,
    /// Failed delivery attempts (each is retried, until given up).
    pub hook_failures: u64,
    /// Hook events given up after the last attempt.
    pub hooks_given_up: u64,
}

impl Counts {
    pub fn merge(&mut self, other: &Counts) {
        self.starts += other.starts;
        for (reason, n) in &other.ends {
            *self.ends.entry(reason.clone()).or_default() += n;
        }
        self.kills += other.kills;
        self.refused += other.refused;
        self.hooks_queued += other.hooks_queued;
        self.hooks_delivered += other.hooks_delivered;
        self.hook_failures += other.hook_failures;
        self.hooks_given_up += other.hooks_given_up;
    }

    pub fn is_empty(&self) -> bool {
        *self == Counts::default()
    }

    /// Ends of every reason.
    pub fn ended(&self) -> u64 {
        self.ends.values().sum()
    }
}

/// The running gauges (kept by the application object across minutes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Gauges {
    /// Sessions started and not ended since history began (never below zero).
    pub live: u64,
    /// Hook events queued and neither delivered nor given up.
    pub backlog: u64,
}

impl Gauges {
    /// The gauges after `delta`.
    pub fn after(self, delta: &Counts) -> Gauges {
        Gauges {
            live: (self.live + delta.starts).saturating_sub(delta.ended()),
            backlog: (self.backlog + delta.hooks_queued).saturating_sub(delta.hooks_delivered + delta.hooks_given_up),
        }
    }
}

/// One minute of history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minute {
    /// Unix minutes (`ms / 60000`).
    pub minute: u64,
    #[serde(flatten)]
    pub counts: Counts,
    /// The gauges as of the last count recorded in this minute.
    #[serde(flatten)]
    pub gauges: Gauges,
}

/// The unix minute of `ms`.
pub fn minute_of(ms: UnixMs) -> u64 {
    ms / 60_000
}

/// The oldest minute kept at `now`.
pub fn oldest_kept(now: UnixMs) -> u64 {
    minute_of(now).saturating_sub(HISTORY_MINUTES - 1)
}

/// Records `delta` for `minute` into its stored minute (if any), moving the gauges: returns
/// the new minute and gauges. A batch for a minute older than the kept history changes only
/// the gauges (`None`).
pub fn record(
    stored: Option<Minute>,
    gauges: Gauges,
    minute: u64,
    delta: &Counts,
    now: UnixMs,
) -> (Option<Minute>, Gauges) {
    let gauges = gauges.after(delta);
    if minute < oldest_kept(now) {
        return (None, gauges);
    }
    let mut m = stored.unwrap_or(Minute { minute, ..Minute::default() });
    m.counts.merge(delta);
    m.gauges = gauges;
    (Some(m), gauges)
}

/// The storage key of a minute: zero-padded, so keys sort by time.
pub fn minute_key(minute: u64) -> String {
    format!("m:{minute:012}")
}

/// Counts not sent yet, by minute (one batch per isolate).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending(BTreeMap<u64, Counts>);

impl Pending {
    /// Counts one event at `now`.
    pub fn add(&mut self, now: UnixMs, count: impl FnOnce(&mut Counts)) {
        count(self.0.entry(minute_of(now)).or_default());
    }

    /// Everything pending, oldest minute first; leaves the batch empty.
    pub fn take(&mut self) -> Vec<(u64, Counts)> {
        std::mem::take(&mut self.0).into_iter().filter(|(_, c)| !c.is_empty()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.values().all(Counts::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(reason: &str, n: u64) -> Counts {
        Counts { ends: BTreeMap::from([(reason.to_owned(), n)]), ..Counts::default() }
    }

    #[test]
    fn counts_merge_field_by_field_and_ends_by_reason() {
        let mut a = Counts { starts: 2, kills: 1, ..ends("killed", 1) };
        a.merge(&Counts { starts: 1, refused: 4, hook_failures: 2, ..ends("timeout", 3) });
        a.merge(&ends("killed", 2));
        assert_eq!((a.starts, a.kills, a.refused, a.hook_failures), (3, 1, 4, 2));
        assert_eq!(a.ends, BTreeMap::from([("killed".into(), 3), ("timeout".into(), 3)]));
        assert_eq!(a.ended(), 6);
    }

    #[test]
    fn gauges_follow_starts_ends_and_deliveries_and_never_go_negative() {
        let g = Gauges::default().after(&Counts { starts: 5, hooks_queued: 5, ..Counts::default() });
        assert_eq!(g, Gauges { live: 5, backlog: 5 });
        let g = g.after(&Counts { hooks_delivered: 3, hooks_given_up: 1, ..ends("timeout", 2) });
        assert_eq!(g, Gauges { live: 3, backlog: 1 });
        // Ends of sessions started before history began: the gauge stops at zero.
        assert_eq!(g.after(&ends("admin", 10)).live, 0);
    }

    #[test]
    fn a_minute_accumulates_and_keeps_the_gauges_of_its_last_batch() {
        let now = 100 * 60_000;
        let (m, g) = record(None, Gauges::default(), 100, &Counts { starts: 2, ..Counts::default() }, now);
        let (m, g) = record(m, g, 100, &ends("killed", 1), now);
        let m = m.unwrap();
        assert_eq!((m.minute, m.counts.starts, m.counts.ended()), (100, 2, 1));
        assert_eq!(m.gauges, Gauges { live: 1, backlog: 0 });
        assert_eq!(g, m.gauges);
    }

    #[test]
    fn history_is_bounded_to_24_hours() {
        let now = 10_000 * 60_000;
        assert_eq!(oldest_kept(now), 10_000 - 1439);
        let (m, g) = record(None, Gauges { live: 4, backlog: 0 }, 10_000 - 1440, &ends("timeout", 1), now);
        assert_eq!(m, None, "too old to keep");
        assert_eq!(g.live, 3, "but the gauge still moves");
        assert!(record(None, g, 10_000 - 1439, &ends("timeout", 1), now).0.is_some());
    }

    #[test]
    fn minute_keys_sort_by_time() {
        assert!(minute_key(99) < minute_key(100));
        assert_eq!(minute_key(29_000_000), "m:000029000000");
    }

    #[test]
    fn a_pending_batch_groups_by_minute_and_empties_when_taken() {
        let mut p = Pending::default();
        assert!(p.is_empty());
        p.add(61_000, |c| c.starts += 1);
        p.add(62_000, |c| c.kills += 1);
        p.add(1_000, |c| c.refused += 1);
        assert!(!p.is_empty());
        let taken = p.take();
        assert_eq!(taken.iter().map(|(m, _)| *m).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!((taken[1].1.starts, taken[1].1.kills), (1, 1));
        assert!(p.is_empty() && p.take().is_empty());
    }

    #[test]
    fn a_minute_serialises_flat() {
        let m = Minute {
            minute: 7,
            counts: Counts { starts: 1, ..Counts::default() },
            gauges: Gauges { live: 1, backlog: 2 },
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!((v["minute"].as_u64(), v["starts"].as_u64(), v["backlog"].as_u64()), (Some(7), Some(1), Some(2)));
        assert_eq!(serde_json::from_value::<Minute>(v).unwrap(), m);
    }
}
