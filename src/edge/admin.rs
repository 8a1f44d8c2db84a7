//! The admin API under `/__session/admin/api/`. Every answer is JSON; errors are
//! `{"error": "<reason>"}`. Requires `Authorization: Bearer <ADMIN_TOKEN>`; with no token
//! configured the admin does not exist (404).

use worker::{Env, Method, Request, Response};

use super::{respond, store::Sessions};
use crate::core::{config::Config, error::EdgeError, ids::Cfid, query};

/// Query parameters that look like a credential: refused, so tokens never sit in URLs (and
/// in logs, histories and referrers).
const CREDENTIAL_PARAMS: &[&str] = &["token", "access_token", "admin_token", "auth", "authorization"];

/// Handles `path` (the part after `/__session/admin/api/`).
pub async fn handle(req: &Request, path: &str, env: &Env, config: &Config) -> worker::Result<Response> {
    match route(req, path, env, config).await {
        Ok(resp) => Ok(resp),
        Err(e) => respond::json_error(&e),
    }
}

async fn route(req: &Request, path: &str, env: &Env, config: &Config) -> Result<Response, EdgeError> {
    authorize(req, config)?;
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match (req.method(), segments.as_slice()) {
        (Method::Get, ["sessions", cfid]) => {
            let cfid = Cfid::parse(cfid).ok_or(EdgeError::NotFound("no such session"))?;
            let view = Sessions::from_env(env)?.inspect(&cfid).await?.ok_or(EdgeError::NotFound("no such session"))?;
            let mut body = serde_json::to_value(&view).map_err(|e| EdgeError::Internal(e.to_string()))?;
            if let Some(obj) = body.as_object_mut() {
                obj.insert("cfid".into(), cfid.as_str().into());
            }
            respond::json(200, &body).map_err(|e| EdgeError::Internal(e.to_string()))
        }
        _ => Err(EdgeError::NotFound("no such admin endpoint")),
    }
}

/// Checks the bearer token in constant time. The admin is off (404) without `ADMIN_TOKEN`.
fn authorize(req: &Request, config: &Config) -> Result<(), EdgeError> {
    let Some(expected) = &config.admin_token else {
        return Err(EdgeError::NotFound("the admin API is off (ADMIN_TOKEN is not set)"));
    };
    let url = req.url().map_err(|e| EdgeError::Internal(e.to_string()))?;
    let q = url.query().unwrap_or("");
    if CREDENTIAL_PARAMS.iter().any(|p| query::has(q, p)) {
        return Err(EdgeError::BadRequest("credentials in the query string are refused; use Authorization: Bearer"));
    }
    let header = req.headers().get("authorization").ok().flatten().unwrap_or_default();
    let presented = header.strip_prefix("Bearer ").map(str::trim).unwrap_or("");
    if expected.matches(presented) {
        Ok(())
    } else {
        Err(EdgeError::Unauthorized)
    }
}
