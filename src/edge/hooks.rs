//! Sending a lifecycle event to a hook URL: a signed JSON POST.

use url::Url;
use worker::{AbortSignal, Fetch, Headers, Method, Request, RequestInit};

use crate::core::{forward::HOP_MARKER, hooks, protocol::OriginKeys};

/// POSTs `body` (JSON) to `url`, signed with `keys`, with `Idempotency-Key: idempotency`
/// (and `cookie` as the `Cookie` header: guard mode's `ORIGIN_KILL_URL`).
/// `Ok(())` on a 2xx answer; otherwise why not (for the log), also when no answer came within
/// [`hooks::TIMEOUT_MS`].
pub async fn post(
    url: &Url,
    body: &str,
    keys: &OriginKeys<'_>,
    idempotency: &str,
    cookie: Option<&str>,
    now_ms: u64,
) -> Result<(), String> {
    let headers = Headers::new();
    let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| e.to_string());
    set("content-type", "application/json")?;
    set("idempotency-key", idempotency)?;
    set("x-session-signature", &hooks::signature(keys, now_ms / 1000, body))?;
    set(HOP_MARKER, "1")?;
    if let Some(cookie) = cookie {
        set("cookie", cookie)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers).with_body(Some(body.into()));
    let req = Request::new_with_init(url.as_str(), &init).map_err(|e| e.to_string())?;
    let timeout = AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(hooks::TIMEOUT_MS));
    let resp = Fetch::Request(req).send_with_signal(&timeout).await.map_err(|e| match timeout.aborted() {
        true => hooks::TIMED_OUT.to_owned(),
        false => e.to_string(),
    })?;
    match resp.status_code() {
        200..=299 => Ok(()),
        status => Err(format!("status {status}")),
    }
}
