//! What the Worker and its objects take from the platform: the clock, randomness, the
//! isolate's configuration ([`config`]) and the log ([`log`]).

mod clock;
mod config;
pub mod log;

pub use clock::now_ms;
pub use config::config;

use crate::core::random::{RandomError, RandomSource};

/// `crypto.getRandomValues`, through `getrandom`.
pub struct PlatformRandom;

impl RandomSource for PlatformRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(buf).map_err(|_| RandomError)
    }
}

/// The id a request's log lines carry ([`crate::core::log::request_id`]): its `cf-ray`, else
/// `prefix` and 8 random bytes.
pub fn request_id(cf_ray: Option<&str>, prefix: &str) -> std::rc::Rc<str> {
    let mut random = [0u8; 8];
    let _ = PlatformRandom.fill(&mut random);
    crate::core::log::request_id(cf_ray, prefix, &random).into()
}
