//! `SESSION_JURISDICTION` through the real Worker: the objects are asked for in the
//! jurisdiction (which workerd refuses), bad values name the variable, `none` works.

mod common;

use common::{Client, Edge, Origin};

/// `wrangler dev` cannot run a jurisdiction: workerd answers `namespace.jurisdiction(…)` with
/// "Jurisdiction restrictions are not implemented in workerd". What is verified here: the edge
/// makes that call for every namespace with the configured name (the platform's own error
/// proves it reached `jurisdiction()`), fails closed (no request reaches the origin without
/// its session object), and refuses values that are not jurisdictions.
#[test]
fn a_jurisdiction_is_requested_from_the_platform_and_bad_values_name_the_variable() {
    let origin = Origin::ok();
    let edge = Edge::start(&origin.url(), &[("SESSION_JURISDICTION", "eu")]);
    let r = Client::new().get(&edge.url("/"));
    assert_eq!(r.status, 500, "{}", r.text());
    edge.wait_for_log("Jurisdiction restrictions are not implemented in workerd");
    assert!(edge.log().contains("SESSIONS binding"), "{}", edge.log_tail());
    assert!(origin.received().is_empty(), "a request reached the origin without its session object");
    let bad = Edge::start(&origin.url(), &[("SESSION_JURISDICTION", "mars")]);
    let r = Client::new().get(&bad.url("/"));
    assert_eq!(r.status, 500);
    assert!(r.text().contains("SESSION_JURISDICTION"), "{}", r.text());
    let none = Edge::start(&origin.url(), &[("SESSION_JURISDICTION", "none")]);
    assert_eq!(Client::new().get(&none.url("/")).status, 200);
}
