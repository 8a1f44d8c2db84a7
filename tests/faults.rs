//! Faults injected with `TEST_FAULTS` (session objects, storage, the index; see
//! `src/core/faults.rs`) and origins that reset or stall, through the real Worker. Each test
//! drives one fault and asserts the documented outcome (docs/security.md): the session ends
//! or stays consistent, nothing revives, no update is half-applied, no 500.

mod common;

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    time::Duration,
};

use common::{client_with, stored_session, wait::until, Client, Edge, Origin, Resp};

const RETRYING: &str = "x-cfsession-end";

/// Waits until the edge has no live session `id` (an end retried in the background).
fn until_ended(edge: &Edge, id: &str) {
    until(&format!("session {id} ended"), Duration::from_secs(20), Duration::from_millis(100), || {
        edge.inspect(id).is_none().then_some(())
    });
}

fn expired(r: &Resp, name: &str) -> bool {
    r.all("set-cookie").iter().any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0"))
}

/// Replays `id`'s captured pair and asserts the origin never sees `id` again.
fn replay_is_refused(edge: &Edge, origin: &Origin, pair: &(String, String), id: &str) {
    for _ in 0..3 {
        let r = client_with(&[("CFID", &pair.0), ("CFTOKEN", &pair.1)]).get(&edge.url("/"));
        assert!(r.status == 200 || r.status == 503, "{}", r.status);
        if r.status == 200 {
            assert_ne!(origin.last_id(), id, "a killed pair reached the origin");
        }
    }
}

fn pair(c: &Client) -> (String, String) {
    (c.jar.get("CFID").unwrap(), c.jar.get("CFTOKEN").unwrap())
}

#[test]
fn a_kill_the_object_fails_expires_the_cookies_and_is_retried_until_it_ends() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "session.end=fail*1")]);
    let (c, id) = stored_session(&edge, &origin);
    let old = pair(&c);
    let r = c.get(&edge.url("/?killSession"));
    assert_eq!((r.status, r.header("location")), (302, Some("/")));
    assert_eq!(r.header(RETRYING), Some("retrying"));
    assert!(expired(&r, "CFID") && expired(&r, "CFTOKEN"), "{:?}", r.all("set-cookie"));
    until_ended(&edge, &id);
    edge.wait_for_log("end confirmed on retry");
    replay_is_refused(&edge, &origin, &old, &id);
}

#[test]
fn an_end_that_keeps_failing_is_queued_and_the_sweep_confirms_it() {
    let origin = Origin::ok();
    // The kill and its three background retries fail; the sweep's attempt succeeds.
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "session.end=fail*4")]);
    let (c, id) = stored_session(&edge, &origin);
    let r = c.get(&edge.url("/kill/"));
    assert_eq!((r.status, r.header(RETRYING)), (302, Some("retrying")));
    edge.wait_for_log("end queued for the sweep");
    let sweep = edge.admin("POST", "sweep");
    assert_eq!(sweep.status, 200, "{}", sweep.text());
    let report: serde_json::Value = serde_json::from_slice(&sweep.body).unwrap();
    assert_eq!(report["ends_confirmed"], 1, "{report}");
    assert_eq!(edge.inspect(&id), None);
    // Confirmed ends leave the queue: a second sweep has nothing to retry.
    let report: serde_json::Value = serde_json::from_slice(&edge.admin("POST", "sweep").body).unwrap();
    assert_eq!(report["ends_confirmed"], 0, "{report}");
}

#[test]
fn an_invalidate_the_object_fails_still_logs_the_browser_out() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "session.end=fail*1")]);
    let (c, id) = stored_session(&edge, &origin);
    let old = pair(&c);
    let r = c.get(&edge.url("/action?a=invalidate"));
    assert_eq!(r.status, 200, "the origin's answer is delivered");
    assert_eq!(r.header(RETRYING), Some("retrying"));
    assert!(expired(&r, "CFID") && expired(&r, "CFTOKEN"));
    until_ended(&edge, &id);
    replay_is_refused(&edge, &origin, &old, &id);
}

#[test]
fn a_rotation_the_object_fails_ends_the_session_instead() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "session.rotate_out=fail")]);
    let (c, id) = stored_session(&edge, &origin);
    let old = pair(&c);
    let r = c.get(&edge.url("/action?a=rotate"));
    assert_eq!(r.status, 200);
    assert!(expired(&r, "CFID") && expired(&r, "CFTOKEN"), "the pre-rotation ids were kept");
    assert_eq!(edge.inspect(&id), None);
    replay_is_refused(&edge, &origin, &old, &id);
}

#[test]
fn a_login_the_user_index_cannot_record_fails_closed() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "users.add=fail")]);
    let (c, id) = stored_session(&edge, &origin);
    let r = c.get(&edge.url("/user?id=alice"));
    assert!(expired(&r, "CFID"), "a session tagged without the user index kept its cookies");
    assert_eq!(edge.inspect(&id), None);
    let listed = edge.admin("GET", "users/alice/sessions");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&listed.body).unwrap()["items"], serde_json::json!([]));
}

#[test]
fn log_out_everywhere_tries_every_session_and_names_the_ones_that_failed() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "session.end=fail*1")]);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (c, _) = stored_session(&edge, &origin);
        c.get(&edge.url("/user?id=alice"));
        ids.push(c.jar.get("CFID").unwrap());
    }
    let r = edge.admin("DELETE", "users/alice/sessions");
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(r.status, 503, "{body}");
    assert_eq!((body["ended"].as_array().unwrap().len(), body["failed"].as_array().unwrap().len()), (2, 1), "{body}");
    let r = edge.admin("DELETE", "users/alice/sessions");
    assert_eq!(r.status, 200, "{}", r.text());
    for id in &ids {
        assert_eq!(edge.inspect(id), None, "{id} survived log-out-everywhere");
    }
}

#[test]
fn log_out_everywhere_leaves_a_session_that_now_belongs_to_another_user() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("ROTATE_ON_LOGIN", "false"), ("TEST_FAULTS", "users.remove=fail")]);
    let (c, id) = stored_session(&edge, &origin);
    c.get(&edge.url("/user?id=alice"));
    c.get(&edge.url("/user?id=bob")); // alice's index keeps a stale entry (its removal failed)
    edge.wait_for_log("index user remove failed");
    let r = edge.admin("DELETE", "users/alice/sessions");
    assert_eq!(r.status, 200);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["ended"], serde_json::json!([]));
    assert_eq!(edge.inspect(&id).expect("bob's session was ended")["user"], "bob");
}

#[test]
fn a_failed_storage_write_stores_nothing_half_way() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "storage.put=fail*1")]);
    let c = Client::new();
    // A new (deferred) session whose first write — the origin's data — fails.
    let r = c.get(&edge.url("/set?k=lost"));
    assert_eq!(r.status, 200, "the origin's answer is delivered");
    let id = origin.last_id();
    edge.wait_for_log("origin changes not applied");
    assert_eq!(c.get(&edge.url("/")).status, 200);
    assert_eq!(origin.last_id(), id, "the session survived the failed write");
    let view = edge.inspect(&id).expect("stored by the next request");
    assert_eq!(view["data"], serde_json::json!({}), "a failed write left data behind");
    c.get(&edge.url("/set?k=kept"));
    assert_eq!(edge.inspect(&id).unwrap()["data"], serde_json::json!({"k": "kept"}));
}

#[test]
fn a_session_that_cannot_be_stored_is_refused_with_a_503() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "storage.put=fail*1")]);
    let c = Client::new();
    c.get(&edge.url("/"));
    let id = origin.last_id();
    let seen = origin.received().len();
    // The claim (the first write) fails: fail closed, nothing forwarded.
    let r = c.get(&edge.url("/"));
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(origin.received().len(), seen);
    // The next request claims it.
    assert_eq!(c.get(&edge.url("/")).status, 200);
    assert_eq!(origin.last_id(), id);
    assert_eq!(edge.inspect(&id).unwrap()["hits"], 2, "the refused request was counted");
}

#[test]
fn a_session_object_that_does_not_answer_gets_a_503_not_a_hang() {
    let origin = Origin::ok();
    // Longer than the edge's 8 s call timeout: without it this request would succeed late.
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "session.begin=delay:9500")]);
    let c = Client::new();
    c.get(&edge.url("/")); // new, deferred: no object call
    let seen = origin.received().len();
    let r = c.get(&edge.url("/"));
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.text(), "cfsession-edge: session store unavailable, try again\n");
    assert_eq!(origin.received().len(), seen, "a request whose session could not be checked was forwarded");
}

#[test]
fn index_failures_never_break_requests() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("TEST_FAULTS", "index.upsert=fail;index.remove=fail")]);
    let (c, id) = stored_session(&edge, &origin);
    assert_eq!(c.get(&edge.url("/set?k=v")).status, 200);
    assert_eq!(edge.inspect(&id).unwrap()["data"], serde_json::json!({"k": "v"}));
    assert_eq!(c.get(&edge.url("/kill/")).status, 302);
    assert_eq!(edge.inspect(&id), None);
    edge.wait_for_log("index remove failed");
}

#[test]
fn a_failing_index_shard_is_skipped_by_the_admin_list() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("INDEX_SHARDS", "2"), ("TEST_FAULTS", "index.list=fail*1")]);
    let ids: Vec<String> = (0..6).map(|_| stored_session(&edge, &origin).1).collect();
    let r = edge.admin("GET", "sessions");
    assert_eq!(r.status, 200, "{}", r.text());
    let page: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(page["failed_shards"], serde_json::json!([0]), "{page}");
    assert_eq!(page["total"], 6);
    // The fault is spent: the next listing has every session.
    let page: serde_json::Value = serde_json::from_slice(&edge.admin("GET", "sessions").body).unwrap();
    let listed: Vec<&str> = page["items"].as_array().unwrap().iter().map(|i| i["cfid"].as_str().unwrap()).collect();
    assert!(ids.iter().all(|id| listed.contains(&id.as_str())), "{page}");
    assert_eq!(page["failed_shards"], serde_json::json!([]));
}

/// An origin on a raw socket: `/reset-before` closes without answering, `/reset-mid-body`
/// sends headers (with a session change) and part of the body then resets, `/slow` answers
/// after 3 s, anything else answers 200 at once. Returns its port.
fn faulty_origin() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve_faulty(stream));
        }
    });
    port
}

fn serve_faulty(mut s: TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
    let reset = |s: TcpStream| {
        let _ = socket_linger_zero(&s);
        drop(s);
    };
    match path.as_str() {
        "/reset-before" => reset(s),
        "/reset-mid-body" => {
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-Session-Set: {\"half\":\"yes\"}\r\n\r\n");
            let _ = s.write_all(&[b'x'; 10]);
            let _ = s.flush();
            std::thread::sleep(Duration::from_millis(200));
            reset(s);
        }
        "/slow" => {
            std::thread::sleep(Duration::from_secs(3));
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Session-Set: {\"slow\":\"yes\"}\r\nConnection: close\r\n\r\nslow");
        }
        _ => {
            let id =
                head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("x-session-id: ").map(str::to_owned));
            let body = id.unwrap_or_default();
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    }
}

/// SO_LINGER 0: closing sends a TCP reset instead of a clean end.
fn socket_linger_zero(s: &TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: setsockopt on a valid socket with a correctly sized linger struct.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[test]
fn origins_that_reset_or_stall_leave_the_session_consistent() {
    let port = faulty_origin();
    let edge = Edge::start(&format!("http://127.0.0.1:{port}"), &[("SESSION_DEFER", "false")]);
    let c = Client::new();
    let first = c.get(&edge.url("/"));
    assert_eq!(first.status, 200);
    let id = first.text();
    assert_eq!(id.len(), 32, "{id}");

    let r = c.get(&edge.url("/reset-before"));
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(r.text(), "cfsession-edge: origin unreachable\n");

    // Headers arrived (with a session change), then the body broke off: the client sees a
    // broken response, never a 500; the change was applied whole or not at all.
    if let Ok(r) = c.try_get(&edge.url("/reset-mid-body")) {
        assert_ne!(r.status, 500, "{}", r.text());
    }
    let after = c.get(&edge.url("/"));
    assert_eq!((after.status, after.text()), (200, id.clone()), "the session did not survive the reset");
    let data = edge.inspect(&id).unwrap()["data"].clone();
    assert!(data == serde_json::json!({}) || data == serde_json::json!({"half": "yes"}), "{data}");

    let r = c.get(&edge.url("/slow"));
    assert_eq!((r.status, r.text().as_str()), (200, "slow"));
    assert_eq!(edge.inspect(&id).unwrap()["data"]["slow"], "yes");
    assert!(!edge.log().contains("panicked"), "the Worker panicked");
}
