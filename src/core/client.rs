//! What the platform says about the client: its address (`CF-Connecting-IP`), country and
//! autonomous system (`request.cf`). Read for hijack detection, new sessions' client hints
//! and the per-address abuse limits.
//!
//! Tests drive these through the `X-Test-Client` header (JSON), honoured only with
//! `TEST_CLIENT_HEADER` on, which the configuration refuses unless `ORIGIN_URL` is a loopback
//! address (never in a deployment): `wrangler dev` has no real `request.cf`.

use serde::Deserialize;

use super::ip::Ip;

/// The test-only header (see the module docs): `{"ip":"203.0.113.9","country":"DE","asn":3320}`.
pub const TEST_CLIENT_HEADER: &str = "x-test-client";

/// The client's network, as far as the platform knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ClientNetwork {
    #[serde(default, rename = "ip")]
    pub address: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub asn: Option<u32>,
}

impl ClientNetwork {
    /// The network a test header describes; an unreadable header describes nothing.
    pub fn from_test_header(json: &str) -> Self {
        serde_json::from_str(json).unwrap_or_default()
    }

    /// The key the abuse limits count this client by: its address, IPv6 cut to its /64 (one
    /// subscriber's prefix). `None` without an address (nothing is limited).
    pub fn limit_key(&self) -> Option<String> {
        Some(match Ip::parse(self.address.as_deref()?)? {
            Ip::V4([a, b, c, d]) => format!("{a}.{b}.{c}.{d}"),
            Ip::V6([a, b, c, d, ..]) => format!("{a:x}:{b:x}:{c:x}:{d:x}::/64"),
        })
    }
}

/// The abuse limits (`ABUSE_LIMITS`): each is a rate-limiting binding counted per client
/// address ([`ClientNetwork::limit_key`]); its numbers are set where it is declared
/// (`wrangler.toml`, `[[ratelimits]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbuseLimit {
    /// New sessions stored (edge mode's new sessions and claims, guard mode's bindings).
    NewSessions,
    /// Session ids refused (forged, mismatched, ended or expired pairs).
    Refused,
}

impl AbuseLimit {
    /// The binding's name.
    pub fn binding(self) -> &'static str {
        match self {
            AbuseLimit::NewSessions => "NEW_SESSION_LIMIT",
            AbuseLimit::Refused => "REFUSED_LIMIT",
        }
    }

    /// The name in log lines and the `429` body.
    pub fn as_str(self) -> &'static str {
        match self {
            AbuseLimit::NewSessions => "new_sessions",
            AbuseLimit::Refused => "refused_ids",
        }
    }
}

/// The `Retry-After` (seconds) of a `429`: the limits count per minute.
pub const RETRY_AFTER_S: u64 = 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_keys_are_addresses_and_ipv6_prefixes() {
        let of = |ip: &str| ClientNetwork { address: Some(ip.into()), ..Default::default() }.limit_key();
        assert_eq!(of("203.0.113.9").as_deref(), Some("203.0.113.9"));
        assert_eq!(of("2001:db8:1:2:3:4:5:6").as_deref(), Some("2001:db8:1:2::/64"));
        assert_eq!(of("2001:db8:1:2:ffff::1"), of("2001:db8:1:2::9"), "one /64 is one client");
        assert_eq!(of("::ffff:198.51.100.1").as_deref(), Some("198.51.100.1"));
        assert_eq!(of("not an address"), None);
        assert_eq!(ClientNetwork::default().limit_key(), None);
    }

    #[test]
    fn the_test_header_is_json_or_nothing() {
        let n = ClientNetwork::from_test_header(r#"{"ip":"192.0.2.1","country":"DE","asn":3320}"#);
        assert_eq!((n.address.as_deref(), n.country.as_deref(), n.asn), (Some("192.0.2.1"), Some("DE"), Some(3320)));
        assert_eq!(ClientNetwork::from_test_header("{nope"), ClientNetwork::default());
    }
}
