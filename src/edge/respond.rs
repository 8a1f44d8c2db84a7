//! The one place where edge errors become HTTP responses, plus small response helpers.

use crate::edge::platform::log::{self, LogLine};
use worker::{Headers, Response, Result};

use crate::core::{
    ajax::{SessionEnded, ENDED_HEADER},
    client::RETRY_AFTER_S,
    error::EdgeError,
    headers::{Edit, Edits},
};

/// Answers `err` with its status and plain-text reason, and logs it.
pub fn error(err: &EdgeError) -> Result<Response> {
    if let EdgeError::TooManyRequests(limit) = err {
        log::emit(LogLine::warn("abuse.limited").reason(limit.as_str()).msg(err.log_detail()));
    } else {
        log::emit(LogLine::error("request.failed").msg(format!("{} -> {}", err.log_detail(), err.status())));
    }
    let resp = plain(err.status(), &format!("cfsession-edge: {}", err.public_message()))?;
    if matches!(err, EdgeError::TooManyRequests(_)) {
        resp.headers().set("retry-after", &RETRY_AFTER_S.to_string())?;
    }
    Ok(resp)
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

/// The answer to a non-navigation request whose session ended (`AJAX_ENDS=401`, see
/// [`crate::core::ajax`]): `401`, `{"session":"ended","reason":…}`, `X-Session-Ended`, then
/// `ended` (the session cookies expired: [`crate::core::outcome::ended`]), never cached, no
/// `WWW-Authenticate`.
pub fn session_ended(reason: &'static str, ended: Edits) -> std::result::Result<Response, EdgeError> {
    let build = || -> Result<Response> {
        let mut resp = json(401, &SessionEnded::new(reason))?;
        let mut edits = Edits::default();
        edits.set(ENDED_HEADER, reason);
        edits.extend(ended);
        apply_edits(resp.headers_mut(), &edits)?;
        Ok(resp)
    };
    build().map_err(EdgeError::internal)
}

/// The answer to a login refused by `MAX_SESSIONS_POLICY=refuse`: `409`, JSON
/// `{"session":"refused","reason":"too_many_sessions","max":N}`, `X-Session-Refused:
/// too_many_sessions`, never cached; `edits` set the session's cookies (it lives on, without
/// the user).
pub fn too_many_sessions(max: u32, edits: &Edits) -> std::result::Result<Response, EdgeError> {
    let build = || -> Result<Response> {
        let body = LoginRefused { session: "refused", reason: "too_many_sessions", max };
        let mut resp = json(409, &body)?;
        resp.headers_mut().set("x-session-refused", "too_many_sessions")?;
        apply_edits(resp.headers_mut(), edits)?;
        Ok(resp)
    };
    build().map_err(EdgeError::internal)
}

/// The body of [`too_many_sessions`].
#[derive(serde::Serialize)]
struct LoginRefused {
    session: &'static str,
    reason: &'static str,
    max: u32,
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
pub fn text(status: u16, body: &str) -> std::result::Result<Response, EdgeError> {
    plain(status, body).map_err(|e| EdgeError::Internal(e.to_string()))
}

fn plain(status: u16, body: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "text/plain; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::builder().with_status(status).with_headers(headers).fixed(body.as_bytes().to_vec()))
}
