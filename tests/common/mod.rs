//! The integration-test harness, shared by every test file: a real `wrangler dev` running the
//! real Worker ([`edge::Edge`]), a programmable origin inside the test process
//! ([`origin::Origin`]), and an HTTP client with a cookie jar ([`client`]).
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

pub mod browser;
pub mod client;
pub mod edge;
pub mod origin;
pub mod verify;
pub mod wait;

pub use client::{Client, Resp};
pub use edge::Edge;
pub use origin::{Origin, Recorded, Reply};
