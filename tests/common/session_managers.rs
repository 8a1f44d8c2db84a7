//! Real applications on real session managers nobody here wrote, installed by `scripts/setup`:
//! a JSP app on Debian's Tomcat 10 (`HttpSession`, `JSESSIONID`), a PHP app on Debian's
//! php-fpm behind nginx (PHP's own `files` sessions, `PHPSESSID`) and an Express app with
//! express-session from npm (`connect.sid`). Each (`tests/apps/*`) answers `<session id>
//! <hits>` on `/`, rotates its id on `/rotate` (`changeSessionId()`,
//! `session_regenerate_id(true)`, `req.session.regenerate()`), ends the session its cookies
//! name on a signed `POST /kill-session` (the edge's `ORIGIN_KILL_URL`), logs every request's
//! `Cookie` header to `seen.log` and every session it ended to `destroyed.log`. Each also has
//! `/echo` (`echo.jsp` on Tomcat) for the differential cookie tests: every cookie as the
//! server's own parsers read it, and whose session it attached. A one-file Django application
//! (`tests/apps/django`, Django's cache sessions, `sessionid`) serves only `/echo`. Stopped
//! when dropped.

use std::{
    fs,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use super::{
    edge::{free_port, repo_root, TempDir},
    kill_pages::documented_kill_page,
    nginx::Nginx,
    php_fpm::PhpFpm,
    tomcat,
    verify::test_origin_key,
    wait, Client,
};

/// Which session manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    Tomcat,
    Php,
    ExpressSession,
    Django,
}

impl Manager {
    /// Its session cookie's name.
    pub fn cookie(self) -> &'static str {
        match self {
            Self::Tomcat => "JSESSIONID",
            Self::Php => "PHPSESSID",
            Self::ExpressSession => "connect.sid",
            Self::Django => "sessionid",
        }
    }

    /// The path of one of the application's pages (`rotate`, `kill-session`).
    pub fn page(self, name: &str) -> String {
        match self {
            Self::Tomcat => format!("/{name}.jsp"),
            _ => format!("/{name}"),
        }
    }

    /// The session id inside a cookie value (express-session signs it: `s%3A<id>.<mac>`).
    pub fn id_in(self, cookie_value: &str) -> String {
        match self {
            Self::ExpressSession => cookie_value
                .strip_prefix("s%3A")
                .and_then(|v| v.split_once('.'))
                .map_or(cookie_value, |(id, _)| id)
                .to_owned(),
            _ => cookie_value.to_owned(),
        }
    }
}

/// A running application.
pub struct App {
    pub manager: Manager,
    pub port: u16,
    dir: TempDir,
    // Kept for their Drop: the processes behind the port.
    _processes: Vec<Running>,
}

enum Running {
    Child(Child),
    Fpm(PhpFpm),
    Nginx(Nginx),
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Running::Child(c) = self {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl App {
    pub fn start(manager: Manager) -> Self {
        let dir = TempDir::new("app");
        let key = test_origin_key();
        let env = [("APP_DIR", dir.0.to_str().unwrap()), ("EDGE_ORIGIN_KEY", key.as_str())];
        let (port, processes) = match manager {
            Manager::Php => {
                fs::create_dir_all(dir.0.join("sessions")).unwrap();
                let fpm = PhpFpm::start(&env);
                let nginx = Nginx::fastcgi(&fpm.socket, &repo_root().join("tests/apps/php/index.php"));
                (nginx.port, vec![Running::Fpm(fpm), Running::Nginx(nginx)])
            }
            Manager::ExpressSession => {
                let port = free_port();
                let kill_page = dir.0.join("kill-page.mjs");
                fs::write(&kill_page, documented_kill_page("express")).unwrap();
                let child = Command::new("node")
                    .arg(repo_root().join("tests/apps/express/server.mjs"))
                    .arg(port.to_string())
                    .current_dir(repo_root())
                    .envs(env)
                    .env("KILL_PAGE", &kill_page)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .expect("start node");
                (port, vec![Running::Child(child)])
            }
            Manager::Tomcat => {
                let port = free_port();
                let child = start_tomcat(&dir.0, port, &env);
                (port, vec![Running::Child(child)])
            }
            Manager::Django => {
                let port = free_port();
                let python = std::env::var("PYTHON_ENV")
                    .map_or_else(|_| repo_root().join("target/python"), std::path::PathBuf::from)
                    .join("bin/python");
                assert!(python.exists(), "{} is missing: run scripts/setup", python.display());
                let child = Command::new(python)
                    .arg(repo_root().join("tests/apps/django/app.py"))
                    .arg(port.to_string())
                    .envs(env)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .expect("start the Django application");
                (port, vec![Running::Child(child)])
            }
        };
        let app = App { manager, port, dir, _processes: processes };
        let deadline = if manager == Manager::Tomcat { 120 } else { 30 };
        wait::until("the application answering", Duration::from_secs(deadline), Duration::from_millis(200), || {
            Client::new().try_get(&app.url("/")).ok().filter(|r| r.status == 200).map(|_| ())
        });
        app
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn lines(&self, file: &str) -> Vec<String> {
        fs::read_to_string(self.dir.0.join(file)).unwrap_or_default().lines().map(str::to_owned).collect()
    }

    /// Every request's `Cookie` header as the application received it, in order.
    pub fn seen(&self) -> Vec<String> {
        self.lines("seen.log")
    }

    /// How many requests reached the application carrying session id `id` in any cookie.
    pub fn requests_with(&self, id: &str) -> usize {
        self.seen().iter().filter(|c| c.contains(id)).count()
    }

    /// The session ids the application's kill page ended.
    pub fn destroyed(&self) -> Vec<String> {
        self.lines("destroyed.log")
    }
}

/// A Tomcat base of its own in `dir` with the Eclipse compiler for JSPs (`libecj-java`) and
/// `tests/apps/tomcat/ROOT`.
fn start_tomcat(dir: &Path, port: u16, env: &[(&str, &str)]) -> Child {
    let base = dir.join("tomcat");
    let root = tomcat::lay_out(&base, port);
    std::os::unix::fs::symlink("/usr/share/java/ecj.jar", base.join("lib/ecj.jar")).unwrap();
    tomcat::copy_dir(&repo_root().join("tests/apps/tomcat/ROOT"), &root);
    tomcat::command(&base, env).spawn().expect("start Tomcat")
}
