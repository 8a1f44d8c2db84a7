//! Streaming reverse proxy to the origin. Bodies are passed as streams in both directions
//! (never buffered); redirects are returned to the client, not followed.

use crate::edge::log::{self, LogLine};
use url::Url;
use worker::{Fetch, Headers, Request, Response};

use crate::core::{
    error::EdgeError,
    forward::{self, ForwardedFor, HOP_MARKER},
    protocol,
};

/// How a request is forwarded.
pub struct Forward<'a> {
    /// The client's request URL (already parsed by the caller).
    pub request_url: &'a Url,
    /// Where to (see [`forward::target_url`]).
    pub target: Url,
    /// The `X-Session-*` headers for the origin.
    pub session_headers: Vec<(&'static str, String)>,
    /// The `Cookie` header for the origin (the client's without the session cookies).
    pub cookie: Option<String>,
    /// The `Referer` for the origin (the client's without session tokens; `None`: dropped).
    pub referer: Option<String>,
}

/// The origin's answer: a response ready for the client (its headers are mutable), and the
/// origin's `X-Session-*` control headers and `Set-Cookie` values, already removed from it
/// (the session flow decides which cookies reach the client).
pub struct OriginReply {
    pub response: Response,
    pub set_cookies: Vec<String>,
    pub set: Option<String>,
    pub action: Option<String>,
    pub user: Option<String>,
}

/// Forwards `req` as `fwd` says and returns the origin's answer.
pub async fn forward(req: Request, fwd: Forward<'_>) -> Result<OriginReply, EdgeError> {
    let headers = request_headers(&req, fwd.request_url, &fwd).map_err(EdgeError::internal)?;
    let outgoing = build_request(&req, &fwd.target, &headers)?;
    let resp = Fetch::Request(outgoing).send().await.map_err(|e| {
        let err = EdgeError::OriginUnreachable(format!("{}: {e}", fwd.target));
        log::emit(LogLine::error("origin.unreachable").msg(format!("{err}")));
        err
    })?;
    response_to_client(resp).map_err(EdgeError::internal)
}

/// The headers sent to the origin: the client's, less hop-by-hop, edge-owned and
/// `X-Session-*` ones, plus the session headers, `X-Forwarded-*` and the loop marker.
fn request_headers(req: &Request, request_url: &Url, fwd: &Forward<'_>) -> worker::Result<Headers> {
    let incoming = req.headers();
    let listed = forward::connection_tokens(incoming.get("connection")?.as_deref());
    let out = Headers::new();
    for (name, value) in incoming.entries() {
        let keep = forward::keep_request_header(&name, &listed)
            && !protocol::is_session_header(&name)
            && !name.eq_ignore_ascii_case("cookie")
            && !name.eq_ignore_ascii_case("referer");
        if keep {
            out.append(&name, &value)?;
        }
    }
    if let Some(cookie) = &fwd.cookie {
        out.set("cookie", cookie)?;
    }
    if let Some(referer) = &fwd.referer {
        out.set("referer", referer)?;
    }
    let fwd_for = ForwardedFor::compute(
        request_url,
        incoming.get("x-forwarded-for")?.as_deref(),
        incoming.get("cf-connecting-ip")?.as_deref(),
    );
    if let Some(chain) = fwd_for.for_chain {
        out.set("x-forwarded-for", &chain)?;
    }
    out.set("x-forwarded-proto", &fwd_for.proto)?;
    out.set("x-forwarded-host", &fwd_for.host)?;
    out.set("accept-encoding", forward::accept_encoding(incoming.get("accept-encoding")?.as_deref()))?;
    for (name, value) in &fwd.session_headers {
        out.set(name, value)?;
    }
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
        .map_err(|e| EdgeError::internal(format!("{e:?}")))?;
    Ok(Request::from(sys))
}

/// Copies the origin's response for the client: same status, same headers (every
/// `Set-Cookie` kept) less hop-by-hop and `X-Session-*` ones, and the body as a stream.
fn response_to_client(resp: Response) -> worker::Result<OriginReply> {
    let status = resp.status_code();
    let incoming = resp.headers();
    let listed = forward::connection_tokens(incoming.get("connection")?.as_deref());
    let out = Headers::new();
    let mut set_cookies = Vec::new();
    for (name, value) in incoming.entries() {
        if name.eq_ignore_ascii_case("set-cookie") {
            set_cookies.push(value);
        } else if forward::keep_response_header(&name, &listed) && !protocol::is_session_header(&name) {
            out.append(&name, &value)?;
        }
    }
    let set = incoming.get(protocol::SET)?;
    let action = incoming.get(protocol::ACTION)?;
    let user = incoming.get(protocol::USER)?;
    let (_, body) = resp.into_parts();
    let response = Response::builder().with_status(status).with_headers(out).body(body);
    Ok(OriginReply { response, set_cookies, set, action, user })
}
