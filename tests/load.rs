//! Load on the session store through the real Worker: many parallel requests on one
//! session (serialised by its Durable Object: no lost update, exact hits), and many sessions
//! created at once (all distinct, all stored, every answer accounted for).
//!
//! Sized to what local `wrangler dev` carries on a busy 2-core machine, not to find its limit:
//! [`CLIENTS`] parallel clients, as the benchmark's wrk runs (`bench/run.mjs`, 16 connections).
//! With 50, `wrangler dev` itself crashed once (`✘ [ERROR]`, no message) while other jobs
//! shared the machine. What the edge carries is the benchmark's to measure (`scripts/bench`,
//! docs/performance.md); these tests check what it does under parallel load.

mod common;

use std::{
    collections::BTreeSet,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    thread,
};

use common::{stored_session, Client, Edge, Origin};

/// Parallel clients in every test here.
const CLIENTS: usize = 16;

/// Runs `jobs` calls of `job(i)` on `threads` threads.
fn parallel(threads: usize, jobs: usize, job: impl Fn(usize) + Send + Sync + 'static) {
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (next, job) = (next.clone(), job.clone());
            thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= jobs {
                    break;
                }
                job(i);
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a worker thread panicked");
    }
}

#[test]
fn two_hundred_parallel_writes_to_one_session_are_all_kept() {
    let origin = Origin::session_app();
    let edge = Edge::start(&origin.url(), &[("SESSION_HITS", "true"), ("SESSION_DATA_LIMIT", "65536")]);
    let (c, id) = stored_session(&edge, &origin);
    let url = edge.url("/set");
    let errors = Arc::new(Mutex::new(Vec::new()));
    let errs = errors.clone();
    parallel(CLIENTS, 200, move |i| {
        let r = c.get(&format!("{url}?k{i}=v{i}"));
        if r.status != 200 || r.set_cookie("CFID").is_some() {
            errs.lock().unwrap().push((i, r.status));
        }
    });
    assert_eq!(*errors.lock().unwrap(), vec![], "failed requests (or a new session)");
    let view = edge.inspect(&id).unwrap();
    let data = view["data"].as_object().unwrap();
    assert_eq!(data.len(), 200, "lost updates");
    for i in 0..200 {
        assert_eq!(data[&format!("k{i}")], format!("v{i}"));
    }
    // Exact: one hit per request the origin received in this session (two to store it, the
    // 200, and any GET the HTTP client resent after a dropped pooled connection).
    let arrived = origin.received().iter().filter(|r| r.header("x-session-id") == Some(id.as_str())).count();
    assert!(arrived >= 202);
    assert_eq!(view["hits"], arrived as u64);
}

#[test]
fn a_thousand_sessions_created_at_once_are_all_distinct_and_stored() {
    const SESSIONS: usize = 1_000;
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_DEFER", "false")]);
    let url = edge.url("/");
    let ids = Arc::new(Mutex::new(BTreeSet::new()));
    let errors = Arc::new(AtomicUsize::new(0));
    let (seen, errs) = (ids.clone(), errors.clone());
    parallel(CLIENTS, SESSIONS, move |_| match Client::new().try_get(&url) {
        Ok(r) if r.status == 200 => {
            seen.lock().unwrap().insert(r.set_cookie("CFID").unwrap_or_default().to_owned());
        }
        _ => {
            errs.fetch_add(1, Ordering::SeqCst);
        }
    });
    assert_eq!(errors.load(Ordering::SeqCst), 0, "errors");
    assert_eq!(ids.lock().unwrap().len(), SESSIONS, "duplicate session ids");
    // Every session the origin saw is stored, one per request it got. (Under load `wrangler
    // dev` drops a few connections after forwarding; the HTTP client then sends the GET again,
    // which starts another session: counted, not hidden.)
    let at_origin: BTreeSet<String> =
        origin.received().iter().filter_map(|r| r.header("x-session-id").map(str::to_owned)).collect();
    let resent = at_origin.len().checked_sub(SESSIONS).expect("fewer sessions at the origin than answered");
    assert!(resent <= CLIENTS, "{resent} requests resent");
    assert_eq!(edge.stored_objects(), at_origin.len(), "stored sessions");
}
