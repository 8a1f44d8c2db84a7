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
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::Command,
    sync::{mpsc, OnceLock},
    time::Duration,
};

use super::{
    edge::{free_port, repo_root, TempDir},
    tomcat,
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
    // Kept for the whole process (a static is never dropped; the OS reclaims /tmp).
    let dir = TempDir::new("lucee");
    let base = dir.0.clone();
    std::mem::forget(dir);
    let port = free_port();
    let root = tomcat::lay_out(&base, port);
    fs::copy(jar(), base.join("lib/lucee.jar")).unwrap();
    fs::write(root.join("WEB-INF/web.xml"), web_xml(&base)).unwrap();
    tomcat::copy_dir(&repo_root().join("tests/apps/lucee"), &root);
    fs::copy(repo_root().join("kits/cfml/EdgeSession.cfc"), root.join("kit/EdgeSession.cfc")).unwrap();
    tomcat::copy_dir(&repo_root().join("www/lucee"), &root.join("demo"));
    let kill_page = documented_kill_page();
    for app in ["cfml", "jee", "seeds/hack", "seeds/backport", "seeds/restart", "demo"] {
        fs::write(root.join(app).join("kill.cfm"), &kill_page).unwrap();
    }
    let app_dir = base.join("app");
    fs::create_dir_all(&app_dir).unwrap();
    let key = test_origin_key();
    let password = random_password();
    let env = [
        ("APP_DIR", app_dir.to_str().unwrap()),
        ("EDGE_ORIGIN_KEY", key.as_str()),
        ("CFS_ORIGIN_KEY", key.as_str()),
        ("LUCEE_ADMIN_PASSWORD", password.as_str()),
        // Fail at once rather than reach for the network for an OSGi bundle it lacks.
        ("LUCEE_ENABLE_BUNDLE_DOWNLOAD", "false"),
    ];
    spawn_for_the_process(tomcat::command(&base, &env));
    let lucee = Lucee { port, app_dir, base, admin_password: password.clone() };
    wait::until("Lucee answering CFML", Duration::from_secs(180), Duration::from_millis(250), || {
        let r = Client::new().try_get(&lucee.url("/ready.cfm")).ok()?;
        (r.status == 200 && r.text().trim() == "ready").then_some(())
    });
    lucee
}

/// 32 random hex digits (the Lucee admin password: never left at a default).
fn random_password() -> String {
    let mut bytes = [0u8; 16];
    fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes)).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Spawns `cmd` from a thread that lives as long as the process, with `PR_SET_PDEATHSIG`:
/// the child is killed when that thread (so the test process) ends.
fn spawn_for_the_process(mut cmd: Command) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn();
        let ok = child.is_ok();
        tx.send(child.map(|_| ()).map_err(|e| e.to_string())).unwrap();
        if ok {
            loop {
                std::thread::park();
            }
        }
    });
    rx.recv().unwrap().expect("start Tomcat with Lucee");
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
