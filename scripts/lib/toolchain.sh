# shellcheck shell=bash
# Toolchain detection and installation for cfsession-edge. Sourced by scripts/setup,
# scripts/build, scripts/dev and scripts/test; defines functions only.
#
# The wasm32 standard library comes from one of two places:
#   rustup  - `rustup target add wasm32-unknown-unknown` (the normal path with internet);
#   debian  - Debian's rustc-web 1.96 (+ its source) and a wasm32 sysroot built once from that
#             source, for machines that reach only the package registries.

CFS_ROOT="${CFS_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
WORKER_BUILD_VERSION="0.8.7"
DEBIAN_RUST_PACKAGES=(rustc-web cargo-web rust-web-src rust-web-llvm rust-web-clippy lld-22)
DEBIAN_RUSTC=/usr/bin/rustc

# Messages name the script that prints them (SAY_AS; setup's by default).
say() { printf '%s: %s\n' "${SAY_AS:-setup}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${SAY_AS:-setup}" "$*" >&2; exit 1; }

need_command() { # name, hint
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed. $2"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $* (install it yourself, or run as root)"
  fi
}

# The wasm-bindgen version pinned in Cargo.lock (the CLI must match it exactly).
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$CFS_ROOT/Cargo.lock"
}

rustup_has_wasm_std() {
  command -v rustup >/dev/null 2>&1 &&
    rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown
}

debian_wasm_libdir() {
  "$DEBIAN_RUSTC" --target wasm32-unknown-unknown --print target-libdir 2>/dev/null
}

debian_has_wasm_std() {
  [ -x "$DEBIAN_RUSTC" ] || return 1
  local dir; dir=$(debian_wasm_libdir) || return 1
  compgen -G "$dir/libstd-*.rlib" >/dev/null
}

# Prints "rustup" or "debian" when a wasm32 std is usable, else nothing.
# CFS_WASM_STD=debian forces the Debian path (to test it on a machine where rustup works).
wasm_std_mode() {
  if [ "${CFS_WASM_STD:-auto}" != debian ] && rustup_has_wasm_std; then echo rustup
  elif debian_has_wasm_std; then echo debian
  fi
}

# Builds the wasm32 std from Debian's rust-web-src with embedded bitcode (LTO needs it).
build_debian_sysroot() {
  local seed; seed=$(mktemp -d)
  say "building the wasm32 standard library from Debian's Rust source (about a minute)"
  printf '[package]\nname = "cfs_sysroot_seed"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "lib.rs"\n' >"$seed/Cargo.toml"
  echo '#![no_std]' >"$seed/lib.rs"
  (cd "$seed" && PATH=/usr/bin:$PATH RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Cembed-bitcode=yes" \
    CARGO_TARGET_DIR="$seed/target" \
    cargo build --quiet --release --target wasm32-unknown-unknown \
    -Zbuild-std=std,panic_abort,panic_unwind) || die "building the wasm32 sysroot failed"
  local dir; dir=$(debian_wasm_libdir)
  as_root mkdir -p "$dir"
  as_root cp "$seed"/target/wasm32-unknown-unknown/release/deps/*.rlib "$dir"/
  as_root rm -f "$dir"/libcfs_sysroot_seed*.rlib
  rm -rf "$seed"
}

install_wasm_std() {
  [ -n "$(wasm_std_mode)" ] && return 0
  if [ "${CFS_WASM_STD:-auto}" != debian ] && command -v rustup >/dev/null 2>&1; then
    say "trying: rustup target add wasm32-unknown-unknown (gives up after 45 s offline)"
    if timeout 45 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then return 0; fi
    say "rustup could not download the target; using Debian's rustc-web instead"
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "no wasm32 std: run 'rustup target add wasm32-unknown-unknown' (needs internet)"
  local missing=()
  for p in "${DEBIAN_RUST_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    as_root apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null ||
      die "apt-get install ${missing[*]} failed"
  fi
  [ -x /usr/bin/rust-lld ] || die "/usr/bin/rust-lld (from rust-web-llvm + lld-22) is missing"
  debian_has_wasm_std || build_debian_sysroot
  debian_has_wasm_std || die "the wasm32 std is still missing after the Debian fallback"
}

install_cargo_tool() { # crate, version, binary
  local crate=$1 version=$2 bin=$3
  if command -v "$bin" >/dev/null 2>&1 && "$bin" --version 2>/dev/null | grep -qw -- "$version"; then
    return 0
  fi
  say "cargo install $crate --version $version --locked (a few minutes, once)"
  cargo install --quiet "$crate" --version "$version" --locked || die "cargo install $crate failed"
}

# Debian's Chromium, driven by playwright-core in the browser tests (no browser download).
CHROMIUM_BIN=/usr/bin/chromium
install_browser() {
  [ -x "$CHROMIUM_BIN" ] || apt_install chromium "the browser tests need Chromium at $CHROMIUM_BIN"
}

# apt-get install PACKAGE (quietly, once), or die saying WHY it is needed and how to install it.
apt_install() { # package, why
  command -v apt-get >/dev/null 2>&1 || die "$2: install it (Debian: apt-get install $1) and rerun"
  say "apt-get install $1 ($2)"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$1" >/dev/null ||
    die "apt-get install $1 failed"
}

# Debian's nginx, with its default header limits, in front of the test origin for the
# header-budget test (the tests start their own instances; the package's service is not used).
NGINX_BIN=/usr/sbin/nginx
install_nginx() {
  [ -x "$NGINX_BIN" ] && return 0
  apt_install nginx "the header-budget test runs nginx at $NGINX_BIN"
  # Only the binary is wanted: the package's own server (port 80) is stopped if it started.
  if command -v systemctl >/dev/null 2>&1; then as_root systemctl disable --now nginx >/dev/null 2>&1 || true; fi
  if [ -f /run/nginx.pid ]; then as_root "$NGINX_BIN" -s stop >/dev/null 2>&1 || true; fi
}

# Debian's php-fpm, for the PHP kit's test (php-fpm behind nginx; the tests start their own
# instances, the package's service is not used).
install_php_fpm() {
  php_fpm_bin >/dev/null && return 0
  apt_install php-fpm "the PHP kit's test runs Debian's php-fpm behind nginx"
  if command -v systemctl >/dev/null 2>&1; then
    as_root sh -c 'for s in /lib/systemd/system/php*-fpm.service; do [ -e "$s" ] && systemctl disable --now "$(basename "$s")"; done' >/dev/null 2>&1 || true
  fi
  php_fpm_bin >/dev/null || die "php-fpm is not in /usr/sbin after installing php-fpm"
}

# The PHP kit's packaging and PSR-15 tests: Debian's composer and Nyholm's PSR-7 messages, and
# the PSR interfaces (PSR-15 included) from Debian's psr extension. That package and composer
# cannot be installed together on bookworm (composer's Symfony dependencies break it), so the
# extension's .deb is downloaded with apt and unpacked into target/php-psr, and only the PSR-15
# test's php-fpm loads it (-d extension=…).
PHP_PSR_SO="$CFS_ROOT/target/php-psr/usr/lib/php/20220829/psr.so"
install_php_kit_tools() {
  php_kit_tools_complete && return 0
  local p
  for p in composer php-nyholm-psr7; do
    dpkg -s "$p" >/dev/null 2>&1 || apt_install "$p" "the PHP kit's Composer and PSR-15 tests"
  done
  if [ ! -f "$PHP_PSR_SO" ]; then
    say "apt-get download php8.2-psr (unpacked into target/php-psr for the PSR-15 test)"
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download php8.2-psr >/dev/null 2>&1) || { as_root apt-get update -qq >/dev/null; (cd "$tmp" && apt-get download php8.2-psr >/dev/null 2>&1); } ||
      die "apt-get download php8.2-psr failed"
    mkdir -p "$CFS_ROOT/target/php-psr"
    dpkg-deb -x "$tmp"/php8.2-psr_*.deb "$CFS_ROOT/target/php-psr"
    rm -rf "$tmp"
  fi
  php_kit_tools_complete || die "composer, Nyholm's PSR-7 or target/php-psr's psr.so is missing"
}
php_kit_tools_complete() {
  command -v composer >/dev/null 2>&1 && [ -f /usr/share/php/Nyholm/Psr7/autoload.php ] && [ -f "$PHP_PSR_SO" ]
}

# The php-fpm binary (Debian names it after the PHP version: /usr/sbin/php-fpm8.2).
php_fpm_bin() {
  local b
  for b in /usr/sbin/php-fpm /usr/sbin/php-fpm[0-9]*; do
    [ -x "$b" ] && { echo "$b"; return 0; }
  done
  return 1
}

# Debian's Tomcat 10 (and the Eclipse compiler its JSP engine needs), for the guard-mode tests
# against a real servlet container (the tests start their own instances from a base of their
# own; the package's service is not used).
TOMCAT_HOME=/usr/share/tomcat10
install_tomcat() {
  tomcat_complete && return 0
  local p
  for p in tomcat10 libecj-java; do
    dpkg -s "$p" >/dev/null 2>&1 || apt_install "$p" "the guard-mode tests run a JSP app on Debian's Tomcat 10"
  done
  if command -v systemctl >/dev/null 2>&1; then as_root systemctl disable --now tomcat10 >/dev/null 2>&1 || true; fi
  tomcat_complete || die "Tomcat 10 or /usr/share/java/ecj.jar is missing after installing tomcat10 and libecj-java"
}
tomcat_complete() {
  [ -x "$TOMCAT_HOME/bin/catalina.sh" ] && [ -f /usr/share/java/ecj.jar ] && command -v java >/dev/null 2>&1
}

# Lucee, the open-source CFML engine, from Maven Central (org.lucee:lucee: the loader jar with
# its bundled extensions), pinned and checked by SHA-256, into target/lucee/. It runs as a
# servlet on Debian's Tomcat 10 (Lucee 7 is Jakarta-native). It starts from the jar alone: a
# first start in a network namespace without any network serves CFML (docs/toolchain.md).
# 7.0.2.106-RC is the newest Lucee 7 on Maven Central (it lists only RC builds of 7.0).
LUCEE_VERSION="7.0.2.106-RC"
LUCEE_SHA256="6f5dffc09a9d8748069cb291f466465020d76e46450b65594493032c0e3d6f8a"
LUCEE_JAR="$CFS_ROOT/target/lucee/lucee-$LUCEE_VERSION.jar"
install_lucee() {
  lucee_complete && return 0
  install_tomcat
  command -v mvn >/dev/null 2>&1 || apt_install maven "the Lucee tests fetch org.lucee:lucee from Maven Central with Maven"
  say "mvn dependency:get org.lucee:lucee:$LUCEE_VERSION (65 MB, once)"
  mvn -q -B dependency:get -Dartifact="org.lucee:lucee:$LUCEE_VERSION" -Dtransitive=false >/dev/null 2>&1 ||
    die "mvn dependency:get org.lucee:lucee:$LUCEE_VERSION failed"
  local repo; repo=$(mvn -q -B help:evaluate -Dexpression=settings.localRepository -DforceStdout 2>/dev/null || true)
  [ -d "$repo" ] || repo="$HOME/.m2/repository"
  mkdir -p "$(dirname "$LUCEE_JAR")"
  cp "$repo/org/lucee/lucee/$LUCEE_VERSION/lucee-$LUCEE_VERSION.jar" "$LUCEE_JAR.part"
  echo "$LUCEE_SHA256  $LUCEE_JAR.part" | sha256sum -c --quiet - >/dev/null 2>&1 ||
    { rm -f "$LUCEE_JAR.part"; die "lucee-$LUCEE_VERSION.jar does not have the pinned SHA-256"; }
  mv "$LUCEE_JAR.part" "$LUCEE_JAR"
}
lucee_complete() {
  tomcat_complete && [ -f "$LUCEE_JAR" ]
}

install_npm_packages() {
  local stamp="$CFS_ROOT/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ ! "$CFS_ROOT/package-lock.json" -nt "$stamp" ] &&
     [ -x "$CFS_ROOT/node_modules/.bin/wrangler" ]; then
    return 0
  fi
  say "npm ci (wrangler, esbuild, binaryen, playwright-core, express, express-session)"
  (cd "$CFS_ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed"
}

# Exports what builds need: PATH for the wasm toolchain and worker-build's *_BIN variables,
# so worker-build uses local tools instead of downloading them.
# The real applications the guard-mode tests put behind the edge (tests/real_apps.rs), from
# Debian: DokuWiki (PHP; without its recommended web servers: the tests run php-fpm behind
# nginx) and Tomcat's examples webapp. Django's admin comes with Django, Lucee's Administrator
# with Lucee.
real_apps_complete() {
  [ -f /usr/share/dokuwiki/doku.php ] && [ -d /usr/share/tomcat10-examples/examples ]
}
install_real_apps() {
  real_apps_complete && return 0
  command -v apt-get >/dev/null 2>&1 ||
    die "the real-application tests need DokuWiki and Tomcat's examples: install them (Debian: apt-get install --no-install-recommends dokuwiki tomcat10-examples) and rerun"
  say "apt-get install --no-install-recommends dokuwiki tomcat10-examples (the real-application tests)"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends dokuwiki tomcat10-examples >/dev/null ||
    die "apt-get install dokuwiki tomcat10-examples failed"
  real_apps_complete || die "dokuwiki or tomcat10-examples is missing after installing them"
}

# wrk, the benchmark's load generator (the bench's own test runs it too).
install_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  apt_install wrk "the benchmark (scripts/bench) and its test load with wrk"
}

# Django from PyPI in a virtual environment of the project's own (target/python), for the
# differential cookie tests (tests/apps/django). Pinned; pip's cache makes a reinstall quick.
DJANGO_VERSION=5.2.20
PYTHON_ENV="$CFS_ROOT/target/python"
django_complete() {
  [ -x "$PYTHON_ENV/bin/python" ] &&
    "$PYTHON_ENV/bin/python" -c "import django, sys; sys.exit(django.get_version() != '$DJANGO_VERSION')" 2>/dev/null
}
install_django() {
  django_complete && return 0
  need_command python3 "Install Python 3 (Debian: apt-get install python3 python3-venv) and rerun."
  say "pip install django==$DJANGO_VERSION (into target/python)"
  python3 -m venv "$PYTHON_ENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$PYTHON_ENV/bin/pip" install -q --disable-pip-version-check "django==$DJANGO_VERSION" || die "pip install django failed"
  django_complete || die "Django $DJANGO_VERSION is not importable from $PYTHON_ENV"
}

# Node.js: wrangler needs 22.12 or newer. The machine's Node when it is new enough; otherwise
# Node 22 LTS from the npm registry (the `node-linux-<arch>` package: the official binary) into
# target/node/22, first on PATH for every script (nothing changes on the system).
NODE_MIN="22.12"
NODE_LTS="22.23.5"
# The Node versions the Node kit is tested on (tests/kits.rs), besides the one above: the
# release lines users run (20: end of life in April 2026, still common; 24 and 26: LTS).
KIT_NODES=(20.20.2 24.22.3 26.12.1)
NODE_HOME="$CFS_ROOT/target/node"

node_arch() {
  case "$(uname -m)" in
    x86_64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) uname -m ;;
  esac
}
# The bin directory of Node $1 installed by setup.
project_node_bin() { echo "$NODE_HOME/${1%%.*}/node_modules/node-linux-$(node_arch)/bin"; }
# True when setup installed exactly Node $1 (read from its package, without starting it).
node_installed() {
  [ -x "$(project_node_bin "$1")/node" ] && grep -q "\"version\": \"$1\"" "$(project_node_bin "$1")/../package.json"
}
# True when `node` $1 is at least NODE_MIN.
node_new_enough() {
  "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number), [x, y] = process.argv[1].split(".").map(Number);
    process.exit(a > x || (a === x && b >= y) ? 0 : 1)' "$NODE_MIN" 2>/dev/null
}
# Puts the project's Node 22 first on PATH when setup installed it (the machine's is older).
use_node() {
  local bin; bin="$(project_node_bin "$NODE_LTS")"
  if [ -x "$bin/node" ]; then
    case ":$PATH:" in *":$bin:"*) ;; *) export PATH="$bin:$PATH" ;; esac
  fi
}
node_complete() {
  use_node
  node_new_enough "$(command -v node)"
}
kit_nodes_complete() {
  local v; for v in "${KIT_NODES[@]}"; do node_installed "$v" || return 1; done
}
# Installs Node $1 from the npm registry into target/node/<major>.
install_node_version() {
  local dir="$NODE_HOME/${1%%.*}"
  node_installed "$1" && return 0
  say "npm install node-linux-$(node_arch)@$1 (into target/node/${1%%.*})"
  rm -rf "$dir" && mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-$(node_arch)@$1" >/dev/null ||
    die "npm install node-linux-$(node_arch)@$1 failed"
}
install_node() {
  node_new_enough "$(command -v node)" || install_node_version "$NODE_LTS"
  use_node
  node_new_enough "$(command -v node)" || die "no Node.js $NODE_MIN or newer after installing Node $NODE_LTS"
}
install_kit_nodes() {
  local v; for v in "${KIT_NODES[@]}"; do install_node_version "$v"; done
}

toolchain_env() {
  export PATH="$HOME/.cargo/bin:$PATH"
  use_node
  case "$(wasm_std_mode)" in
    debian) WASM_PATH="/usr/bin:$PATH" ;;
    rustup) WASM_PATH="$PATH" ;;
    *) die "no wasm32 standard library: run scripts/setup" ;;
  esac
  export WASM_PATH
  WASM_BINDGEN_BIN="$(command -v wasm-bindgen || true)"
  export WASM_BINDGEN_BIN
  export WASM_OPT_BIN="$CFS_ROOT/node_modules/binaryen/bin/wasm-opt"
  export ESBUILD_BIN="$CFS_ROOT/node_modules/esbuild/bin/esbuild"
  export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false
  export CHROMIUM_BIN NGINX_BIN TOMCAT_HOME LUCEE_JAR PHP_PSR_SO PYTHON_ENV NODE_HOME
}

# True when nothing scripts/dev needs is missing: building and running the Worker.
dev_complete() {
  [ -n "$(wasm_std_mode)" ] || return 1
  command -v wasm-bindgen >/dev/null 2>&1 &&
    wasm-bindgen --version 2>/dev/null | grep -qw -- "$(wasm_bindgen_version)" || return 1
  command -v worker-build >/dev/null 2>&1 &&
    worker-build --version 2>/dev/null | grep -qw -- "$WORKER_BUILD_VERSION" || return 1
  node_complete || return 1
  [ -x "$CFS_ROOT/node_modules/.bin/wrangler" ] &&
    [ ! "$CFS_ROOT/package-lock.json" -nt "$CFS_ROOT/node_modules/.package-lock.json" ]
}

# True when nothing the tests and the benchmark need is missing (the warm path: fast, quiet).
test_complete() {
  dev_complete || return 1
  [ -x "$CHROMIUM_BIN" ] || return 1
  [ -x "$NGINX_BIN" ] || return 1
  php_fpm_bin >/dev/null || return 1
  php_kit_tools_complete || return 1
  lucee_complete || return 1
  django_complete || return 1
  kit_nodes_complete || return 1
  command -v wrk >/dev/null 2>&1 || return 1
  real_apps_complete
}
