//! The origin kits, end to end through the real Worker: the Node middleware on real Express,
//! the PHP file on Debian's php-fpm behind Debian's nginx, the CFML component on a real Lucee 7
//! (`tests/common/lucee.rs`). The same site in each (count, store a value, log in, list and end
//! "my sessions", log out, a verified end hook), and a request that did not come through the
//! edge refused.

mod common;

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use common::{
    edge::{free_port, repo_root, TempDir},
    lucee::Lucee,
    markdown,
    nginx::Nginx,
    php_fpm::PhpFpm,
    verify::test_origin_key,
    wait, Client, Edge,
};
use serde_json::Value;

fn json(c: &Client, url: &str) -> Value {
    let r = c.get(url);
    assert_eq!(r.status, 200, "{url}: {}", r.text());
    serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("{url}: not JSON: {}", r.text()))
}

/// The kits' shared scenario, against the site behind `edge` (`direct`: the site itself).
fn scenario(edge: &Edge, direct: &str) {
    let url = |p: &str| edge.url(p);
    let a = Client::new();
    let counts: Vec<String> = (0..3).map(|_| a.get(&url("/count")).text()).collect();
    assert_eq!(counts, ["1", "2", "3"], "the count is kept across requests");
    assert_eq!(a.get(&url("/store?value=hello")).text(), "stored");
    let shown = json(&a, &url("/show"));
    assert_eq!(shown["session"], serde_json::json!({ "count": 3, "value": "hello" }));
    let before_login = shown["id"].as_str().unwrap().to_owned();
    assert_eq!(a.jar.get("CFID").as_deref(), Some(before_login.as_str()));

    // Log in: tagged and rotated, the data kept.
    assert_eq!(a.get(&url("/login?user=kim")).text(), "logged in");
    let shown = json(&a, &url("/show"));
    let a_id = shown["id"].as_str().unwrap().to_owned();
    assert_ne!(a_id, before_login, "a login rotates the ids");
    assert_eq!(shown["session"]["value"], "hello");
    assert_eq!(edge.inspect(&a_id).unwrap()["user"], "kim");

    // "Your sessions": a second device, listed, then ended from the first.
    let b = Client::new();
    b.get(&url("/count"));
    b.get(&url("/login?user=kim"));
    let b_id = json(&b, &url("/show"))["id"].as_str().unwrap().to_owned();
    let mine = json(&a, &url("/sessions"));
    assert_eq!(mine["user"], "kim");
    let mut listed: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    listed.sort();
    let mut expected = vec![a_id.as_str(), b_id.as_str()];
    expected.sort();
    assert_eq!(listed, expected);
    let ended = json(&a, &url("/end-others"));
    assert_eq!(ended["ended"], serde_json::json!([b_id.clone()]));
    assert_ne!(json(&b, &url("/show"))["id"], b_id.as_str(), "the other device's session ended");
    assert_eq!(json(&a, &url("/show"))["id"], a_id.as_str(), "this one stays");

    // Log out: the session ends; the next request starts empty.
    assert_eq!(a.get(&url("/logout")).text(), "logged out");
    assert_eq!(a.jar.get("CFID"), None, "the cookies were expired");
    assert_eq!(json(&a, &url("/show"))["session"], serde_json::json!({}));
    assert!(edge.inspect(&a_id).is_none());

    // The end hooks reached the site, verified by the kit.
    wait::until("end hooks delivered", Duration::from_secs(20), Duration::from_millis(200), || {
        let got = json(&Client::new(), &url("/ended"));
        let got: Vec<&str> = got.as_array().unwrap().iter().filter_map(Value::as_str).collect();
        (got.contains(&a_id.as_str()) && got.contains(&b_id.as_str())).then_some(())
    });

    // Not through the edge: refused, whatever it claims.
    let direct_client = Client::new();
    let r = direct_client.get(&format!("{direct}/count"));
    assert_eq!(r.status, 403, "a direct request: {}", r.text());
    let forged = [
        ("X-Session-Id", a_id.as_str()),
        ("X-Session-New", "false"),
        ("X-Session-Data", "eyJjb3VudCI6OTl9"),
        ("X-Session-Signature", "t=1,v2=00"),
    ];
    assert_eq!(direct_client.send("GET", &format!("{direct}/show"), &forged, None).status, 403);
    let r = direct_client.send(
        "POST",
        &format!("{direct}/hooks/end"),
        &[("X-Session-Signature", "t=1,v2=00")],
        Some(b"{}"),
    );
    assert_eq!(r.status, 401, "a forged hook call");
}

fn edge_for(site: &str) -> Edge {
    Edge::start(site, &[("SESSION_END_URL", "/hooks/end")])
}

/// The edge's previous signing key in the key-rotation tests.
const PREVIOUS_KEY: &str = "previous-signing-key-0123456789abcdef0123456789";

/// An edge in the middle of a key rotation (`SESSION_SIGNING_KEY_PREVIOUS`), and the origin
/// keys a kit holds meanwhile: the previous one first (it signs origin-API calls with it), then
/// the current one (which the edge signs requests and hooks with).
fn rotating_edge_for(site: &str) -> (Edge, String) {
    let edge = Edge::start(site, &[("SESSION_END_URL", "/hooks/end"), ("SESSION_SIGNING_KEY_PREVIOUS", PREVIOUS_KEY)]);
    (edge, format!("{},{}", common::verify::origin_key(PREVIOUS_KEY), test_origin_key()))
}

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `node <script> <port>` with the origin key and `env`, and waits until it listens.
fn start_node(script: &str, port: u16, env: &[(&str, &str)]) -> Node {
    start_node_with(Path::new("node"), script, port, env)
}

/// [`start_node`] with the Node binary `node`.
fn start_node_with(node: &Path, script: &str, port: u16, env: &[(&str, &str)]) -> Node {
    let child = Command::new(node)
        .arg(repo_root().join(script))
        .arg(port.to_string())
        .env("CFS_ORIGIN_KEY", test_origin_key())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node");
    let site = Node(child);
    wait_listening("node", port);
    site
}

#[test]
fn node_kit_on_express() {
    let port = free_port();
    let direct = format!("http://127.0.0.1:{port}");
    let edge = edge_for(&direct);
    let _site = start_node("tests/kits/express-app.mjs", port, &[("CFS_EDGE_URL", &edge.url(""))]);
    scenario(&edge, &direct);
    // Any Unicode round-trips; what JSON strings cannot hold (a lone surrogate) is refused by
    // the edge with a log line, and nothing the application stores can crash the kit.
    let c = Client::new();
    let text = "Zoë € 😀 日本語 עברית";
    assert_eq!(c.get(&edge.url(&format!("/store?value={}", url_encode(text)))).text(), "stored");
    unicode_round_trips(&edge, &c);
    for bad in ["/lone-surrogate", "/bigint", "/circular"] {
        assert_eq!(c.get(&edge.url(bad)).status, 200, "{bad} broke the site");
    }
    edge.wait_for_log("X-Session-Set ignored: not valid JSON");
    assert_eq!(json(&c, &edge.url("/show"))["session"]["value"], text, "the session was harmed");
    // express-session's reload(), destroy(), cookie.maxAge, and `req.session = null`.
    let reloaded = json(&c, &edge.url("/reload"));
    assert_eq!(reloaded["value"], text, "reload() brought back the request's data");
    assert!(!reloaded["keys"].as_array().unwrap().iter().any(|k| k == "reload" || k == "id"), "{reloaded}");
    for (path, answer) in [("/destroy", "undefined"), ("/null-logout", "logged out")] {
        let c = Client::new();
        c.get(&edge.url("/count"));
        c.get(&edge.url("/count"));
        let id = c.jar.get("CFID").unwrap();
        assert_eq!(c.get(&edge.url(path)).text(), answer);
        assert_eq!(c.jar.get("CFID"), None, "{path}: the cookies were not expired");
        assert!(edge.inspect(&id).is_none(), "{path}: the session lives on");
    }
    let c = Client::new();
    c.get(&edge.url("/count"));
    c.get(&edge.url("/count"));
    let id = c.jar.get("CFID").unwrap();
    assert_eq!(c.get(&edge.url("/short-cookie")).text(), "2000");
    wait::until("cookie.maxAge = 2000 ending the session", Duration::from_secs(30), Duration::from_millis(200), || {
        edge.inspect(&id).is_none().then_some(())
    });
}

/// Waits, with a deadline, until `what` listens on `port`.
fn wait_listening(what: &str, port: u16) {
    wait::until(&format!("{what} listening"), Duration::from_secs(15), Duration::from_millis(50), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ())
    });
}

/// An edge in front of `origin` with the variables of a README's ```toml settings block.
fn edge_with_settings(origin: &str, settings: &markdown::Block) -> Edge {
    let table: toml::Table = settings.code.parse().expect("the settings block is TOML");
    let pairs: Vec<(String, String)> =
        table.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect();
    let vars: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Edge::start(origin, &vars)
}

/// Node `major` as `scripts/setup` installs it for this test (`KIT_NODES` in
/// scripts/lib/toolchain.sh): `target/node/<major>`.
fn setup_node(major: &str) -> PathBuf {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    let bin = repo_root().join(format!("target/node/{major}/node_modules/node-linux-{arch}/bin/node"));
    let version = Command::new(&bin)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup)", bin.display()));
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    assert!(version.starts_with(&format!("v{major}.")), "{}: {version}", bin.display());
    bin
}

/// The Node kit on the release lines users run besides the scripts' own Node (22, above):
/// 20 (past its end of life, still common), 24 and 26. Its `engines` says `>=20`.
#[test]
fn node_kit_on_every_node_users_run() {
    for major in ["20", "24", "26"] {
        let node = setup_node(major);
        let port = free_port();
        let direct = format!("http://127.0.0.1:{port}");
        let edge = edge_for(&direct);
        let _site = start_node_with(&node, "tests/kits/express-app.mjs", port, &[("CFS_EDGE_URL", &edge.url(""))]);
        scenario(&edge, &direct);
    }
}

/// The Node kit README's quick start, as written: installed from the repository into a fresh
/// app with npm, the edge configured with its settings block, its `app.mjs` run unchanged.
#[test]
fn the_node_kits_quick_start_works_as_written() {
    let blocks = markdown::section_blocks(&repo_root().join("kits/node/README.md"), "Quick start");
    let [install, settings, app, run] = blocks.as_slice() else {
        panic!("the quick start's blocks changed: {blocks:?}")
    };
    assert_eq!((install.lang.as_str(), settings.lang.as_str(), app.lang.as_str()), ("sh", "toml", "js"));
    assert!(run.code.contains("scripts/dev --origin http://127.0.0.1:3000"), "{}", run.code);
    let dir = TempDir::new("node-quick-start");
    fs::write(dir.0.join("package.json"), r#"{ "private": true, "type": "module" }"#).unwrap();
    let install = install.code.replace("/path/to/cfsession-edge", repo_root().to_str().unwrap());
    let out = Command::new("sh")
        .args(["-c", &install])
        .current_dir(&dir.0)
        .env("npm_config_audit", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_prefer_offline", "true")
        .output()
        .expect("npm install");
    assert!(out.status.success(), "{install}: {}", String::from_utf8_lossy(&out.stderr));
    fs::write(dir.0.join("app.mjs"), &app.code).unwrap();

    let port = free_port();
    let edge = edge_with_settings(&format!("http://127.0.0.1:{port}"), settings);
    let log = dir.0.join("app.log");
    let child = Command::new("node")
        .arg("app.mjs")
        .current_dir(&dir.0)
        .env("CFS_ORIGIN_KEY", test_origin_key())
        .env("CFS_EDGE_URL", edge.url(""))
        .env("PORT", port.to_string())
        .stdout(fs::File::create(&log).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node app.mjs");
    let _app = Node(child);
    wait_listening("app.mjs", port);
    let c = Client::new();
    let hits: Vec<String> = (0..2).map(|_| c.get(&edge.url("/")).text()).collect();
    assert_eq!(hits, ["hit 1", "hit 2"]);
    assert_eq!(c.send("POST", &edge.url("/login"), &[], None).status, 302);
    let mine = json(&c, &edge.url("/sessions"));
    let id = c.jar.get("CFID").unwrap();
    assert_eq!(mine["user"], "user-42", "{mine}");
    assert_eq!(mine["items"][0]["id"], id.as_str(), "{mine}");
    assert_eq!(c.send("POST", &edge.url("/logout"), &[], None).status, 302);
    assert_eq!(c.jar.get("CFID"), None, "the logout did not end the session");
    let said = format!("session ended: {id} (invalidated)");
    wait::until("the end hook's line", Duration::from_secs(30), Duration::from_millis(200), || {
        fs::read_to_string(&log).unwrap_or_default().contains(&said).then_some(())
    });
    assert_eq!(Client::new().get(&format!("http://127.0.0.1:{port}/")).status, 403, "not through the edge");
}

/// The PHP kit README's quick start, as written: installed with Composer from the repository
/// (a path repository), the edge configured with its settings block, its `index.php` served by
/// `php -S` unchanged.
#[test]
fn the_php_kits_quick_start_works_as_written() {
    let blocks = markdown::section_blocks(&repo_root().join("kits/php/README.md"), "Quick start");
    let [composer, settings, app, run] = blocks.as_slice() else {
        panic!("the quick start's blocks changed: {blocks:?}")
    };
    assert_eq!((composer.lang.as_str(), settings.lang.as_str(), app.lang.as_str()), ("json", "toml", "php"));
    assert!(run.code.contains("php -S 127.0.0.1:3000 index.php"), "{}", run.code);
    let dir = TempDir::new("php-quick-start");
    let composer_json = composer.code.replace("/path/to/cfsession-edge", repo_root().to_str().unwrap());
    fs::write(dir.0.join("composer.json"), composer_json).unwrap();
    let out = Command::new("composer")
        .args(["install", "--no-interaction", "--quiet"])
        .current_dir(&dir.0)
        .env("COMPOSER_HOME", dir.0.join(".composer"))
        .output()
        .expect("composer install");
    assert!(out.status.success(), "composer install: {}", String::from_utf8_lossy(&out.stderr));
    fs::write(dir.0.join("index.php"), &app.code).unwrap();

    let port = free_port();
    let edge = edge_with_settings(&format!("http://127.0.0.1:{port}"), settings);
    let log = dir.0.join("php.log");
    let child = Command::new("php")
        .args(["-S", &format!("127.0.0.1:{port}"), "index.php"])
        .current_dir(&dir.0)
        .env("CFS_ORIGIN_KEY", test_origin_key())
        .env("CFS_EDGE_URL", edge.url(""))
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .expect("php -S");
    let _app = Node(child);
    wait_listening("php -S", port);
    let c = Client::new();
    let hits: Vec<String> = (0..2).map(|_| c.get(&edge.url("/")).text()).collect();
    assert_eq!(hits, ["hit 1", "hit 2"]);
    let before_login = c.jar.get("CFID").unwrap();
    assert_eq!(c.get(&edge.url("/login")).text(), "hit 3");
    let id = c.jar.get("CFID").unwrap();
    assert_ne!(id, before_login, "session_regenerate_id() did not rotate the ids");
    let mine = json(&c, &edge.url("/sessions"));
    assert_eq!(mine["user"], "user-42", "{mine}");
    assert_eq!(mine["items"][0]["id"], id.as_str(), "{mine}");
    assert_eq!(c.get(&edge.url("/logout")).status, 302);
    assert_eq!(c.jar.get("CFID"), None, "session_destroy() did not end the session");
    let said = format!("session ended: {id} (invalidated)");
    wait::until("the end hook's line", Duration::from_secs(30), Duration::from_millis(200), || {
        fs::read_to_string(&log).unwrap_or_default().contains(&said).then_some(())
    });
    assert_eq!(Client::new().get(&format!("http://127.0.0.1:{port}/")).status, 403, "not through the edge");
}

/// The CFML kit README's quick start (the drop-in), as written, on Lucee 7: its copy command,
/// `Application.cfc` and `index.cfm` in a folder of their own; the end hook reaches the
/// application's onSessionEnd.
#[test]
fn the_cfml_drop_ins_quick_start_works_as_written() {
    let blocks = markdown::section_blocks(&repo_root().join("kits/cfml/README.md"), "Quick start");
    let [copy, settings, application, index] = blocks.as_slice() else {
        panic!("the quick start's blocks changed: {blocks:?}")
    };
    let lucee = Lucee::shared();
    let site = lucee.base.join("webapps/ROOT/dropin");
    fs::create_dir_all(&site).unwrap();
    let copy = copy.code.replace("/path/to/cfsession-edge", repo_root().to_str().unwrap());
    let copy = copy.replace("/path/to/your/site", site.to_str().unwrap());
    let status = Command::new("sh").arg("-c").arg(&copy).status().unwrap();
    assert!(status.success(), "{copy}");
    fs::write(site.join("Application.cfc"), &application.code).unwrap();
    fs::write(site.join("index.cfm"), &index.code).unwrap();
    let edge = edge_with_settings(&lucee.url("/dropin/"), settings);
    let c = Client::new();
    let hits: Vec<String> = (0..2).map(|_| c.get(&edge.url("/")).text().trim().to_owned()).collect();
    assert_eq!(hits, ["hit 1", "hit 2"]);
    let before = c.jar.get("CFID").unwrap();
    assert_eq!(c.get(&edge.url("/?login")).text().trim(), "hit 3");
    let id = c.jar.get("CFID").unwrap();
    assert_ne!(id, before, "sessionRotate() did not rotate the edge's ids");
    assert_eq!(edge.inspect(&id).expect("the rotated session")["data"]["my-app:USER"], "user-42");
    assert_eq!(c.get(&edge.url("/?logout")).status, 302);
    assert_eq!(c.jar.get("CFID"), None, "sessionInvalidate() did not end the session");
    let said = format!("session ended: {id} after 3 hits");
    wait::until("onSessionEnd's log line", Duration::from_secs(30), Duration::from_millis(200), || {
        logs_containing(&lucee.base, "sessions.log").iter().any(|text| text.contains(&said)).then_some(())
    });
    assert_eq!(Client::new().get(&lucee.url("/dropin/")).status, 403, "not through the edge");
}

/// The explicit API's quick start, as written, on Lucee 7: its `Application.cfc` (mapping the
/// kit's folder of this checkout), `index.cfm` and `hooks/end.cfm` in a folder of their own.
#[test]
fn the_cfml_explicit_apis_quick_start_works_as_written() {
    let blocks = markdown::section_blocks(&repo_root().join("kits/cfml/README.md"), "The explicit API: quick start");
    let [settings, application, index, end_hook] = blocks.as_slice() else {
        panic!("the quick start's blocks changed: {blocks:?}")
    };
    let lucee = Lucee::shared();
    let site = lucee.base.join("webapps/ROOT/quickstart");
    fs::create_dir_all(site.join("hooks")).unwrap();
    let application = application.code.replace("/path/to/cfsession-edge", repo_root().to_str().unwrap());
    fs::write(site.join("Application.cfc"), application).unwrap();
    fs::write(site.join("index.cfm"), &index.code).unwrap();
    fs::write(site.join("hooks/end.cfm"), &end_hook.code).unwrap();
    let edge = edge_with_settings(&lucee.url("/quickstart/"), settings);
    let c = Client::new();
    let hits: Vec<String> = (0..2).map(|_| c.get(&edge.url("/")).text().trim().to_owned()).collect();
    assert_eq!(hits, ["hit 1", "hit 2"]);
    assert_eq!(c.get(&edge.url("/?login")).text().trim(), "hit 3");
    let id = c.jar.get("CFID").unwrap();
    assert_eq!(edge.inspect(&id).expect("the rotated session")["user"], "user-42");
    assert_eq!(c.get(&edge.url("/?logout")).status, 302);
    assert_eq!(c.jar.get("CFID"), None, "invalidate() did not end the session");
    let said = format!("session ended: {id} (invalidated)");
    wait::until("the end hook's log line", Duration::from_secs(30), Duration::from_millis(200), || {
        logs_containing(&lucee.base, "sessions.log").iter().any(|text| text.contains(&said)).then_some(())
    });
    assert_eq!(Client::new().get(&lucee.url("/quickstart/")).status, 403, "not through the edge");
}

/// The text of every file named `name` under `dir`.
fn logs_containing(dir: &Path, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(logs_containing(&path, name));
        } else if path.file_name().is_some_and(|n| n == name) {
            out.push(fs::read_to_string(&path).unwrap_or_default());
        }
    }
    out
}

/// A wrong `edgeUrl`: the origin-API call fails with an error naming the URL it tried.
#[test]
fn the_node_kits_origin_api_errors_name_the_url() {
    let port = free_port();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let direct = format!("http://127.0.0.1:{port}");
    let edge = edge_for(&direct);
    let _site = start_node("tests/kits/express-app.mjs", port, &[("CFS_EDGE_URL", &dead)]);
    let c = Client::new();
    c.get(&edge.url("/count"));
    c.get(&edge.url("/count"));
    let r = c.get(&edge.url("/sessions"));
    assert_eq!(r.status, 500, "{}", r.text());
    let text = r.text();
    assert!(text.contains(&format!("origin API GET {dead}/__session/origin/sessions: ECONNREFUSED")), "{text}");
}

#[test]
fn passport_login_and_logout_on_edge_sessions() {
    let port = free_port();
    let edge = Edge::start(&format!("http://127.0.0.1:{port}"), &[]);
    let _site = start_node("tests/apps/passport/server.mjs", port, &[]);
    let c = Client::new();
    assert_eq!(c.get(&edge.url("/")).text(), "hello stranger");
    assert_eq!(c.get(&edge.url("/")).text(), "hello stranger");
    let before = c.jar.get("CFID").unwrap();
    assert_eq!(c.get(&edge.url("/profile")).header("location"), Some("/login"));
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let r = c.send("POST", &edge.url("/login/password"), &form, Some(b"username=alice&password=wrong"));
    assert_eq!(r.header("location"), Some("/login"), "a wrong password logged in");
    let r = c.send("POST", &edge.url("/login/password"), &form, Some(b"username=alice&password=letmein"));
    assert_eq!((r.status, r.header("location")), (302, Some("/")), "{}", r.text());
    // The login rotated the ids (req.session.regenerate()) and tagged the session.
    let after = c.jar.get("CFID").unwrap();
    assert_ne!(after, before, "the login did not rotate the ids");
    assert_eq!(c.get(&edge.url("/profile")).text(), "profile of alice");
    assert_eq!(edge.inspect(&after).unwrap()["user"], "1");
    let logged_in = c.jar.header().unwrap();
    // Log out: regenerate again; the protected page is closed, also to the logged-in cookies.
    let r = c.send("POST", &edge.url("/logout"), &[], Some(b""));
    assert_eq!((r.status, r.header("location")), (302, Some("/")));
    assert_ne!(c.jar.get("CFID").unwrap(), after, "the logout did not rotate the ids");
    assert_eq!(c.get(&edge.url("/profile")).header("location"), Some("/login"));
    let replay = Client::new().send("GET", &edge.url("/profile"), &[("Cookie", &logged_in)], None);
    assert_ne!(replay.text(), "profile of alice", "the logged-in session outlived the logout");
}

#[test]
fn node_kit_holds_both_origin_keys_during_a_key_rotation() {
    let port = free_port();
    let direct = format!("http://127.0.0.1:{port}");
    let (edge, keys) = rotating_edge_for(&direct);
    let _site =
        start_node("tests/kits/express-app.mjs", port, &[("CFS_EDGE_URL", &edge.url("")), ("CFS_ORIGIN_KEY", &keys)]);
    scenario(&edge, &direct);
}

#[test]
fn php_kit_on_php_fpm_behind_nginx() {
    php_kit_scenario(&test_origin_key(), edge_for);
}

#[test]
fn php_kit_holds_both_origin_keys_during_a_key_rotation() {
    let keys = format!("{},{}", common::verify::origin_key(PREVIOUS_KEY), test_origin_key());
    php_kit_scenario(&keys, |site| rotating_edge_for(site).0);
}

/// The PHP kit's scenario with origin key(s) `key`, behind the edge `edge_for` starts.
fn php_kit_scenario(key: &str, edge_for: impl Fn(&str) -> Edge) {
    let ended_log = common::edge::TempDir::new("php-ended");
    let log = ended_log.0.join("ended.log");
    let edge_url_file = ended_log.0.join("edge-url");
    let fpm = PhpFpm::start(&[
        ("CFS_ORIGIN_KEY", key),
        ("CFS_ENDED_LOG", log.to_str().unwrap()),
        ("CFS_EDGE_URL_FILE", edge_url_file.to_str().unwrap()),
    ]);
    let nginx = Nginx::fastcgi(&fpm.socket, &repo_root().join("tests/kits/php/index.php"));
    let edge = edge_for(&nginx.url());
    std::fs::write(&edge_url_file, edge.url("")).unwrap();
    scenario(&edge, &nginx.url());
    // Any Unicode round-trips through the kit's headers, data and user id alike.
    unicode_round_trips(&edge, &Client::new());
    assert!(!fpm.log().contains("PHP Fatal"), "{}", fpm.log());
}

#[test]
fn cfml_kit_on_lucee() {
    let lucee = Lucee::shared();
    let site = lucee.url("/kit/index.cfm");
    let end_hook = format!("{site}/hooks/end");
    let edge = Edge::start(&site, &[("SESSION_END_URL", end_hook.as_str())]);
    std::fs::write(lucee.app_dir.join("kit-edge-url"), edge.url("")).unwrap();
    scenario(&edge, &site);
    // Any Unicode round-trips through the kit's headers (sent as \uXXXX escapes); a lone
    // surrogate, which no JSON string at the edge can hold, is refused there with a log line.
    let c = Client::new();
    let text = "Zoë € 😀 日本語 עברית";
    assert_eq!(c.get(&edge.url(&format!("/store?value={}", url_encode(text)))).text().trim(), "stored");
    unicode_round_trips(&edge, &c);
    assert_eq!(c.get(&edge.url("/lone-surrogate")).text().trim(), "stored");
    edge.wait_for_log("X-Session-Set ignored: not valid JSON");
    assert_eq!(json(&c, &edge.url("/show"))["session"]["value"], text, "the session was harmed");
    // A case-only change is a change (CFML's != ignores case).
    c.get(&edge.url("/store?value=abc"));
    c.get(&edge.url("/store?value=ABC"));
    assert_eq!(json(&c, &edge.url("/show"))["session"]["value"], "ABC");
    // "/" served by the welcome file (index.cfm): the kit verifies the path the edge signed
    // ("/kit/"), not cgi.script_name ("/kit/index.cfm").
    let edge = Edge::start(&lucee.url("/kit/"), &[]);
    let r = Client::new().get(&edge.url("/"));
    assert_eq!((r.status, r.text().trim()), (404, "no such page"), "the welcome page was refused");
}

/// Any Unicode round-trips through a kit, in data keys, values and user ids.
fn unicode_round_trips(edge: &Edge, c: &Client) {
    let text = "Zoë € 😀 日本語 עברית";
    let key = "clé ключ 鍵";
    let store = format!("/store?key={}&value={}", url_encode(key), url_encode(text));
    assert_eq!(c.get(&edge.url(&store)).text().trim(), "stored");
    assert_eq!(json(c, &edge.url("/show"))["session"][key], text, "a Unicode key and value");
    assert_eq!(c.get(&edge.url(&format!("/login?user={}", url_encode("zoë-€")))).text().trim(), "logged in");
    let id = json(c, &edge.url("/show"))["id"].as_str().unwrap().to_owned();
    assert_eq!(edge.inspect(&id).unwrap()["user"], "zoë-€", "a Unicode user id");
}

/// Percent-encodes every byte outside unreserved ASCII.
#[test]
fn php_sessions_run_unchanged_on_edge_sessions() {
    let key = test_origin_key();
    let fpm = PhpFpm::start(&[("CFS_ORIGIN_KEY", &key)]);
    let nginx = Nginx::fastcgi(&fpm.socket, &repo_root().join("tests/apps/php-sessions/index.php"));
    let edge = Edge::start(&nginx.url(), &[]);
    let c = Client::new();
    assert_eq!(c.get(&edge.url("/")).text(), "guest 1");
    assert_eq!(c.get(&edge.url("/")).text(), "guest 2");
    let id = c.jar.get("CFID").unwrap();
    assert_eq!(json(&c, &edge.url("/show"))["id"], id.as_str(), "session_id() is the edge's CFID");
    assert_eq!(c.get(&edge.url("/status")).text(), "none active", "session_status()");
    // session_regenerate_id(true) at login: the edge rotates the ids; the data stays.
    assert_eq!(c.get(&edge.url("/login?user=alice")).text(), "welcome alice");
    let rotated = c.jar.get("CFID").unwrap();
    assert_ne!(rotated, id, "session_regenerate_id() did not rotate the ids");
    assert_eq!(c.get(&edge.url("/")).text(), "alice 3");
    assert!(edge.inspect(&id).is_none() && edge.inspect(&rotated).is_some());
    // Any Unicode round-trips; non-UTF-8 bytes and objects have a defined outcome.
    let text = "Zoë € 😀 日本語 עברית";
    assert_eq!(c.get(&edge.url(&format!("/store?value={}", url_encode(text)))).text(), "stored");
    assert_eq!(c.get(&edge.url("/store-odd")).text(), "stored");
    let shown = json(&c, &edge.url("/show"));
    assert_eq!(shown["session"]["value"], text);
    assert_eq!(shown["session"]["bytes"], "caf\u{fffd}", "invalid UTF-8 becomes U+FFFD");
    assert_eq!(shown["session"]["object"], serde_json::json!({ "a": 1 }), "an object comes back as an array");
    // session_destroy(): the edge ends the session; the next request starts empty.
    let r = c.get(&edge.url("/logout"));
    assert_eq!(r.text(), "bye");
    assert!(r.all("set-cookie").iter().any(|sc| sc.starts_with("CFID=;")), "{:?}", r.all("set-cookie"));
    assert!(edge.inspect(&rotated).is_none(), "session_destroy() left the session");
    assert_eq!(c.get(&edge.url("/")).text(), "guest 1");
    // Not through the edge: refused before the application runs.
    assert_eq!(Client::new().get(&format!("{}/", nginx.url())).status, 403);
    assert!(!fpm.log().contains("PHP Fatal") && !fpm.log().contains("PHP Warning"), "{}", fpm.log());
}

#[test]
fn a_psr15_application_gets_the_middlewares_403_or_the_edge_session() {
    let deps = common::edge::TempDir::new("composer");
    let vendor = deps.0.join("vendor");
    // Composer's own autoloader for the kit, from its composer.json (PSR-4), offline.
    let status = Command::new("composer")
        .args(["dump-autoload", "--no-interaction", "--quiet"])
        .current_dir(repo_root().join("kits/php"))
        .env("COMPOSER_VENDOR_DIR", &vendor)
        .env("COMPOSER_HOME", deps.0.join("home"))
        .status()
        .expect("composer (scripts/setup installs Debian's)");
    assert!(status.success(), "composer dump-autoload failed");
    let key = test_origin_key();
    let autoload = vendor.join("autoload.php");
    // The PSR interfaces (PSR-15 included) from Debian's psr extension (scripts/setup unpacks it).
    let psr = std::env::var("PHP_PSR_SO")
        .unwrap_or_else(|_| repo_root().join("target/php-psr/usr/lib/php/20220829/psr.so").display().to_string());
    assert!(std::path::Path::new(&psr).exists(), "{psr} is missing: run scripts/setup");
    let fpm = PhpFpm::start_with(
        &[("CFS_ORIGIN_KEY", &key), ("CFS_KIT_AUTOLOAD", autoload.to_str().unwrap())],
        &[("extension", &psr)],
    );
    let nginx = Nginx::fastcgi(&fpm.socket, &repo_root().join("tests/apps/php-psr15/index.php"));
    let edge = Edge::start(&nginx.url(), &[]);
    let c = Client::new();
    let first = c.get(&edge.url("/")).text();
    let id = c.jar.get("CFID").unwrap();
    assert_eq!(first, format!("count 1 in {id}"));
    assert_eq!(c.get(&edge.url("/")).text(), format!("count 2 in {id}"));
    let direct = Client::new().get(&format!("{}/", nginx.url()));
    assert_eq!(direct.status, 403, "the middleware let a direct request through: {}", direct.text());
    assert!(!fpm.log().contains("PHP Fatal"), "{}", fpm.log());
}

#[test]
fn kits_are_packaged_like_their_ecosystems() {
    let cargo = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let version = cargo.lines().find_map(|l| l.strip_prefix("version = \"")).unwrap().trim_end_matches('"');
    // npm: the package's files, version and Node range; its types checked with tsc as an
    // application would import it by name.
    let out =
        Command::new("npm").args(["pack", "--dry-run", "--json"]).current_dir(repo_root().join("kits/node")).output();
    let out = out.expect("npm");
    assert!(out.status.success(), "npm pack: {}", String::from_utf8_lossy(&out.stderr));
    let packed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(packed[0]["version"], version, "the npm package's version is the project's");
    let files: Vec<&str> = packed[0]["files"].as_array().unwrap().iter().filter_map(|f| f["path"].as_str()).collect();
    for f in ["edge-session.mjs", "edge-session.d.ts", "package.json", "README.md"] {
        assert!(files.contains(&f), "npm pack lacks {f}: {files:?}");
    }
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("kits/node/package.json")).unwrap()).unwrap();
    assert_eq!(manifest["engines"]["node"], ">=20");
    let app = common::edge::TempDir::new("ts-app");
    std::fs::create_dir_all(app.0.join("node_modules")).unwrap();
    std::os::unix::fs::symlink(repo_root().join("kits/node"), app.0.join("node_modules/cfsession-edge-kit")).unwrap();
    std::fs::copy(repo_root().join("tests/kits/types/use-kit.ts"), app.0.join("use-kit.ts")).unwrap();
    let types = repo_root().join("node_modules/@types");
    std::fs::write(
        app.0.join("tsconfig.json"),
        format!(
            r#"{{"compilerOptions": {{"target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "noEmit": true, "types": ["node"], "typeRoots": ["{}"]}}, "files": ["use-kit.ts"]}}"#,
            types.display()
        ),
    )
    .unwrap();
    let tsc = Command::new(repo_root().join("node_modules/.bin/tsc")).args(["-p", "."]).current_dir(&app.0).output();
    let tsc = tsc.expect("tsc");
    assert!(tsc.status.success(), "the kit's types: {}", String::from_utf8_lossy(&tsc.stdout));
    let import = Command::new("node")
        .args([
            "--input-type=module",
            "-e",
            "import { edgeSession } from 'cfsession-edge-kit'; console.log(typeof edgeSession)",
        ])
        .current_dir(&app.0)
        .output()
        .expect("node");
    assert_eq!(
        String::from_utf8_lossy(&import.stdout).trim(),
        "function",
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    // Composer: composer.json valid (strict: no warnings either).
    let validate = Command::new("composer")
        .args(["validate", "--strict", "--no-interaction"])
        .current_dir(repo_root().join("kits/php"))
        .env("COMPOSER_HOME", app.0.join("composer-home"))
        .output()
        .expect("composer");
    assert!(validate.status.success(), "composer validate: {}", String::from_utf8_lossy(&validate.stderr));
    // ForgeBox: box.json with the project's version.
    let bx: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("kits/cfml/box.json")).unwrap()).unwrap();
    assert_eq!((bx["slug"].as_str(), bx["version"].as_str()), (Some("cfsession-edge-kit"), Some(version)));
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
