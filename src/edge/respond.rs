//! The one place where edge errors become HTTP responses, plus small response helpers.

use worker::{console_error, Headers, Response, Result};

use crate::core::error::EdgeError;

/// Answers `err` with its status and plain-text reason, and logs it.
pub fn error(err: &EdgeError) -> Result<Response> {
    console_error!("cfsession-edge: {} -> {}", err.log_detail(), err.status());
    plain(
        err.status(),
        &format!("cfsession-edge: {}", err.public_message()),
    )
}

/// A plain-text response the edge produced itself.
pub fn text(status: u16, body: &str) -> std::result::Result<Response, EdgeError> {
    plain(status, body).map_err(|e| EdgeError::Internal(e.to_string()))
}

fn plain(status: u16, body: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "text/plain; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(body.as_bytes().to_vec()))
}
