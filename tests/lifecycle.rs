//! Sessions that end by themselves, the start and end hooks, the session index, the sweep,
//! and the application scope, through the real Worker. Waiting is polling with a deadline.

mod common;

use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use common::{
    edge::{TempDir, TEST_ADMIN_TOKEN},
    verify::{hook_signature_ok, now_s, test_origin_key},
    wait::until,
    Client, Edge, Origin, Recorded, Reply,
};
use serde_json::Value;

/// An origin with hook receivers that manage a temp file per session, like the seeds' stamp
/// images: the start hook creates `<dir>/<cfid>.tmp`, the end hook deletes it. The first
/// `fail_ends` end-hook calls answer 503 (after `hang`, with [`HookOrigin::hanging`]).
struct HookOrigin {
    origin: Origin,
    files: Arc<TempDir>,
}

impl HookOrigin {
    fn start(fail_ends: usize) -> Self {
        Self::hanging(fail_ends, Duration::ZERO)
    }

    fn hanging(fail_ends: usize, hang: Duration) -> Self {
        let files = Arc::new(TempDir::new("hook-files"));
        let dir = files.0.clone();
        let failures = Arc::new(AtomicUsize::new(fail_ends));
        let origin = Origin::start(move |r| {
            let event: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            let file = |cfid: &Value| dir.join(format!("{}.tmp", cfid.as_str().unwrap_or("none")));
            match r.url.as_str() {
                "/hooks/start" => {
                    std::fs::write(file(&event["cfid"]), b"per-session temp file").unwrap();
                    Reply::ok("started")
                }
                "/hooks/end" => {
                    if failures.load(Ordering::SeqCst) > 0 {
                        failures.fetch_sub(1, Ordering::SeqCst);
                        std::thread::sleep(hang);
                        return Reply::ok("receiver down").status(503);
                    }
                    let _ = std::fs::remove_file(file(&event["cfid"]));
                    Reply::ok("ended")
                }
                "/login" => Reply::ok("in").header("X-Session-User", "alice"),
                "/logout" => Reply::ok("bye").header("X-Session-Action", "invalidate"),
                "/set" => Reply::ok("set").header("X-Session-Set", r#"{"file":"stamp.jpg"}"#),
                _ => Reply::ok("ok"),
            }
        });
        Self { origin, files }
    }

    fn file(&self, cfid: &str) -> PathBuf {
        self.files.0.join(format!("{cfid}.tmp"))
    }

    fn hooks(&self, path: &str) -> Vec<Recorded> {
        self.origin.received().into_iter().filter(|r| r.url == path).collect()
    }

    /// End-hook calls for `cfid` (delivered or not).
    fn ends(&self, cfid: &str) -> Vec<Recorded> {
        self.hooks("/hooks/end").into_iter().filter(|r| body(r)["cfid"] == cfid).collect()
    }

    fn starts(&self, cfid: &str) -> Vec<Recorded> {
        self.hooks("/hooks/start").into_iter().filter(|r| body(r)["cfid"] == cfid).collect()
    }
}

fn body(r: &Recorded) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

fn hook_vars<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v =
        vec![("SESSION_START_URL", "/hooks/start"), ("SESSION_END_URL", "/hooks/end"), ("SESSION_HITS", "true")];
    v.extend_from_slice(extra);
    v
}

/// A stored session: two requests (the second stores it) and some data. Returns (client, CFID).
fn stored_session(edge: &Edge) -> (Client, String) {
    let c = Client::new();
    c.get(&edge.url("/set"));
    c.get(&edge.url("/"));
    // (Not the origin's last request: a hook may have arrived since.)
    let id = c.jar.get("CFID").unwrap();
    (c, id)
}

fn poll<T>(what: &str, f: impl FnMut() -> Option<T>) -> T {
    until(what, Duration::from_secs(40), Duration::from_millis(100), f)
}

#[test]
fn an_idle_session_ends_by_itself_and_its_end_hook_is_signed() {
    let o = HookOrigin::start(0);
    let edge = Edge::start(&o.origin.url(), &hook_vars(&[("SESSION_TIMEOUT", "2")]));
    let (c, id) = stored_session(&edge);
    let token = c.jar.get("CFTOKEN").unwrap();
    poll("the start hook's temp file", || o.file(&id).exists().then_some(()));
    // No traffic from here on: the object's alarm ends the session.
    let end = poll("the end hook", || o.ends(&id).into_iter().next());
    assert_eq!(end.method, "POST");
    assert_eq!(end.header("content-type"), Some("application/json"));
    assert_eq!(end.header("idempotency-key"), Some(format!("{id}:end").as_str()));
    assert!(hook_signature_ok(&end, test_origin_key().as_bytes(), now_s()), "the end hook's signature does not verify");
    let ev = body(&end);
    assert_eq!(ev["event"], "end");
    assert_eq!(ev["reason"], "timeout");
    assert_eq!(ev["cfid"], id.as_str());
    assert_eq!(ev["hits"], 2);
    assert_eq!(ev["data"], serde_json::json!({"file": "stamp.jpg"}), "the final session scope");
    assert!(ev["created"].as_u64().unwrap() <= ev["last_access"].as_u64().unwrap());
    assert_eq!(ev["app"], "cfsession-edge");
    let raw = String::from_utf8_lossy(&end.body);
    assert!(!raw.contains(&token), "the CFTOKEN leaked into a hook");
    poll("the temp file to be deleted", || (!o.file(&id).exists()).then_some(()));
    assert_eq!(edge.inspect(&id), None);
    // The forged-signature case: a changed body fails verification.
    let mut forged = end.clone();
    forged.body = raw.replace("timeout", "killed").into_bytes();
    assert!(!hook_signature_ok(&forged, test_origin_key().as_bytes(), now_s()));
}

#[test]
fn kills_and_invalidations_fire_the_end_hook_and_delete_the_temp_file() {
    let o = HookOrigin::start(0);
    let edge = Edge::start(&o.origin.url(), &hook_vars(&[]));
    let (c, id) = stored_session(&edge);
    poll("the temp file", || o.file(&id).exists().then_some(()));
    assert_eq!(c.get(&edge.url("/?killSession")).status, 302);
    let end = poll("the end hook", || o.ends(&id).into_iter().next());
    assert_eq!(body(&end)["reason"], "killed");
    poll("the temp file to be deleted", || (!o.file(&id).exists()).then_some(()));

    let (c, id) = stored_session(&edge);
    poll("the temp file", || o.file(&id).exists().then_some(()));
    // The kill path too.
    assert_eq!(c.get(&edge.url("/kill/")).status, 302);
    assert_eq!(body(&poll("the end hook", || o.ends(&id).into_iter().next()))["reason"], "killed");
    poll("the temp file to be deleted", || (!o.file(&id).exists()).then_some(()));

    // And the origin's invalidate (ColdFusion's sessionInvalidate()).
    let (c, id) = stored_session(&edge);
    poll("the temp file", || o.file(&id).exists().then_some(()));
    assert_eq!(c.get(&edge.url("/logout")).text(), "bye");
    assert_eq!(body(&poll("the end hook", || o.ends(&id).into_iter().next()))["reason"], "invalidated");
    poll("the temp file to be deleted", || (!o.file(&id).exists()).then_some(()));
}

#[test]
fn end_hooks_are_retried_until_the_receiver_recovers_and_never_duplicated() {
    let o = HookOrigin::start(3);
    let edge = Edge::start(&o.origin.url(), &hook_vars(&[]));
    let (c, id) = stored_session(&edge);
    let token = c.jar.get("CFTOKEN").unwrap();
    assert_eq!(c.get(&edge.url("/?killSession")).status, 302);
    // Three 503s, then a 2xx: four attempts with the same key, backing off 1 s, 2 s, 4 s.
    poll("four end-hook attempts", || (o.ends(&id).len() >= 4).then_some(()));
    let attempts = o.ends(&id);
    assert!(attempts.iter().all(|r| r.header("idempotency-key") == Some(format!("{id}:end").as_str())));
    assert!(attempts.iter().all(|r| body(r)["reason"] == "killed"), "one logical event, one reason");
    // Everything that could make a second end: kill again, replay the ids, run the sweep.
    c.jar.set("CFID", &id);
    c.jar.set("CFTOKEN", &token);
    c.get(&edge.url("/?killSession"));
    c.jar.set("CFID", &id);
    c.jar.set("CFTOKEN", &token);
    c.get(&edge.url("/"));
    edge.trigger_cron();
    // A barrier: end another session and wait for its hook. A duplicate end of the first
    // would have been queued by the actions above and delivered (the receiver answers 2xx).
    let (c2, id2) = stored_session(&edge);
    c2.get(&edge.url("/?killSession"));
    poll("the barrier session's end hook", || o.ends(&id2).into_iter().next());
    assert_eq!(o.ends(&id).len(), 4, "a session end was delivered more than once");
    assert!(edge.log().contains("failed (status 503); retry at"));
}

/// A receiver that does not answer holds the session object's alarm (billed as Durable Object
/// duration) for at most `hooks::TIMEOUT_MS`, 10 s: the attempt then fails and is retried.
#[test]
fn a_hook_receiver_that_does_not_answer_is_given_ten_seconds_then_retried() {
    let o = HookOrigin::hanging(1, Duration::from_secs(15));
    let edge = Edge::start(&o.origin.url(), &hook_vars(&[]));
    let (c, id) = stored_session(&edge);
    assert_eq!(c.get(&edge.url("/?killSession")).status, 302);
    poll("the second end-hook attempt", || (o.ends(&id).len() >= 2).then_some(()));
    assert!(edge.log().contains("failed (no answer within 10 s); retry at"), "{}", edge.log_tail());
    poll("the temp file to be deleted", || (!o.file(&id).exists()).then_some(()));
}

#[test]
fn the_start_hook_fires_once_per_stored_session() {
    let o = HookOrigin::start(0);
    let edge = Edge::start(&o.origin.url(), &hook_vars(&[]));
    // A bot: one cookieless request, never stored, never started, never ended.
    let bot = Client::new();
    bot.get(&edge.url("/"));
    let bot_id = o.origin.last().header("x-session-id").unwrap().to_owned();
    let (c, id) = stored_session(&edge);
    for _ in 0..5 {
        c.get(&edge.url("/more"));
    }
    c.get(&edge.url("/?killSession"));
    poll("the end hook", || o.ends(&id).into_iter().next());
    assert_eq!(o.starts(&id).len(), 1, "start hooks: {:?}", o.starts(&id).len());
    let start = body(&o.starts(&id)[0]);
    assert_eq!(start["event"], "start");
    assert_eq!(start["data"], Value::Null);
    assert!(o.starts(&bot_id).is_empty(), "a session that never came back was started");
    assert!(o.ends(&bot_id).is_empty());
}

#[test]
fn the_sweep_ends_a_session_whose_alarm_was_lost() {
    let o = HookOrigin::start(0);
    let edge = Edge::start(&o.origin.url(), &hook_vars(&[("SESSION_TIMEOUT", "3")]));
    let (_c, id) = stored_session(&edge);
    let expires = edge.inspect(&id).unwrap()["expires_at"].as_u64().unwrap();
    // Lose the object's alarm, as a platform fault would.
    let edge = edge.restart_after(Edge::lose_all_alarms);
    poll("the deadline to pass", || (common::verify::now_ms() > expires + 2_000).then_some(()));
    let ended_by_alarm = !o.ends(&id).is_empty();
    edge.trigger_cron();
    let end = poll("the end hook", || o.ends(&id).into_iter().next());
    assert_eq!(body(&end)["reason"], "timeout");
    assert_eq!(edge.inspect(&id), None);
    assert!(!ended_by_alarm, "the alarm survived the restart: this test could not show the sweep");
    edge.wait_for_log("sweep checked 1 sessions past their deadline, ended 1");
}

#[test]
fn a_sweep_entry_that_fails_is_skipped_and_the_rest_are_swept() {
    let o = HookOrigin::start(0);
    let vars = hook_vars(&[("SESSION_TIMEOUT", "3"), ("TEST_FAULTS", "session.check=fail*1")]);
    let edge = Edge::start(&o.origin.url(), &vars);
    let (_a, a) = stored_session(&edge);
    let (_b, b) = stored_session(&edge);
    let expires = [&a, &b].map(|id| edge.inspect(id).unwrap()["expires_at"].as_u64().unwrap());
    let edge = edge.restart_after(Edge::lose_all_alarms);
    let latest = expires.into_iter().max().unwrap();
    poll("the deadlines to pass", || (common::verify::now_ms() > latest + 2_000).then_some(()));
    // The first entry's check fails: it is skipped, and the sweep goes on to the second.
    edge.trigger_cron();
    edge.wait_for_log("sweep checked 2 sessions past their deadline, ended 1, failed 1");
    // (inspect shows neither: both are past their deadline. The end hooks tell them apart.)
    let ended = poll("the ended one's end hook", || {
        let ended: Vec<&String> = [&a, &b].into_iter().filter(|id| !o.ends(id).is_empty()).collect();
        (!ended.is_empty()).then_some(ended)
    });
    assert_eq!(ended.len(), 1, "one session ended, one skipped");
    // The next sweep ends the skipped one.
    edge.trigger_cron();
    poll("both ended", || (edge.inspect(&a).is_none() && edge.inspect(&b).is_none()).then_some(()));
    poll("an end hook each", || (!o.ends(&a).is_empty() && !o.ends(&b).is_empty()).then_some(()));
}

#[test]
fn a_users_sessions_are_found_the_moment_they_are_tagged() {
    let o = HookOrigin::start(0);
    let edge = Edge::start(&o.origin.url(), &[]);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let c = Client::new();
        c.get(&edge.url("/login"));
        // The login rotated the ids (ROTATE_ON_LOGIN): the session lives on under the new CFID.
        ids.push(c.jar.get("CFID").unwrap());
        let found = user_sessions(&edge, "alice");
        assert!(found.contains(ids.last().unwrap()), "a session tagged a moment ago was not found: {found:?}");
    }
    let mut found = user_sessions(&edge, "alice");
    found.sort();
    ids.sort();
    assert_eq!(found, ids);
    assert!(user_sessions(&edge, "bob").is_empty());
}

fn user_sessions(edge: &Edge, user: &str) -> Vec<String> {
    let r = edge.admin("GET", &format!("users/{user}/sessions"));
    assert_eq!(r.status, 200, "{}", r.text());
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    v["items"].as_array().unwrap().iter().map(|s| s["cfid"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn the_application_restarts_independently_of_sessions() {
    let o = HookOrigin::start(0);
    let edge = Edge::start(&o.origin.url(), &[("APP_NAME", "demo-app")]);
    let (c, id) = stored_session(&edge);
    let auth = format!("Bearer {TEST_ADMIN_TOKEN}");
    let admin = Client::new();
    let app = |method: &str, path: &str| {
        let r = admin.send(
            method,
            &edge.url(&format!("/__session/admin/api/{path}")),
            &[("Authorization", &auth)],
            Some(b""),
        );
        (r.status, serde_json::from_slice::<Value>(&r.body).unwrap_or(Value::Null))
    };
    let first = poll("the application to start", || {
        let (status, v) = app("GET", "application");
        (status == 200).then_some(v)
    });
    assert_eq!(first["name"], "demo-app");
    assert_eq!(first["generation"], 1);
    let (status, stopped) = app("POST", "application/stop");
    assert_eq!(status, 200);
    assert_eq!(stopped["generation"], 2);
    assert_eq!(stopped["reason"], "stop");
    assert!(stopped["started_at"].as_u64() >= first["started_at"].as_u64());
    c.get(&edge.url("/"));
    assert_eq!(o.origin.last().header("x-session-id"), Some(id.as_str()), "applicationStop ended a session");
}
