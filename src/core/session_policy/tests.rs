use super::*;

fn parse(raw: &str) -> SessionPolicy {
    SessionPolicy::parse(raw, PathCase::Insensitive).unwrap()
}

fn timeout(p: &SessionPolicy, path: &str) -> Option<u64> {
    p.rule_for(&p.normalize(path)).timeout_s
}

#[test]
fn the_longest_prefix_wins_and_other_paths_set_nothing() {
    let p = parse(" /admin/=300, /admin/reports/=3600 ,/app/=1200");
    assert_eq!(timeout(&p, "/admin/users"), Some(300));
    assert_eq!(timeout(&p, "/admin/reports/q3"), Some(3600));
    assert_eq!(timeout(&p, "/app/"), Some(1200));
    assert_eq!(timeout(&p, "/admin"), None, "a prefix is matched as written");
    assert_eq!(timeout(&p, "/"), None);
    let root = parse("/=1200,/admin/=300");
    assert_eq!((timeout(&root, "/x"), timeout(&root, "/admin/")), (Some(1200), Some(300)));
}

#[test]
fn modes_combine_and_none_stands_alone() {
    let p = parse("/api/poll/=norefresh, /public/=none, /api/=600 ajax-redirect, /x/=norefresh+ajax-401+60");
    let poll = p.rule_for("/api/poll/");
    assert!(poll.no_refresh && poll.timeout_s.is_none() && !poll.sessionless);
    assert!(p.rule_for("/public/a.html").sessionless);
    assert_eq!(p.rule_for("/api/v1").timeout_s, Some(600));
    assert_eq!(p.rule_for("/api/v1").ajax, Some(AjaxEnds::Redirect));
    let x = p.rule_for("/x/");
    assert_eq!((x.no_refresh, x.ajax, x.timeout_s), (true, Some(AjaxEnds::Unauthorized), Some(60)));
    assert_eq!(p.rule_for("/other"), PathRule::default());
}

#[test]
fn paths_are_matched_as_servers_resolve_them() {
    let p = parse("/admin/=300");
    for escape in [
        "/Admin/",
        "/ADMIN/users",
        "/x/..;/admin/",
        "/x/../admin/",
        "/%61dmin/",
        "/static/..%2fadmin/",
        "//admin/",
        "/./admin/",
        "/admin;jsessionid=1/",
        "\\admin\\",
        "/../../admin/",
    ] {
        assert_eq!(timeout(&p, escape), Some(300), "{escape} escaped /admin/");
    }
    let exact = SessionPolicy::parse("/admin/=300", PathCase::Sensitive).unwrap();
    assert_eq!(timeout(&exact, "/Admin/"), None, "PATH_CASE=sensitive");
    assert_eq!(timeout(&exact, "/x/..;/admin/"), Some(300), "dot segments still resolve");
}

#[test]
fn normalize_keeps_the_shape_of_ordinary_paths() {
    for (raw, want) in
        [("/", "/"), ("/a/b", "/a/b"), ("/a/b/", "/a/b/"), ("/a/./b/.", "/a/b/"), ("/a/..", "/"), ("", "/")]
    {
        assert_eq!(normalize(raw, PathCase::Sensitive), want, "{raw}");
    }
    assert_eq!(normalize("/%zz/%4", PathCase::Sensitive), "/%zz/%4", "invalid escapes stay");
}

#[test]
fn off_and_empty_mean_none() {
    for raw in ["", " ", "off", "OFF", ",,"] {
        assert!(parse(raw).is_empty(), "{raw:?}");
    }
}

#[test]
fn bad_entries_say_what_is_wrong() {
    for raw in [
        "/admin/",
        "admin/=300",
        "//evil/=300",
        "/a?b=300",
        "/admin/=0",
        "/admin/=-5",
        "/admin/=5m",
        "/admin/=2592001",
        "/admin/=300,/admin/=600",
        "/Admin/=300,/admin/=600",
        "/a=b=300",
        "/a/=",
        "/a/=none norefresh",
        "/a/=300 60",
        "/a/=sometimes",
    ] {
        assert!(SessionPolicy::parse(raw, PathCase::Insensitive).is_err(), "{raw:?}");
    }
    assert!(SessionPolicy::parse("/admin/=2592000", PathCase::Insensitive).is_ok());
}
