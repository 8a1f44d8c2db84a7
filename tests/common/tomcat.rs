//! A Tomcat 10 instance from Debian's package (`/usr/share/tomcat10`, or `TOMCAT_HOME`) with a
//! base of its own (`CATALINA_BASE`): one HTTP connector on a loopback port, no shutdown port,
//! Debian's `web.xml` (the default and JSP servlets) and a `webapps/ROOT` to fill.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// Tomcat's installation directory.
fn home() -> PathBuf {
    let home = PathBuf::from(std::env::var("TOMCAT_HOME").unwrap_or_else(|_| "/usr/share/tomcat10".into()));
    assert!(home.join("bin/catalina.sh").exists(), "Tomcat is missing at {}: run scripts/setup", home.display());
    home
}

/// Lays out a Tomcat base in `base` listening on 127.0.0.1:`port`; returns its (empty)
/// `webapps/ROOT`. `lib/` is on the server's class path.
pub fn lay_out(base: &Path, port: u16) -> PathBuf {
    for d in ["conf", "logs", "temp", "work", "lib", "webapps/ROOT/WEB-INF"] {
        fs::create_dir_all(base.join(d)).unwrap();
    }
    fs::write(
        base.join("conf/server.xml"),
        format!(
            "<Server port=\"-1\" shutdown=\"SHUTDOWN\">\n  <Service name=\"Catalina\">\n    \
             <Connector port=\"{port}\" address=\"127.0.0.1\" protocol=\"HTTP/1.1\" connectionTimeout=\"20000\"/>\n    \
             <Engine name=\"Catalina\" defaultHost=\"localhost\">\n      \
             <Host name=\"localhost\" appBase=\"webapps\" unpackWARs=\"false\" autoDeploy=\"false\"/>\n    \
             </Engine>\n  </Service>\n</Server>\n"
        ),
    )
    .unwrap();
    for f in ["web.xml", "catalina.properties", "logging.properties", "context.xml"] {
        fs::copy(Path::new("/etc/tomcat10").join(f), base.join("conf").join(f)).unwrap();
    }
    base.join("webapps/ROOT")
}

/// `catalina.sh run` for the base (it execs the JVM: the child is Tomcat itself), with `env`,
/// its output in `logs/catalina.out`.
pub fn command(base: &Path, env: &[(&str, &str)]) -> Command {
    let home = home();
    let mut cmd = Command::new(home.join("bin/catalina.sh"));
    cmd.arg("run")
        .env("CATALINA_HOME", &home)
        .env("CATALINA_BASE", base)
        .env("CATALINA_TMPDIR", base.join("temp"))
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::from(fs::File::create(base.join("logs/catalina.out")).unwrap()))
        .stderr(Stdio::from(fs::File::create(base.join("logs/catalina.err")).unwrap()));
    cmd
}

/// Copies directory `from` into `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}
