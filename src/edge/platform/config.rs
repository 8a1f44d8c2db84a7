//! The isolate's configuration, parsed on its first request and kept.

use std::{cell::RefCell, rc::Rc};

use js_sys::{Object, Reflect};
use wasm_bindgen::JsCast;
use worker::Env;

use super::log::{self, LogLine};
use crate::core::{
    config::{hints, known_variables, Config},
    error::EdgeError,
};

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
    let mut parsed = Config::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()))?;
    parsed.hints = hints(&known_variables(), &variable_names(env));
    for off in &parsed.disabled {
        log::emit(LogLine::warn("config.feature_off").msg(off.named()));
    }
    for hint in &parsed.hints {
        log::emit(LogLine::warn("config.unknown_variable").msg(hint.to_string()));
    }
    let parsed = Rc::new(parsed);
    CONFIG.with(|c| *c.borrow_mut() = Some(parsed.clone()));
    Ok(parsed)
}

/// The names of the environment's variables and secrets (its text values; bindings are objects).
fn variable_names(env: &Env) -> Vec<String> {
    let env: &Object = env.unchecked_ref();
    Object::keys(env)
        .iter()
        .filter(|key| Reflect::get(env, key).is_ok_and(|v| v.is_string()))
        .filter_map(|key| key.as_string())
        .collect()
}
