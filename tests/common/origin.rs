//! A programmable origin server on 127.0.0.1, inside the test process. It records every
//! request it receives and answers with whatever the test's handler returns.

use std::{
    sync::{Arc, Mutex},
    thread::JoinHandle,
};

/// One request as the origin received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query exactly as received (the request target).
    pub url: String,
    /// Header names lower-cased, in arrival order, repeated names kept.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// Every header whose name starts with `prefix` (lower-case).
    pub fn headers_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.headers.iter().filter(|(k, _)| k.starts_with(prefix)).cloned().collect()
    }
}

/// What the origin answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self { status: 200, headers: vec![("Content-Type".into(), "text/plain".into())], body: body.into() }
    }

    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// The running origin; stops when dropped.
pub struct Origin {
    pub port: u16,
    server: Arc<tiny_http::Server>,
    received: Arc<Mutex<Vec<Recorded>>>,
    threads: Vec<JoinHandle<()>>,
}

const THREADS: usize = 24;

impl Origin {
    /// Starts an origin that answers every request with `handler`.
    pub fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind test origin"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let threads = (0..THREADS)
            .map(|_| {
                let (server, received, handler) = (server.clone(), received.clone(), handler.clone());
                std::thread::spawn(move || serve(&server, &received, &*handler))
            })
            .collect();
        Self { port, server, received, threads }
    }

    /// A small app speaking the origin protocol, by path:
    /// - `/set?k=v&…` answers `X-Session-Set: {"k":"v",…}` (`v` = `null` deletes `k`);
    /// - `/action?a=<X-Session-Action value>`;
    /// - `/user?id=<X-Session-User value>`;
    /// - `/raw?h=<header name>&v=<value>` answers that header as given;
    /// - anything else: `200 ok`.
    pub fn session_app() -> Self {
        Self::start(|r| {
            let (path, query) = r.url.split_once('?').unwrap_or((r.url.as_str(), ""));
            let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
            match path {
                "/set" => {
                    let obj: serde_json::Map<String, serde_json::Value> = params
                        .iter()
                        .map(|(k, v)| {
                            let val = if v == "null" {
                                serde_json::Value::Null
                            } else {
                                serde_json::Value::String(v.clone())
                            };
                            (k.clone(), val)
                        })
                        .collect();
                    Reply::ok("set").header("X-Session-Set", &serde_json::Value::Object(obj).to_string())
                }
                "/action" => Reply::ok("action").header("X-Session-Action", &param("a")),
                "/user" => Reply::ok("user").header("X-Session-User", &param("id")),
                "/raw" => Reply::ok("raw").header(&param("h"), &param("v")),
                _ => Reply::ok("ok"),
            }
        })
    }

    /// An origin that answers `200 ok` to everything.
    pub fn ok() -> Self {
        Self::start(|_| Reply::ok("ok"))
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Recorded> {
        self.received.lock().unwrap().clone()
    }

    /// The `X-Session-Id` (CFID) of the last request that carried one.
    pub fn last_id(&self) -> String {
        self.received()
            .iter()
            .rev()
            .find_map(|r| r.header("x-session-id").map(str::to_owned))
            .expect("no request with X-Session-Id reached the origin")
    }

    /// The last request received. Panics when none was.
    pub fn last(&self) -> Recorded {
        self.received().pop().expect("the origin received no request")
    }
}

fn serve(server: &tiny_http::Server, received: &Mutex<Vec<Recorded>>, handler: &Handler) {
    while let Ok(mut req) = server.recv() {
        let mut body = Vec::new();
        let _ = req.as_reader().read_to_end(&mut body);
        let recorded = Recorded {
            method: req.method().as_str().to_owned(),
            url: req.url().to_owned(),
            headers: req
                .headers()
                .iter()
                .map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.as_str().to_owned()))
                .collect(),
            body,
        };
        let reply = handler(&recorded);
        received.lock().unwrap().push(recorded);
        let mut resp = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
        for (k, v) in reply.headers {
            if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                resp.add_header(h);
            }
        }
        let _ = req.respond(resp);
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        for _ in 0..self.threads.len() {
            self.server.unblock();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
