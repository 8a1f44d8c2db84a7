//! Streaming reverse proxy to the origin. Bodies are passed as streams in both directions
//! (never buffered); redirects are returned to the client, not followed. Which headers pass
//! either way is decided in [`crate::core::headers`].

use crate::edge::platform::log::{self, LogLine};
use url::Url;

use super::incoming::{self, Incoming};
use crate::core::{
    error::EdgeError,
    forward,
    headers::{self, Additions, Edits, FromOrigin},
};

/// The origin's answer, not yet sent: the origin's response, the header edits it needs for
/// the client (the session flow adds its cookies), and the origin's `X-Session-*` control
/// headers and `Set-Cookie` values, already taken out (the session flow decides which cookies
/// pass).
pub struct OriginReply {
    origin: web_sys::Response,
    pub edits: Edits,
    pub set_cookies: Vec<String>,
    pub set: Option<String>,
    pub action: Option<String>,
    pub user: Option<String>,
}

impl OriginReply {
    /// The response for the client.
    pub fn into_response(self) -> Result<web_sys::Response, EdgeError> {
        incoming::edited_response(&self.origin, &self.edits)
    }
}

/// Forwards the client's request to `target` with the edge's `add`itions; the origin's answer.
pub async fn forward(req: &Incoming, target: &Url, add: Additions) -> Result<OriginReply, EdgeError> {
    let outgoing = incoming::origin_request(&req.sys, target, &headers::to_origin(&req.headers, &req.url, add))?;
    let origin = incoming::fetch(&outgoing).await.map_err(|e| {
        let err = EdgeError::OriginUnreachable(format!("{target}: {}", incoming::js_message(&e)));
        log::emit(LogLine::error("origin.unreachable").msg(format!("{err}")));
        err
    })?;
    let answered = incoming::read_headers(&origin.headers());
    let FromOrigin { mut edits, set_cookies, set, action, user } = headers::from_origin(&answered);
    let location = headers::get(&answered, "location").and_then(|l| forward::client_location(l, target, &req.url));
    if let Some(location) = location {
        edits.set("location", location);
    }
    Ok(OriginReply { origin, edits, set_cookies, set, action, user })
}
