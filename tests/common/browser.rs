//! Browser tests: the demo origin from `www/` as a child process, and the Node scripts in
//! `tests/browser/` that drive Debian's Chromium through playwright-core.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use super::{
    edge::{free_port, repo_root},
    wait, Client,
};

/// The demo origin (`www/origin/server.mjs`), stopped when dropped.
pub struct DemoOrigin {
    pub port: u16,
    child: Child,
}

impl DemoOrigin {
    /// The demo origin (edge mode: stateless, session from the edge's headers).
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// The demo origin in guard mode: a ColdFusion-style application with its own sessions,
    /// verifying the edge's calls with the test origin key.
    pub fn start_guard() -> Self {
        Self::start_with(&["--guard"])
    }

    fn start_with(args: &[&str]) -> Self {
        let port = free_port();
        let child = Command::new("node")
            .arg(repo_root().join("www/origin/server.mjs"))
            .arg(port.to_string())
            .args(args)
            .env("CFS_ORIGIN_KEY", super::verify::test_origin_key())
            .stdout(Stdio::null())
            .spawn()
            .expect("start the demo origin (node)");
        let origin = Self { port, child };
        let c = Client::new();
        // Asked directly (not through an edge), the demo origin answers 403 once it listens (200
        // in guard mode: an unmodified application).
        wait::until("the demo origin", Duration::from_secs(20), Duration::from_millis(100), || {
            c.try_get(&origin.url()).ok().filter(|r| r.status == 403 || r.status == 200).map(|_| ())
        });
        origin
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for DemoOrigin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where test runs leave screenshots (git-ignored): `tests/artifacts/`.
pub fn artifact(name: &str) -> PathBuf {
    let dir = repo_root().join("tests/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs `tests/browser/<script>` with `args` and returns the JSON facts it printed, one
/// per line. Panics with its output when it fails.
pub fn run_script(script: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let chromium = std::env::var("CHROMIUM_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "the browser tests need Chromium at {chromium} (scripts/setup installs Debian's chromium)"
    );
    let out = Command::new("node")
        .current_dir(repo_root())
        .arg(repo_root().join("tests/browser").join(script))
        .args(args)
        .env("CHROMIUM_BIN", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}
