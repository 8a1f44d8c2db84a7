//! Ground truth for guard mode's cookie filter: the real parsers, not models of them
//! (differential testing). Each real server the suite runs reports, from an echo endpoint,
//! every cookie name and value it read and whose session it attached: Lucee 7 (`cfml` and
//! `jee` sessions: Tomcat's `getCookies()` overridden by Lucee's own parse of the raw header),
//! Tomcat's servlet `getCookies()`, PHP's `$_COOKIE`, express-session's `cookie` 0.7 and
//! `cookie` 1.x, Django's `request.COOKIES` and Python's `http.cookies`.
//!
//! Each server gets a victim session and an attacker session of its own. Generated headers
//! ([`generate`]) carry the victim's ids (or a planted id) in adversarial spellings, half of
//! them beside the attacker's own ids spelled exactly. Each goes through the edge's filter as
//! the Worker runs it (`OriginIds::from_cookie_header`, then `guard::forward_cookie` with the
//! attacker's session live only when the request's identity is exactly the attacker's, as a
//! valid binding makes it), natively, and what is left is sent to the server directly. The
//! assertion: no reader reads a guarded name with the victim's or a planted id (or the
//! attacker's without a live session), and no server attaches the victim's session (or the
//! attacker's without a live session).
//!
//! `REAL_PARSER_CASES` (default 2,000) headers per server; `REAL_PARSER_SEED` moves the
//! generated ones (`scripts/fuzz --real-parsers N`). A failure names the server, the seed and
//! both headers.

mod common;
#[path = "real_parsers/generate.rs"]
mod generate;

use std::{thread, time::Instant};

use cfsession_edge::core::{
    cookie_header::{letters_and_digits, CookieHeader},
    guard::{forward_cookie, GuardPolicy, OriginIds},
};
use common::{
    client::raw,
    lucee::Lucee,
    session_managers::{App, Manager},
    Resp,
};
use serde_json::Value;

/// One real server under test.
struct Server {
    name: &'static str,
    port: u16,
    /// The echo endpoint's path.
    echo: String,
    /// `GUARD_COOKIES` for it: the first is the cookie that names the session.
    guarded: &'static [&'static str],
}

/// What one echo answered: `(reader, name, value)` for every cookie read, and the owner of the
/// session attached ("" for none).
struct Echo {
    read: Vec<(String, String, String)>,
    owner: String,
}

impl Server {
    fn send(&self, cookie: Option<&str>, query: &str) -> Resp {
        let mut head = format!("GET {}{query} HTTP/1.1\r\nHost: 127.0.0.1:{}", self.echo, self.port).into_bytes();
        if let Some(c) = cookie {
            head.extend_from_slice(b"\r\nCookie: ");
            // Each character is one byte on the wire (they are all at most U+00FF).
            head.extend(c.chars().map(|ch| u8::try_from(u32::from(ch)).expect("a Latin-1 character")));
        }
        raw(self.port, &head, b"")
    }

    fn echo(&self, cookie: Option<&str>) -> Echo {
        let r = self.send(cookie, "");
        assert_eq!(r.status, 200, "{}: {} for Cookie {cookie:?}: {}", self.name, r.status, r.text());
        let v: Value = serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{}: {e}: {}", self.name, r.text()));
        let mut read = Vec::new();
        for (reader, pairs) in v["readers"].as_object().expect("readers").iter() {
            for pair in pairs.as_array().expect("pairs") {
                let text = |i: usize| pair[i].as_str().map_or_else(|| pair[i].to_string(), str::to_owned);
                read.push((reader.clone(), text(0), text(1)));
            }
        }
        Echo { read, owner: v["owner"].as_str().unwrap_or_default().to_owned() }
    }

    /// A new session owned by `owner`: its guarded cookies, as the server set them.
    fn session(&self, owner: &str) -> Vec<(String, String)> {
        let r = self.send(None, &format!("?as={owner}"));
        assert_eq!(r.status, 200, "{}: {}", self.name, r.text());
        let mut ids = Vec::new();
        for sc in r.all("set-cookie") {
            let (name, value) = sc.split(';').next().and_then(|nv| nv.split_once('=')).expect("name=value");
            let known = self.guarded.iter().any(|g| g.eq_ignore_ascii_case(name.trim()));
            if known && !ids.iter().any(|(n, _): &(String, String)| n.eq_ignore_ascii_case(name.trim())) {
                ids.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        let key = self.guarded[0];
        ids.sort_by_key(|(n, _)| !n.eq_ignore_ascii_case(key)); // the session's key first
        assert!(ids.first().is_some_and(|(n, _)| n.eq_ignore_ascii_case(key)), "{}: no {key} set: {ids:?}", self.name);
        let header = ids.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
        assert_eq!(self.echo(Some(&header)).owner, owner, "{}: its own session was not attached", self.name);
        ids
    }
}

/// The letters and digits of a value once fully percent-decoded: a reader that holds an id in
/// any quoting or encoding holds these.
fn core(value: &str) -> String {
    let mut v = value.to_owned();
    for _ in 0..4 {
        let decoded = decode(&v);
        if decoded == v {
            break;
        }
        v = decoded;
    }
    letters_and_digits(&v)
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok()),
        ) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs the generated cases against one server; returns (cases, requests sent, seconds).
fn differential(server: &Server, cases: u64, seed: u64) -> (u64, u64, f64) {
    let start = Instant::now();
    let policy = GuardPolicy { cookies: server.guarded.iter().map(|s| (*s).to_owned()).collect() };
    let victim = server.session("victim");
    let own = server.session("attacker");
    let planted = format!("{:024x}", generate::Rng::new(seed ^ 0x5eed).next() as u128 * 0x1_0000_0001);
    let own_ids = OriginIds(own.clone());
    let cores = |pairs: &[(String, String)]| -> Vec<String> {
        pairs.iter().map(|(_, v)| core(v)).filter(|c| c.len() >= 8).collect()
    };
    let (victim_cores, own_cores, planted_core) = (cores(&victim), cores(&own), core(&planted));
    let mut sent = 0;
    for i in 0..cases {
        let case_seed = if i < 5 { i } else { seed.wrapping_add(i) };
        let case = generate::case(case_seed, &victim, &own, &planted);
        let header = case.header.trim_matches([' ', '\t']); // as the platform normalises it
        let parsed = CookieHeader::new(header);
        let identity = OriginIds::from_cookie_header(&parsed, &policy);
        let live = matches!(&identity, Ok(Some(ids)) if ids.same_as(&OriginIds(own_ids.0.clone())) && case.with_own);
        let forwarded = forward_cookie(&parsed, &policy, live.then_some(&own_ids)).header;
        let echo = server.echo(forwarded.as_deref());
        sent += 1;
        let fail = |why: String| -> ! {
            panic!(
                "{}: {why}\n  seed {case_seed} (REAL_PARSER_SEED={seed}, case {i})\n  sent by the client: {header:?}\n  \
                 forwarded by the edge: {forwarded:?}\n  live: {live}",
                server.name
            )
        };
        if echo.owner == "victim" || (echo.owner == "attacker" && !live) {
            fail(format!("attached {}'s session", echo.owner));
        }
        for (reader, name, value) in &echo.read {
            if !server.guarded.iter().any(|g| g.eq_ignore_ascii_case(name)) {
                continue;
            }
            let c = core(value);
            let victims = victim_cores.iter().any(|v| c.contains(v.as_str())) || c.contains(&planted_core);
            if victims || (!live && own_cores.iter().any(|o| c.contains(o.as_str()))) {
                fail(format!("{reader} reads {name}={value:?}"));
            }
        }
    }
    (cases, sent, start.elapsed().as_secs_f64())
}

fn count() -> u64 {
    std::env::var("REAL_PARSER_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
}

fn seed() -> u64 {
    std::env::var("REAL_PARSER_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(20_261_207)
}

fn report(server: &Server, (cases, sent, secs): (u64, u64, f64)) {
    eprintln!("real parsers: {:<14} {cases} headers, {sent} requests, 0 disagreements, {secs:.1} s", server.name);
}

#[test]
fn no_real_server_reads_a_victims_id_through_the_guard_filter() {
    let (cases, seed) = (count(), seed());
    let lucee = Lucee::shared();
    let apps: Vec<App> = [Manager::Tomcat, Manager::Php, Manager::ExpressSession, Manager::Django]
        .into_iter()
        .map(|m| thread::spawn(move || App::start(m)))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().expect("an application started"))
        .collect();
    let mut servers = vec![
        Server { name: "lucee cfml", port: lucee.port, echo: "/cfml/echo.cfm".into(), guarded: &["CFID", "CFTOKEN"] },
        Server {
            name: "lucee jee",
            port: lucee.port,
            echo: "/jee/echo.cfm".into(),
            guarded: &["JSESSIONID", "CFID", "CFTOKEN"],
        },
    ];
    for app in &apps {
        let (name, guarded): (&str, &'static [&'static str]) = match app.manager {
            Manager::Tomcat => ("tomcat servlet", &["JSESSIONID"]),
            Manager::Php => ("php", &["PHPSESSID"]),
            Manager::ExpressSession => ("express", &["connect.sid"]),
            Manager::Django => ("django", &["sessionid"]),
        };
        servers.push(Server { name, port: app.port, echo: app.manager.page("echo"), guarded });
    }
    let start = Instant::now();
    let results: Vec<(usize, (u64, u64, f64))> = thread::scope(|s| {
        let handles: Vec<_> =
            servers.iter().enumerate().map(|(i, srv)| s.spawn(move || (i, differential(srv, cases, seed)))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    for (i, r) in results {
        report(&servers[i], r);
    }
    eprintln!(
        "real parsers: {} servers x {cases} headers, 0 disagreements, {:.1} s",
        servers.len(),
        start.elapsed().as_secs_f64()
    );
}
