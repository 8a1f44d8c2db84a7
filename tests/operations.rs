//! What an operator relies on: the deployment configuration (`wrangler.toml`) keeps logs and
//! serves no second hostname, and `GET /__session/ready` tells a monitor whether the edge can serve sessions.

mod common;

use common::{edge::repo_root, Client, Edge, Origin};
use serde_json::Value;

#[test]
fn the_config_keeps_every_log_line_and_serves_no_second_hostname() {
    let config = common::edge::wrangler_config();
    assert_eq!(config["observability"]["enabled"].as_bool(), Some(true), "Workers Logs would record nothing");
    let observability = &config["observability"];
    let rate = observability["head_sampling_rate"]
        .as_float()
        .or_else(|| observability["head_sampling_rate"].as_integer().map(|i| i as f64))
        .expect("a documented sampling rate");
    assert!(rate > 0.0 && rate <= 1.0, "head_sampling_rate {rate}");
    assert_eq!(config["workers_dev"].as_bool(), Some(false), "the site and admin on workers.dev too");
    assert_eq!(config["preview_urls"].as_bool(), Some(false));
    let limits: Vec<&str> =
        config["ratelimits"].as_array().into_iter().flatten().filter_map(|l| l.get("name")?.as_str()).collect();
    assert_eq!(limits, ["NEW_SESSION_LIMIT", "REFUSED_LIMIT"]);
    for other in ["wrangler.json", "wrangler.jsonc"] {
        assert!(!repo_root().join(other).exists(), "{other} beside wrangler.toml: wrangler reads only one");
    }
}

fn ready(edge: &Edge) -> (u16, Value) {
    let r = Client::new().get(&edge.url("/__session/ready"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    (r.status, serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("not JSON: {}", r.text())))
}

fn check<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no {name}: {body}"))
}

#[test]
fn ready_says_whether_config_and_objects_answer() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[]);
    let (status, body) = ready(&edge);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ready"], true);
    for name in ["config", "session_object", "index"] {
        assert_eq!(check(&body, name)["ok"], true, "{body}");
    }
    assert!(check(&body, "session_object")["ms"].is_u64());
    assert!(origin.received().is_empty(), "readiness reached the origin");
    // workerd opens (creates) a SQLite-backed object's database on its first call: the probe's
    // object exists, once, however often a monitor asks; it never holds data.
    let probe_only = edge.stored_objects();
    assert!(probe_only <= 1, "{:?}", edge.stored_object_files());
    for _ in 0..5 {
        assert_eq!(ready(&edge).0, 200);
    }
    assert_eq!(edge.stored_objects(), probe_only, "each readiness call made another object");
}

#[test]
fn ready_is_503_when_a_session_object_fails() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "session.ping=fail")]);
    let (status, body) = ready(&edge);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["ready"], false);
    let failed = check(&body, "session_object");
    assert_eq!(failed["ok"], false);
    assert_eq!(failed["error"], "session store unavailable, try again");
    assert_eq!(check(&body, "index")["ok"], true, "the index still answers");
}

#[test]
fn ready_is_503_naming_a_bad_variable_never_its_value() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_TIMEOUT", "twenty-minutes"), ("ADMIN_TOKEN", "short-secret")]);
    let (status, body) = ready(&edge);
    assert_eq!(status, 503);
    let config = check(&body, "config");
    assert_eq!(config["ok"], false);
    let error = config["error"].as_str().unwrap();
    assert!(error.contains("SESSION_TIMEOUT"), "{error}");
    let text = body.to_string();
    assert!(!text.contains("twenty-minutes") && !text.contains("short-secret"), "a value in {text}");
    assert_eq!(Client::new().get(&edge.url("/__session/health")).status, 200, "liveness is not readiness");
    // The admin API answers the configuration error as JSON, like its other errors.
    let r = edge.admin("GET", "sessions");
    assert_eq!((r.status, r.header("content-type")), (500, Some("application/json")), "{}", r.text());
    let error: Value = serde_json::from_slice(&r.body).unwrap();
    assert!(error["error"].as_str().unwrap().contains("SESSION_TIMEOUT"), "{error}");
}

/// An invalid optional feature (a short `ADMIN_TOKEN`, a bad hook URL) turns that feature off:
/// the site keeps serving sessions, the admin says why it is off, and `/ready` and the log name
/// it. Variables that look like misspelled settings are reported with the nearest setting.
#[test]
fn a_bad_optional_feature_is_off_and_misspelled_settings_are_named() {
    let origin = Origin::ok();
    let edge = Edge::start(
        &origin.url(),
        &[("ADMIN_TOKEN", "short-secret"), ("SESSION_END_URL", "ftp://hooks.example/"), ("SESION_TIMEOUT", "60")],
    );
    let c = Client::new();
    for _ in 0..2 {
        assert_eq!(c.get(&edge.url("/")).status, 200, "the site went down with an optional feature");
    }
    assert!(c.jar.get("CFID").is_some());
    let r = Client::new().send(
        "GET",
        &edge.url("/__session/admin/api/sessions"),
        &[("Authorization", "Bearer short-secret")],
        None,
    );
    assert_eq!((r.status, r.header("content-type")), (503, Some("application/json")), "{}", r.text());
    let error: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(error["error"], "ADMIN_TOKEN: must be at least 32 characters: the admin API and dashboard are off");
    let (status, body) = ready(&edge);
    assert_eq!(status, 200, "{body}");
    let warnings: Vec<&str> = body["warnings"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(
        warnings,
        [
            "ADMIN_TOKEN: must be at least 32 characters: the admin API and dashboard are off",
            "SESSION_END_URL: must be an http(s) URL or a path: the hook is off",
            "SESION_TIMEOUT is not a setting and is ignored: did you mean SESSION_TIMEOUT?",
        ]
    );
    assert!(!body.to_string().contains("short-secret"), "a value in {body}");
    for event in ["config.feature_off", "config.unknown_variable"] {
        edge.wait_for_log(event);
    }
    assert!(!edge.log().contains("short-secret"), "the token reached the log");
}
