//! The Worker glue: the `fetch` entry point, the routing of edge-owned paths, and the order of
//! the platform calls a request or an object operation makes (objects, the origin, the clock,
//! randomness). What those calls decide — ids, cookies and responses
//! ([`crate::core::outcome`]), the session's state machine, what a state change sets off
//! ([`crate::core::effects`]) — is computed in [`crate::core`].

mod abuse;
mod admin;
mod app_object;
mod ending;
mod faults;
mod hooks;
mod incoming;
mod index_object;
mod object_rpc;
mod origin_api;
mod platform;
mod proxy;
mod ready;
mod request;
mod respond;
mod session_object;
mod stats;
mod store;
mod sweep;
mod users;

use worker::{event, Context, Env, Request, Result};

use crate::core::{error::EdgeError, forward::HOP_MARKER};
use incoming::Incoming;

/// Paths under this prefix are answered by the edge itself and never forwarded (and so are
/// paths under `ADMIN_PREFIX`).
const EDGE_PREFIX: &str = "/__session/";

/// The Worker's entry point. It takes the platform's request as it is (workers-rs's wrapper
/// would read `request.cf` on every request) and answers with a platform response.
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> Result<web_sys::Response> {
    let id = platform::request_id(req.headers().get("cf-ray").ok().flatten().as_deref(), "req-");
    match platform::log::with_request(id, handle(req, &env, &ctx)).await {
        Ok(resp) => Ok(resp),
        Err(err) => respond::error(&err).map(Into::into),
    }
}

async fn handle(sys: web_sys::Request, env: &Env, ctx: &Context) -> std::result::Result<web_sys::Response, EdgeError> {
    let req = Incoming::read(sys)?;
    if req.header(HOP_MARKER).is_some() {
        return Err(EdgeError::LoopDetected);
    }
    let path = req.url.path();
    if path == "/__session/health" {
        // A liveness probe: answers even when the configuration is invalid.
        return respond::text(200, "ok\n").map(Into::into);
    }
    if path == crate::core::ready::READY_PATH {
        // Readiness: the configuration and the objects (see `ready`). Answers even when the
        // configuration is invalid (with 503 naming the variable).
        return ready::handle(env).await.map(Into::into);
    }
    // Under /__session/ (the admin's and the origin API's default place) even an invalid
    // configuration is answered as JSON.
    let config = match platform::config(env) {
        Ok(config) => config,
        Err(e) if path.starts_with(EDGE_PREFIX) => return json_api(Err(e)),
        Err(e) => return Err(e),
    };
    faults::install(&config.faults);
    let admin_root = config.admin.prefix.trim_end_matches('/');
    if let Some(rest) = path.strip_prefix(config.admin.prefix.as_str()).or_else(|| (path == admin_root).then_some("")) {
        let rest = rest.to_owned();
        return json_api(admin::handle(Request::from(req.sys), &rest, env, &config).await);
    }
    if let Some(rest) = path.strip_prefix(crate::core::origin_api::API_PREFIX) {
        let rest = rest.to_owned();
        return json_api(origin_api::handle(&Request::from(req.sys), &rest, env, &config).await);
    }
    if path.starts_with(EDGE_PREFIX) {
        return Err(EdgeError::NotFound("no such edge endpoint"));
    }
    app_object::touch(env, &config, ctx);
    request::handle(req, env, &config, ctx).await
}

/// The answer of a JSON API (the admin's, the origin's): its response, or its error as JSON
/// with the error's status.
fn json_api(
    answer: std::result::Result<worker::Response, EdgeError>,
) -> std::result::Result<web_sys::Response, EdgeError> {
    match answer {
        Ok(resp) => Ok(resp.into()),
        Err(e) => respond::json_error(&e).map(Into::into).map_err(EdgeError::internal),
    }
}
