//! Fault injection for tests: `TEST_FAULTS` names points in the edge (a session-object
//! operation, a storage write, an index call) and what happens there (fail, or wait).
//!
//! `object.call` is every call to a Durable Object, from the Worker or from another object:
//! `object.call=delay:30` is the benchmark's production latency model (`scripts/bench
//! --object-rtt`), each call paying a 30 ms network round trip.
//!
//! Format: `point=action` items separated by `;`, e.g.
//! `session.end=fail; session.update=delay:1500; users.add=fail*2`.
//! - `fail`: every call at that point fails; `fail*N`: the first N calls fail (per isolate).
//! - `delay:MS`: every call waits MS milliseconds first (at most 60,000).
//!
//! It can never be on in a real deployment: the configuration refuses `TEST_FAULTS` unless
//! `ORIGIN_URL` is a loopback address (127.0.0.0/8, `[::1]` or `localhost`), which no
//! deployed Worker forwards to.

use url::{Host, Url};

/// Every point a fault can be placed at.
pub const POINTS: &[&str] = &[
    "session.begin",
    "session.update",
    "session.end",
    "session.rotate_out",
    "session.adopt",
    "session.check",
    "session.inspect",
    "session.nonce",
    "session.ping",
    "storage.put",
    "index.upsert",
    "index.remove",
    "index.queue_end",
    "index.list",
    "users.add",
    "users.remove",
    "users.list",
    "app.record",
    "object.call",
];

/// The longest injectable delay (ms).
pub const MAX_DELAY_MS: u64 = 60_000;

/// What happens at a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Fail the first `times` calls (`None`: every call).
    Fail { times: Option<u32> },
    /// Wait this long (ms), then proceed.
    Delay(u64),
}

/// The faults in force: (point, fault) pairs. Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults(pub Vec<(&'static str, Fault)>);

impl Faults {
    /// The fault at `point`, if any.
    pub fn at(&self, point: &str) -> Option<Fault> {
        self.0.iter().find(|(p, _)| *p == point).map(|(_, f)| *f)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses `TEST_FAULTS`. `Err` says what is wrong (never echoes more than a point name).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for item in spec.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let (point, action) = item.split_once('=').ok_or("each item is point=action")?;
            let point = POINTS
                .iter()
                .copied()
                .find(|p| *p == point.trim())
                .ok_or_else(|| format!("unknown point (known: {})", POINTS.join(", ")))?;
            out.push((point, parse_action(action.trim())?));
        }
        Ok(Self(out))
    }
}

fn parse_action(action: &str) -> Result<Fault, String> {
    if action == "fail" {
        return Ok(Fault::Fail { times: None });
    }
    if let Some(n) = action.strip_prefix("fail*") {
        let times = n.parse::<u32>().map_err(|_| "fail*N takes a whole number")?;
        return Ok(Fault::Fail { times: Some(times) });
    }
    if let Some(ms) = action.strip_prefix("delay:") {
        return match ms.parse::<u64>() {
            Ok(ms) if ms <= MAX_DELAY_MS => Ok(Fault::Delay(ms)),
            _ => Err(format!("delay:MS takes 0 to {MAX_DELAY_MS}")),
        };
    }
    Err("an action is fail, fail*N or delay:MS".into())
}

/// Whether `url` points at this machine (where only tests forward to).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_action() {
        let f = Faults::parse(" session.end=fail ; storage.put=fail*3;index.upsert=delay:250 ;").unwrap();
        assert_eq!(f.at("session.end"), Some(Fault::Fail { times: None }));
        assert_eq!(f.at("storage.put"), Some(Fault::Fail { times: Some(3) }));
        assert_eq!(f.at("index.upsert"), Some(Fault::Delay(250)));
        assert_eq!(f.at("session.begin"), None);
        assert!(Faults::parse("").unwrap().is_empty());
    }

    #[test]
    fn refuses_unknown_points_and_actions() {
        for bad in
            ["nope=fail", "session.end", "session.end=explode", "session.end=fail*x", "session.end=delay:99999999"]
        {
            assert!(Faults::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_only() {
        for u in ["http://127.0.0.1:8788/", "http://127.9.9.9/", "http://[::1]:80/", "http://LOCALHOST/"] {
            assert!(is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
        for u in ["https://example.com/", "http://10.0.0.1/", "http://localhost.example.com/"] {
            assert!(!is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
    }
}
