use super::*;

const CHROME_120: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const CHROME_121: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const EDGE: &str = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0.2210";
const SAFARI: &str = "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";

fn home() -> Fingerprint {
    Fingerprint::of(Some("203.0.113.9"), Some("de"), Some(3320), Some(CHROME_120), Some("de-DE,de;q=0.9,en;q=0.8"))
}

#[test]
fn a_fingerprint_keeps_networks_and_browser_families_not_addresses() {
    let f = home();
    assert_eq!(f.net.as_deref(), Some("203.0.113.0/24"));
    assert_eq!((f.country.as_deref(), f.asn), (Some("DE"), Some(3320)));
    assert_eq!((f.agent.as_deref(), f.agent_major), (Some("chrome"), Some(120)));
    assert_eq!(f.language.as_deref(), Some("de-de"));
    let v6 = Fingerprint::of(Some("2001:db8:abcd:12::1"), None, None, None, None);
    assert_eq!(v6.net.as_deref(), Some("2001:db8:abcd::/48"));
    for (ua, family) in [(FIREFOX, "firefox"), (EDGE, "edge"), (SAFARI, "safari"), ("curl/8.4.0", "curl")] {
        assert_eq!(Fingerprint::of(None, None, None, Some(ua), None).agent.as_deref(), Some(family), "{ua}");
    }
    assert_eq!(
        Fingerprint::of(Some("nonsense"), Some("Germany"), None, Some(""), Some("*;q=x,")),
        Fingerprint::default()
    );
}

#[test]
fn the_same_client_scores_nothing_and_ordinary_changes_stay_below_the_threshold() {
    let threshold = FingerprintPolicy::default().threshold;
    assert_eq!(home().score(&home()).score, 0);
    let next_door = Fingerprint { net: Some("203.0.114.0/24".into()), ..home() };
    assert_eq!(home().score(&next_door).reasons, vec![Weight::Network]);
    let updated = Fingerprint::of(Some("203.0.113.77"), Some("DE"), Some(3320), Some(CHROME_121), Some("de-DE"));
    assert_eq!(home().score(&updated).reasons, vec![Weight::BrowserVersion]);
    let phone_on_cellular = Fingerprint { net: Some("198.51.100.0/24".into()), asn: Some(6805), ..home() };
    assert!(home().score(&phone_on_cellular).score < threshold);
    // Locally (no `request.cf`) neither side has a country: nothing was recorded, nothing differs.
    let local = Fingerprint { country: None, asn: None, ..home() };
    assert_eq!(local.score(&local).score, 0);
    let unrecorded = Fingerprint::default();
    assert_eq!(unrecorded.score(&home()).score, 0, "what was never recorded is not a change");
}

#[test]
fn leaving_headers_out_does_not_hide_a_replay() {
    let threshold = FingerprintPolicy::default().threshold;
    // The victim's cookies from another network, no User-Agent and no Accept-Language (or a
    // blank one and `*`): each recorded part now missing counts at its full weight.
    let same_country_other_net = |ua, lang| Fingerprint::of(Some("198.51.100.20"), Some("DE"), Some(14061), ua, lang);
    for (ua, lang) in [(None, None), (Some(""), Some("*")), (Some("   "), Some(""))] {
        let s = home().score(&same_country_other_net(ua, lang));
        assert_eq!(s.reason_list(), "network,asn,browser,language", "{ua:?} {lang:?}");
        assert!(s.score >= threshold, "{ua:?} {lang:?}: {}", s.score);
    }
    // Everything missing is every part changed.
    let s = home().score(&Fingerprint::default());
    assert_eq!(s.score, 1 + 2 + 3 + 4 + 2);
}

#[test]
fn a_pair_replayed_from_elsewhere_reaches_the_threshold() {
    let thief = Fingerprint::of(Some("198.51.100.20"), Some("US"), Some(14061), Some(FIREFOX), Some("en-US"));
    let s = home().score(&thief);
    assert_eq!(s.score, 1 + 2 + 3 + 4 + 2);
    assert_eq!(s.reason_list(), "network,asn,country,browser,language");
    assert!(s.score >= FingerprintPolicy::default().threshold);
    // Another browser is not also scored as another version of it.
    let same_place_other_browser = Fingerprint { agent: Some("firefox".into()), agent_major: Some(128), ..home() };
    assert_eq!(home().score(&same_place_other_browser).reasons, vec![Weight::Browser]);
}

#[test]
fn policies_parse() {
    assert_eq!(FingerprintPolicy::default(), FingerprintPolicy { action: FingerprintAction::Log, threshold: 5 });
    for (raw, action) in [
        ("off", FingerprintAction::Off),
        ("LOG", FingerprintAction::Log),
        ("rotate", FingerprintAction::Rotate),
        ("end", FingerprintAction::End),
    ] {
        assert_eq!(FingerprintPolicy::parse_action(raw), Ok(action));
    }
    assert!(FingerprintPolicy::parse_action("kill").is_err());
}
