//! The header budget: session data travels to the origin in `X-Session-Data`, so the default
//! `SESSION_DATA_LIMIT` keeps every request within what origin servers accept by default.
//! Proven with a real nginx (default `large_client_header_buffers 4 8k`) between the edge
//! and the origin.

mod common;

use common::{nginx::Nginx, stored_session, verify::session_data, Edge, Origin};

#[test]
fn the_default_data_limit_fits_nginx_and_larger_data_is_refused_at_the_edge() {
    let origin = Origin::session_app();
    let nginx = Nginx::proxy_to(&origin.url());
    let edge = Edge::start(&nginx.url(), &[]);
    let (c, id) = stored_session(&edge, &origin);

    // Data up to the default limit (3,072 bytes of JSON) passes nginx on every request.
    let big = "x".repeat(3_000);
    assert_eq!(c.get(&edge.url(&format!("/set?k={big}"))).status, 200);
    for _ in 0..3 {
        let r = c.get(&edge.url("/"));
        assert_eq!(r.status, 200, "nginx refused a session at the default limit: {}", r.text());
    }
    assert_eq!(session_data(&origin.last())["k"], big.as_str());
    let header_len = origin.last().header("x-session-data").unwrap().len();
    assert!(header_len > 3_900, "the test did not fill the header: {header_len}");

    // More is refused at the edge, with a log line; the session keeps working.
    assert_eq!(c.get(&edge.url(&format!("/set?more={}", "y".repeat(1_000)))).status, 200);
    edge.wait_for_log("data would exceed SESSION_DATA_LIMIT");
    let r = c.get(&edge.url("/"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(origin.last_id(), id);
    assert!(session_data(&origin.last()).get("more").is_none());
}

#[test]
fn a_limit_raised_past_the_origin_servers_bricks_the_session_which_is_why_it_is_the_default() {
    // The control: with the limit raised to the old default, nginx refuses the session's
    // requests once the data grows (this is the failure the default prevents).
    let origin = Origin::session_app();
    let nginx = Nginx::proxy_to(&origin.url());
    let edge = Edge::start(&nginx.url(), &[("SESSION_DATA_LIMIT", "65536")]);
    let (c, _) = stored_session(&edge, &origin);
    // In steps of 2,500 bytes: nginx also limits the origin's response headers (an
    // `X-Session-Set` over about 4 KB gets a 502 from nginx's default proxy_buffer_size).
    for key in ["a", "b", "c"] {
        let r = c.get(&edge.url(&format!("/set?{key}={}", "x".repeat(2_500))));
        assert_eq!(r.status, 200, "{key}: {}", r.text());
    }
    let r = c.get(&edge.url("/"));
    assert_eq!(r.status, 400, "nginx accepted a {}-byte header line", 7_500 * 4 / 3);
}
