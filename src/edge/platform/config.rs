//! The isolate's configuration, parsed on its first request and kept.

use std::{cell::RefCell, rc::Rc};

use worker::Env;

use crate::core::{config::Config, error::EdgeError};

thread_local! {
    /// The configuration of this isolate, parsed on its first request.
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

/// The configuration, parsed once per isolate: variables and secrets change only with a
/// deploy (or a `wrangler dev` reload), which starts new isolates. An invalid configuration is
/// not cached: every request answers with the error until it is fixed.
pub fn config(env: &Env) -> Result<Rc<Config>, EdgeError> {
    if let Some(c) = CONFIG.with(|c| c.borrow().clone()) {
        return Ok(c);
    }
    let parsed = Rc::new(Config::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()))?);
    CONFIG.with(|c| *c.borrow_mut() = Some(parsed.clone()));
    Ok(parsed)
}
