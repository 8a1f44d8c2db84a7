//! A real php-fpm (Debian's, installed by `scripts/setup`) on a Unix socket in a temporary
//! directory, with `env` in its workers' environment. Stopped when dropped.

use std::{
    fs,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use super::{edge::TempDir, wait};

pub struct PhpFpm {
    pub socket: PathBuf,
    child: Child,
    dir: TempDir,
}

/// The php-fpm binary: `PHP_FPM_BIN`, else Debian's `/usr/sbin/php-fpm<version>`.
fn binary() -> PathBuf {
    if let Ok(b) = std::env::var("PHP_FPM_BIN") {
        return b.into();
    }
    let mut found: Vec<PathBuf> = fs::read_dir("/usr/sbin")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("php-fpm")))
        .collect();
    found.sort();
    found.pop().expect("php-fpm is missing in /usr/sbin: run scripts/setup")
}

impl PhpFpm {
    pub fn start(env: &[(&str, &str)]) -> Self {
        Self::start_with(env, &[])
    }

    /// Like [`PhpFpm::start`], with `-d name=value` settings (`extension=/path/psr.so`).
    pub fn start_with(env: &[(&str, &str)], ini: &[(&str, &str)]) -> Self {
        let dir = TempDir::new("php-fpm");
        let socket = dir.0.join("fpm.sock");
        // As root, php-fpm needs -R and a pool user; otherwise it runs as the calling user.
        let root = unsafe { libc::geteuid() } == 0;
        let user = if root { "user = root\ngroup = root\n" } else { "" };
        let conf = format!(
            "[global]\nerror_log = {d}/fpm.log\ndaemonize = no\n\n[kits]\n{user}listen = {s}\npm = static\n\
             pm.max_children = 4\nclear_env = no\ncatch_workers_output = yes\n",
            d = dir.0.display(),
            s = socket.display()
        );
        fs::write(dir.0.join("php-fpm.conf"), conf).unwrap();
        let mut cmd = Command::new(binary());
        cmd.arg("-F").arg("-y").arg(dir.0.join("php-fpm.conf")).arg("-p").arg(&dir.0);
        for (name, value) in ini {
            cmd.arg("-d").arg(format!("{name}={value}"));
        }
        if root {
            cmd.arg("-R");
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child =
            cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start php-fpm");
        let mut fpm = PhpFpm { socket, child, dir };
        wait::until("php-fpm listening", Duration::from_secs(15), Duration::from_millis(50), || {
            if let Ok(Some(status)) = fpm.child.try_wait() {
                panic!("php-fpm exited with {status}: {}", fpm.log());
            }
            fpm.socket.exists().then_some(())
        });
        fpm
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.0.join("fpm.log")).unwrap_or_default()
    }
}

impl Drop for PhpFpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
