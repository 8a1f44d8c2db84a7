//! The client's request as the Worker reads it, and the platform objects built for the
//! origin and the client. A header list crosses the wasm boundary as one text, name and value
//! on lines of their own (header names and values never contain a line break: the platform
//! refuses them), instead of a call per header and per value. workers-rs's `Request` wrapper is skipped on the site path:
//! it reads `request.cf` on every request, which the edge needs only for a new session's
//! client hints.

use js_sys::Reflect;
use url::Url;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, ReadableStream, Request, RequestInit, RequestRedirect, Response, ResponseInit};

use crate::core::{
    error::EdgeError,
    headers::{self, HeaderList},
};

/// A JS exception's message (an `Error`'s, or the value itself as text).
pub fn js_message(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(err) => String::from(err.to_string()),
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    }
}

fn js_err(e: JsValue) -> EdgeError {
    EdgeError::Internal(js_message(&e))
}

/// The client's request: its method, URL and headers, read once.
pub struct Incoming {
    pub sys: Request,
    pub method: String,
    pub url: Url,
    pub headers: HeaderList,
}

impl Incoming {
    pub fn read(sys: Request) -> Result<Self, EdgeError> {
        let url = Url::parse(&sys.url()).map_err(EdgeError::internal)?;
        let headers = read_headers(&sys.headers());
        Ok(Self { method: sys.method(), url, headers, sys })
    }

    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        headers::get(&self.headers, name)
    }

    /// The client's country (`request.cf.country`), read only when asked.
    pub fn country(&self) -> Option<String> {
        let cf = Reflect::get(&self.sys, &JsValue::from_str("cf")).ok()?;
        Reflect::get(&cf, &JsValue::from_str("country")).ok()?.as_string()
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    inline_js = "export function headerLines(headers) {
        let lines = '';
        for (const [name, value] of headers) lines += name + '\\n' + value + '\\n';
        return lines;
    }
    export function headersOf(lines) {
        const headers = new Headers();
        const l = lines.split('\\n');
        for (let i = 0; i + 1 < l.length; i += 2) headers.append(l[i], l[i + 1]);
        return headers;
    }"
)]
extern "C" {
    #[wasm_bindgen(js_name = headerLines)]
    fn header_lines(headers: &Headers) -> String;
    #[wasm_bindgen(catch, js_name = headersOf)]
    fn headers_of(lines: &str) -> Result<Headers, JsValue>;
}

/// A header list from the platform's `Headers`, in one crossing.
pub fn read_headers(h: &Headers) -> HeaderList {
    let lines = header_lines(h);
    let mut it = lines.split('\n');
    let mut out = Vec::new();
    while let (Some(name), Some(value)) = (it.next(), it.next()) {
        out.push((name.to_owned(), value.to_owned()));
    }
    out
}

/// The platform's `Headers` for a header list, in one crossing. A name or value with a line
/// break is refused (it would split into other headers).
fn headers_init(list: &HeaderList) -> Result<Headers, EdgeError> {
    let mut lines = String::new();
    for (name, value) in list {
        if name.contains(['\n', '\r']) || value.contains(['\n', '\r']) {
            return Err(EdgeError::Internal(format!("header {name:?}: line break in a header")));
        }
        lines.push_str(name);
        lines.push('\n');
        lines.push_str(value);
        lines.push('\n');
    }
    headers_of(&lines).map_err(js_err)
}

/// The request for the origin: the client's method and body stream, `headers`, redirects
/// returned rather than followed.
pub fn origin_request(client: &Request, target: &Url, headers: &HeaderList) -> Result<Request, EdgeError> {
    let init = RequestInit::new();
    init.set_method(&client.method());
    init.set_headers(headers_init(headers)?.as_ref());
    init.set_redirect(RequestRedirect::Manual);
    if let Some(body) = client.body() {
        init.set_body(&body);
    }
    Request::new_with_str_and_init(target.as_str(), &init).map_err(js_err)
}

/// A response for the client: `status`, `headers` and the body stream (none: empty).
pub fn response(status: u16, headers: &HeaderList, body: Option<&ReadableStream>) -> Result<Response, EdgeError> {
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(headers_init(headers)?.as_ref());
    Response::new_with_opt_readable_stream_and_init(body, &init).map_err(js_err)
}

#[wasm_bindgen::prelude::wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
extern "C" {
    /// The platform's `fetch`.
    #[wasm_bindgen(js_name = fetch)]
    fn platform_fetch(request: &Request) -> js_sys::Promise;
}

/// Sends `request` with the platform's `fetch`; the origin's response.
pub async fn fetch(request: &Request) -> Result<Response, JsValue> {
    let resp = worker::wasm_bindgen_futures::JsFuture::from(platform_fetch(request)).await?;
    resp.dyn_into::<Response>()
}
