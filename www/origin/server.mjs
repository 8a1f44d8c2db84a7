// The demo origin: a small site behind cfsession-edge, modelled on the ColdFusion seeds'
// index.cfm (hit count, session id, Refresh, End Session). It keeps no session state itself:
// everything it knows about the session arrives in the X-Session-* headers from the edge.
//
// It also receives the edge's lifecycle hooks, like an Application.cfc with onSessionStart and
// onSessionEnd: the start hook creates a per-session temp file (the seeds' stamp images), the
// end hook deletes it and appends "ENDED: <CFID> (<reason>)" to the log shown on the page
// (the seeds' log.cfm). Files are named by the event's `session` (the session's stable key: a
// login rotates the CFID, not the session). With CFS_ORIGIN_KEY set (scripts/origin-key
// prints it), it checks every request as a real origin must (docs/deploy.md): pages only with
// the edge's valid X-Session-Signature (otherwise a 403 page saying so), hooks only signed.
//
// With --guard it is instead an unmodified ColdFusion-style application that keeps its own
// sessions (for the edge's guard mode): it issues its own CFID (a number) and CFTOKEN (8
// digits) cookies, keeps each session's hit count in memory, ends idle sessions after its own
// timeout (CFS_DEMO_TIMEOUT seconds, default 1800), and logs "onSessionEnd: <CFID> (<reason>)".
// The edge calls its /kill-session page (ORIGIN_KILL_URL) to end a session at once.
//
// Usage: node www/origin/server.mjs [port] [--guard]   (default 8788; binds 127.0.0.1 only)
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { originApi, verifyHook, verifyRequest } from "../../kits/node/edge-session.mjs";

const args = process.argv.slice(2);
const guard = args.includes("--guard");
const port = Number(args.find((a) => /^\d+$/.test(a)) ?? process.env.PORT ?? 8788);
const appTimeoutMs = Number(process.env.CFS_DEMO_TIMEOUT ?? 1800) * 1000;
const originKey = process.env.CFS_ORIGIN_KEY ?? "";
const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "cfsession-demo-"));
const ended = []; // newest first, like log.cfm

// Signatures are verified with the Node kit (the demo without a key trusts its loopback caller).
const hookSignatureOk = (req, body) => !originKey || verifyHook(originKey, req.headers, body);
const requestSignatureOk = (req) => !originKey || verifyRequest(req, originKey);

/** The temp file of the session whose stable key is `session` (hooks' `session` field). */
const tempFile = (session) => path.join(tempDir, `${String(session).replace(/[^0-9a-f]/g, "")}.txt`);

function hook(req, res, body) {
  if (!hookSignatureOk(req, body)) {
    res.writeHead(401).end("bad signature");
    return;
  }
  const event = JSON.parse(body);
  if (req.url === "/hooks/session-start") {
    fs.writeFileSync(tempFile(event.session), `temp file of session ${event.session}\n`);
  } else {
    fs.rmSync(tempFile(event.session), { force: true });
    ended.unshift(`ENDED: ${event.cfid} (${event.reason})`);
    ended.length = Math.min(ended.length, 50);
  }
  res.writeHead(204).end();
}

const escape = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// The session variables arrive as unpadded base64url JSON in X-Session-Data.
function sessionData(req) {
  try {
    return JSON.parse(Buffer.from(req.headers["x-session-data"] ?? "e30", "base64url").toString("utf8"));
  } catch {
    return {};
  }
}

// "Your sessions": the origin API lists and ends the sessions of this session's user.
async function yourSessions(req) {
  const id = req.headers["x-session-id"];
  if (!originKey || !id) return { items: [], note: "needs CFS_ORIGIN_KEY and a session" };
  // A new session is stored by its second request (or when the site changes it): until then
  // the edge has nothing to list.
  if (req.headers["x-session-new"] === "true") return { items: [], note: "This session is new: the list starts with your next request." };
  const edgeUrl = `${req.headers["x-forwarded-proto"] ?? "http"}://${req.headers["x-forwarded-host"] ?? req.headers.host}`;
  const params = new URL(req.url, "http://origin").searchParams;
  try {
    let note = "";
    if (params.has("end-others")) note = `Ended ${(await originApi(edgeUrl, originKey, id, "POST", "sessions/end-others")).ended.length} other session(s).`;
    const list = await originApi(edgeUrl, originKey, id, "GET", "sessions");
    return { ...list, note };
  } catch (e) {
    return { items: [], note: e.message };
  }
}

function sessionsSection(mine) {
  const rows = mine.items.map((s) => `<tr><td><code>${escape(s.id)}</code>${s.current ? " <strong>(this one)</strong>" : ""}</td>
    <td>${escape(new Date(s.created).toLocaleString())}</td><td>${escape(new Date(s.last_access).toLocaleString())}</td>
    <td>${escape([s.client?.user_agent, s.client?.country].filter(Boolean).join(" · "))}</td></tr>`).join("");
  return `<h2>Your sessions</h2>
<p>${mine.user ? `Logged in as <strong id="user">${escape(mine.user)}</strong>.` : `Not logged in (<a id="login" href="/?login=demo-user">log in as demo-user</a>; log in from a second browser to see both).`}
 <a id="end-others" href="/?end-others=1">End all other sessions</a></p>
<p class="muted" id="sessions-note">${escape(mine.note ?? "")}</p>
<table id="your-sessions"><tr><th>CFID</th><th>Started</th><th>Last request</th><th>Client</th></tr>${rows}</table>`;
}

function page(req, data, mine) {
  const h = req.headers;
  const sessionId = h["x-session-id"];
  const hits = h["x-session-hits"];
  const color = data.color ?? "none yet";
  const received = Object.entries(h)
    .filter(([k]) => k.startsWith("x-session-") || k.startsWith("x-forwarded-"))
    .map(([k, v]) => `<tr><th>${escape(k)}</th><td><code>${escape(v)}</code></td></tr>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cfsession-edge demo</title>
<link rel="icon" href="data:,">
<style>
 body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
 h1{font-size:1.5rem} table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e3e6ec;vertical-align:top}
 th{width:14rem;font-weight:600} code{word-break:break-all} .muted{color:#667}
 nav a{margin-right:1rem}
</style></head>
<body>
<h1>Explicitly Ending Sessions, at the edge</h1>
<p>Hit Count: <strong id="hits">${hits === undefined ? "n/a" : escape(hits)}</strong> (<a id="refresh" href="/">Refresh</a>)</p>
<p>CFID: <code id="cfid">${sessionId === undefined ? "none (no session header received)" : escape(sessionId)}</code></p>
<p class="muted">CFTOKEN is the secret half of the session: the edge never sends it to the origin.</p>
<p>session.color: <strong id="color">${escape(color)}</strong>
  (set it to <a id="set-red" href="/?color=red">red</a> or <a id="set-green" href="/?color=green">green</a>)</p>
<nav><a id="end-session" href="/?killSession">End Session</a></nav>
${sessionsSection(mine)}
<h2>Per-session temp files</h2>
<p>The start hook creates one per stored session; the end hook deletes it (kills and timeouts alike).
Live: <strong id="temp-files">${fs.readdirSync(tempDir).length}</strong></p>
<h2>Ended sessions (log.cfm)</h2>
<ul id="ended-log">${ended.map((l) => `<li><code>${escape(l)}</code></li>`).join("") || '<li class="muted">none yet</li>'}</ul>
<h2>What this origin received</h2>
<table id="received">${received || '<tr><td class="muted">no X-Session-* or X-Forwarded-* headers</td></tr>'}</table>
</body></html>
`;
}

function notThroughTheEdge() {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not through the edge</title><link rel="icon" href="data:,"></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem">
<h1>403: this request did not come through the edge</h1>
<p>This origin serves only requests that carry the edge's valid <code>X-Session-Signature</code>, as
every origin behind cfsession-edge should (docs/deploy.md). Open the site through the edge instead
(<code>scripts/dev</code> printed its URL, by default <a href="http://127.0.0.1:8787/">http://127.0.0.1:8787/</a>).</p>
<p>If you did come through the edge, the origin key this origin holds does not match the edge's
signing key (<code>scripts/origin-key --dev</code>), or this machine's clock is more than 300 s off.</p>
</body></html>
`;
}

// --- Guard mode: the application's own sessions, ColdFusion style -------------------------
const appSessions = new Map(); // "CFID:CFTOKEN" -> { cfid, hits, last }
let nextCfid = 1000;

const cookiesOf = (req) =>
  Object.fromEntries((req.headers.cookie ?? "").split(";").map((p) => p.trim().split("=")).filter((p) => p.length === 2)
    .map(([k, v]) => [k.toUpperCase(), v]));

function onSessionEnd(key, reason) {
  const s = appSessions.get(key);
  if (!s) return;
  appSessions.delete(key);
  ended.unshift(`onSessionEnd: ${s.cfid} (${reason})`);
  ended.length = Math.min(ended.length, 50);
}

function appSession(req, res) {
  for (const [key, s] of appSessions) if (Date.now() - s.last >= appTimeoutMs) onSessionEnd(key, "timeout");
  const c = cookiesOf(req);
  const key = `${c.CFID}:${c.CFTOKEN}`;
  let s = appSessions.get(key);
  if (!s) {
    // Since APSB11-04: a pair that names no live session gets a new pair.
    const cfid = String(nextCfid++);
    const cftoken = String(crypto.randomInt(10_000_000, 100_000_000));
    s = { cfid, hits: 0, last: Date.now() };
    appSessions.set(`${cfid}:${cftoken}`, s);
    const persistent = "Path=/; Expires=Sun, 06 Nov 2055 08:49:37 GMT; HttpOnly";
    res.setHeader("set-cookie", [`CFID=${cfid}; ${persistent}`, `CFTOKEN=${cftoken}; ${persistent}`]);
  }
  s.hits += 1;
  s.last = Date.now();
  return s;
}

function killSession(req, res, body) {
  if (!hookSignatureOk(req, body)) {
    res.writeHead(401).end("bad signature");
    return;
  }
  const c = cookiesOf(req);
  onSessionEnd(`${c.CFID}:${c.CFTOKEN}`, `killed at the edge: ${JSON.parse(body).reason}`); // sessionInvalidate()
  res.writeHead(204).end();
}

function guardPage(s) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ColdFusion-style application (guard mode)</title>
<link rel="icon" href="data:,">
<style>
 body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
 h1{font-size:1.5rem} code{word-break:break-all} .muted{color:#667} nav a{margin-right:1rem}
</style></head>
<body>
<h1>An unmodified application, guarded at the edge</h1>
<p class="muted">This application keeps its own session (sessionManagement on): its own CFID/CFTOKEN
cookies, hit count and timeout. The edge binds those cookies to this browser, ends sessions on
request, enforces its own timeouts and lists them on the dashboard.</p>
<p>Application session CFID: <code id="app-cfid">${escape(s.cfid)}</code></p>
<p>Hit Count (session.hits, kept by the application): <strong id="app-hits">${s.hits}</strong>
  (<a id="refresh" href="/">Refresh</a>)</p>
<nav><a id="end-session" href="/?killSession">End Session</a></nav>
<h2>onSessionEnd log</h2>
<ul id="ended-log">${ended.map((l) => `<li><code>${escape(l)}</code></li>`).join("") || '<li class="muted">none yet</li>'}</ul>
</body></html>
`;
}

const server = http.createServer((req, res) => {
  res.setHeader("cache-control", "no-store");
  if (guard && req.method === "POST" && req.url === "/kill-session") {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => killSession(req, res, body));
    return;
  }
  if (req.method === "POST" && req.url.startsWith("/hooks/")) {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => hook(req, res, body));
    return;
  }
  if (req.url === "/favicon.ico") {
    res.writeHead(204).end();
    return;
  }
  if (guard) {
    const s = appSession(req, res);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(guardPage(s));
    return;
  }
  if (!requestSignatureOk(req)) {
    res.writeHead(403, { "content-type": "text/html; charset=utf-8" });
    res.end(notThroughTheEdge());
    return;
  }
  const data = sessionData(req);
  const params = new URL(req.url, "http://origin").searchParams;
  if (params.get("login") === "demo-user") {
    // The edge tags (and rotates) the session after this answer: show the result on the next page.
    res.writeHead(303, { "X-Session-User": "demo-user", location: "/" }).end();
    return;
  }
  const color = params.get("color");
  if (color === "red" || color === "green") {
    // Ask the edge to store it in the session (applied after this response).
    res.setHeader("X-Session-Set", JSON.stringify({ color }));
    data.color = color;
  }
  yourSessions(req).then((mine) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(page(req, data, mine));
  });
});

server.listen(port, "127.0.0.1", () => {
  console.log(`demo origin${guard ? " (guard mode: its own sessions)" : ""} listening on http://127.0.0.1:${port}`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));
