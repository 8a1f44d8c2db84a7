# shellcheck shell=bash
# A Lucee 7 on Debian's Tomcat 10 for `scripts/dev --lucee`, with a base of its own under
# target/lucee-dev/: the pinned Lucee jar (scripts/setup), Lucee's CFML servlet for *.cfm and
# *.cfc, www/lucee as the web root, and the ORIGIN_KILL_URL page taken from
# docs/guard-mode.md as written. Sourced after toolchain.sh; defines functions only.
# (The tests build the same kind of base in Rust: tests/common/lucee.rs.)

# Lays out the base for 127.0.0.1:PORT and prints its directory.
lucee_dev_base() { # port
  local port=$1 base="$CFS_ROOT/target/lucee-dev"
  mkdir -p "$base"/{conf,logs,temp,work,lib,app,webapps}
  cat >"$base/conf/server.xml" <<XML
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="$port" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
XML
  local f
  for f in web.xml catalina.properties logging.properties context.xml; do cp /etc/tomcat10/$f "$base/conf/"; done
  cp "$LUCEE_JAR" "$base/lib/lucee.jar"
  rm -rf "$base/webapps/ROOT" && cp -r "$CFS_ROOT/www/lucee" "$base/webapps/ROOT"
  mkdir -p "$base/webapps/ROOT/WEB-INF"
  cat >"$base/webapps/ROOT/WEB-INF/web.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0" metadata-complete="true">
  <servlet>
    <servlet-name>CFMLServlet</servlet-name>
    <servlet-class>lucee.loader.servlet.jakarta.CFMLServlet</servlet-class>
    <init-param><param-name>lucee-server-directory</param-name><param-value>$base/lucee-server</param-value></init-param>
    <init-param><param-name>lucee-web-directory</param-name><param-value>$base/lucee-web</param-value></init-param>
    <load-on-startup>1</load-on-startup>
  </servlet>
  <servlet-mapping>
    <servlet-name>CFMLServlet</servlet-name>
    <url-pattern>*.cfm</url-pattern>
    <url-pattern>*.cfc</url-pattern>
  </servlet-mapping>
  <welcome-file-list><welcome-file>index.cfm</welcome-file></welcome-file-list>
</web-app>
XML
  sed -n '/^```cfml$/,/^```$/p' "$CFS_ROOT/docs/guard-mode.md" | sed '1d;$d' >"$base/webapps/ROOT/kill.cfm"
  grep -q sessionInvalidate "$base/webapps/ROOT/kill.cfm" || die "no kill page in docs/guard-mode.md"
  printf '%s\n' "$base"
}

# Runs Tomcat with Lucee in the foreground (exec: the caller backgrounds it).
lucee_dev_run() { # base origin-key
  local base=$1
  APP_DIR="$base/app" EDGE_ORIGIN_KEY="$2" LUCEE_ADMIN_PASSWORD="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
    LUCEE_ENABLE_BUNDLE_DOWNLOAD=false CATALINA_HOME="$TOMCAT_HOME" CATALINA_BASE="$base" \
    CATALINA_TMPDIR="$base/temp" exec "$TOMCAT_HOME/bin/catalina.sh" run
}
