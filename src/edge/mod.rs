//! The Worker glue: the `fetch` entry point and the routing of edge-owned paths.
//! Everything computed lives in [`crate::core`]; this layer only moves values in and out.

mod proxy;
mod respond;

use worker::{event, Context, Env, Request, Response, Result};

use crate::core::{config::Config, error::EdgeError, forward::HOP_MARKER};

/// Paths under this prefix are answered by the edge itself and never forwarded.
const EDGE_PREFIX: &str = "/__session/";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    match handle(req, &env).await {
        Ok(resp) => Ok(resp),
        Err(err) => respond::error(&err),
    }
}

async fn handle(req: Request, env: &Env) -> std::result::Result<Response, EdgeError> {
    if req.headers().has(HOP_MARKER).unwrap_or(false) {
        return Err(EdgeError::LoopDetected);
    }
    let path = req.path();
    if let Some(rest) = path.strip_prefix(EDGE_PREFIX) {
        return edge_endpoint(rest);
    }
    let config = Config::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()))?;
    proxy::forward(req, &config).await
}

/// Answers the edge's own endpoints. `health` is a liveness probe: it answers 200 even when
/// the configuration is invalid (requests to the site then get the configuration error).
fn edge_endpoint(rest: &str) -> std::result::Result<Response, EdgeError> {
    match rest {
        "health" => respond::text(200, "ok\n"),
        _ => respond::text(404, "cfsession-edge: no such edge endpoint\n"),
    }
}
