//! The edge's error type and its one mapping to HTTP status and body.
//!
//! Bodies are short plain text meant for a person reading a failed response; they never
//! carry secrets, tokens or internal details (those go to the log line, see [`EdgeError::log_detail`]).

use std::fmt;

use super::{
    client::{AbuseLimit, RETRY_AFTER_S},
    config::ConfigError,
};

/// Everything that can stop the edge from answering normally.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EdgeError {
    /// A configuration variable is invalid (500, names the variable).
    Config(ConfigError),
    /// An optional feature is off because its variable is invalid (503, names the variable).
    FeatureOff(ConfigError),
    /// The origin could not be reached (502). Carries the platform's message for the log.
    OriginUnreachable(String),
    /// The request came back to this Worker through its own forwarding (508).
    LoopDetected,
    /// The request cannot be understood (400); the reason is safe to show.
    BadRequest(&'static str),
    /// The request's `Cookie` headers are larger than the edge reads (431), refused before
    /// any parse ([`super::cookie_header::MAX_COOKIE_BYTES`]).
    CookiesTooLarge,
    /// Missing or wrong credentials for the admin API (401).
    Unauthorized,
    /// Nothing there (404); the reason is safe to show.
    NotFound(&'static str),
    /// A per-client-address abuse limit was reached (429, with `Retry-After`).
    TooManyRequests(AbuseLimit),
    /// The session store (a Durable Object) failed or could not be reached (503). The edge
    /// fails closed: it never forwards a request with a session it could not check.
    SessionStore(String),
    /// Something inside the edge failed (500). Carries detail for the log only.
    Internal(String),
}

impl EdgeError {
    /// An internal failure carrying `e`'s message for the log.
    pub fn internal(e: impl fmt::Display) -> Self {
        EdgeError::Internal(e.to_string())
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            EdgeError::Config(_) | EdgeError::Internal(_) => 500,
            EdgeError::OriginUnreachable(_) => 502,
            EdgeError::SessionStore(_) | EdgeError::FeatureOff(_) => 503,
            EdgeError::LoopDetected => 508,
            EdgeError::BadRequest(_) => 400,
            EdgeError::Unauthorized => 401,
            EdgeError::NotFound(_) => 404,
            EdgeError::TooManyRequests(_) => 429,
            EdgeError::CookiesTooLarge => 431,
        }
    }

    /// The plain-text reason shown to the client (the edge prefixes it with `cfsession-edge: `).
    pub fn public_message(&self) -> String {
        match self {
            EdgeError::Config(e) => format!("{e}\n"),
            EdgeError::FeatureOff(e) => format!("{}\n", e.named()),
            EdgeError::OriginUnreachable(_) => "origin unreachable\n".to_owned(),
            EdgeError::LoopDetected => {
                "request loop detected (ORIGIN_URL unset and the request's own URL routes back to this Worker)\n"
                    .to_owned()
            }
            EdgeError::BadRequest(reason) => format!("bad request: {reason}\n"),
            // (The number is MAX_COOKIE_BYTES: a unit test holds them together.)
            EdgeError::CookiesTooLarge => {
                "request header fields too large: the Cookie header is over 16384 bytes; clear this site's cookies\n"
                    .to_owned()
            }
            EdgeError::SessionStore(_) => "session store unavailable, try again\n".to_owned(),
            EdgeError::Unauthorized => "missing or wrong bearer token\n".to_owned(),
            EdgeError::NotFound(what) => format!("{what}\n"),
            EdgeError::TooManyRequests(limit) => {
                format!("too many requests from this address ({}); retry after {RETRY_AFTER_S} s\n", limit.as_str())
            }
            EdgeError::Internal(_) => "internal error\n".to_owned(),
        }
    }

    /// What the log line says: the public message plus internal detail.
    pub fn log_detail(&self) -> String {
        match self {
            EdgeError::OriginUnreachable(d) => format!("origin unreachable: {d}"),
            EdgeError::Internal(d) => format!("internal error: {d}"),
            EdgeError::SessionStore(d) => format!("session store unavailable: {d}"),
            other => other.public_message().trim_end().to_owned(),
        }
    }
}

impl fmt::Display for EdgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.log_detail())
    }
}

impl std::error::Error for EdgeError {}

impl From<ConfigError> for EdgeError {
    fn from(e: ConfigError) -> Self {
        EdgeError::Config(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let cfg = ConfigError { variable: "ORIGIN_URL", reason: "bad".into() };
        assert_eq!(EdgeError::Config(cfg.clone()).status(), 500);
        assert!(EdgeError::Config(cfg).public_message().contains("ORIGIN_URL"));
        assert_eq!(EdgeError::OriginUnreachable("x".into()).status(), 502);
        assert_eq!(EdgeError::LoopDetected.status(), 508);
        assert_eq!(EdgeError::BadRequest("r").status(), 400);
        assert_eq!(EdgeError::CookiesTooLarge.status(), 431);
        let limit = super::super::cookie_header::MAX_COOKIE_BYTES.to_string();
        assert!(EdgeError::CookiesTooLarge.public_message().contains(&limit));
        assert_eq!(EdgeError::SessionStore("d".into()).status(), 503);
        assert!(!EdgeError::SessionStore("detail".into()).public_message().contains("detail"));
    }

    #[test]
    fn internal_detail_stays_out_of_the_body() {
        let e = EdgeError::Internal("secret detail".into());
        assert!(!e.public_message().contains("secret"));
        assert!(e.log_detail().contains("secret detail"));
        let e = EdgeError::OriginUnreachable("dns failure for internal-host".into());
        assert!(!e.public_message().contains("internal-host"));
    }
}
