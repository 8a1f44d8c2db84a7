//! The real applications, each as the scenarios see it: how to start it, its login (with its
//! CSRF token), pages a logged-in user visits, how it says who is logged in, its own logout,
//! and the `GUARD_COOKIES` and `ORIGIN_KILL_URL` page its guard-mode setup uses.

use std::{fs, path::PathBuf, process::Child, time::Duration};

use super::browser::{Browser, Page};
use crate::common::{
    edge::{free_port, repo_root, TempDir},
    verify::test_origin_key,
    wait,
};

/// The `ORIGIN_KILL_URL` page for `lang` from docs/guard-mode.md, as written: the fenced block
/// that follows the line `<!-- kill page: NAME -->`.
pub fn documented_kill_page(name: &str) -> String {
    let doc = fs::read_to_string(repo_root().join("docs/guard-mode.md")).unwrap();
    let marker = format!("<!-- kill page: {name} -->");
    let after = doc.split(&marker).nth(1).unwrap_or_else(|| panic!("no {marker} in docs/guard-mode.md"));
    let block = after.split("```").nth(1).expect("a fenced block after the marker");
    block.split_once('\n').map_or("", |(_, code)| code).to_owned()
}

/// A running application.
pub struct Running {
    pub port: u16,
    _children: Vec<KillOnDrop>,
    _dir: TempDir,
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
        let running = Running { port, _children: vec![KillOnDrop(child)], _dir: dir };
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
