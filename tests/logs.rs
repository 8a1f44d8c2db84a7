//! Structured logs and the dashboard's history counters, through the real Worker: every line
//! the Worker writes is one JSON object, session events carry their CFID and reason, no line
//! holds a CFTOKEN, and the application object counts the same events per minute.

mod common;

use std::{collections::BTreeSet, time::Duration};

use common::{client_with, wait, Client, Edge, Origin, Reply};
use serde_json::Value;

/// The Worker's text of a line: wrangler dev shows `console.warn` and `console.error` lines
/// in colour behind `▲ [WARNING]` / `✘ [ERROR]` (Workers Logs keeps them as written).
fn worker_text(line: &str) -> String {
    let mut plain = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // an ANSI escape: ESC [ … letter
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let t = plain.trim();
    let t = t.strip_prefix("▲ [WARNING]").or_else(|| t.strip_prefix("✘ [ERROR]")).unwrap_or(t);
    t.trim().to_owned()
}

/// A site that logs in (`/login`), invalidates (`/logout`), sends a bad `X-Session-Set`
/// (`/bad`), and fails its start hook (`/hooks/start`: 500).
fn site() -> Origin {
    Origin::start(|r| match r.url.split('?').next().unwrap() {
        "/login" => Reply::ok("in").header("X-Session-User", "lena"),
        "/logout" => Reply::ok("out").header("X-Session-Action", "invalidate"),
        "/bad" => Reply::ok("bad").header("X-Session-Set", "{not json"),
        "/hooks/start" => Reply::ok("no").status(500),
        _ => Reply::ok("ok"),
    })
}

#[test]
fn every_log_line_is_json_with_the_cfid_and_never_a_cftoken() {
    let origin = site();
    let edge = Edge::start(&origin.url(), &[("SESSION_START_URL", "/hooks/start")]);
    let mut tokens = BTreeSet::new();
    let mut remember = |c: &Client| {
        if let Some(t) = c.jar.get("CFTOKEN") {
            tokens.insert(t);
        }
    };
    // a one-shot client (its deferred ids are never stored: no line), then
    // claim, login (rotate), a refused change, kill
    let once = Client::new();
    once.get(&edge.url("/"));
    let once_id = once.jar.get("CFID").unwrap();
    remember(&once);
    let a = Client::new();
    a.get(&edge.url("/"));
    remember(&a);
    a.get(&edge.url("/"));
    let first = a.jar.get("CFID").unwrap();
    a.get(&edge.url("/login"));
    remember(&a);
    a.get(&edge.url("/bad"));
    let rotated = a.jar.get("CFID").unwrap();
    let rotated_token = a.jar.get("CFTOKEN").unwrap();
    assert_ne!(first, rotated);
    a.get(&edge.url("/?killSession"));
    // invalidate
    let b = Client::new();
    b.get(&edge.url("/"));
    b.get(&edge.url("/"));
    remember(&b);
    let b_id = b.jar.get("CFID").unwrap();
    b.get(&edge.url("/logout"));
    // refused pairs: the killed pair replayed, and a forged token
    client_with(&[("CFID", &rotated), ("CFTOKEN", &rotated_token)]).get(&edge.url("/"));
    client_with(&[("CFID", &rotated), ("CFTOKEN", "12345678")]).get(&edge.url("/"));

    let events = |log: &str| -> Vec<Value> {
        log.lines().map(worker_text).filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(&l).unwrap()).collect()
    };
    let wanted = [
        "session.claim",
        "session.rotate",
        "origin.change_refused",
        "session.kill",
        "session.end",
        "session.refused",
        "hook.failed",
    ];
    wait::until("every kind of event logged", Duration::from_secs(20), Duration::from_millis(200), || {
        let lines = events(&edge.log());
        let seen: BTreeSet<String> = lines.iter().map(|e| e["event"].as_str().unwrap_or("").to_owned()).collect();
        let invalid = lines.iter().any(|e| e["event"] == "session.refused" && e["reason"] == "invalid");
        (invalid && wanted.iter().all(|w| seen.contains(*w))).then_some(())
    });

    let log = edge.log();
    for line in log.lines() {
        // Wrangler's own lines (banners, its request log) never start with `{`; every line
        // of the Worker's does, and the Worker writes no other kind (its old plain lines all
        // began with `cfsession-edge:`).
        let text = worker_text(line);
        if !text.starts_with('{') {
            assert!(!text.contains("cfsession-edge:") && !text.contains("panicked"), "a plain Worker line: {line}");
            continue;
        }
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        for field in ["ts", "level", "event", "request"] {
            assert!(!v[field].is_null(), "no {field}: {line}");
        }
    }
    for t in &tokens {
        assert!(!log.contains(t.as_str()), "a CFTOKEN in the log");
    }
    let all = events(&log);
    assert!(all.len() >= wanted.len(), "{} lines", all.len());
    let find = |event: &str, cfid: &str| all.iter().find(|e| e["event"] == event && e["cfid"] == cfid).cloned();
    assert!(find("session.claim", &first).is_some_and(|e| e["mode"] == "edge"));
    assert!(all.iter().all(|e| e["cfid"] != once_id.as_str()), "ids never stored got a line");
    assert!(find("session.rotate", &first).is_some_and(|e| e["new_cfid"] == rotated.as_str()));
    let killed = find("session.end", &rotated).expect("the kill's end line");
    assert_eq!((killed["reason"].as_str(), killed["user"].as_str()), (Some("killed"), Some("lena")));
    assert_eq!(find("session.end", &b_id).unwrap()["reason"], "invalidated");
    assert_eq!(find("session.refused", &rotated).unwrap()["reason"], "ended");
    assert!(all.iter().any(|e| e["event"] == "session.refused" && e["reason"] == "invalid"));
    assert!(find("session.kill", &rotated).is_some());
    assert!(all.iter().any(|e| e["event"] == "hook.failed" && e["hook"] == "start" && e["level"] == "warn"));
}

/// Requests handled at the same time in one isolate: each line names the request whose code
/// wrote it, in the Worker and in the session objects it calls (the `cf-ray` a client sends is
/// the id, as Cloudflare's is in production).
#[test]
fn every_line_names_its_own_request_even_when_requests_interleave() {
    const CLIENTS: usize = 16;
    let origin = Origin::start(|r| {
        // Uneven origin times, so the requests' steps interleave.
        let n: u64 = r.header("cf-ray").and_then(|h| h.split('-').nth(1)).and_then(|i| i.parse().ok()).unwrap_or(0);
        std::thread::sleep(Duration::from_millis(5 * (n % 7)));
        if r.url.starts_with("/logout") {
            Reply::ok("out").header("X-Session-Action", "invalidate")
        } else {
            Reply::ok("ok")
        }
    });
    let edge = Edge::start(&origin.url(), &[]);
    let clients: Vec<Client> = (0..CLIENTS).map(|_| Client::new()).collect();
    std::thread::scope(|s| {
        for (i, c) in clients.iter().enumerate() {
            let edge = &edge;
            s.spawn(move || {
                for (step, path) in ["/", "/", "/logout"].iter().enumerate() {
                    c.send("GET", &edge.url(path), &[("cf-ray", &format!("ray-{i}-{step}"))], None);
                }
            });
        }
    });
    wait::until("every session's end line", Duration::from_secs(20), Duration::from_millis(200), || {
        let log = edge.log();
        (log.matches("\"event\":\"session.end\"").count() >= CLIENTS).then_some(())
    });
    let lines: Vec<Value> = edge
        .log()
        .lines()
        .map(worker_text)
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect();
    // Each session is claimed on its client's second request and ended by its third: the
    // object's lines must name exactly those requests.
    let mut checked = 0;
    for claim in lines.iter().filter(|e| e["event"] == "session.claim") {
        let ray = claim["request"].as_str().unwrap_or("");
        let client = ray.strip_prefix("ray-").and_then(|r| r.split('-').next()).unwrap_or_else(|| panic!("{claim}"));
        assert_eq!(ray, format!("ray-{client}-1"), "a claim named another request: {claim}");
        let end = lines
            .iter()
            .find(|e| e["event"] == "session.end" && e["cfid"] == claim["cfid"])
            .unwrap_or_else(|| panic!("no end line for {claim}"));
        assert_eq!(end["request"], format!("ray-{client}-2"), "an end named another request: {end}");
        checked += 1;
    }
    assert_eq!(checked, CLIENTS);
}

#[test]
fn a_session_stored_on_its_first_request_logs_its_start() {
    let origin = site();
    let edge = Edge::start(&origin.url(), &[("SESSION_DEFER", "false")]);
    let c = Client::new();
    c.get(&edge.url("/"));
    let id = c.jar.get("CFID").unwrap();
    let start = wait::until("the start line", Duration::from_secs(15), Duration::from_millis(100), || {
        edge.log().lines().map(worker_text).filter(|l| l.starts_with('{')).find_map(|l| {
            let v: Value = serde_json::from_str(&l).ok()?;
            (v["event"] == "session.start" && v["cfid"] == id.as_str()).then_some(v)
        })
    });
    assert_eq!((start["level"].as_str(), start["mode"].as_str()), (Some("info"), Some("edge")));
    assert!(!edge.log().contains(&c.jar.get("CFTOKEN").unwrap()));
}

#[test]
fn the_application_keeps_per_minute_counts_of_session_events() {
    let origin = site();
    let edge = Edge::start(&origin.url(), &[("SESSION_START_URL", "/hooks/start")]);
    for _ in 0..3 {
        let c = Client::new();
        c.get(&edge.url("/"));
        c.get(&edge.url("/"));
        c.get(&edge.url("/?killSession"));
    }
    let b = Client::new();
    b.get(&edge.url("/"));
    b.get(&edge.url("/"));
    b.get(&edge.url("/logout"));
    client_with(&[("CFID", "0123456789abcdef0123456789abcdef"), ("CFTOKEN", "x")]).get(&edge.url("/"));

    let sum = |h: &Value, f: &dyn Fn(&Value) -> u64| h["minutes"].as_array().unwrap().iter().map(f).sum::<u64>();
    let h = wait::until(
        "the counts reach the application object",
        Duration::from_secs(20),
        Duration::from_millis(300),
        || {
            let h: Value = serde_json::from_slice(&edge.admin("GET", "history").body).ok()?;
            let starts = sum(&h, &|m| m["starts"].as_u64().unwrap_or(0));
            let killed = sum(&h, &|m| m["ends"]["killed"].as_u64().unwrap_or(0));
            let invalidated = sum(&h, &|m| m["ends"]["invalidated"].as_u64().unwrap_or(0));
            let kills = sum(&h, &|m| m["kills"].as_u64().unwrap_or(0));
            let failures = sum(&h, &|m| m["hook_failures"].as_u64().unwrap_or(0));
            // (Each isolate sends its counts after its response: the refusal's may come last.)
            let refused = sum(&h, &|m| m["refused"].as_u64().unwrap_or(0));
            (starts == 4 && killed == 3 && invalidated == 1 && kills == 3 && failures >= 1 && refused >= 1).then_some(h)
        },
    );
    let last = h["minutes"].as_array().unwrap().last().unwrap().clone();
    assert!(last["minute"].as_u64().unwrap() <= h["now_minute"].as_u64().unwrap());
    assert_eq!(h["gauges"]["live"], 0, "4 started, 4 ended");
    assert!(h["gauges"]["backlog"].as_u64().unwrap() >= 1, "the failing start hooks wait: {h}");
    // The forged pair was refused.
    assert!(sum(&h, &|m| m["refused"].as_u64().unwrap_or(0)) >= 1);
}

/// The `live` gauge is starts minus ends as isolates report them; counts an isolate never
/// sends (here: every send fails) leave it wrong until the sweep sets it from the index.
#[test]
fn the_sweep_corrects_the_live_gauge_from_the_index() {
    let origin = site();
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "app.record=fail")]);
    for _ in 0..3 {
        let c = Client::new();
        c.get(&edge.url("/"));
        c.get(&edge.url("/"));
    }
    edge.wait_for_log("stats.send_failed");
    let live = |edge: &Edge| -> Value {
        let h: Value = serde_json::from_slice(&edge.admin("GET", "history").body).unwrap();
        h["gauges"]["live"].clone()
    };
    assert_eq!(live(&edge), 0, "the counts were lost, the gauge does not know");
    let r = edge.admin("POST", "sweep");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap()["live"], 3);
    assert_eq!(live(&edge), 3, "corrected from the index shards");
    edge.wait_for_log("stats.live_corrected");
}

/// With a `METRICS` Analytics Engine dataset bound, the per-minute counts are written there
/// too (locally Miniflare's dataset accepts and drops them: what is checked is that the edge
/// found the binding and wrote to it, and that the history still gets every count).
#[test]
fn the_counts_also_go_to_an_analytics_engine_dataset_when_one_is_bound() {
    let config = common::edge::generated_config("wrangler-metrics", |c| {
        let dataset =
            toml::Table::from_iter([("binding".into(), "METRICS".into()), ("dataset".into(), "cfsession_edge".into())]);
        c.insert("analytics_engine_datasets".into(), toml::Value::Array(vec![dataset.into()]));
    });
    let origin = site();
    let edge = Edge::start_with_config(&origin.url(), &[], config);
    let c = Client::new();
    c.get(&edge.url("/"));
    c.get(&edge.url("/"));
    edge.wait_for_log("metrics.writing");
    wait::until("the start reaches the history too", Duration::from_secs(20), Duration::from_millis(200), || {
        let h: Value = serde_json::from_slice(&edge.admin("GET", "history").body).ok()?;
        let starts: u64 = h["minutes"].as_array()?.iter().map(|m| m["starts"].as_u64().unwrap_or(0)).sum();
        (starts == 1).then_some(())
    });
    assert!(!edge.log().contains("metrics.write_failed"), "{}", edge.log_tail());
    // Without the binding nothing is written and nothing is said.
    let plain = Edge::start(&origin.url(), &[]);
    let c = Client::new();
    c.get(&plain.url("/"));
    c.get(&plain.url("/"));
    // (The flush that sends the history its counts is the one that would write the metrics.)
    wait::until("the start reaches the history", Duration::from_secs(20), Duration::from_millis(200), || {
        let h: Value = serde_json::from_slice(&plain.admin("GET", "history").body).ok()?;
        let starts: u64 = h["minutes"].as_array()?.iter().map(|m| m["starts"].as_u64().unwrap_or(0)).sum();
        (starts == 1).then_some(())
    });
    assert!(!plain.log().contains("metrics.writing"));
}
