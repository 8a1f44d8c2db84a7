//! The pure core: everything that can be computed from values lives here.
//!
//! Nothing in this module touches the network, storage, the clock or randomness directly:
//! time arrives as [`clock::UnixMs`] values and randomness through [`random::RandomSource`].

pub mod ajax;
pub mod alarm;
pub mod bypass;
pub mod client;
pub mod clock;
pub mod config;
pub mod cookie;
pub mod cookie_header;
pub mod cross_site;
pub mod crypto;
pub mod date;
pub mod effects;
pub mod end_reason;
pub mod error;
pub mod export;
pub mod faults;
pub mod fingerprint;
pub mod forward;
pub mod guard;
pub mod headers;
pub mod hooks;
pub mod ids;
pub mod index;
pub mod ip;
pub mod kill;
pub mod lifecycle;
pub mod log;
pub mod metrics;
pub mod mode;
pub mod origin_api;
pub mod outcome;
pub mod pacing;

pub mod protocol;
pub mod query;
pub mod random;
pub mod ready;
pub mod record;
pub mod rpc;
pub mod session_policy;
pub mod session_state;
pub mod stats;
pub mod tombstone;
pub mod url_ids;
