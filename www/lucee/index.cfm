<cfscript>
session.hits++;
ended = fileExists(server.system.environment.APP_DIR & "/demo/ended.log")
    ? listToArray(fileRead(server.system.environment.APP_DIR & "/demo/ended.log"), chr(10)) : [];
temps = directoryList(server.system.environment.APP_DIR & "/demo/temp", false, "name");
</cfscript><!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lucee application (guard mode)</title>
<link rel="icon" href="data:,">
<style>
 body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
 h1{font-size:1.5rem} code{word-break:break-all} .muted{color:#667} nav a{margin-right:1rem}
</style></head>
<body><cfoutput>
<h1>A Lucee #encodeForHTML(server.lucee.version)# application, guarded at the edge</h1>
<p class="muted">This application keeps its own session (this.sessionManagement = true): Lucee's own
cfid/cftoken cookies, hit count, timeout and onSessionEnd. The edge binds those cookies to this
browser, ends sessions on request (calling Lucee's sessionInvalidate() through ORIGIN_KILL_URL),
enforces its own timeouts and lists them on the dashboard.</p>
<p>Application session CFID: <code id="app-cfid">#encodeForHTML(session.cfid)#</code></p>
<p>Hit Count (session.hits, kept by Lucee): <strong id="app-hits">#session.hits#</strong>
  (<a id="refresh" href="./">Refresh</a>)</p>
<nav><a id="end-session" href="./?killSession">End Session</a>
  <a href="/__session/admin/">Dashboard</a></nav>
<h2>Per-session temp files (onSessionStart writes one, onSessionEnd deletes it)</h2>
<ul id="temp-files"><cfloop array="#temps#" item="t"><li><code>#encodeForHTML(t)#</code></li></cfloop></ul>
<h2>onSessionEnd log</h2>
<ul id="ended-log"><cfif arrayIsEmpty(ended)><li class="muted">none yet</li></cfif><cfloop array="#ended#" item="l"><li><code>#encodeForHTML(l)#</code></li></cfloop></ul>
</cfoutput></body></html>
