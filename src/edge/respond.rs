//! The one place where edge errors become HTTP responses, plus small response helpers.

use crate::edge::log::{self, LogLine};
use worker::{Headers, Response, Result};

use crate::core::{
    error::EdgeError,
    headers::{Edit, Edits},
};

/// Answers `err` with its status and plain-text reason, and logs it.
pub fn error(err: &EdgeError) -> Result<Response> {
    log::emit(LogLine::error("request.failed").msg(format!("{} -> {}", err.log_detail(), err.status())));
    plain(err.status(), &format!("cfsession-edge: {}", err.public_message()))
}

/// Answers `err` as JSON, `{"error": "<reason>"}` (the admin API's error format).
pub fn json_error(err: &EdgeError) -> Result<Response> {
    if err.status() >= 500 {
        log::emit(LogLine::error("request.failed").msg(format!("{} -> {}", err.log_detail(), err.status())));
    }
    let body = serde_json::json!({ "error": err.public_message().trim_end() });
    let mut resp = json(err.status(), &body)?;
    if matches!(err, EdgeError::Unauthorized) {
        resp.headers_mut().set("www-authenticate", "Bearer")?;
    }
    Ok(resp)
}

/// Adds session-ending headers: every `Set-Cookie` is appended, other headers replace any
/// value already there (an origin's `Cache-Control` becomes `no-store`).
pub fn add_expiry(edits: &mut Edits, expiry: Vec<(&'static str, String)>) {
    for (name, value) in expiry {
        if name == "set-cookie" {
            edits.append(name, value);
        } else {
            edits.set(name, value);
        }
    }
}

/// Applies header `edits` to a response the edge built itself.
pub fn apply_edits(headers: &Headers, edits: &Edits) -> Result<()> {
    for edit in edits.iter() {
        match edit {
            Edit::Delete(name) => headers.delete(name)?,
            Edit::Append(name, value) => headers.append(name, value)?,
        }
    }
    Ok(())
}

/// A JSON response, never cached.
pub fn json<T: serde::Serialize>(status: u16, body: &T) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("cache-control", "no-store")?;
    let bytes = serde_json::to_vec(body).map_err(|e| worker::Error::RustError(e.to_string()))?;
    Ok(Response::builder().with_status(status).with_headers(headers).fixed(bytes))
}

/// A plain-text response the edge produced itself.
#[allow(dead_code)]
pub fn text(status: u16, body: &str) -> std::result::Result<Response, EdgeError> {
    plain(status, body).map_err(|e| EdgeError::Internal(e.to_string()))
}

fn plain(status: u16, body: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "text/plain; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::builder().with_status(status).with_headers(headers).fixed(body.as_bytes().to_vec()))
}
