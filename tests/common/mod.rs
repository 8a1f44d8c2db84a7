//! The integration-test harness, shared by every test file: a real `wrangler dev` running the
//! real Worker ([`edge::Edge`]), a programmable origin inside the test process
//! ([`origin::Origin`]), and an HTTP client with a cookie jar ([`client`]).
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

pub mod browser;
pub mod cf_origin;
pub mod client;
pub mod edge;
pub mod kill_pages;
pub mod lucee;
pub mod lucee_cluster;
pub mod markdown;
pub mod nginx;
pub mod origin;
pub mod php_fpm;
pub mod process;
pub mod session_managers;
pub mod tomcat;
pub mod verify;
pub mod wait;

pub use client::{Client, Resp};
pub use edge::Edge;
pub use origin::{Origin, Recorded, Reply};

/// A client whose session is stored at the edge (two requests: the second claims it);
/// returns the client and the CFID.
pub fn stored_session(edge: &Edge, origin: &Origin) -> (Client, String) {
    let c = Client::new();
    c.get(&edge.url("/"));
    c.get(&edge.url("/"));
    let id = origin.last_id();
    assert!(edge.inspect(&id).is_some(), "the session was not stored");
    (c, id)
}

/// A client presenting exactly these cookies (a replay of captured ids).
pub fn client_with(cookies: &[(&str, &str)]) -> Client {
    let c = Client::new();
    for (k, v) in cookies {
        c.jar.set(k, v);
    }
    c
}
