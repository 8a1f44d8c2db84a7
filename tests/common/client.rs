//! A real HTTP client (ureq) that never follows redirects, a cookie jar that understands
//! `Set-Cookie` deletion, and a raw-socket sender for malformed requests.

use std::{
    collections::BTreeMap,
    io::{Read, Write},
    net::TcpStream,
    sync::{Arc, Mutex},
    time::Duration,
};

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    /// Header names lower-cased, repeated names kept.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().filter(|(k, _)| *k == name).map(|(_, v)| v.as_str()).collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `Set-Cookie` header for cookie `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.all("set-cookie").into_iter().find(|c| c.split('=').next().map(str::trim) == Some(name))
    }

    /// The value the response sets cookie `name` to (`""` when it expires it).
    pub fn set_cookie_value(&self, name: &str) -> Option<String> {
        self.set_cookie(name)
            .map(|c| c.split(';').next().unwrap_or("").split_once('=').map_or("", |(_, v)| v).to_owned())
    }
}

/// Cookies by name, updated from responses like a browser would (a `Max-Age=0` or empty
/// value deletes). Cloning shares the jar.
#[derive(Debug, Clone, Default)]
pub struct Jar(Arc<Mutex<BTreeMap<String, String>>>);

impl Jar {
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.lock().unwrap().get(name).cloned()
    }

    pub fn set(&self, name: &str, value: &str) {
        self.0.lock().unwrap().insert(name.to_owned(), value.to_owned());
    }

    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    /// The `Cookie` request header value, or `None` when empty.
    pub fn header(&self) -> Option<String> {
        let map = self.0.lock().unwrap();
        (!map.is_empty()).then(|| map.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }

    /// Applies every `Set-Cookie` of `resp`.
    pub fn update(&self, resp: &Resp) {
        for sc in resp.all("set-cookie") {
            let mut parts = sc.split(';');
            let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
                continue;
            };
            let expired = parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
            let mut map = self.0.lock().unwrap();
            if expired || value.is_empty() {
                map.remove(name.trim());
            } else {
                map.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
}

/// An HTTP client with a cookie jar; never follows redirects.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    pub jar: Jar,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    pub fn new() -> Self {
        let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(60)).build();
        Self { agent, jar: Jar::default() }
    }

    /// Sends a request with the jar's cookies plus `headers`, and updates the jar.
    pub fn send(&self, method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
        self.try_send(method, url, headers, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
    }

    pub fn try_send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Resp, String> {
        // Ask for no compression, as curl does: bodies are then compared byte for byte.
        let mut req = self.agent.request(method, url).set("Accept-Encoding", "identity");
        if let Some(cookie) = self.jar.header() {
            req = req.set("Cookie", &cookie);
        }
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = match body {
            Some(b) => req.send_bytes(b),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e.to_string()),
        };
        let resp = read(resp)?;
        self.jar.update(&resp);
        Ok(resp)
    }

    pub fn get(&self, url: &str) -> Resp {
        self.send("GET", url, &[], None)
    }

    pub fn try_get(&self, url: &str) -> Result<Resp, String> {
        self.try_send("GET", url, &[], None)
    }
}

fn read(resp: ureq::Response) -> Result<Resp, String> {
    let status = resp.status();
    let mut headers = Vec::new();
    let mut names = resp.headers_names();
    names.sort();
    names.dedup();
    for name in names {
        for v in resp.all(&name) {
            headers.push((name.to_ascii_lowercase(), v.to_owned()));
        }
    }
    let mut body = Vec::new();
    resp.into_reader().take(64 * 1024 * 1024).read_to_end(&mut body).map_err(|e| e.to_string())?;
    Ok(Resp { status, headers, body })
}

/// Sends `head` (request line and headers, without the blank line) and `body` over a fresh
/// TCP connection, exactly as given, and parses the reply. For inputs a client library
/// would refuse to send (non-UTF-8 bytes, duplicate headers, oversized values).
pub fn raw(port: u16, head: &[u8], body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(head).unwrap();
    s.write_all(b"\r\nConnection: close\r\n\r\n").unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    parse_raw(&buf)
}

fn parse_raw(buf: &[u8]) -> Resp {
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete HTTP response head");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect::<Vec<_>>();
    let mut body = buf[split + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    }
    Resp { status, headers, body }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
    out
}
