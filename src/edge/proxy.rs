//! Streaming reverse proxy to the origin. Bodies are passed as streams in both directions
//! (never buffered); redirects are returned to the client, not followed.

use url::Url;
use worker::{console_error, Fetch, Headers, Request, Response};

use crate::core::{
    config::Config,
    error::EdgeError,
    forward::{self, ForwardedFor, HOP_MARKER},
};

fn internal(e: impl std::fmt::Display) -> EdgeError {
    EdgeError::Internal(e.to_string())
}

/// Forwards `req` to the configured origin (or its own URL) and returns the origin's answer.
pub async fn forward(req: Request, config: &Config) -> Result<Response, EdgeError> {
    let request_url: Url = req.url().map_err(internal)?;
    let target = forward::target_url(config.origin.as_ref(), &request_url);
    let headers = request_headers(&req, &request_url).map_err(internal)?;
    let outgoing = build_request(&req, &target, &headers)?;
    let resp = Fetch::Request(outgoing).send().await.map_err(|e| {
        let err = EdgeError::OriginUnreachable(format!("{target}: {e}"));
        console_error!("cfsession-edge: {err}");
        err
    })?;
    response_to_client(resp).map_err(internal)
}

/// The headers sent to the origin: the client's, less hop-by-hop and edge-owned ones, plus
/// `X-Forwarded-*` and the loop marker.
fn request_headers(req: &Request, request_url: &Url) -> worker::Result<Headers> {
    let incoming = req.headers();
    let listed = forward::connection_tokens(incoming.get("connection")?.as_deref());
    let out = Headers::new();
    for (name, value) in incoming.entries() {
        if forward::keep_request_header(&name, &listed) {
            out.append(&name, &value)?;
        }
    }
    let fwd = ForwardedFor::compute(
        request_url,
        incoming.get("x-forwarded-for")?.as_deref(),
        incoming.get("cf-connecting-ip")?.as_deref(),
    );
    if let Some(chain) = fwd.for_chain {
        out.set("x-forwarded-for", &chain)?;
    }
    out.set("x-forwarded-proto", &fwd.proto)?;
    out.set("x-forwarded-host", &fwd.host)?;
    out.set(
        "accept-encoding",
        forward::accept_encoding(incoming.get("accept-encoding")?.as_deref()),
    )?;
    out.set(HOP_MARKER, "1")?;
    Ok(out)
}

/// Builds the outgoing request with the client's exact method and its body stream.
fn build_request(req: &Request, target: &Url, headers: &Headers) -> Result<Request, EdgeError> {
    let inner = req.inner();
    let init = web_sys::RequestInit::new();
    init.set_method(&inner.method());
    init.set_headers(&headers.0);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if let Some(body) = inner.body() {
        init.set_body(&body);
    }
    let sys = web_sys::Request::new_with_str_and_init(target.as_str(), &init)
        .map_err(|e| internal(format!("{e:?}")))?;
    Ok(Request::from(sys))
}

/// Copies the origin's response for the client: same status, same headers (every
/// `Set-Cookie` kept) less hop-by-hop ones, and the body as a stream.
fn response_to_client(resp: Response) -> worker::Result<Response> {
    let status = resp.status_code();
    let incoming = resp.headers();
    let listed = forward::connection_tokens(incoming.get("connection")?.as_deref());
    let out = Headers::new();
    for (name, value) in incoming.entries() {
        if forward::keep_response_header(&name, &listed) {
            out.append(&name, &value)?;
        }
    }
    let (_, body) = resp.into_parts();
    Ok(Response::builder()
        .with_status(status)
        .with_headers(out)
        .body(body))
}
