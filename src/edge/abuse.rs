//! The per-client-address abuse limits (`ABUSE_LIMITS`), on the platform's rate-limiting
//! bindings (`NEW_SESSION_LIMIT`, `REFUSED_LIMIT` in `wrangler.toml`). `wrangler dev` runs
//! them locally (Miniflare's in-memory counter, per 10 or 60 s window); on Cloudflare each
//! location counts on its own and the counts are eventually consistent, so the limits are a
//! brake on abuse, not an exact quota.

use std::cell::Cell;

use worker::Env;

use crate::core::{client::AbuseLimit, config::Config, error::EdgeError};
use crate::edge::platform::log::{self, LogLine};

#[wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    inline_js = "export function rateLimit(env, binding, key) {
        const limiter = env[binding];
        if (!limiter || typeof limiter.limit !== 'function') return Promise.resolve(2);
        return limiter.limit({ key }).then((r) => (r && r.success ? 1 : 0));
    }"
)]
extern "C" {
    /// 1: within the limit, 0: over it, 2: no such binding.
    #[wasm_bindgen(catch, js_name = rateLimit)]
    fn rate_limit(
        env: &wasm_bindgen::JsValue,
        binding: &str,
        key: &str,
    ) -> Result<js_sys::Promise, wasm_bindgen::JsValue>;
}

thread_local! {
    static WARNED_UNBOUND: Cell<bool> = const { Cell::new(false) };
}

/// Counts one event of `limit` for the client whose key is `key`
/// ([`crate::core::client::ClientNetwork::limit_key`]); `Err(TooManyRequests)` when it is
/// over the limit. Without a key, with the limits off, or without the binding (logged once
/// per isolate), nothing is limited; a limiter that fails lets the request through (logged).
/// The Worker counts, and so does a session object on a claim (the bindings are the script's).
pub async fn count(env: &Env, config: &Config, key: Option<&str>, limit: AbuseLimit) -> Result<(), EdgeError> {
    if !config.controls.abuse_limits {
        return Ok(());
    }
    let Some(key) = key else { return Ok(()) };
    let answer = match rate_limit(env.as_ref(), limit.binding(), key) {
        Ok(p) => worker::wasm_bindgen_futures::JsFuture::from(p).await,
        Err(e) => Err(e),
    };
    match answer.map(|v| v.as_f64()) {
        Ok(Some(0.0)) => Err(EdgeError::TooManyRequests(limit)),
        Ok(Some(2.0)) => {
            if !WARNED_UNBOUND.with(|w| w.replace(true)) {
                log::emit(LogLine::warn("abuse.unbound").msg(format!(
                    "ABUSE_LIMITS is on but the {} rate-limiting binding is missing (wrangler.toml, [[ratelimits]]): not limited",
                    limit.binding()
                )));
            }
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e) => {
            log::emit(LogLine::warn("abuse.limiter_failed").msg(format!(
                "{}: {}",
                limit.binding(),
                super::incoming::js_message(&e)
            )));
            Ok(())
        }
    }
}
