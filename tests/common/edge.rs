//! A real `wrangler dev` (real workerd, local Durable Objects and KV) running the built
//! Worker, on a free loopback port with its own state directory and `--var` overrides.
//! Dropping an [`Edge`] stops its whole process group, also when the test panics.

use std::{
    fs,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicU32, Ordering},
        Mutex, OnceLock,
    },
    time::Duration,
};

use super::{client::Client, wait};

/// The repository root (where `wrangler.toml` is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the tests' Worker is built (`scripts/build --out`): never `build/`, which
/// `scripts/dev` serves, so a test run and `scripts/dev` never replace each other's build.
pub const TEST_WORKER: &str = "target/test-worker";

/// Builds the tests' Worker once per test process (`scripts/build` returns at once when nothing
/// changed since its last build, e.g. `scripts/test`'s).
fn ensure_built() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new(repo_root().join("scripts/build"))
            .args(["--out", TEST_WORKER])
            .current_dir(repo_root())
            .status()
            .expect("run scripts/build");
        assert!(status.success(), "scripts/build failed");
    });
}

/// The variables every test edge gets (http cookies, test secrets), then `vars` (which win).
fn test_vars(origin_url: &str, vars: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = vec![
        ("ORIGIN_URL".into(), origin_url.into()),
        ("SESSION_SIGNING_KEY".into(), TEST_SIGNING_KEY.into()),
        ("COOKIE_SECURE".into(), "false".into()),
        ("ADMIN_TOKEN".into(), TEST_ADMIN_TOKEN.into()),
        // Every test client is 127.0.0.1: tests of the limits turn them on (tests/abuse_limits.rs).
        ("ABUSE_LIMITS".into(), "false".into()),
    ];
    all.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    all
}

/// The repository's `wrangler.toml`, parsed.
pub fn wrangler_config() -> toml::Table {
    let text = fs::read_to_string(repo_root().join("wrangler.toml")).expect("wrangler.toml");
    text.parse().expect("wrangler.toml is TOML")
}

/// `target/<name>.toml`: the repository's `wrangler.toml` for the tests' Worker, changed by
/// `edit`: `main` is its entry module in [`TEST_WORKER`], without `[build]` (the harness builds
/// once, not every wrangler it starts), paths absolute. Generated from the parsed configuration,
/// never by editing its lines.
pub fn generated_config(name: &str, edit: impl FnOnce(&mut toml::Table)) -> PathBuf {
    let root = repo_root();
    let absolute = |relative: &str| toml::Value::from(root.join(relative).display().to_string());
    let mut config = wrangler_config();
    config.insert("main".into(), absolute(&format!("{TEST_WORKER}/src/entry.mjs")));
    config.remove("build");
    if let Some(assets) = config.get_mut("assets").and_then(|a| a.as_table_mut()) {
        let dir = assets.get("directory").and_then(|d| d.as_str()).unwrap_or("").to_owned();
        assets.insert("directory".into(), absolute(&dir));
    }
    edit(&mut config);
    let path = root.join(format!("target/{name}.toml"));
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, toml::to_string_pretty(&config).expect("a TOML table")).unwrap();
    path
}

/// The configuration every test edge starts from unless a test gives its own.
pub fn test_config() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| generated_config("test-worker", |_| {})).clone()
}

/// A free TCP port on 127.0.0.1 (the listener is closed before returning), never the same
/// one twice in this process: tests run in parallel threads, and the kernel may hand a port
/// that was just released to the next caller before the first one's server has bound it.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new, empty directory of its own: named by process and a counter (never by a port,
    /// which two threads may both be given), and created with `create_dir`, so a directory
    /// left by an earlier process with the same id is skipped, never shared.
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("cfsession-{label}-{}-{n}", std::process::id()));
            match fs::create_dir(&dir) {
                Ok(()) => return Self(dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("create {}: {e}", dir.display()),
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A running edge.
pub struct Edge {
    pub port: u16,
    child: Child,
    vars: Vec<(String, String)>,
    /// `-c` for wrangler: `None` is the repository's `wrangler.toml`.
    config: PathBuf,
    /// The `--persist-to` directory (local DO and KV state).
    pub state: TempDir,
    log: PathBuf,
}

/// Signing key used by tests unless a test sets its own.
pub const TEST_SIGNING_KEY: &str = "test-signing-key-0123456789abcdef0123456789abcdef";
/// Admin token used by tests unless a test sets its own.
pub const TEST_ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef0123456789";

impl Edge {
    /// Starts the Worker in front of `origin_url` with the default test variables plus `vars`
    /// (later entries win). Waits until it answers, with a deadline.
    pub fn start(origin_url: &str, vars: &[(&str, &str)]) -> Self {
        Self::start_with(&test_vars(origin_url, vars))
    }

    /// Starts the Worker with exactly these variables (no defaults).
    pub fn start_with(vars: &[(String, String)]) -> Self {
        Self::start_from(vars, test_config())
    }

    /// Like [`Edge::start`], but from `config` (a [`generated_config`]).
    pub fn start_with_config(origin_url: &str, vars: &[(&str, &str)], config: PathBuf) -> Self {
        Self::start_from(&test_vars(origin_url, vars), config)
    }

    fn start_from(vars: &[(String, String)], config: PathBuf) -> Self {
        ensure_built();
        let mut last_err = String::new();
        for _attempt in 0..3 {
            match Self::try_start(vars, config.clone(), TempDir::new("state")) {
                Ok(edge) => return edge,
                Err(e) => last_err = e,
            }
        }
        panic!("wrangler dev did not start: {last_err}");
    }

    /// Stops wrangler, runs `while_stopped` on the state directory, and starts wrangler again
    /// on the same state.
    pub fn restart_after(self, while_stopped: impl FnOnce(&Path)) -> Self {
        let mut this = self;
        this.stop();
        while_stopped(&this.state.0);
        let vars = std::mem::take(&mut this.vars);
        let config = this.config.clone();
        let state = std::mem::replace(&mut this.state, TempDir(PathBuf::new()));
        std::mem::forget(this); // already stopped; its state directory moves on
        Self::try_start(&vars, config, state).unwrap_or_else(|e| panic!("wrangler dev did not restart: {e}"))
    }

    /// Stops wrangler and starts it again on the same state with `vars` changed (added,
    /// replaced, or removed when the value is `None`): a redeploy with new settings.
    pub fn restart_with(mut self, vars: &[(&str, Option<&str>)]) -> Self {
        for (k, v) in vars {
            self.vars.retain(|(name, _)| name != k);
            if let Some(v) = v {
                self.vars.push(((*k).to_owned(), (*v).to_owned()));
            }
        }
        self.restart_after(|_| {})
    }

    /// Deletes every scheduled Durable Object alarm in the local state, as a platform fault
    /// would lose them (workerd keeps them in `_cf_ALARM` and each object's `_cf_METADATA`).
    /// Uses Python's sqlite3 module; wrangler must be stopped.
    pub fn lose_all_alarms(state: &Path) {
        let script = r#"
import pathlib, sqlite3, sys
for f in pathlib.Path(sys.argv[1]).rglob("*.sqlite"):
    db = sqlite3.connect(f)
    tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
    for t in ("_cf_ALARM", "_cf_METADATA"):
        if t in tables:
            db.execute(f"delete from {t}")
    db.commit()
    db.close()
"#;
        let status = Command::new("python3").arg("-c").arg(script).arg(state).status().expect("python3");
        assert!(status.success(), "could not remove the alarms");
    }

    /// Runs the Worker's cron handler, as Cloudflare would on schedule.
    pub fn trigger_cron(&self) {
        let r = Client::new().get(&self.url("/cdn-cgi/handler/scheduled?cron=*/5+*+*+*+*"));
        assert_eq!(r.status, 200, "cron trigger: {}", r.text());
    }

    fn try_start(vars: &[(String, String)], config: PathBuf, state: TempDir) -> Result<Self, String> {
        use std::os::unix::process::CommandExt;
        let port = free_port();
        let log = state.0.join("wrangler.log");
        let out = fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        let mut cmd = Command::new(repo_root().join("node_modules/.bin/wrangler"));
        cmd.current_dir(repo_root())
            .args(["dev", "--local", "--ip", "127.0.0.1", "--show-interactive-dev-session=false"])
            .args(["--port", &port.to_string(), "--inspector-port", &free_port().to_string()])
            .arg("--persist-to")
            .arg(&state.0)
            .arg("-c")
            .arg(&config)
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("WRANGLER_SEND_METRICS", "false")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0);
        for (k, v) in vars {
            cmd.arg("--var").arg(format!("{k}:{v}"));
        }
        let child = cmd.spawn().map_err(|e| format!("spawn wrangler: {e}"))?;
        let mut edge = Edge { port, child, vars: vars.to_vec(), config, state, log };
        let client = Client::new();
        let ready = wait::until_or_none(Duration::from_secs(90), Duration::from_millis(200), || {
            if let Ok(Some(status)) = edge.child.try_wait() {
                return Some(Err(format!("wrangler exited with {status}")));
            }
            let r = client.try_get(&edge.url("/__session/health")).ok()?;
            (r.status == 200).then_some(Ok(()))
        });
        match ready {
            Some(Ok(())) => Ok(edge),
            Some(Err(e)) => Err(format!("{e}\n{}", edge.log_tail())),
            None => {
                let tail = edge.log_tail();
                edge.stop();
                Err(format!("not ready within 90 s\n{tail}"))
            }
        }
    }

    /// `http://127.0.0.1:<port><path>`
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// The last lines of wrangler's output (the Worker's log lines are there too).
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Waits (with a deadline) until wrangler's output contains `needle`: log lines arrive
    /// asynchronously.
    pub fn wait_for_log(&self, needle: &str) {
        wait::until(&format!("log line {needle:?}"), Duration::from_secs(15), Duration::from_millis(100), || {
            self.log().contains(needle).then_some(())
        });
    }

    /// Everything wrangler printed so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The local state directory (for counting stored objects).
    pub fn state_dir(&self) -> &Path {
        &self.state.0
    }

    /// `<method> /__session/admin/api/<path>` with the test admin token.
    pub fn admin(&self, method: &str, path: &str) -> super::Resp {
        let auth = format!("Bearer {TEST_ADMIN_TOKEN}");
        Client::new().send(
            method,
            &self.url(&format!("/__session/admin/api/{path}")),
            &[("Authorization", &auth)],
            None,
        )
    }

    /// `GET /__session/admin/api/sessions/<cfid>` with the test admin token: the session's
    /// state as JSON, or `None` when the edge has no live session under that CFID.
    pub fn inspect(&self, cfid: &str) -> Option<serde_json::Value> {
        let r = self.admin("GET", &format!("sessions/{cfid}"));
        match r.status {
            200 => Some(serde_json::from_slice(&r.body).expect("admin JSON")),
            404 => None,
            other => panic!("inspect {cfid}: status {other}: {}", r.text()),
        }
    }

    /// How many session objects have storage on disk (each is one `<object id>.sqlite` file
    /// under the `--persist-to` directory, beside the namespace's `metadata.sqlite`).
    pub fn stored_objects(&self) -> usize {
        self.stored_object_files().len()
    }

    /// The files counted by [`Edge::stored_objects`].
    pub fn stored_object_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, n: &mut Vec<PathBuf>) {
            for e in fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, n);
                } else if p.extension().is_some_and(|x| x == "sqlite")
                    && p.to_string_lossy().contains("SessionObject")
                    && p.file_name().is_some_and(|f| f != "metadata.sqlite")
                {
                    n.push(p);
                }
            }
        }
        let mut n = Vec::new();
        walk(&self.state.0, &mut n);
        n
    }

    fn stop(&mut self) {
        let pgid = self.child.id();
        signal_group(pgid, libc::SIGTERM);
        let exited = wait::until_or_none(Duration::from_secs(5), Duration::from_millis(50), || {
            self.child.try_wait().ok().flatten().map(|_| ())
        });
        if exited.is_none() {
            signal_group(pgid, libc::SIGKILL);
            let _ = self.child.wait();
        }
        // workerd may outlive wrangler for a moment; make sure nothing of the group is left.
        signal_group(pgid, libc::SIGKILL);
    }
}

/// Signals every process in group `pgid` (the spawned wrangler is its group's leader).
///
/// Calls kill(2) directly: procps-ng 4.0.2's `kill -SIG -PGID` signals far more than the
/// group (seen here: it took down every process on the machine).
pub fn signal_group(pgid: u32, signal: libc::c_int) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid > 1 {
        // SAFETY: kill(2) with a negative pid only sends a signal to that process group.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- wrangler log (port {}) ---\n{}", self.port, self.log_tail());
        }
        self.stop();
    }
}
