use super::*;
use crate::core::cookie::CookieExpiry;

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut all = vec![("SESSION_SIGNING_KEY", KEY)];
    all.extend_from_slice(pairs);
    Config::from_lookup(|name| all.iter().rev().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
}

#[test]
fn secure_defaults() {
    let c = from(&[]).unwrap();
    assert_eq!(c.origin, None);
    assert!(c.cookie.secure);
    assert_eq!(c.cookie.domain, None);
    assert_eq!(c.cookie.expiry, CookieExpiry::Session);
    assert_eq!(
        c.timing,
        Timing {
            idle_timeout_s: 1200,
            max_lifetime_s: 43_200,
            touch_interval_s: 60,
            count_hits: false,
            path_timeout_s: None,
            no_refresh: false,
        }
    );
    assert!(c.defer);
    assert!(!c.url_tokens);
    assert_eq!(c.data_limit, 3_072);
    assert!(c.rotate_on_login && !c.keys.legacy && !c.cookie.host_prefix);
    assert_eq!(c.kill.cross_site, crate::core::kill::CrossSite::Confirm);
    assert!(c.faults.is_empty());
    assert_eq!(c.keys.origin.expose().len(), 64);
    assert!(c.keys.origin != c.keys.signing);
    assert_eq!(c.admin.token, None);
}

#[test]
fn every_variable_parses() {
    let c = from(&[
        ("ORIGIN_URL", "https://example.com/app/"),
        ("COOKIE_SECURE", "false"),
        ("COOKIE_DOMAIN", ".Example.COM"),
        ("COOKIE_EXPIRY", "Sliding"),
        ("SESSION_TIMEOUT", "30"),
        ("SESSION_MAX_LIFETIME", "0"),
        ("TOUCH_INTERVAL", "5"),
        ("SESSION_HITS", "on"),
        ("SESSION_DEFER", "no"),
        ("URL_TOKENS", "1"),
        ("SESSION_DATA_LIMIT", "1024"),
        ("ADMIN_TOKEN", "admin-token-admin-token-admin-token"),
        ("SESSION_POLICY", "/admin/=300"),
    ])
    .unwrap();
    assert!(c.origin.is_some());
    assert!(!c.cookie.secure);
    assert_eq!(c.cookie.domain.as_deref(), Some("example.com"));
    assert_eq!(c.cookie.expiry, CookieExpiry::Sliding);
    assert_eq!(
        c.timing,
        Timing {
            idle_timeout_s: 30,
            max_lifetime_s: 0,
            touch_interval_s: 5,
            count_hits: true,
            path_timeout_s: None,
            no_refresh: false
        }
    );
    assert_eq!(
        c.controls.session_policy.rule_for(&c.controls.session_policy.normalize("/Admin/x")).timeout_s,
        Some(300)
    );
    assert!(!c.defer && c.url_tokens);
    assert_eq!(c.data_limit, 1024);
    assert!(c.admin.token.unwrap().matches("admin-token-admin-token-admin-token"));
}

#[test]
fn kill_settings() {
    let c = from(&[
        ("KILL_PARAM", "logout"),
        ("KILL_PATH", "/bye/"),
        ("KILL_REDIRECT", "https://example.com/login"),
        ("KILL_COOKIES", "CFID, CFTOKEN, JSESSIONID"),
        ("KILL_CLEAR_SITE_DATA", "true"),
        ("KILL_METHODS", "post"),
    ])
    .unwrap();
    assert_eq!(c.kill.param.as_deref(), Some("logout"));
    assert_eq!(c.kill.path.as_deref(), Some("/bye/"));
    assert_eq!(c.kill.redirect.as_deref(), Some("https://example.com/login"));
    assert_eq!(c.kill.cookies, vec!["CFID", "CFTOKEN", "JSESSIONID"]);
    assert!(c.kill.clear_site_data);
    assert_eq!(c.kill.methods, vec!["POST"]);
    let off = from(&[("KILL_PARAM", "OFF"), ("KILL_PATH", "off")]).unwrap();
    assert_eq!((off.kill.param, off.kill.path), (None, None));
    assert_eq!(from(&[]).unwrap().kill, KillPolicy::default());
}

#[test]
fn hook_urls_resolve_against_the_origin() {
    let c = from(&[
        ("ORIGIN_URL", "http://127.0.0.1:9000/app/"),
        ("SESSION_START_URL", "hooks/start"),
        ("SESSION_END_URL", "/hooks/end"),
        ("APPLICATION_START_URL", "https://other.example/app-start"),
        ("APP_NAME", "mysite"),
        ("APPLICATION_TIMEOUT", "60"),
        ("INDEX_SHARDS", "4"),
    ])
    .unwrap();
    assert_eq!(c.hooks.start_url.unwrap().as_str(), "http://127.0.0.1:9000/app/hooks/start");
    assert_eq!(c.hooks.end_url.unwrap().as_str(), "http://127.0.0.1:9000/hooks/end");
    assert_eq!(c.hooks.app_start_url.unwrap().as_str(), "https://other.example/app-start");
    assert_eq!((c.app.name.as_str(), c.app.timeout_s, c.index_shards), ("mysite", 60, 4));
    assert_eq!(from(&[]).unwrap().admin.prefix, "/__session/admin/");
    assert_eq!(from(&[("ADMIN_PREFIX", "/ops/sessions/")]).unwrap().admin.prefix, "/ops/sessions/");
}

#[test]
fn empty_values_mean_defaults() {
    let c = from(&[("ORIGIN_URL", "  "), ("SESSION_TIMEOUT", ""), ("ADMIN_TOKEN", "")]).unwrap();
    assert_eq!(c, from(&[]).unwrap());
}

#[test]
fn bad_values_name_the_variable_and_hide_the_value() {
    let cases: &[(&str, &str)] = &[
        ("ORIGIN_URL", "not a url"),
        ("ORIGIN_URL", "ftp://example.com"),
        ("ORIGIN_URL", "/relative"),
        ("ORIGIN_URL", "http://example.com/?q=1"),
        ("ORIGIN_URL", "http://user:pw@example.com"),
        ("SESSION_SIGNING_KEY", "too-short-secret"),
        ("COOKIE_SECURE", "maybe"),
        ("COOKIE_DOMAIN", "exa mple.com"),
        ("COOKIE_DOMAIN", "a..b"),
        ("COOKIE_EXPIRY", "forever"),
        ("SESSION_TIMEOUT", "0"),
        ("SESSION_TIMEOUT", "-5"),
        ("SESSION_TIMEOUT", "99999999999"),
        ("SESSION_MAX_LIFETIME", "x"),
        ("TOUCH_INTERVAL", "1.5"),
        ("SESSION_HITS", "2"),
        ("SESSION_DATA_LIMIT", "1000000"),
        ("KILL_PARAM", "kill session"),
        ("KILL_PATH", "kill/"),
        ("KILL_PATH", "//evil.example/"),
        ("KILL_REDIRECT", "javascript:alert(1)"),
        ("KILL_REDIRECT", "//evil.example/"),
        ("KILL_COOKIES", "CFID;CFTOKEN"),
        ("KILL_COOKIES", " , "),
        ("KILL_CLEAR_SITE_DATA", "sometimes"),
        ("KILL_METHODS", "GET,FETCH"),
        ("APPLICATION_TIMEOUT", "0"),
        ("INDEX_SHARDS", "1000"),
        ("ADMIN_PREFIX", "/"),
        ("ADMIN_PREFIX", "/ops"),
        ("ADMIN_PREFIX", "ops/"),
        ("KILL_REDIRECT", "/\\evil.example/"),
        ("KILL_REDIRECT", "/ok\u{7}"),
        ("KILL_CROSS_SITE", "sometimes"),
        ("CROSS_SITE_REQUESTS", "maybe"),
        ("COOKIE_HOST_PREFIX", "true"),      // COOKIE_SECURE=false below
        ("TEST_FAULTS", "session.end=fail"), // no loopback ORIGIN_URL
        ("SIGNATURE_LEGACY", "perhaps"),
        ("ROTATE_ON_LOGIN", "2"),
        ("SESSION_BYPASS", "public"),
        ("SESSION_POLICY", "/admin/=0"),
        ("SESSION_POLICY", "admin=300"),
        ("SESSION_MODE", "owned"),
        ("GUARD_COOKIES", "CFID;CFTOKEN"),
        ("ORIGIN_KILL_URL", "ftp://x.example/kill"),
    ];
    for (name, value) in cases {
        let e = from(&[("COOKIE_SECURE", "false"), (name, value)]).unwrap_err();
        assert_eq!(e.variable, *name, "{name}={value}");
        // (Values of a character or two appear in any message by chance.)
        assert!(value.len() < 3 || !e.to_string().contains(value), "{e} shows the value");
    }
}

/// An optional feature's bad value turns the feature off and says why (never the value); the
/// rest of the configuration stands.
#[test]
fn a_bad_optional_feature_is_turned_off_not_fatal() {
    let cases: &[(&str, &str)] = &[
        ("ADMIN_TOKEN", "short-admin"),
        ("SESSION_END_URL", "/relative/without/origin"),
        ("SESSION_START_URL", "ftp://x.example/"),
        ("APPLICATION_START_URL", "not a url"),
    ];
    for (name, value) in cases {
        let c = from(&[(name, value), ("SESSION_TIMEOUT", "60")]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(c.timing.idle_timeout_s, 60);
        let [off] = c.disabled.as_slice() else { panic!("{name}: {:?}", c.disabled) };
        assert_eq!(off.variable, *name);
        assert!(off.reason.ends_with(" off"), "{name}: {}", off.reason);
        assert!(!off.to_string().contains(value), "{off} shows the value");
        assert!(super::OPTIONAL.contains(name), "{name} is not listed as optional");
        assert!(
            c.admin.token.is_none()
                && c.hooks.start_url.is_none()
                && c.hooks.end_url.is_none()
                && c.hooks.app_start_url.is_none()
        );
    }
    assert_eq!(super::OPTIONAL.len(), cases.len(), "an optional feature without a case here");
}

#[test]
fn host_names_are_ascii_punycode() {
    // The build uses the ASCII-only IDNA adapter (see Cargo.toml): Unicode host names must be
    // written in their punycode form.
    assert_eq!(from(&[("ORIGIN_URL", "http://bücher.example")]).unwrap_err().variable, "ORIGIN_URL");
    assert!(from(&[("ORIGIN_URL", "http://xn--bcher-kva.example")]).unwrap().origin.is_some());
}

#[test]
fn a_missing_signing_key_is_an_error() {
    let e = Config::from_lookup(|_| None).unwrap_err();
    assert_eq!(e.variable, "SESSION_SIGNING_KEY");
}

#[test]
fn secrets_are_redacted() {
    let c = from(&[("ADMIN_TOKEN", "admin-token-admin-token-admin-token")]).unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains(KEY) && !shown.contains("admin-token"), "{shown}");
}

#[test]
fn test_faults_need_a_loopback_origin() {
    let c = from(&[("ORIGIN_URL", "http://127.0.0.1:9/"), ("TEST_FAULTS", "session.end=fail*2")]).unwrap();
    assert_eq!(c.faults.at("session.end"), Some(crate::core::faults::Fault::Fail { times: Some(2) }));
    assert_eq!(
        from(&[("ORIGIN_URL", "https://example.com/"), ("TEST_FAULTS", "session.end=fail")]).unwrap_err().variable,
        "TEST_FAULTS"
    );
    assert_eq!(from(&[("TEST_FAULTS", "session.end=fail")]).unwrap_err().variable, "TEST_FAULTS");
}

#[test]
fn host_prefixed_cookies_need_secure_host_only_cookies() {
    assert!(from(&[("COOKIE_HOST_PREFIX", "true")]).unwrap().cookie.host_prefix);
    let e = from(&[("COOKIE_HOST_PREFIX", "true"), ("COOKIE_DOMAIN", "example.com")]).unwrap_err();
    assert_eq!(e.variable, "COOKIE_HOST_PREFIX");
}

#[test]
fn the_origin_key_is_derived_one_way() {
    let c = from(&[]).unwrap();
    assert_eq!(c.keys.origin.expose(), origin_key(KEY.as_bytes()).as_bytes());
    assert!(!String::from_utf8_lossy(c.keys.origin.expose()).contains(KEY));
}

#[test]
fn max_sessions_per_user_is_off_by_default_and_bounded() {
    assert_eq!(from(&[]).unwrap().sessions_per_user.max, None);
    assert_eq!(from(&[("MAX_SESSIONS_PER_USER", "off")]).unwrap().sessions_per_user.max, None);
    assert_eq!(from(&[("MAX_SESSIONS_PER_USER", "3")]).unwrap().sessions_per_user.max, Some(3));
    for bad in ["0", "-1", "1001", "two"] {
        let e = from(&[("MAX_SESSIONS_PER_USER", bad)]).unwrap_err();
        assert_eq!(e.variable, "MAX_SESSIONS_PER_USER", "{bad}");
    }
}

#[test]
fn the_known_variables_are_every_name_the_parse_asks_for() {
    let known = known_variables();
    for name in
        ["ORIGIN_URL", "SESSION_SIGNING_KEY_PREVIOUS", "ADMIN_TOKEN", "KILL_PATH", "SESSION_POLICY", "TEST_FAULTS"]
    {
        assert!(known.iter().any(|k| k == name), "{name} not in {known:?}");
    }
    assert!(known.len() > 40, "{known:?}");
}
