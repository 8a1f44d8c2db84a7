//! A browser as real applications need one: a cookie jar that keeps each cookie's `Path`
//! (RFC 6265 path-match: `Path=/wiki/` cookies go to `/wiki/…` only, longer paths first),
//! honours deletions, follows redirects like a browser (a `POST` answered `302`/`303` becomes
//! a `GET`), and submits forms with their hidden fields (CSRF tokens).

use std::{
    io::Read,
    sync::{Arc, Mutex},
    time::Duration,
};

/// One stored cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub value: String,
    pub path: String,
}

/// An answer, after redirects: its final URL, status, headers (lower-case names) and body.
#[derive(Debug, Clone)]
pub struct Page {
    pub url: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value of the hidden or text input `name` in the body (`<input … name="x" … value="y">`).
    pub fn input(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\"");
        let at = self.body.find(&needle)?;
        let start = self.body[..at].rfind('<')?;
        let end = at + self.body[at..].find('>')?;
        let tag = &self.body[start..end];
        let v = tag.split("value=\"").nth(1)?.split('"').next()?;
        Some(v.replace("&amp;", "&").replace("&quot;", "\"").replace("&#039;", "'"))
    }
}

/// A browser: cookies shared by clones.
#[derive(Clone)]
pub struct Browser {
    agent: ureq::Agent,
    pub jar: Arc<Mutex<Vec<Cookie>>>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(60)).build();
        Self { agent, jar: Arc::default() }
    }

    /// A second browser holding a copy of this one's cookies (`only`: those names).
    pub fn copy(&self, only: Option<&dyn Fn(&str) -> bool>) -> Self {
        let b = Self::new();
        let cookies: Vec<Cookie> = self.cookies().into_iter().filter(|c| only.is_none_or(|f| f(&c.name))).collect();
        *b.jar.lock().unwrap() = cookies;
        b
    }

    pub fn cookies(&self) -> Vec<Cookie> {
        self.jar.lock().unwrap().clone()
    }

    pub fn has(&self, name: &str) -> bool {
        self.cookies().iter().any(|c| c.name == name)
    }

    /// The `Cookie` header for `path`: path-matching cookies, longer paths first.
    pub fn cookie_header(&self, path: &str) -> Option<String> {
        let mut matching: Vec<Cookie> = self.cookies().into_iter().filter(|c| path_matches(&c.path, path)).collect();
        matching.sort_by_key(|c| std::cmp::Reverse(c.path.len()));
        let pairs: Vec<String> = matching.iter().map(|c| format!("{}={}", c.name, c.value)).collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    pub fn get(&self, url: &str) -> Page {
        self.go("GET", url, None)
    }

    /// One `GET`, its redirect not followed (what a kill answered).
    pub fn get_once(&self, url: &str) -> Page {
        self.once("GET", url, None)
    }

    /// Submits a form (`application/x-www-form-urlencoded`).
    pub fn post(&self, url: &str, fields: &[(&str, &str)]) -> Page {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        self.go("POST", url, Some(body.join("&")))
    }

    /// One request and its redirects (at most 8), as a browser makes them.
    fn go(&self, method: &str, url: &str, body: Option<String>) -> Page {
        let (mut method, mut url, mut body) = (method.to_owned(), url.to_owned(), body);
        for _ in 0..8 {
            let page = self.once(&method, &url, body.as_deref());
            let Some(location) = page.header("location").filter(|_| (300..400).contains(&page.status)) else {
                return page;
            };
            if std::env::var("BROWSER_DEBUG").is_ok() {
                eprintln!("{} {url} -> {} {location}", method, page.status);
            }
            url = resolve(&url, location);
            if page.status != 307 && page.status != 308 {
                method = "GET".into();
                body = None;
            }
        }
        panic!("too many redirects from {url}");
    }

    fn once(&self, method: &str, url: &str, body: Option<&str>) -> Page {
        let path = path_of(url);
        let mut req = self
            .agent
            .request(method, url)
            .set("Accept", "text/html")
            .set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) real-apps-test");
        if let Some(c) = self.cookie_header(&path) {
            req = req.set("Cookie", &c);
        }
        let result = match body {
            Some(b) => req.set("Content-Type", "application/x-www-form-urlencoded").send_string(b),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {url}: {e}"),
        };
        let status = resp.status();
        let mut headers = Vec::new();
        for name in resp.headers_names() {
            for v in resp.all(&name) {
                headers.push((name.to_ascii_lowercase(), v.to_owned()));
            }
        }
        headers.sort();
        headers.dedup();
        let mut bytes = Vec::new();
        resp.into_reader().take(16 * 1024 * 1024).read_to_end(&mut bytes).unwrap();
        for sc in headers.iter().filter(|(k, _)| k == "set-cookie").map(|(_, v)| v) {
            self.store(sc, &path);
        }
        Page { url: url.to_owned(), status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// Applies one `Set-Cookie` received for a request to `request_path`.
    fn store(&self, set_cookie: &str, request_path: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else { return };
        let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
        let mut path = default_path(request_path);
        let mut expired = value.is_empty();
        for attr in parts {
            let (k, v) = attr.split_once('=').map_or((attr.trim(), ""), |(k, v)| (k.trim(), v.trim()));
            match k.to_ascii_lowercase().as_str() {
                "path" if v.starts_with('/') => path = v.to_owned(),
                "max-age" => expired |= v.parse::<i64>().is_ok_and(|s| s <= 0),
                "expires" => expired |= v.contains("1970") || v.contains(" 2000 ") || past_year(v),
                _ => {}
            }
        }
        let mut jar = self.jar.lock().unwrap();
        jar.retain(|c| !(c.name == name && c.path == path));
        if !expired {
            jar.push(Cookie { name, value, path });
        }
    }
}

/// Whether an `Expires` date names a year before this one (good enough for deletions).
fn past_year(expires: &str) -> bool {
    expires.split([' ', '-']).filter_map(|p| p.parse::<u32>().ok()).any(|y| (1971..2026).contains(&y))
}

/// RFC 6265 §5.1.4.
fn path_matches(cookie_path: &str, request_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/') || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/')))
}

/// RFC 6265 §5.1.4's default-path.
fn default_path(request_path: &str) -> String {
    match request_path.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => request_path[..i].to_owned(),
    }
}

fn path_of(url: &str) -> String {
    let after = url.split_once("://").map_or(url, |(_, r)| r);
    let path = after.find('/').map_or("/", |i| &after[i..]);
    path.split(['?', '#']).next().unwrap_or("/").to_owned()
}

/// A `Location` resolved against the URL it came from.
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let (scheme, rest) = base.split_once("://").unwrap();
    let host = rest.split('/').next().unwrap();
    if location.starts_with('/') {
        return format!("{scheme}://{host}{location}");
    }
    let dir = path_of(base);
    let dir = &dir[..=dir.rfind('/').unwrap_or(0)];
    format!("{scheme}://{host}{dir}{location}")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
