//! The CFML drop-in (`kits/cfml/EdgeApplication.cfc`): applications written against
//! ColdFusion's own `session` scope, `onSessionStart`/`onSessionEnd`, `sessionRotate()` and
//! `sessionInvalidate()`, running on the edge's session with only `Application.cfc` changed,
//! on two real Lucee 7 servers behind Debian's nginx balancing round-robin without stickiness
//! (`tests/common/lucee_cluster.rs`), through the real Worker. The applications are
//! `tests/apps/lucee-edge/`: `counter/` (small) and `shop/` (CFCs, custom tags, dates, a query).

mod common;

use std::{collections::BTreeSet, sync::RwLockReadGuard, time::Duration};

use common::{lucee_cluster::Cluster, wait::until, Client, Edge, Resp};
use serde_json::Value;

/// An edge in front of the cluster; end events go to `end_url` (a page of one application).
/// The guard keeps both servers up while the test runs (the restart test waits for it).
fn edge(end_url: &str, vars: &[(&str, &str)]) -> (Edge, RwLockReadGuard<'static, ()>) {
    let up = Cluster::shared().both_up();
    let mut all = vec![("SESSION_END_URL", end_url)];
    all.extend_from_slice(vars);
    (Edge::start(&Cluster::shared().url(""), &all), up)
}

/// `"<count> <server>"` from `/counter/`.
fn count(c: &Client, edge: &Edge) -> (u32, String) {
    let r = c.get(&edge.url("/counter/"));
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let mut words = text.split_whitespace();
    let n = words.next().and_then(|w| w.parse().ok()).unwrap_or_else(|| panic!("not a count: {text}"));
    (n, words.next().unwrap_or_default().to_owned())
}

fn json(r: &Resp) -> Value {
    assert_eq!(r.status, 200, "{}", r.text());
    serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("not JSON: {}", r.text()))
}

/// Whether `log` (under the cluster's `APP_DIR`) has a line starting with `cfid`.
fn logged(log: &str, cfid: &str) -> Vec<String> {
    Cluster::shared().lines(log).into_iter().filter(|l| l.starts_with(cfid)).collect()
}

fn cfid(c: &Client) -> String {
    c.jar.get("CFID").expect("a CFID cookie")
}

/// One browser's counter counts 1..N with the requests alternating between the servers.
#[test]
fn a_counter_counts_across_two_servers_without_stickiness() {
    let (edge, _up) = edge("/counter/", &[]);
    let c = Client::new();
    let answers: Vec<(u32, String)> = (0..20).map(|_| count(&c, &edge)).collect();
    let counts: Vec<u32> = answers.iter().map(|a| a.0).collect();
    assert_eq!(counts, (1..=20).collect::<Vec<_>>(), "{answers:?}");
    let servers: BTreeSet<&str> = answers.iter().map(|a| a.1.as_str()).collect();
    assert_eq!(servers, BTreeSet::from(["a", "b"]), "both servers served the session");
    assert_eq!(logged("counter/started.log", &cfid(&c)).len(), 1, "onSessionStart ran once for the session");
}

/// Server `b` killed mid-session and started again: the count goes on without a gap (nginx
/// sends everything to `a` meanwhile), and `b` serves the session again after its restart.
#[test]
fn a_server_restarted_mid_session_loses_nothing() {
    let cluster = Cluster::shared();
    let _alone = cluster.alone();
    let edge = Edge::start(&cluster.url(""), &[("SESSION_END_URL", "/counter/")]);
    let c = Client::new();
    let mut answers: Vec<(u32, String)> = (0..6).map(|_| count(&c, &edge)).collect();
    cluster.servers[1].stop();
    answers.extend((0..6).map(|_| count(&c, &edge)));
    cluster.servers[1].start();
    let restarted = answers.len();
    answers.extend((0..8).map(|_| count(&c, &edge)));
    let counts: Vec<u32> = answers.iter().map(|a| a.0).collect();
    assert_eq!(counts, (1..=20).collect::<Vec<_>>(), "{answers:?}");
    assert!(answers[6..restarted].iter().all(|a| a.1 == "a"), "{answers:?}");
    assert!(answers[restarted..].iter().any(|a| a.1 == "b"), "b did not serve after its restart: {answers:?}");
}

/// 16 overlapping requests of one session, each setting its own key (each waits 300 ms on the
/// server, so they overlap), spread over both servers: every key is kept.
#[test]
fn parallel_requests_across_both_servers_keep_every_update() {
    let (edge, _up) = edge("/counter/", &[]);
    let c = Client::new();
    count(&c, &edge);
    count(&c, &edge); // the session is stored
    let servers: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let (c, edge) = (&c, &edge);
                s.spawn(move || {
                    let r = c.get(&edge.url(&format!("/counter/set.cfm?k=k{i}&v={i}&ms=300")));
                    assert_eq!(r.status, 200, "{}", r.text());
                    r.text().trim().to_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(servers.iter().any(|s| s == "a") && servers.iter().any(|s| s == "b"), "{servers:?}");
    let keys = json(&c.get(&edge.url("/counter/keys.cfm")));
    for i in 0..16 {
        assert_eq!(keys[format!("k{i}")], i.to_string(), "k{i} was lost: {keys}");
    }
    assert_eq!(keys["count"], 2, "{keys}");
}

/// Two applications (`counter`, `shop`: different `this.name`, different paths) share one
/// CFID/CFTOKEN pair and keep separate `session` scopes; each runs its own onSessionStart;
/// the admin shows both; a kill ends both and runs both onSessionEnd (the end event goes to
/// the counter, which passes it on to the shop).
#[test]
fn two_applications_share_one_session_and_end_together() {
    let (edge, _up) = edge("/counter/", &[]);
    let c = Client::new();
    count(&c, &edge);
    let id = cfid(&c);
    let r = c.get(&edge.url("/shop/"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(cfid(&c), id, "one CFID for both applications");
    assert!(r.text().contains("visits=1"), "{}", r.text());
    assert_eq!(count(&c, &edge).0, 2);
    let counter = json(&c.get(&edge.url("/counter/keys.cfm")));
    assert!(
        counter.get("cart").is_none() && counter.get("visits").is_none(),
        "the shop's keys reached the counter: {counter}"
    );
    let data = &edge.inspect(&id).expect("the session is live")["data"];
    assert_eq!(data["counter:COUNT"], 2, "{data}");
    assert_eq!(data["shop:VISITS"], 1, "{data}");
    assert_eq!(data["counter:"]["app"], "counter", "{data}");
    assert_eq!(data["shop:"]["app"], "shop", "{data}");
    // The kill: both applications' onSessionEnd, with their own last data.
    let r = c.get(&edge.url("/counter/?killSession"));
    assert_eq!(r.status, 302);
    until("both onSessionEnd", Duration::from_secs(30), Duration::from_millis(100), || {
        let counter = logged("counter/ended.log", &id);
        let shop = logged("shop/ended.log", &id);
        (!counter.is_empty() && !shop.is_empty()).then_some((counter, shop))
    });
    assert_eq!(logged("counter/ended.log", &id), [format!("{id} 2")]);
    assert_eq!(logged("shop/ended.log", &id), [format!("{id} guest 0 3")], "shop: user, cart items, catalog rows");
    assert_eq!(count(&c, &edge).0, 1, "the browser is in a new session");
    assert_ne!(cfid(&c), id);
}

/// The shop, written against ColdFusion's own sessions, unchanged: a cart kept through a CFC,
/// custom tags reading and writing the session, a flash message across a redirect, a login that
/// rotates the ids and keeps the data, dates and a query that come back as a date and a query,
/// and a logout whose onSessionEnd sees the session's last data.
#[test]
fn an_unchanged_shop_runs_on_the_edges_session() {
    let (edge, _up) = edge("/shop/", &[]);
    let c = Client::new();
    let page = |p: &str| {
        let r = c.get(&edge.url(p));
        assert_eq!(r.status, 200, "{p}: {}", r.text());
        r.text().split_whitespace().collect::<Vec<_>>().join(" ")
    };
    assert_eq!(page("/shop/"), "[guest] cart=0 total=0 visits=1");
    let first = cfid(&c);
    // add.cfm redirects (location(): onAbort) with a flash shown once by <cf_flash>.
    let r = c.get(&edge.url("/shop/add.cfm?sku=A1&qty=2"));
    assert_eq!(r.status, 302, "{}", r.text());
    assert_eq!(page("/shop/index.cfm"), "[guest] (Added A1) cart=2 total=49 visits=3");
    c.get(&edge.url("/shop/add.cfm?sku=C3"));
    assert_eq!(page("/shop/index.cfm"), "[guest] (Added C3) cart=3 total=56.25 visits=5");
    // Log in: sessionRotate() in Auth.cfc becomes the edge's rotation (new CFID, data kept).
    assert_eq!(c.get(&edge.url("/shop/login.cfm?name=kim")).status, 302);
    let rotated = cfid(&c);
    assert_ne!(rotated, first, "sessionRotate() did not rotate the edge's ids");
    assert_eq!(page("/shop/index.cfm"), "[kim] (Welcome, kim) cart=3 total=56.25 visits=7");
    let account = json(&c.get(&edge.url("/shop/account.cfm")));
    assert_eq!(account["user"], "kim");
    assert_eq!(account["roles"], "buyer");
    assert_eq!(account["sinceIsDate"], true, "a date came back as something else: {account}");
    assert_eq!(account["cartUpdatedIsDate"], true, "{account}");
    assert_eq!(account["viewedIsQuery"], true, "{account}");
    assert_eq!(account["viewed"], "A1,C3");
    assert_eq!(account["viewedAtIsDate"], true, "{account}");
    assert!(account["sinceAgeS"].as_i64().is_some_and(|s| (0..60).contains(&s)), "{account}");
    assert_eq!(account["userbarRenders"], 4, "the custom tag's writes: {account}");
    let data = &edge.inspect(&rotated).unwrap()["data"];
    println!("the shop's session at the edge: {} bytes of JSON", serde_json::to_string(data).unwrap().len());
    // Log out: sessionInvalidate() ends the edge session; onSessionEnd gets its last data.
    assert_eq!(c.get(&edge.url("/shop/logout.cfm")).status, 302);
    let ended = until("the shop's onSessionEnd", Duration::from_secs(30), Duration::from_millis(100), || {
        let lines = logged("shop/ended.log", &rotated);
        (!lines.is_empty()).then_some(lines)
    });
    assert_eq!(ended, [format!("{rotated} kim 2 3")]);
    assert!(edge.inspect(&rotated).is_none(), "the session outlived sessionInvalidate()");
    assert_eq!(page("/shop/"), "[guest] cart=0 total=0 visits=1", "a new session after the logout");
}

/// A value the edge cannot keep (a component instance, a function, a Java object) and a
/// session past SESSION_DATA_LIMIT fail the request with an error naming the key, and nothing
/// of the request's session changes is written.
#[test]
fn values_that_cannot_travel_fail_clearly_and_change_nothing() {
    let (edge, _up) = edge("/shop/", &[]);
    let c = Client::new();
    c.get(&edge.url("/shop/"));
    for (what, message) in [
        ("component", "session.HELPER holds a component instance (shop.components.Cart)"),
        ("function", "session.HELPER holds a function"),
        ("java", "session.HELPER holds a Java object (java.lang.StringBuilder)"),
        ("big&n=4000", "session data would be "),
    ] {
        let r = c.get(&edge.url(&format!("/shop/keep.cfm?what={what}")));
        assert_eq!(r.status, 500, "{what}");
        let text = r.text();
        let shown = text
            .find("holds")
            .or(text.find("would be"))
            .map(|i| &text[i.saturating_sub(80)..(i + 200).min(text.len())]);
        assert!(text.contains(message), "{what}: the error does not say {message:?}: {shown:?}");
        let data = &edge.inspect(&cfid(&c)).unwrap()["data"];
        assert!(data.get("shop:NOTE").is_none() && data.get("shop:HELPER").is_none(), "{what}: half-written: {data}");
        assert_eq!(data["shop:VISITS"], 1, "{what}: {data}");
    }
    // A page that flushes early cannot send its changes: it is served, the changes are left
    // out, and the kit says so in Lucee's log (cfsession-edge.log).
    let r = c.get(&edge.url("/shop/flush.cfm"));
    assert_eq!((r.status, r.text().trim()), (200, "early late"));
    assert!(edge.inspect(&cfid(&c)).unwrap()["data"].get("shop:AFTERFLUSH").is_none());
    let said = "session changes lost, the response was flushed before the request ended (/shop/flush.cfm): ";
    until("the kit's log line", Duration::from_secs(10), Duration::from_millis(100), || {
        let logs: String = Cluster::shared().servers.iter().map(|s| s.logs("cfsession-edge.log")).collect();
        logs.lines().any(|l| l.contains(said) && l.contains("shop:AFTERFLUSH")).then_some(())
    });
    let r = c.get(&edge.url("/shop/keep.cfm?what=big&n=1000"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(edge.inspect(&cfid(&c)).unwrap()["data"]["shop:NOTE"], "written before");

    // The budget with a realistic session: a logged-in shopper adding distinct products (each
    // a cart entry and a row of the viewed query) until SESSION_DATA_LIMIT (3072) is reached.
    let c = Client::new();
    c.get(&edge.url("/shop/login.cfm?name=kim"));
    let size = |c: &Client| serde_json::to_string(&edge.inspect(&cfid(c)).unwrap()["data"]).unwrap().len();
    println!("logged in, empty cart: {} bytes of JSON", size(&c));
    let mut added = 0;
    loop {
        let r = c.get(&edge.url(&format!("/shop/add.cfm?sku=SKU-{added}")));
        if r.status != 302 {
            assert_eq!(r.status, 500, "{}", r.text());
            assert!(
                r.text().contains("over the edge&#39;s limit of 3072")
                    || r.text().contains("over the edge's limit of 3072")
            );
            break;
        }
        added += 1;
        assert!(added < 200, "the data limit was never reached");
    }
    let data = &edge.inspect(&cfid(&c)).unwrap()["data"];
    assert_eq!(data["shop:CART"]["ITEMS"].as_object().unwrap().len(), added, "the refused item was half-written");
    println!("{added} products fit: {} bytes of JSON; the next one failed with EdgeSession.DataLimit", size(&c));
}

/// How a test ends a session: the browser and the session's CFID.
type Ending<'a> = dyn Fn(&Client, &str) + 'a;

/// onSessionEnd runs once, with the session's last data, however the session ends: the edge's
/// kill, an idle timeout set with session.setMaxInactiveInterval(), sessionInvalidate(), the
/// admin's end, and "log out everywhere"; a rotation ends nothing.
#[test]
fn on_session_end_runs_once_for_every_way_a_session_ends() {
    let (edge, _up) = edge("/counter/", &[]);
    let admin_end = |id: &str| assert_eq!(edge.admin("DELETE", &format!("sessions/{id}")).status, 200);
    let kinds: [(&str, &Ending); 5] = [
        ("kill", &|c, _| assert_eq!(c.get(&edge.url("/counter/?killSession")).status, 302)),
        ("timeout", &|c, _| assert_eq!(c.get(&edge.url("/counter/short.cfm?s=2")).status, 200)),
        ("invalidate", &|c, _| assert_eq!(c.get(&edge.url("/counter/invalidate.cfm")).text().trim(), "invalidated")),
        ("admin", &|_, id| admin_end(id)),
        ("everywhere", &|_, _| assert_eq!(edge.admin("DELETE", "users/everywhere-user/sessions").status, 200)),
    ];
    let mut rotated_away = vec![];
    for (kind, end) in kinds {
        let c = Client::new();
        count(&c, &edge);
        if kind == "everywhere" {
            // A login (the edge tags the session and rotates its ids).
            assert_eq!(c.get(&edge.url("/counter/login.cfm?user=everywhere-user")).status, 200);
        }
        count(&c, &edge);
        let before = cfid(&c);
        assert_eq!(c.get(&edge.url("/counter/rotate.cfm")).text().trim(), "rotated");
        let (n, _) = count(&c, &edge);
        let id = cfid(&c);
        end(&c, &id);
        let lines =
            until(&format!("onSessionEnd after {kind}"), Duration::from_secs(30), Duration::from_millis(100), || {
                let lines = logged("counter/ended.log", &id);
                (!lines.is_empty()).then_some(lines)
            });
        assert_eq!(lines, [format!("{id} {n}")], "{kind}");
        rotated_away.push(before);
    }
    // Each ran once (a redelivery is skipped).
    let all = Cluster::shared().lines("counter/ended.log");
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "an onSessionEnd ran twice: {all:?}");
    for id in rotated_away {
        assert!(logged("counter/ended.log", &id).is_empty(), "a rotation ran onSessionEnd for {id}");
    }
}

/// The drop-in's cost on Lucee: the counter's page with a realistic session (the shop's
/// shape: 20 keys, a date, a query, ~1.3 KB of JSON) against the same page in an application
/// without sessions, both requested directly at server `a` with the edge's signed headers
/// (no edge in front), interleaved, 600 of each to warm up and 3 rounds of 200; prints the
/// medians. Each drop-in answer must
/// carry its change (the count) and nothing else.
#[test]
fn the_drop_ins_cost_per_request() {
    let cluster = Cluster::shared();
    let _alone = cluster.alone(); // no other test of this binary loads the machine meanwhile
    let server = &cluster.servers[0];
    let key = common::verify::test_origin_key();
    let mut data = serde_json::json!({
        "counter:": { "app": "counter", "hook": "/counter/", "timeout": 1200 },
        "counter:COUNT": 41,
        "counter:USER": { "name": "kim", "roles": ["buyer", "reviewer"], "since": { "$cfml": "date", "value": "2026-12-07T08:00:00.123Z" } },
        "counter:CART": { "items": { "A1": 2, "C3": 1, "B2": 4 }, "updated": { "$cfml": "date", "value": "2026-12-07T08:03:00Z" } },
        "counter:VIEWED": { "$cfml": "query", "columns": ["sku", "at"], "types": ["varchar", "timestamp"], "rows": [
            ["A1", { "$cfml": "date", "value": "2026-12-07T08:01:00Z" }], ["C3", { "$cfml": "date", "value": "2026-12-07T08:02:00Z" }]
        ] },
        "counter:FLASH": "",
    });
    for i in 0..14 {
        data[format!("counter:PREF{i}")] = serde_json::json!(format!("value number {i} of a preference"));
    }
    println!("session: {} bytes of JSON", data.to_string().len());
    let id = "0123456789abcdef0123456789abcdef";
    // A fresh connection per request, as a load balancer without keep-alive would open.
    let time = |path: &str, data: &Value| {
        let headers = common::verify::signed_headers(&key, "GET", path, id, false, data);
        let mut head = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}", server.port);
        for (k, v) in &headers {
            head.push_str(&format!("\r\n{k}: {v}"));
        }
        let started = std::time::Instant::now();
        let r = common::client::raw(server.port, head.as_bytes(), b"");
        let took = started.elapsed();
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        (took, r)
    };
    let empty = serde_json::json!({});
    let (mut plain, mut drop_in) = (vec![], vec![]);
    for round in 0..4 {
        for _ in 0..if round == 0 { 600 } else { 200 } {
            plain.push(time("/plain/index.cfm", &empty).0);
            let (took, r) = time("/counter/index.cfm", &data);
            assert_eq!(r.header("x-session-set"), Some(r#"{"counter:COUNT":42}"#), "{}", r.text());
            drop_in.push(took);
        }
        if round == 0 {
            // The first round warms the JIT up.
            plain.clear();
            drop_in.clear();
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1000.0
    };
    let (p, d) = (median(&mut plain), median(&mut drop_in));
    println!("median per request: without sessions {p:.2} ms, with the drop-in {d:.2} ms: +{:.2} ms", d - p);
}
