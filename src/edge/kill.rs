//! Kill requests (the kill flag or the kill path): end the session server-side at once, then
//! answer with a redirect that expires every session cookie. The origin is not contacted, and
//! no new session cookies are set (a session cannot be destroyed and created in one request).

use url::Url;
use worker::{console_error, Response};

use super::{respond, store::Sessions};
use crate::core::{
    config::Config,
    cookie::{CFID, CFTOKEN},
    error::EdgeError,
    ids::{CfToken, Cfid},
    kill::Trigger,
    lifecycle::EndReason,
    query,
    rpc::{EndRequest, Ids},
};

/// Answers a kill request. Idempotent: with no session, or an unknown or ended one, the
/// cookies are still expired and the browser redirected.
pub async fn respond(
    method: &str,
    url: &Url,
    trigger: Trigger,
    presented: Option<(Cfid, CfToken)>,
    sessions: &Sessions,
    config: &Config,
) -> Result<Response, EdgeError> {
    if !config.kill.allows(method) {
        let mut resp = respond::text(405, "cfsession-edge: this method cannot end a session\n")?;
        resp.headers_mut().set("allow", &config.kill.methods.join(", ")).map_err(EdgeError::internal)?;
        return Ok(resp);
    }
    let mut status = 302;
    if let Some((cfid, token)) = presented {
        let ids =
            Ids { cfid: cfid.to_string(), token_fp: token.fingerprint(), issued_at: token.issued_at(), fresh: false };
        let req = EndRequest { cfid: cfid.to_string(), ids: Some(ids), reason: EndReason::Killed };
        if let Err(e) = sessions.end(&cfid, &req).await {
            // The browser still forgets the ids; the server-side end failed, so say so.
            console_error!("cfsession-edge: session {cfid}: kill failed: {e}");
            status = 503;
        }
    }
    let remaining = query::without(url.query().unwrap_or(""), &[CFID, CFTOKEN]);
    let location = config.kill.location(trigger, url.path(), remaining.as_deref());
    let body = if status == 302 {
        "cfsession-edge: session ended\n"
    } else {
        "cfsession-edge: the session could not be ended on the server; try again\n"
    };
    let mut resp = respond::text(status, body)?;
    let headers = resp.headers_mut();
    if status == 302 {
        headers.set("location", &location).map_err(EdgeError::internal)?;
    }
    super::respond::apply_expiry(headers, &config.kill.expiry_headers(&config.cookie)).map_err(EdgeError::internal)?;
    Ok(resp)
}
