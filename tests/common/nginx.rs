//! A real nginx (Debian's, installed by `scripts/setup`) on a free loopback port, with its
//! default header limits (`large_client_header_buffers 4 8k`), proxying to an upstream.
//! Stopped when dropped.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use super::{
    edge::{free_port, TempDir},
    process, wait,
};

pub struct Nginx {
    pub port: u16,
    child: Child,
    dir: TempDir,
}

impl Nginx {
    /// Starts nginx in front of `upstream` (`http://127.0.0.1:<port>`), waiting until it listens.
    pub fn proxy_to(upstream: &str) -> Self {
        Self::start(&format!("proxy_pass {upstream};\n      proxy_set_header Host $http_host;"))
    }

    /// Starts nginx passing every request to `script` on the FastCGI server at `socket`
    /// (php-fpm), with Debian's `fastcgi_params`.
    pub fn fastcgi(socket: &std::path::Path, script: &std::path::Path) -> Self {
        Self::start(&format!(
            "include /etc/nginx/fastcgi_params;\n      fastcgi_param SCRIPT_FILENAME {};\n      fastcgi_pass unix:{};",
            script.display(),
            socket.display()
        ))
    }

    /// Starts nginx with `location` as the one location's body.
    /// A PHP site: files under `root` (`/wiki/…` is `root/wiki/…`), `*.php` through php-fpm.
    /// `HTTP_HOST` is the `Host` header with its port (Debian's `fastcgi_params` sends `$host`,
    /// without it, and applications then build URLs to port 80).
    pub fn php_site(socket: &std::path::Path, root: &std::path::Path) -> Self {
        Self::start(&format!(
            "root {};\n      index index.php doku.php;\n      location ~ \\.php$ {{\n        include /etc/nginx/fastcgi_params;\n        \
             fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n        \
             fastcgi_param HTTP_HOST $http_host;\n        fastcgi_pass unix:{};\n      }}",
            root.display(),
            socket.display()
        ))
    }

    fn start(location: &str) -> Self {
        let dir = TempDir::new("nginx");
        let (port, mut cmd) = command(&dir.0, "", location);
        let child = cmd.spawn().expect("start nginx");
        let mut nginx = Nginx { port, child, dir };
        wait::until("nginx listening", Duration::from_secs(15), Duration::from_millis(50), || {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!("nginx exited with {status}: {}", nginx.error_log());
            }
            std::net::TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ())
        });
        nginx
    }

    /// Starts nginx balancing requests over `servers` (`127.0.0.1:<port>` each) round-robin,
    /// as Debian's nginx does by default: no stickiness, and a request that cannot connect to
    /// one server goes to the next (`proxy_next_upstream error timeout`, nginx's default;
    /// `max_fails=0`: a server that failed is tried again at once). It lives as long as the
    /// test process; returns its URL.
    pub fn round_robin_for_the_process(servers: &[String]) -> String {
        let dir = TempDir::new("nginx");
        let list: String = servers.iter().map(|s| format!("server {s} max_fails=0; ")).collect();
        let (port, cmd) = command(
            &dir.0,
            &format!("upstream origins {{ {list}}}\n"),
            "proxy_pass http://origins;\n      proxy_set_header Host $http_host;\n      \
             proxy_http_version 1.1;\n      proxy_set_header Connection \"\";",
        );
        process::spawn_for_the_process(cmd);
        std::mem::forget(dir);
        wait::until("nginx listening", Duration::from_secs(15), Duration::from_millis(50), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ())
        });
        format!("http://127.0.0.1:{port}")
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn error_log(&self) -> String {
        fs::read_to_string(self.dir.0.join("error.log")).unwrap_or_default()
    }
}

/// nginx in the foreground with its configuration in `dir` (`http_extra`: directives in the
/// `http` block; `location`: the one location's body), on a free port.
fn command(dir: &Path, http_extra: &str, location: &str) -> (u16, Command) {
    let bin = std::env::var("NGINX_BIN").unwrap_or_else(|_| "/usr/sbin/nginx".into());
    assert!(PathBuf::from(&bin).exists(), "nginx is missing at {bin}: run scripts/setup");
    let port = free_port();
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  {http_extra}\
           server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      {location}\n    }}\n  }}\n}}\n"
    );
    fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut cmd = Command::new(&bin);
    cmd.arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    (port, cmd)
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
