//! Test origins that keep their own sessions the way ColdFusion engines do, for guard mode:
//! - [`Engine::Acf`]: Adobe ColdFusion since APSB11-04. `CFID` (a small incrementing number)
//!   and `CFTOKEN` (8 random digits), upper case, persistent; a request whose pair names no
//!   live session gets a new pair.
//! - [`Engine::Lucee`]: lower-case `cfid` (a UUID) and `cftoken=0`; it adopts any UUID-shaped
//!   `cfid` cookie it is sent, without checking it exists (session fixation, before 6.2).
//!
//! Sessions live in memory, keyed by their id, with their own idle timeout. Paths:
//! - `/kill-session` (POST): the application's `ORIGIN_KILL_URL` page: verifies the edge's
//!   signature with the origin key, then `sessionInvalidate()`s the session its `Cookie`
//!   header names (its `onSessionEnd` is recorded, reason `killed`).
//! - `/rotate`: `sessionRotate()`: new ids for the session, same data.
//! - `/login`, `/short`, `/logout`: the page, answering `X-Session-User: alice`,
//!   `X-Session-Action: timeout=2` and `X-Session-Action: invalidate` (the edge protocol's
//!   headers, which work in guard mode too).
//! - `/hooks/start`, `/hooks/end`: the edge's session hooks, recorded.
//! - anything else: the page; it answers `<session id> <hits>` and counts a hit.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::{
    origin::{Origin, Recorded, Reply},
    verify::{hook_signature_ok, now_s, test_origin_key},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Acf,
    Lucee,
}

impl Engine {
    /// The session cookie names this engine writes.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Engine::Acf => ("CFID", "CFTOKEN"),
            Engine::Lucee => ("cfid", "cftoken"),
        }
    }
}

#[derive(Debug, Clone)]
struct Session {
    hits: u64,
    last: Instant,
}

#[derive(Default)]
struct State {
    /// By session id (ACF: `CFID:CFTOKEN`; Lucee: the cfid).
    sessions: HashMap<String, Session>,
    next_cfid: u64,
    /// `onSessionEnd` calls: (session id, reason).
    ended: Vec<(String, String)>,
    /// Calls to `/kill-session`, with whether their signature verified.
    kill_calls: Vec<(Recorded, bool)>,
    /// Session ids as the page saw them, one per page request (the origin's view).
    seen: Vec<String>,
    /// The next this many `/kill-session` calls answer 503.
    kill_failures_left: usize,
}

/// A running ColdFusion-like origin.
pub struct CfOrigin {
    pub engine: Engine,
    pub origin: Origin,
    state: Arc<Mutex<State>>,
}

impl CfOrigin {
    /// Starts one; its sessions time out after `timeout` without requests.
    pub fn start(engine: Engine, timeout: Duration) -> Self {
        let state: Arc<Mutex<State>> = Arc::default();
        let s = state.clone();
        let origin = Origin::start(move |r| handle(engine, timeout, &s, r));
        Self { engine, origin, state }
    }

    pub fn url(&self) -> String {
        self.origin.url()
    }

    /// The session id the page saw last.
    pub fn last_seen(&self) -> String {
        self.state.lock().unwrap().seen.last().cloned().expect("no page request reached the origin")
    }

    /// Every session id the page saw.
    pub fn seen(&self) -> Vec<String> {
        self.state.lock().unwrap().seen.clone()
    }

    /// `onSessionEnd` calls so far: (session id, reason).
    pub fn ended(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().ended.clone()
    }

    /// Makes the next `n` `/kill-session` calls fail with 503 (the application is down).
    pub fn fail_next_kills(&self, n: usize) {
        self.state.lock().unwrap().kill_failures_left = n;
    }

    /// `/kill-session` calls so far, with whether each signature verified.
    pub fn kill_calls(&self) -> Vec<(Recorded, bool)> {
        self.state.lock().unwrap().kill_calls.clone()
    }

    /// Whether any request (other than kill calls) reached the origin carrying session id
    /// `id` as its session cookie.
    pub fn received_id(&self, id: &str) -> bool {
        self.origin
            .received()
            .iter()
            .filter(|r| !r.url.starts_with("/kill-session") && !r.url.starts_with("/hooks/"))
            .any(|r| session_key(self.engine, r.header("cookie")).as_deref() == Some(id))
    }
}

/// The session id a `Cookie` header names, by the engine's rules (names case-insensitive).
pub fn session_key(engine: Engine, cookie: Option<&str>) -> Option<String> {
    let get = |name: &str| {
        cookie?
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_owned())
    };
    match engine {
        Engine::Acf => Some(format!("{}:{}", get("CFID")?, get("CFTOKEN")?)),
        Engine::Lucee => get("cfid").filter(|v| is_uuid(v)),
    }
}

fn is_uuid(v: &str) -> bool {
    v.len() == 36
        && v.bytes()
            .enumerate()
            .all(|(i, b)| if [8, 13, 18, 23].contains(&i) { b == b'-' } else { b.is_ascii_hexdigit() })
}

fn random_digits(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom_like(&mut buf);
    buf.iter().map(|b| char::from(b'0' + b % 10)).collect()
}

fn uuid() -> String {
    let mut b = [0u8; 16];
    getrandom_like(&mut b);
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Random bytes from the OS (tests only).
fn getrandom_like(buf: &mut [u8]) {
    use std::io::Read;
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf)).expect("/dev/urandom");
}

const PERSISTENT: &str = "Path=/;Expires=Sun, 06-Nov-2055 08:49:37 GMT;HttpOnly";

/// New session cookies for a new session; returns (id, Set-Cookie values).
fn new_session(engine: Engine, st: &mut State) -> (String, Vec<String>) {
    match engine {
        Engine::Acf => {
            st.next_cfid += 1;
            let (cfid, token) = (st.next_cfid.to_string(), random_digits(8));
            (
                format!("{cfid}:{token}"),
                vec![format!("CFID={cfid};{PERSISTENT}"), format!("CFTOKEN={token};{PERSISTENT}")],
            )
        }
        Engine::Lucee => {
            let cfid = uuid();
            (cfid.clone(), vec![format!("cfid={cfid};{PERSISTENT}"), format!("cftoken=0;{PERSISTENT}")])
        }
    }
}

fn handle(engine: Engine, timeout: Duration, state: &Mutex<State>, r: &Recorded) -> Reply {
    let mut st = state.lock().unwrap();
    let now = Instant::now();
    // The engine's own timeout (checked lazily, as a request arrives).
    let expired: Vec<String> =
        st.sessions.iter().filter(|(_, s)| now.duration_since(s.last) >= timeout).map(|(k, _)| k.clone()).collect();
    for k in expired {
        st.sessions.remove(&k);
        st.ended.push((k, "timeout".into()));
    }
    let path = r.url.split('?').next().unwrap_or("");
    if path.starts_with("/hooks/") {
        return Reply::ok("ok");
    }
    if path == "/kill-session" {
        let signed = hook_signature_ok(r, test_origin_key().as_bytes(), now_s());
        st.kill_calls.push((r.clone(), signed));
        if !signed {
            return Reply::ok("bad signature").status(401);
        }
        if st.kill_failures_left > 0 {
            st.kill_failures_left -= 1;
            return Reply::ok("down").status(503);
        }
        if let Some(id) = session_key(engine, r.header("cookie")) {
            if st.sessions.remove(&id).is_some() {
                st.ended.push((id, "killed".into()));
            }
        }
        return Reply::ok("invalidated");
    }
    let presented = session_key(engine, r.header("cookie"));
    let (id, mut set) = match presented {
        Some(id) if st.sessions.contains_key(&id) => (id, Vec::new()),
        // Lucee before 6.2 adopts any UUID-shaped cfid it is sent.
        Some(id) if engine == Engine::Lucee => {
            st.sessions.insert(id.clone(), Session { hits: 0, last: now });
            (id, Vec::new())
        }
        _ => {
            let (id, set) = new_session(engine, &mut st);
            st.sessions.insert(id.clone(), Session { hits: 0, last: now });
            (id, set)
        }
    };
    let id = if path == "/rotate" {
        let old = st.sessions.remove(&id).unwrap_or(Session { hits: 0, last: now });
        let (new_id, new_set) = new_session(engine, &mut st);
        st.sessions.insert(new_id.clone(), old);
        set = new_set;
        new_id
    } else {
        id
    };
    let session = st.sessions.get_mut(&id).expect("the session exists");
    session.hits += 1;
    session.last = now;
    let body = format!("{id} {}", session.hits);
    st.seen.push(id);
    let mut reply = Reply::ok(body);
    for c in set {
        reply = reply.header("Set-Cookie", &c);
    }
    match path {
        "/login" => reply.header("X-Session-User", "alice"),
        "/short" => reply.header("X-Session-Action", "timeout=2"),
        "/logout" => reply.header("X-Session-Action", "invalidate"),
        _ => reply,
    }
}
