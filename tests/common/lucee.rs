//! A real Lucee 7 (the jar `scripts/setup` takes from Maven Central) on Debian's Tomcat 10:
//! one instance per test binary, started on first use on a free loopback port with a Tomcat
//! base, a Lucee server directory and a web root of its own (a copy of `tests/apps/lucee`, the
//! CFML kit, and the `ORIGIN_KILL_URL` page taken from `docs/guard-mode.md` as written), and
//! a random Lucee admin password. Lucee dies with the test process (`PR_SET_PDEATHSIG`).
//!
//! The web root's applications: `/cfml/` and `/jee/` (guard mode, `this.sessionType` `cfml`
//! and `jee`: a hit counter, `login.cfm` with `sessionRotate()`, `kill.cfm`, a temp file per
//! session that `onSessionEnd` deletes), `/kit/` (edge mode, `EdgeSession.cfc`), the source
//! documents' applications under `/seeds/`, and the Lucee demo (`www/lucee`) under `/demo/`.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::OnceLock,
    time::Duration,
};

use super::{
    edge::{free_port, repo_root, TempDir},
    process, tomcat,
    verify::test_origin_key,
    wait, Client,
};

/// The running instance.
pub struct Lucee {
    pub port: u16,
    /// Where the applications write (`APP_DIR`): `<type>/temp/<session>.tmp`, `<type>/ended.log`, …
    pub app_dir: PathBuf,
    /// Tomcat's base, Lucee's server directory and the web root.
    pub base: PathBuf,
    /// The Lucee Administrator's password (random).
    pub admin_password: String,
}

impl Lucee {
    /// The test binary's Lucee, started on first use (about 10 s; a first start in a fresh
    /// server directory deploys Lucee's core and bundled extensions).
    pub fn shared() -> &'static Lucee {
        static LUCEE: OnceLock<Lucee> = OnceLock::new();
        LUCEE.get_or_init(start)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Lines of a file the applications write under [`Lucee::app_dir`].
    pub fn lines(&self, file: &str) -> Vec<String> {
        fs::read_to_string(self.app_dir.join(file)).unwrap_or_default().lines().map(str::to_owned).collect()
    }

    /// Whether session `key`'s temp file (written by `onSessionStart`) still exists.
    pub fn temp_file_exists(&self, app: &str, key: &str) -> bool {
        self.app_dir.join(app).join("temp").join(format!("{key}.tmp")).exists()
    }

    /// Whether `onSessionEnd` ran for session `key` of application `app` (`cfml`, `jee`, …).
    pub fn session_ended(&self, app: &str, key: &str) -> bool {
        self.lines(&format!("{app}/ended.log")).iter().any(|l| l == key)
    }
}

/// The Lucee jar: `LUCEE_JAR` (set by `scripts/lib/toolchain.sh`), else the pinned version in
/// `target/lucee/`.
fn jar() -> PathBuf {
    if let Ok(j) = std::env::var("LUCEE_JAR") {
        return j.into();
    }
    let dir = repo_root().join("target/lucee");
    let found = fs::read_dir(&dir).into_iter().flatten().flatten().map(|e| e.path());
    found.into_iter().find(|p| p.extension().is_some_and(|x| x == "jar")).unwrap_or_else(|| {
        panic!("the Lucee jar is missing in {}: run scripts/setup", dir.display());
    })
}

fn start() -> Lucee {
    let key = test_origin_key();
    let password = random_password();
    let dir = TempDir::new("lucee");
    let app_dir = dir.0.join("app");
    fs::create_dir_all(&app_dir).unwrap();
    let env = [
        ("APP_DIR", app_dir.to_str().unwrap()),
        ("EDGE_ORIGIN_KEY", key.as_str()),
        ("CFS_ORIGIN_KEY", key.as_str()),
        ("LUCEE_ADMIN_PASSWORD", password.as_str()),
    ];
    let server = Server::lay_out(dir, &env, |root| {
        tomcat::copy_dir(&repo_root().join("tests/apps/lucee"), root);
        fs::copy(repo_root().join("kits/cfml/EdgeSession.cfc"), root.join("kit/EdgeSession.cfc")).unwrap();
        tomcat::copy_dir(&repo_root().join("www/lucee"), &root.join("demo"));
        let kill_page = documented_kill_page();
        for app in ["cfml", "jee", "seeds/hack", "seeds/backport", "seeds/restart", "demo"] {
            fs::write(root.join(app).join("kill.cfm"), &kill_page).unwrap();
        }
    });
    server.start();
    Lucee { port: server.port, app_dir, base: server.base.clone(), admin_password: password }
}

/// One Lucee server with a Tomcat base, a Lucee server directory and a web root of its own,
/// on a free loopback port; stopped (killed) and started again at will. Its processes die
/// with the test process (`PR_SET_PDEATHSIG`).
pub struct Server {
    pub port: u16,
    /// Tomcat's base, Lucee's server directory and the web root (`webapps/ROOT`).
    pub base: PathBuf,
    env: Vec<(String, String)>,
    pid: std::sync::Mutex<Option<i32>>,
}

impl Server {
    /// Lays out a server in `dir` (kept for the whole process) whose web root `fill` writes;
    /// `env` is the engine's environment. Not started.
    pub fn lay_out(dir: TempDir, env: &[(&str, &str)], fill: impl FnOnce(&Path)) -> Server {
        let base = dir.0.clone();
        std::mem::forget(dir); // a static is never dropped; the OS reclaims /tmp
        let port = free_port();
        let root = tomcat::lay_out(&base, port);
        fs::copy(jar(), base.join("lib/lucee.jar")).unwrap();
        fs::write(root.join("WEB-INF/web.xml"), web_xml(&base)).unwrap();
        fill(&root);
        let mut env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        // Fail at once rather than reach for the network for an OSGi bundle it lacks.
        env.push(("LUCEE_ENABLE_BUNDLE_DOWNLOAD".into(), "false".into()));
        Server { port, base, env, pid: std::sync::Mutex::new(None) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Starts Tomcat with Lucee and waits until it answers CFML (`/ready.cfm`; about 10 s the
    /// first time, when Lucee deploys its core and bundled extensions, a few seconds after).
    pub fn start(&self) {
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        *self.pid.lock().unwrap() = Some(process::spawn_for_the_process(tomcat::command(&self.base, &env)));
        wait::until("Lucee answering CFML", Duration::from_secs(180), Duration::from_millis(250), || {
            let r = Client::new().try_get(&self.url("/ready.cfm")).ok()?;
            (r.status == 200 && r.text().trim() == "ready").then_some(())
        });
    }

    /// The text of every Lucee log file named `name` (Lucee's server and web contexts).
    pub fn logs(&self, name: &str) -> String {
        fn walk(dir: &Path, name: &str, out: &mut String) {
            for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, name, out);
                } else if path.file_name().is_some_and(|n| n == name) {
                    out.push_str(&fs::read_to_string(&path).unwrap_or_default());
                }
            }
        }
        let mut out = String::new();
        walk(&self.base, name, &mut out);
        out
    }

    /// Kills the server (as a crash or a hard restart would) and waits until it is gone.
    pub fn stop(&self) {
        if let Some(pid) = self.pid.lock().unwrap().take() {
            // SAFETY: plain system calls on our own child's pid.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

/// 32 random hex digits (the Lucee admin password: never left at a default).
fn random_password() -> String {
    let mut bytes = [0u8; 16];
    fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes)).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `WEB-INF/web.xml`: Lucee's CFML servlet (Jakarta) for `*.cfm`, `*.cfc` and the kit's
/// front controller with path info, its server directory inside `base`.
fn web_xml(base: &Path) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0" metadata-complete="true">
  <servlet>
    <servlet-name>CFMLServlet</servlet-name>
    <servlet-class>lucee.loader.servlet.jakarta.CFMLServlet</servlet-class>
    <init-param><param-name>lucee-server-directory</param-name><param-value>{base}/lucee-server</param-value></init-param>
    <init-param><param-name>lucee-web-directory</param-name><param-value>{base}/lucee-web</param-value></init-param>
    <load-on-startup>1</load-on-startup>
  </servlet>
  <servlet-mapping>
    <servlet-name>CFMLServlet</servlet-name>
    <url-pattern>*.cfm</url-pattern>
    <url-pattern>*.cfc</url-pattern>
    <url-pattern>/kit/index.cfm/*</url-pattern>
  </servlet-mapping>
  <welcome-file-list><welcome-file>index.cfm</welcome-file></welcome-file-list>
</web-app>
"#,
        base = base.display()
    )
}

/// The `ORIGIN_KILL_URL` page exactly as `docs/guard-mode.md` shows it (its first `cfml`
/// code block), so the documented page is the one that runs.
pub fn documented_kill_page() -> String {
    let doc = fs::read_to_string(repo_root().join("docs/guard-mode.md")).unwrap();
    let start = doc.find("```cfml\n").expect("a cfml code block in docs/guard-mode.md") + "```cfml\n".len();
    let end = doc[start..].find("```").expect("the end of the cfml code block") + start;
    let page = doc[start..end].to_owned();
    assert!(page.contains("sessionInvalidate()"), "the first cfml block of docs/guard-mode.md is not the kill page");
    page
}
