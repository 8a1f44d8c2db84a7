//! The real applications, each as the scenarios see it: how to start it, its login (with its
//! CSRF token), pages a logged-in user visits, how it says who is logged in, its own logout,
//! and the `GUARD_COOKIES` and `ORIGIN_KILL_URL` page its guard-mode setup uses.

use std::{fs, path::PathBuf, process::Child, time::Duration};

use super::browser::{Browser, Page};
use crate::common::{
    edge::{free_port, repo_root, TempDir},
    kill_pages::documented_kill_page,
    nginx::Nginx,
    php_fpm::PhpFpm,
    tomcat,
    verify::test_origin_key,
    wait,
};

/// A running application.
pub struct Running {
    pub port: u16,
    _children: Vec<KillOnDrop>,
    _dir: TempDir,
    /// php-fpm and nginx, for the PHP application (they stop when dropped).
    _servers: (Option<PhpFpm>, Option<Nginx>),
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// What the scenarios need to know of one application.
pub trait RealApp: Sync {
    fn name(&self) -> &'static str;
    fn start(&self) -> Running;
    /// `GUARD_COOKIES` for it: its session cookie first, then its remember-me/login cookies.
    fn guard_cookies(&self) -> &'static str;
    /// Its `ORIGIN_KILL_URL` (a path on the application).
    fn kill_url(&self) -> &'static str;
    /// A page of the application (the kill flag is added to it).
    fn home(&self) -> &'static str;
    /// Ten pages a logged-in user visits.
    fn pages(&self) -> Vec<&'static str>;
    /// Logs in through its form (its CSRF token included); `remember`: tick "remember me".
    fn login(&self, b: &Browser, base: &str, remember: bool) -> Page;
    /// Whether `page` shows a logged-in user.
    fn logged_in(&self, page: &Page) -> bool;
    /// Whether it has a remember-me cookie.
    fn remembers(&self) -> bool {
        false
    }
    /// Its own logout.
    fn logout(&self, b: &Browser, base: &str) -> Page;
    /// More edge settings it needs (`ORIGIN_HOST=client` for one that builds absolute URLs from
    /// `Host`).
    fn edge_vars(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// Its cookies that are neither session nor login (CSRF, preferences) after a login.
    fn other_cookies(&self) -> &'static [&'static str] {
        &[]
    }
}

pub const USER: &str = "admin";
pub const PASSWORD: &str = "Real-apps-test-pass-1";

/// Django's admin site (PyPI's Django; `tests/apps/django/app.py`), at `/admin/`.
pub struct DjangoAdmin;

impl RealApp for DjangoAdmin {
    fn name(&self) -> &'static str {
        "Django admin"
    }

    fn start(&self) -> Running {
        let dir = TempDir::new("django-admin");
        let kill = dir.0.join("kill_page.py");
        fs::write(&kill, documented_kill_page("django")).unwrap();
        let python = std::env::var("PYTHON_ENV")
            .map_or_else(|_| repo_root().join("target/python"), PathBuf::from)
            .join("bin/python");
        let port = free_port();
        let key = test_origin_key();
        let child = std::process::Command::new(python)
            .arg(repo_root().join("tests/apps/django/app.py"))
            .arg(port.to_string())
            .env("APP_DIR", &dir.0)
            .env("KILL_PAGE", &kill)
            .env("ADMIN_PASSWORD", PASSWORD)
            .env("EDGE_ORIGIN_KEY", key)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start Django");
        let running = Running { port, _children: vec![KillOnDrop(child)], _dir: dir, _servers: (None, None) };
        wait_answering(&running.url("/admin/login/"));
        running
    }

    fn guard_cookies(&self) -> &'static str {
        "sessionid"
    }

    fn kill_url(&self) -> &'static str {
        "/kill-session"
    }

    fn home(&self) -> &'static str {
        "/admin/"
    }

    fn pages(&self) -> Vec<&'static str> {
        vec![
            "/admin/",
            "/admin/auth/",
            "/admin/auth/user/",
            "/admin/auth/group/",
            "/admin/auth/user/1/change/",
            "/admin/auth/group/add/",
            "/admin/password_change/",
            "/admin/auth/user/?q=admin",
            "/admin/auth/user/add/",
            "/admin/",
        ]
    }

    fn login(&self, b: &Browser, base: &str, _remember: bool) -> Page {
        let form = b.get(&format!("{base}/admin/login/?next=/admin/"));
        let token = form.input("csrfmiddlewaretoken").expect("Django's CSRF token");
        b.post(
            &format!("{base}/admin/login/?next=/admin/"),
            &[("csrfmiddlewaretoken", &token), ("username", USER), ("password", PASSWORD), ("next", "/admin/")],
        )
    }

    fn logged_in(&self, page: &Page) -> bool {
        page.status == 200 && page.body.contains("logout-form")
    }

    fn logout(&self, b: &Browser, base: &str) -> Page {
        let page = b.get(&format!("{base}/admin/"));
        let token = page.input("csrfmiddlewaretoken").expect("the logout form's CSRF token");
        b.post(&format!("{base}/admin/logout/"), &[("csrfmiddlewaretoken", &token)])
    }

    fn other_cookies(&self) -> &'static [&'static str] {
        &["csrftoken"]
    }
}

/// Waits (with a deadline) until `url` answers below 500.
pub fn wait_answering(url: &str) {
    wait::until(&format!("{url} answering"), Duration::from_secs(120), Duration::from_millis(200), || {
        let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(5)).build();
        match agent.get(url).call() {
            Ok(r) if r.status() < 500 => Some(()),
            Err(ureq::Error::Status(s, _)) if s < 500 => Some(()),
            _ => None,
        }
    });
}

/// DokuWiki (Debian's package: PHP 8.2 on php-fpm behind nginx), under `/wiki/`, with its own
/// copy of the code, configuration and data. Its session cookie `DokuWiki` and remember-me
/// cookie `DW<md5>` live on `Path=/wiki/`.
pub struct DokuWiki;

impl RealApp for DokuWiki {
    fn name(&self) -> &'static str {
        "DokuWiki"
    }

    fn start(&self) -> Running {
        let dir = TempDir::new("dokuwiki");
        let d = &dir.0;
        for (from, to) in
            [("/usr/share/dokuwiki", "root/wiki"), ("/etc/dokuwiki", "conf"), ("/var/lib/dokuwiki/data", "data")]
        {
            fs::create_dir_all(d.join(to).parent().unwrap()).unwrap();
            let ok = std::process::Command::new("cp").arg("-rL").arg(from).arg(d.join(to)).status().unwrap().success();
            assert!(ok, "copy {from}: install Debian's dokuwiki (scripts/setup)");
        }
        fs::create_dir_all(d.join("sessions")).unwrap();
        fs::write(
            d.join("root/wiki/inc/preload.php"),
            format!("<?php\ndefine('DOKU_CONF', '{}/conf/');\n", d.display()),
        )
        .unwrap();
        fs::write(
            d.join("conf/local.php"),
            format!(
                "<?php\n$conf['savedir'] = '{}/data';\n$conf['title'] = 'Test wiki';\n$conf['useacl'] = 1;\n\
                 $conf['superuser'] = '@admin';\n$conf['userewrite'] = 0;\n",
                d.display()
            ),
        )
        .unwrap();
        let hash = std::process::Command::new("php")
            .args(["-r", &format!("echo password_hash('{PASSWORD}', PASSWORD_BCRYPT);")])
            .output()
            .expect("php");
        let hash = String::from_utf8(hash.stdout).unwrap();
        fs::write(d.join("conf/users.auth.php"), format!("{USER}:{hash}:Admin:admin@example.test:admin,user\n"))
            .unwrap();
        fs::write(d.join("conf/acl.auth.php"), "*\t@ALL\t1\n*\t@user\t8\n").unwrap();
        fs::write(d.join("root/wiki/cfsession-kill.php"), documented_kill_page("php")).unwrap();
        let key = test_origin_key();
        let save = format!("{}/sessions", d.display());
        // session.use_strict_mode=1, as docs/guard-mode.md's PHP kill page requires: without it
        // PHP adopts the destroyed id again, and DokuWiki's login cookie (its secret bound to
        // the session id) logs the old cookies back in.
        let ini = [("session.save_path", save.as_str()), ("session.use_strict_mode", "1")];
        let fpm = PhpFpm::start_with(&[("EDGE_ORIGIN_KEY", &key)], &ini);
        let nginx = Nginx::php_site(&fpm.socket, &d.join("root"));
        let running =
            Running { port: nginx.port, _children: Vec::new(), _dir: dir, _servers: (Some(fpm), Some(nginx)) };
        wait_answering(&running.url("/wiki/doku.php"));
        running
    }

    fn guard_cookies(&self) -> &'static str {
        "DokuWiki,DW*"
    }

    /// It builds its redirects from `Host` (and reads no `X-Forwarded-Host`).
    fn edge_vars(&self) -> &'static [(&'static str, &'static str)] {
        &[("ORIGIN_HOST", "client")]
    }

    fn kill_url(&self) -> &'static str {
        "/wiki/cfsession-kill.php"
    }

    fn home(&self) -> &'static str {
        "/wiki/doku.php?id=start"
    }

    fn pages(&self) -> Vec<&'static str> {
        vec![
            "/wiki/doku.php?id=start",
            "/wiki/doku.php?id=wiki:syntax",
            "/wiki/doku.php?id=start&do=index",
            "/wiki/doku.php?id=start&do=recent",
            "/wiki/doku.php?id=start&do=profile",
            "/wiki/doku.php?id=start&do=admin",
            "/wiki/doku.php?id=playground:playground",
            "/wiki/doku.php?id=start&do=media",
            "/wiki/doku.php?id=wiki:welcome",
            "/wiki/doku.php?id=start",
        ]
    }

    fn login(&self, b: &Browser, base: &str, remember: bool) -> Page {
        let form = b.get(&format!("{base}/wiki/doku.php?id=start&do=login"));
        let token = form.input("sectok").expect("DokuWiki's sectok");
        let mut fields =
            vec![("sectok", token.as_str()), ("id", "start"), ("do", "login"), ("u", USER), ("p", PASSWORD)];
        if remember {
            fields.push(("r", "1"));
        }
        b.post(&format!("{base}/wiki/doku.php"), &fields)
    }

    fn logged_in(&self, page: &Page) -> bool {
        page.status == 200 && page.body.contains("do=logout")
    }

    fn remembers(&self) -> bool {
        true
    }

    fn logout(&self, b: &Browser, base: &str) -> Page {
        let page = b.get(&format!("{base}/wiki/doku.php?id=start"));
        let link = page.body.split("do=logout&amp;sectok=").nth(1).and_then(|r| r.split('"').next()).unwrap_or("");
        b.get(&format!("{base}/wiki/doku.php?id=start&do=logout&sectok={link}"))
    }
}

/// Tomcat's examples webapp (Debian's `tomcat10-examples`), under the context path
/// `/examples`: its FORM-login area (`jsp/security/protected/`, a memory realm), `JSESSIONID`
/// on `Path=/examples`, the session id changed at login.
pub struct TomcatExamples;

impl RealApp for TomcatExamples {
    fn name(&self) -> &'static str {
        "Tomcat examples"
    }

    fn start(&self) -> Running {
        let dir = TempDir::new("tomcat-examples");
        let base = dir.0.join("tomcat");
        let port = free_port();
        tomcat::lay_out(&base, port);
        // A memory realm with one user for the FORM login.
        let server = fs::read_to_string(base.join("conf/server.xml")).unwrap().replace(
            "<Engine name=\"Catalina\" defaultHost=\"localhost\">",
            "<Engine name=\"Catalina\" defaultHost=\"localhost\">\n      \
             <Realm className=\"org.apache.catalina.realm.MemoryRealm\" pathname=\"conf/tomcat-users.xml\"/>",
        );
        fs::write(base.join("conf/server.xml"), server).unwrap();
        fs::write(
            base.join("conf/tomcat-users.xml"),
            format!("<tomcat-users>\n  <user username=\"{USER}\" password=\"{PASSWORD}\" roles=\"tomcat,role1\"/>\n</tomcat-users>\n"),
        )
        .unwrap();
        std::os::unix::fs::symlink("/usr/share/java/ecj.jar", base.join("lib/ecj.jar")).unwrap();
        let examples = base.join("webapps/examples");
        let installed = std::path::Path::new("/usr/share/tomcat10-examples/examples");
        assert!(installed.exists(), "Debian's tomcat10-examples is missing: run scripts/setup");
        tomcat::copy_dir(installed, &examples);
        fs::write(examples.join("cfsession-kill.jsp"), documented_kill_page("jsp")).unwrap();
        let key = test_origin_key();
        let child = tomcat::command(&base, &[("EDGE_ORIGIN_KEY", &key)]).spawn().expect("start Tomcat");
        let running = Running { port, _children: vec![KillOnDrop(child)], _dir: dir, _servers: (None, None) };
        wait_answering(&running.url("/examples/jsp/security/protected/index.jsp"));
        running
    }

    fn guard_cookies(&self) -> &'static str {
        "JSESSIONID"
    }

    fn kill_url(&self) -> &'static str {
        "/examples/cfsession-kill.jsp"
    }

    fn home(&self) -> &'static str {
        "/examples/jsp/security/protected/index.jsp"
    }

    fn pages(&self) -> Vec<&'static str> {
        (0..10).map(|i| PROTECTED_PAGES[i]).collect()
    }

    fn login(&self, b: &Browser, base: &str, _remember: bool) -> Page {
        let form = b.get(&format!("{base}/examples/jsp/security/protected/index.jsp"));
        assert!(form.body.contains("j_security_check"), "no login form: {}", form.status);
        b.post(
            &format!("{base}/examples/jsp/security/protected/j_security_check"),
            &[("j_username", USER), ("j_password", PASSWORD)],
        )
    }

    fn logged_in(&self, page: &Page) -> bool {
        page.status == 200 && page.body.contains("You are logged in as remote user")
    }

    fn logout(&self, b: &Browser, base: &str) -> Page {
        b.get(&format!("{base}/examples/jsp/security/protected/index.jsp?logoff=true"))
    }
}

const PROTECTED_PAGES: [&str; 10] = [
    "/examples/jsp/security/protected/index.jsp",
    "/examples/jsp/security/protected/index.jsp?role=tomcat",
    "/examples/jsp/security/protected/index.jsp?role=role1",
    "/examples/jsp/security/protected/index.jsp?role=manager",
    "/examples/jsp/security/protected/index.jsp?page=5",
    "/examples/jsp/security/protected/index.jsp?page=6",
    "/examples/jsp/security/protected/index.jsp?page=7",
    "/examples/jsp/security/protected/index.jsp?page=8",
    "/examples/jsp/security/protected/index.jsp?page=9",
    "/examples/jsp/security/protected/index.jsp",
];

/// Lucee 7's own Administrator (a CFML application inside the Lucee jar), at `/lucee/admin/`:
/// its `cfid`/`cftoken` and its remember-me cookie `LUCEE_ADMIN_PW_SERVER` live on
/// `Path=/lucee/admin/`. Its code cannot host a kill page, so `ORIGIN_KILL_URL` is the
/// documented CFML page in another application with `?all=1` (every application's session on
/// the `cfid`).
pub struct LuceeAdmin;

impl RealApp for LuceeAdmin {
    fn name(&self) -> &'static str {
        "Lucee Administrator"
    }

    fn start(&self) -> Running {
        let lucee = crate::common::lucee::Lucee::shared();
        Running { port: lucee.port, _children: Vec::new(), _dir: TempDir::new("lucee-admin"), _servers: (None, None) }
    }

    fn guard_cookies(&self) -> &'static str {
        "cfid,cftoken,LUCEE_ADMIN_PW_*"
    }

    fn kill_url(&self) -> &'static str {
        "/cfml/kill.cfm?all=1"
    }

    fn home(&self) -> &'static str {
        "/lucee/admin/index.cfm?action=overview"
    }

    fn pages(&self) -> Vec<&'static str> {
        [
            "overview",
            "server.request",
            "server.charset",
            "server.cache",
            "resources.mappings",
            "resources.component",
            "debugging.settings",
            "security.access",
            "resources.customtags",
            "overview",
        ]
        .iter()
        .map(|a| &*Box::leak(format!("/lucee/admin/index.cfm?action={a}").into_boxed_str()))
        .collect()
    }

    fn login(&self, b: &Browser, base: &str, remember: bool) -> Page {
        let password = crate::common::lucee::Lucee::shared().admin_password.clone();
        let keep = if remember { "d" } else { "s" };
        // The Administrator refuses a login within a second of the last one ("Login disabled
        // until …", its brute-force delay): tried again, with a deadline.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            b.get(&format!("{base}/lucee/admin/index.cfm"));
            let fields = [
                ("login_passwordserver", password.as_str()),
                ("lang", "en"),
                ("rememberMe", keep),
                ("submit", "submit"),
            ];
            let page = b.post(&format!("{base}/lucee/admin/index.cfm"), &fields);
            if !page.body.contains("Login disabled until") || std::time::Instant::now() > deadline {
                return page;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn logged_in(&self, page: &Page) -> bool {
        page.status == 200 && page.body.contains("action=logout") && !page.body.contains("login_passwordserver")
    }

    fn remembers(&self) -> bool {
        true
    }

    fn logout(&self, b: &Browser, base: &str) -> Page {
        b.get(&format!("{base}/lucee/admin/index.cfm?action=logout"))
    }

    fn other_cookies(&self) -> &'static [&'static str] {
        &["LUCEE_ADMIN_LANG"]
    }
}
