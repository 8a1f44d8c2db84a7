//! The client's request as the Worker reads it, and the platform objects built for the origin
//! and the client. Headers cross the wasm boundary in one piece each way: read as one text
//! (name and value on lines of their own), changed as [`Edits`] that a small JS function
//! applies to the platform's own copy (`new Headers(request.headers)`, `new Response(body,
//! response)`). A response that needs no change is passed on as the origin sent it.
//! workers-rs's `Request` wrapper is skipped on the site path: it reads `request.cf` on every
//! request, which the edge needs only for a new session's client hints.

use js_sys::Reflect;
use url::Url;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, Request, Response};

use crate::core::{
    client::{ClientNetwork, TEST_CLIENT_HEADER},
    error::EdgeError,
    headers::{self, Edits, HeaderList},
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

    /// The client's network: `CF-Connecting-IP` and `request.cf`'s country and ASN; with
    /// `test_header` (`TEST_CLIENT_HEADER`, tests only), the `X-Test-Client` header instead.
    pub fn client_network(&self, test_header: bool) -> ClientNetwork {
        if test_header {
            if let Some(json) = self.header(TEST_CLIENT_HEADER) {
                return ClientNetwork::from_test_header(json);
            }
        }
        let cf = Reflect::get(&self.sys, &JsValue::from_str("cf")).ok().filter(|v| v.is_object());
        let field = |name: &str| cf.as_ref().and_then(|cf| Reflect::get(cf, &JsValue::from_str(name)).ok());
        ClientNetwork {
            address: self.header("cf-connecting-ip").map(str::to_owned),
            country: field("country").and_then(|v| v.as_string()),
            asn: field("asn")
                .and_then(|v| v.as_f64())
                .filter(|n| (0.0..=f64::from(u32::MAX)).contains(n))
                .map(|n| n as u32),
        }
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    inline_js = "export function headerLines(headers) {
        let lines = '';
        for (const [name, value] of headers) lines += name + '\\n' + value + '\\n';
        return lines;
    }
    function edit(headers, lines) {
        const l = lines.split('\\n');
        for (let i = 0; i < l.length - 1; ) {
            if (l[i] === 'd') {
                headers.delete(l[i + 1]);
                i += 2;
            } else {
                headers.append(l[i + 1], l[i + 2]);
                i += 3;
            }
        }
    }
    export function originRequest(client, url, lines) {
        const headers = new Headers(client.headers);
        edit(headers, lines);
        return new Request(url, { method: client.method, headers, body: client.body, redirect: 'manual' });
    }
    export function editedResponse(origin, lines) {
        if (!lines) return origin;
        const response = new Response(origin.body, origin);
        edit(response.headers, lines);
        return response;
    }"
)]
extern "C" {
    #[wasm_bindgen(js_name = headerLines)]
    fn header_lines(headers: &Headers) -> String;
    #[wasm_bindgen(catch, js_name = originRequest)]
    fn origin_request_js(client: &Request, url: &str, lines: &str) -> Result<Request, JsValue>;
    #[wasm_bindgen(catch, js_name = editedResponse)]
    fn edited_response_js(origin: &Response, lines: &str) -> Result<Response, JsValue>;
}

#[wasm_bindgen::prelude::wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
extern "C" {
    /// The platform's (global) `fetch`.
    #[wasm_bindgen(js_name = fetch)]
    fn platform_fetch(request: &Request) -> js_sys::Promise;
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

fn encode(edits: &Edits) -> Result<String, EdgeError> {
    edits.encode().map_err(|e| EdgeError::Internal(format!("line break in header {:?}", e.0)))
}

/// The request for the origin: the client's method, headers changed by `edits`, and body
/// stream; redirects returned rather than followed.
pub fn origin_request(client: &Request, target: &Url, edits: &Edits) -> Result<Request, EdgeError> {
    origin_request_js(client, target.as_str(), &encode(edits)?).map_err(js_err)
}

/// The origin's response for the client, with its headers changed by `edits` (none: the
/// response itself).
pub fn edited_response(origin: &Response, edits: &Edits) -> Result<Response, EdgeError> {
    edited_response_js(origin, &encode(edits)?).map_err(js_err)
}

/// Sends `request` with the platform's `fetch`; the origin's response.
pub async fn fetch(request: &Request) -> Result<Response, JsValue> {
    let resp = worker::wasm_bindgen_futures::JsFuture::from(platform_fetch(request)).await?;
    resp.dyn_into::<Response>()
}
