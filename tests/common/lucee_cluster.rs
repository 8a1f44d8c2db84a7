//! Two real Lucee 7 servers behind Debian's nginx balancing round-robin without stickiness,
//! both serving the same web root (a deploy to two servers): the CFML drop-in's applications
//! (`tests/apps/lucee-edge`), the kit (`kits/cfml`) beside them, and the source documents'
//! pages copied unchanged from `tests/apps/lucee/seeds/` (only their `Application.cfc`
//! differs). The servers share `APP_DIR` (a shared disk: a temp file one server wrote is one
//! the other can delete). One cluster per test binary, started on first use.

use std::{
    fs,
    path::PathBuf,
    sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use super::{
    edge::{repo_root, TempDir},
    lucee::Server,
    nginx::Nginx,
    tomcat,
    verify::test_origin_key,
};

pub struct Cluster {
    /// `a` and `b` (each page says which server answered: `LUCEE_NODE`).
    pub servers: [Server; 2],
    /// nginx in front of both.
    pub url: String,
    /// Where the applications write: `<app>/ended.log`, `<app>/temp/…`.
    pub app_dir: PathBuf,
    /// Held (read) by tests that need both servers up, (write) by one that needs the cluster alone.
    up: RwLock<()>,
}

/// The source documents' applications, each with its edge-mode `Application.cfc`.
pub const SEEDS: [&str; 3] = ["hack", "backport", "restart"];

impl Cluster {
    pub fn shared() -> &'static Cluster {
        static CLUSTER: OnceLock<Cluster> = OnceLock::new();
        CLUSTER.get_or_init(start)
    }

    /// Both servers stay up while the guard lives.
    pub fn both_up(&self) -> RwLockReadGuard<'_, ()> {
        self.up.read().unwrap_or_else(|e| e.into_inner())
    }

    /// No other test of the binary runs on the cluster while the guard lives (a test that
    /// stops a server, or measures).
    pub fn alone(&self) -> RwLockWriteGuard<'_, ()> {
        self.up.write().unwrap_or_else(|e| e.into_inner())
    }

    /// `path` through the load balancer.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Lines of a file the applications write under [`Cluster::app_dir`].
    pub fn lines(&self, file: &str) -> Vec<String> {
        fs::read_to_string(self.app_dir.join(file)).unwrap_or_default().lines().map(str::to_owned).collect()
    }
}

fn start() -> Cluster {
    let app_dir = TempDir::new("lucee-apps");
    let app_dir_path = app_dir.0.clone();
    std::mem::forget(app_dir);
    let key = test_origin_key();
    let servers = ["a", "b"].map(|node| {
        let env = [
            ("APP_DIR", app_dir_path.to_str().unwrap()),
            ("CFS_ORIGIN_KEY", key.as_str()),
            ("EDGE_ORIGIN_KEY", key.as_str()),
            ("LUCEE_NODE", node),
        ];
        Server::lay_out(TempDir::new(&format!("lucee-{node}")), &env, web_root)
    });
    std::thread::scope(|s| {
        for server in &servers {
            s.spawn(|| server.start());
        }
    });
    let url = Nginx::round_robin_for_the_process(&servers.each_ref().map(|s| format!("127.0.0.1:{}", s.port)));
    Cluster { servers, url, app_dir: app_dir_path, up: RwLock::new(()) }
}

/// The web root both servers serve.
fn web_root(root: &std::path::Path) {
    let repo = repo_root();
    tomcat::copy_dir(&repo.join("tests/apps/lucee-edge"), root);
    for file in ["EdgeApplication.cfc", "EdgeSession.cfc"] {
        fs::copy(repo.join("kits/cfml").join(file), root.join(file)).unwrap();
    }
    for app in SEEDS {
        let page = format!("seeds/{app}/index.cfm");
        fs::copy(repo.join("tests/apps/lucee").join(&page), root.join(&page)).unwrap();
    }
}
