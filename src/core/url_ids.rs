//! Session ids in URLs, where servers look for them besides cookies: query parameters
//! (`?CFID=&CFTOKEN=` for ColdFusion's `addtoken`, `?PHPSESSID=` with PHP's `use_trans_sid`,
//! `?jsessionid=`) and path parameters (`/cart;jsessionid=…`, Tomcat's URL rewriting). The
//! edge removes them before forwarding unless it allows them, as it does cookies.

use super::{cookie_header::reads_as, query};

/// The query string for the origin without the parameters a server could read as a session id
/// (`is_id` on the decoded name). They stay only when `keep(name, decoded value)` allows every
/// one of them: a pair is the live session's, or none of it reaches the origin. Everything
/// else byte for byte; `None` when nothing is left.
pub fn forward_query(
    query_string: Option<&str>,
    is_id: impl Fn(&str) -> bool,
    keep: impl Fn(&str, &str) -> bool,
) -> Option<String> {
    let q = query_string.unwrap_or("");
    let foreign = |name: &str, value: Option<&str>| is_id(name) && !value.is_some_and(|v| keep(name, v));
    if query::without_where(q, foreign).as_deref() == (!q.is_empty()).then_some(q) {
        return (!q.is_empty()).then(|| q.to_owned());
    }
    query::without_where(q, |name, _| is_id(name))
}

/// The path for the origin without the path parameters (`;name=value` after a segment) a
/// server could read as a session id, unless `keep(name, value)` allows every one of them (as
/// [`forward_query`]). `None` when the path is unchanged.
pub fn forward_path(path: &str, is_id: impl Fn(&str) -> bool, keep: impl Fn(&str, &str) -> bool) -> Option<String> {
    if !path.contains(';') {
        return None;
    }
    let params = || {
        path.split('/').flat_map(|segment| segment.split(';').skip(1)).map(|param| {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            (query::decode(name), query::decode(value))
        })
    };
    if params().all(|(name, value)| !is_id(&name) || keep(&name, &value)) {
        return None;
    }
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| {
            let mut parts = segment.split(';');
            let mut out = parts.next().unwrap_or("").to_owned();
            for param in parts.filter(|p| !is_id(&query::decode(p.split_once('=').map_or(*p, |(n, _)| n)))) {
                out.push(';');
                out.push_str(param);
            }
            out
        })
        .collect();
    Some(segments.join("/"))
}

/// Whether `name` is one of `names` as a server may read it ([`reads_as`]).
pub fn named(name: &str, names: &[&str]) -> bool {
    names.iter().any(|n| reads_as(name, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> bool {
        named(name, &["JSESSIONID", "PHPSESSID", "CFID"])
    }

    #[test]
    fn path_parameters_with_session_ids_are_removed() {
        let never = |_: &str, _: &str| false;
        assert_eq!(forward_path("/cart;jsessionid=ABC", id, never).as_deref(), Some("/cart"));
        assert_eq!(forward_path("/a;x=1;JSESSIONID=B/b;v=2", id, never).as_deref(), Some("/a;x=1/b;v=2"));
        assert_eq!(forward_path("/x/..;jsessionid=1/admin", id, never).as_deref(), Some("/x/../admin"));
        assert_eq!(forward_path("/plain", id, never), None);
        assert_eq!(forward_path("/a;x=1", id, never), None);
        let keep = |n: &str, v: &str| n.eq_ignore_ascii_case("jsessionid") && v == "OK";
        assert_eq!(forward_path("/a;jsessionid=OK", id, keep), None);
        assert_eq!(forward_path("/a;jsessionid=NO", id, keep).as_deref(), Some("/a"));
    }

    #[test]
    fn query_parameters_with_session_ids_are_removed() {
        let never = |_: &str, _: &str| false;
        assert_eq!(forward_query(Some("PHPSESSID=x&a=1"), id, never).as_deref(), Some("a=1"));
        assert_eq!(forward_query(Some("a=%2F&jsessionid=1&cfid"), id, never).as_deref(), Some("a=%2F"));
        assert_eq!(forward_query(Some("PHP%53ESSID=x"), id, never), None);
        let keep = |_: &str, v: &str| v == "mine";
        assert_eq!(forward_query(Some("PHPSESSID=mine&b"), id, keep).as_deref(), Some("PHPSESSID=mine&b"));
    }
}
