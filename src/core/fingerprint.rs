//! Hijack detection (`SESSION_FINGERPRINT`): what a client looks like when its session is
//! stored, and a score of how much a later request differs. A stolen CFID/CFTOKEN (or a
//! guarded pair with its binding) replayed from another network and browser scores high.
//!
//! Each difference adds its weight ([`Weight`]). A part recorded when the session was stored
//! that a request now lacks (missing, empty or unparseable) is a difference at its full
//! weight: leaving headers out does not hide a replay. A part never recorded adds nothing.
//! At [`FingerprintPolicy::threshold`] or more the configured action applies (`log` only
//! records it). The weights, and why: `docs/security.md`, "Hijack detection".

use serde::{Deserialize, Serialize};

use super::ip::Ip;

/// What a request's client looks like. Every part is optional: locally there is no
/// `request.cf`, and a client may send no `User-Agent`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The client address's network: the /24 of an IPv4 address, the /48 of an IPv6 one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<String>,
    /// The platform's two-letter country code (`request.cf.country`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The client network's autonomous system number (`request.cf.asn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// The browser family, lower-case (`chrome`, `firefox`, `safari`, `edge`, or the first
    /// product token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The browser's major version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_major: Option<u32>,
    /// The first `Accept-Language` tag, lower-case (`en-us`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The longest product or language token kept (bytes).
const MAX_TOKEN: usize = 32;

impl Fingerprint {
    /// The fingerprint of a request: its client address, `request.cf` country and ASN,
    /// `User-Agent` and `Accept-Language`. Values that do not parse are left out.
    pub fn of(
        address: Option<&str>,
        country: Option<&str>,
        asn: Option<u32>,
        user_agent: Option<&str>,
        accept_language: Option<&str>,
    ) -> Self {
        let (agent, agent_major) = user_agent.map(agent_of).unwrap_or_default();
        Self {
            net: address.and_then(network),
            country: country
                .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
                .map(str::to_ascii_uppercase),
            asn,
            agent,
            agent_major,
            language: accept_language.and_then(first_language),
        }
    }

    /// How much `now` differs from this (the stored) fingerprint.
    pub fn score(&self, now: &Fingerprint) -> Score {
        let same_browser = self.agent == now.agent;
        let parts = [
            (differs(&self.net, &now.net), Weight::Network),
            (differs(&self.asn, &now.asn), Weight::Asn),
            (differs(&self.country, &now.country), Weight::Country),
            (differs(&self.agent, &now.agent), Weight::Browser),
            (same_browser && differs(&self.agent_major, &now.agent_major), Weight::BrowserVersion),
            (differs(&self.language, &now.language), Weight::Language),
        ];
        let mut score = Score::default();
        for (_, w) in parts.into_iter().filter(|(d, _)| *d) {
            score.score += w.points();
            score.reasons.push(w);
        }
        score
    }
}

/// Whether a recorded value is now different or gone.
fn differs<T: PartialEq>(stored: &Option<T>, seen: &Option<T>) -> bool {
    stored.as_ref().is_some_and(|a| seen.as_ref() != Some(a))
}

/// The weight of each difference. A new network alone (a phone moving between cells, DHCP)
/// or a browser update scores low; a different country, provider and browser together — a
/// pair replayed elsewhere — reach the default threshold of 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weight {
    /// Another /24 (IPv4) or /48 (IPv6): 1.
    Network,
    /// Another autonomous system (provider): 2.
    Asn,
    /// Another country: 3.
    Country,
    /// Another browser family: 4.
    Browser,
    /// The same browser, another major version: 1.
    BrowserVersion,
    /// Another first `Accept-Language`: 2.
    Language,
}

impl Weight {
    pub fn points(self) -> u32 {
        match self {
            Weight::Network | Weight::BrowserVersion => 1,
            Weight::Asn | Weight::Language => 2,
            Weight::Country => 3,
            Weight::Browser => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Weight::Network => "network",
            Weight::Asn => "asn",
            Weight::Country => "country",
            Weight::Browser => "browser",
            Weight::BrowserVersion => "browser_version",
            Weight::Language => "language",
        }
    }
}

/// A request's difference from its session's fingerprint: the sum of the weights, and which
/// parts differed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub score: u32,
    pub reasons: Vec<Weight>,
}

impl Score {
    /// The reasons, comma-separated (for log lines).
    pub fn reason_list(&self) -> String {
        self.reasons.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// The highest change a session has seen, kept with it: shown in the admin detail view and
/// the dashboard, and sent with its end event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub score: u32,
    pub reasons: Vec<Weight>,
    /// When it was raised (ms).
    pub at: u64,
}

/// What happens at or above the threshold (`SESSION_FINGERPRINT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FingerprintAction {
    /// No fingerprint is kept or compared.
    Off,
    /// The score is logged and flagged on the session (dashboard, detail view, end hook); the
    /// session goes on.
    #[default]
    Log,
    /// As `log`, and the session moves to new ids; the fingerprint becomes the new one. The
    /// origin gets `X-Session-Fingerprint: rotated` and can ask the user to sign in again.
    Rotate,
    /// As `log`, and the session ends (reason `fingerprint`).
    End,
}

/// `SESSION_FINGERPRINT` and `FINGERPRINT_THRESHOLD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerprintPolicy {
    pub action: FingerprintAction,
    /// The score at which the action applies (and a `log` line is a warning).
    pub threshold: u32,
}

impl Default for FingerprintPolicy {
    fn default() -> Self {
        Self { action: FingerprintAction::Log, threshold: 5 }
    }
}

impl FingerprintPolicy {
    /// Parses `SESSION_FINGERPRINT`.
    pub fn parse_action(raw: &str) -> Result<FingerprintAction, &'static str> {
        Ok(match raw.to_ascii_lowercase().as_str() {
            "off" => FingerprintAction::Off,
            "log" => FingerprintAction::Log,
            "rotate" => FingerprintAction::Rotate,
            "end" => FingerprintAction::End,
            _ => return Err("must be off, log, rotate or end"),
        })
    }

    pub fn is_on(&self) -> bool {
        self.action != FingerprintAction::Off
    }
}

/// A request's fingerprint and the policy it is judged by (sent with `begin`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub seen: Fingerprint,
    pub policy: FingerprintPolicy,
}

/// The network of an address: `a.b.c.0/24` for IPv4, the first three groups `/48` for IPv6.
fn network(address: &str) -> Option<String> {
    Some(match Ip::parse(address)? {
        Ip::V4([a, b, c, _]) => format!("{a}.{b}.{c}.0/24"),
        Ip::V6([a, b, c, ..]) => format!("{a:x}:{b:x}:{c:x}::/48"),
    })
}

/// The browser family and major version of a `User-Agent`. The order matters: Edge and Opera
/// say `Chrome/` too, Chrome says `Safari/`.
fn agent_of(ua: &str) -> (Option<String>, Option<u32>) {
    const FAMILIES: [(&str, &str); 7] = [
        ("Edg/", "edge"),
        ("OPR/", "opera"),
        ("SamsungBrowser/", "samsung"),
        ("Firefox/", "firefox"),
        ("Chrome/", "chrome"),
        ("CriOS/", "chrome"),
        ("Version/", "safari"),
    ];
    for (marker, family) in FAMILIES {
        if let Some(at) = ua.find(marker) {
            let version = ua.get(at + marker.len()..).unwrap_or("");
            return (Some(family.to_owned()), major(version));
        }
    }
    // Anything else: its first product token (`curl/8.4.0`, `python-requests/2.31`).
    let first = ua.split_whitespace().next().unwrap_or("");
    let (name, version) = first.split_once('/').unwrap_or((first, ""));
    let name: String = name.chars().take(MAX_TOKEN).collect::<String>().to_ascii_lowercase();
    ((!name.is_empty()).then_some(name), major(version))
}

fn major(version: &str) -> Option<u32> {
    let digits: String = version.chars().take_while(char::is_ascii_digit).take(9).collect();
    digits.parse().ok()
}

/// The first language tag of an `Accept-Language` header, lower-case.
fn first_language(header: &str) -> Option<String> {
    let tag = header.split(',').next()?.split(';').next()?.trim().to_ascii_lowercase();
    let ok = !tag.is_empty() && tag.len() <= MAX_TOKEN && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then_some(tag)
}

#[cfg(test)]
mod tests;
