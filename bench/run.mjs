// The benchmark: every system behind its own `wrangler dev`, one after another, against the
// same origin with the same load generator (wrk) and settings. See docs/performance.md.
//
// Usage: node bench/run.mjs [--runs 3] [--duration 5] [--out bench/results]
//                           [--systems <substring or =name>,…] [--workloads reads,writes,new,kill,page,mixed]
//                           [--baseline <dir>] [--warmup 2] [--object-rtt 1,10,30]
//                           [--resume] [--attempts 3] [--kill <system>/<workload>[:times]]
// Every finished run of a cell is appended to <out>/latest.jsonl (latency.jsonl for
// --object-rtt) as it finishes; latest.json and latest.md are made from whatever finished,
// with missing cells marked, also after a failure or Ctrl-C. A run that fails (an instance
// that does not start or dies, a failed preparation, a wrk error) is retried on a fresh
// instance up to --attempts times, then recorded as failed with its reason, and the run goes
// on. --resume continues an interrupted run from the journal (same options), retrying the
// failed runs. --kill (a fault for testing this): the instance of that cell is killed 0.5 s
// after it starts, the first `times` times (default: every time).
// --baseline: a second checkout of this repository, built (`scripts/build` there), benchmarked
// as the systems "cfsession-edge (baseline)" and "cfsession-edge (baseline, guard mode)" in the
// same interleaved rounds: A/B a change
// against its parent, e.g. `git worktree add /tmp/base HEAD~1 && (cd /tmp/base && scripts/build)`.
// --object-rtt: the production latency model instead of the usual run. In production every
// call to a Durable Object is a network round trip (same location: about 1 ms; another region:
// tens of ms), which local `wrangler dev` does not have. With it, every object call of
// cfsession-edge (`TEST_FAULTS=object.call=delay:MS`) and of the Durable Object peers
// (`OBJECT_RTT_MS`) first waits MS, for each MS listed; the results go to latency.json and the
// "Latency model" table of latest.md.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/** A checkout's Worker configuration: `wrangler.toml`, or `wrangler.jsonc` in checkouts from 2026-12-02 to 2026-12-07. */
function baselineConfig(dir) {
  const jsonc = path.join(dir, "wrangler.jsonc");
  return fs.existsSync(jsonc) ? jsonc : path.join(dir, "wrangler.toml");
}

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const RUNS = Number(arg("runs", 3));
const DURATION = Number(arg("duration", 5));
// Each instance first serves its workload unmeasured for this long: a fresh isolate compiles
// and optimises its code (V8 tiers wasm and JS up in the background while the first requests
// run), a cost a long-lived production isolate pays once.
const WARMUP = Number(arg("warmup", 2));
const OUT = path.resolve(root, arg("out", "bench/results"));
const ONLY_SYSTEMS = arg("systems", "").split(",").filter(Boolean);
const ONLY_WORKLOADS = arg("workloads", "").split(",").filter(Boolean);
const BASELINE = arg("baseline", "");
const RTTS = arg("object-rtt", "").split(",").filter(Boolean).map(Number);
const RESUME = process.argv.includes("--resume");
const ATTEMPTS = Math.max(1, Number(arg("attempts", 3)));
const [KILL_CELL, KILL_TIMES] = (() => {
  const [cell, times] = arg("kill", "").split(":");
  return [cell, times === undefined ? Infinity : Number(times)];
})();
const SESSIONS = 1000;
const CONNECTIONS = 16;
const THREADS = 2;
const KEY = "bench-signing-key-0123456789abcdef0123456789abcdef";
const ADMIN = "bench-admin-token-0123456789abcdef0123456789abcdef";
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cfsession-bench-"));

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---- processes -------------------------------------------------------------------------

const children = new Set();
function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], ...opts });
  children.add(child);
  child.log = "";
  child.stdout.on("data", (d) => (child.log += d));
  child.stderr.on("data", (d) => (child.log += d));
  return child;
}
function stop(child) {
  // Signal the whole process group (kill(2) directly: never /usr/bin/kill, see docs/toolchain.md).
  if (child.pid > 1) {
    try { process.kill(-child.pid, "SIGTERM"); } catch {}
  }
  children.delete(child);
}
process.on("exit", () => children.forEach(stop));
// A stray rejection (a request still in flight to an instance that was stopped) must not end
// a 30-minute run: it is reported, and the cell it belonged to has already failed or finished.
process.on("unhandledRejection", (e) => process.stderr.write(`ignored: ${e?.message ?? e}\n`));

/** utime+stime (seconds) of every workerd process descended from `pid`, by process id. */
function workerdCpu(pid) {
  const procs = fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map((d) => {
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      return { pid: Number(d), ppid: Number(rest[1]), comm, cpu: (Number(rest[11]) + Number(rest[12])) / CLK_TCK };
    } catch {
      return null;
    }
  }).filter(Boolean);
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (tree.has(p.ppid) && !tree.has(p.pid)) { tree.add(p.pid); grew = true; }
  }
  return new Map(procs.filter((p) => tree.has(p.pid) && p.comm.startsWith("workerd")).map((p) => [p.pid, p.cpu]));
}

/**
 * CPU seconds the workerd processes used between two `workerdCpu` readings; `NaN` (the run
 * reports no CPU figure) when one of them exited in between, since its time is then lost.
 */
function cpuBetween(before, after) {
  let total = 0;
  for (const [pid, cpu] of after) total += cpu - (before.get(pid) ?? 0);
  return [...before.keys()].every((pid) => after.has(pid)) ? total : NaN;
}

// ---- systems ---------------------------------------------------------------------------

const origin = { port: await freePort() };
origin.proc = start("node", [path.join(root, "bench/origin.mjs"), String(origin.port)]);
const ORIGIN_URL = `http://127.0.0.1:${origin.port}`;
// Guard mode fronts an application that keeps its own sessions: the same origin, as a
// ColdFusion-style application setting its own CFID/CFTOKEN (bench/origin.mjs `guard`).
const guardOrigin = { port: await freePort() };
guardOrigin.proc = start("node", [path.join(root, "bench/origin.mjs"), String(guardOrigin.port), "guard"]);

const GUARD = "cfsession-edge (guard mode)";
// `ABUSE_LIMITS` off: every benchmark client is 127.0.0.1, and a load generator on one address
// is what the limits stop (the peers have no such limits either).
const cfsessionVars = (hits) => ({
  ORIGIN_URL, SESSION_SIGNING_KEY: KEY, ADMIN_TOKEN: ADMIN, COOKIE_SECURE: "false", SESSION_HITS: String(hits),
  ABUSE_LIMITS: "false",
});
const SYSTEMS = [
  { name: "cfsession-edge", config: path.join(root, "wrangler.toml"), vars: cfsessionVars(false), health: "/__session/health" },
  { name: "cfsession-edge (SESSION_HITS on)", config: path.join(root, "wrangler.toml"), vars: cfsessionVars(true),
    health: "/__session/health", only: ["reads"] },
  { name: GUARD, config: path.join(root, "wrangler.toml"), health: "/__session/health",
    vars: { ...cfsessionVars(false), ORIGIN_URL: `http://127.0.0.1:${guardOrigin.port}`, SESSION_MODE: "guard" } },
  { name: "cfsession-edge (SESSION_BYPASS off)", config: path.join(root, "wrangler.toml"),
    vars: { ...cfsessionVars(false), SESSION_BYPASS: "off" }, health: "/__session/health", only: ["page"] },
  ...(BASELINE ? [{ name: "cfsession-edge (baseline)", config: baselineConfig(path.resolve(BASELINE)),
    vars: cfsessionVars(false), health: "/__session/health" },
  { name: "cfsession-edge (baseline, guard mode)", config: baselineConfig(path.resolve(BASELINE)), health: "/__session/health",
    vars: { ...cfsessionVars(false), ORIGIN_URL: `http://127.0.0.1:${guardOrigin.port}`, SESSION_MODE: "guard" } }] : []),
  { name: "pass-through", config: path.join(root, "bench/workers/passthrough/wrangler.toml"), vars: { ORIGIN_URL } },
  { name: "hono-sessions", config: path.join(root, "bench/workers/hono-sessions/wrangler.toml"),
    vars: { ORIGIN_URL, SESSION_ENCRYPTION_KEY: KEY } },
  { name: "hand-written DO sessions", config: path.join(root, "bench/workers/do-sessions/wrangler.toml"), vars: { ORIGIN_URL } },
  { name: "floor (one DO read)", config: path.join(root, "bench/workers/floor/wrangler.toml"), vars: {}, only: ["reads", "new"] },
  { name: "RPC design floor (one DO RPC read + origin)", config: path.join(root, "bench/workers/floor-rpc/wrangler.toml"),
    vars: { ORIGIN_URL }, only: ["reads", "new", "page", "mixed"] },
];

// The latency model's systems: cfsession-edge and the peers whose calls go to Durable
// Objects, each at every round trip of --object-rtt, on the workloads those calls decide.
const LATENCY_WORKLOADS = ["reads", "writes", "new", "mixed"];
const byName = (name) => SYSTEMS.find((s) => s.name === name);
const LATENCY_SYSTEMS = RTTS.flatMap((ms) => [
  { ...byName("cfsession-edge"), vars: { ...cfsessionVars(false), TEST_FAULTS: `object.call=delay:${ms}` } },
  { ...byName("hand-written DO sessions"), vars: { ORIGIN_URL, OBJECT_RTT_MS: String(ms) } },
  { ...byName("RPC design floor (one DO RPC read + origin)"), vars: { ORIGIN_URL, OBJECT_RTT_MS: String(ms) } },
].map((sys) => ({
  ...sys, name: `${sys.name} @ ${ms} ms`, base: sys.name, rtt: ms,
  only: (sys.only ?? LATENCY_WORKLOADS).filter((w) => LATENCY_WORKLOADS.includes(w)),
})));

async function startSystem(sys) {
  const port = await freePort();
  const args = ["dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()),
    "--show-interactive-dev-session=false", "--persist-to", fs.mkdtempSync(path.join(tmp, "state-")), "-c", sys.config];
  for (const [k, v] of Object.entries(sys.vars)) args.push("--var", `${k}:${v}`);
  const proc = start(path.join(root, "node_modules/.bin/wrangler"), args, {
    cwd: root,
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    // An instance that exited (or a Ctrl-C that stopped it) will not start: fail at once.
    if (proc.exitCode !== null || proc.signalCode !== null || interrupted) break;
    try {
      const r = await fetch(base + (sys.health ?? "/"), { redirect: "manual" });
      if (r.status < 500) return { proc, base };
    } catch {}
    await sleep(200);
  }
  throw new Error(`${sys.name} did not start:\n${proc.log.slice(-2000)}`);
}

// ---- sessions and wrk scripts -------------------------------------------------------------

/** `name=value` pairs of every Set-Cookie of `resp`, as a Cookie header (deletions dropped). */
function cookiesOf(resp, jar = new Map()) {
  for (const sc of resp.headers.getSetCookie()) {
    const [pair] = sc.split(";");
    const i = pair.indexOf("=");
    const name = pair.slice(0, i).trim(), value = pair.slice(i + 1).trim();
    if (!value || /max-age=0/i.test(sc)) jar.delete(name);
    else jar.set(name, value);
  }
  return jar;
}
const header = (jar) => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");

/** `fetch` that retries a dropped connection a few times (the systems under load drop some). */
async function get(url, init) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(url, { redirect: "manual", ...init });
    } catch (e) {
      if (attempt >= 9) throw e;
      await sleep(200 * (attempt + 1));
    }
  }
}

/** SESSIONS returning visitors: each made two requests, so every system has stored it. The
 * first failure stops every other preparing request. */
async function prepareSessions(base) {
  const out = [];
  let failed = false;
  const one = async () => {
    if (failed) return;
    const jar = cookiesOf(await get(base + "/"));
    // The floor sets no cookie: give it a session name of its own, as a returning visitor has.
    if (!jar.size) jar.set("sid", crypto.randomUUID());
    cookiesOf(await get(base + "/", { headers: { cookie: header(jar) } }), jar);
    out.push(header(jar));
  };
  const queue = Array.from({ length: SESSIONS }, () => one);
  const worker = async () => {
    try {
      while (queue.length && !failed) await queue.pop()();
    } catch (e) {
      failed = true;
      throw e;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return out;
}

const lua = (s) => JSON.stringify(s).replace(/\\u/g, "\\\\u");
function wrkScript(workload, cookies) {
  const file = path.join(tmp, `${workload}.lua`);
  const pool = cookies ? `local pool = {${cookies.map(lua).join(",\n")}}\n` : "";
  const scripts = {
    reads: `${pool}request = function() return wrk.format("GET", "/", {["Cookie"] = pool[math.random(#pool)]}) end`,
    writes: `${pool}request = function() return wrk.format("GET", "/write", {["Cookie"] = pool[math.random(#pool)]}) end`,
    new: `request = function() return wrk.format("GET", "/") end`,
    // A page as a browser loads it: one HTML request (10% of them write the session), then
    // 15 assets (.css, .js, .png, .woff2) with the same cookies.
    page: `${pool}local assets = {"/s/site.css", "/s/app.js", "/s/vendor.js", "/i/logo.png", "/f/body.woff2",
  "/s/print.css", "/s/widgets.js", "/i/hero.png", "/i/icon-1.png", "/i/icon-2.png", "/i/icon-3.png",
  "/f/head.woff2", "/s/theme.css", "/s/track.js", "/i/footer.png"}
local step, cookie = 0, nil
request = function()
  local r
  if step == 0 then
    cookie = pool[math.random(#pool)]
    r = wrk.format("GET", math.random(10) == 1 and "/write" or "/", {["Cookie"] = cookie})
  else
    r = wrk.format("GET", assets[step], {["Cookie"] = cookie})
  end
  step = (step + 1) % 16
  return r
end`,
    // 85% returning visitors reading, 10% writing, 5% new visitors.
    mixed: `${pool}request = function()
  local x = math.random(100)
  if x <= 5 then return wrk.format("GET", "/") end
  return wrk.format("GET", x <= 15 and "/write" or "/", {["Cookie"] = pool[math.random(#pool)]})
end`,
    // One connection per thread: visit (new), visit (stored), kill, then again with no cookie.
    kill: `local step, cookie = 0, nil
request = function()
  if step == 0 then return wrk.format("GET", "/") end
  if step == 1 then return wrk.format("GET", "/", {["Cookie"] = cookie}) end
  return wrk.format("GET", "/?killSession", {["Cookie"] = cookie})
end
response = function(status, headers, body)
  if step == 0 then
    local jar = {}
    for k, v in pairs(headers) do
      if string.lower(k) == "set-cookie" then
        for line in string.gmatch(v .. "\\n", "([^\\n]*)\\n") do
          local pair = string.match(line, "^([^;]+)")
          if pair and not string.match(pair, "=$") then table.insert(jar, pair) end
        end
      end
    end
    cookie = table.concat(jar, "; ")
  end
  step = (step + 1) % 3
end`,
  };
  fs.writeFileSync(file, scripts[workload]);
  return file;
}

const toMs = (s) => {
  const m = /([\d.]+)(us|ms|s)/.exec(s);
  return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : NaN;
};

function runWrk(base, script, workload, seconds = DURATION) {
  // One connection per thread for `kill` and for the latency model (whose latencies are then
  // the request path's own, not time spent queued behind other requests on a busy machine).
  const conns = workload === "kill" || RTTS.length ? THREADS : CONNECTIONS;
  const out = execFileSync("wrk", ["-t", String(THREADS), "-c", String(conns), "-d", `${seconds}s`, "--latency", "-s", script, base],
    { encoding: "utf8" });
  const num = (re) => Number((re.exec(out) ?? [])[1]);
  const r = {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    p50: toMs((/^\s+50%\s+(\S+)/m.exec(out) ?? [])[1] ?? ""),
    p99: toMs((/^\s+99%\s+(\S+)/m.exec(out) ?? [])[1] ?? ""),
    errors: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    socketErrors: num(/Socket errors: connect (\d+)/) || 0,
  };
  if (!(r.requests > 0) || !(r.rps > 0)) throw new Error(`wrk made no requests:\n${out.slice(-500)}`);
  return r;
}

/** Session-record writes of cfsession-edge: the sum of each session's `writes` counter. */
async function cfsessionWrites(base, cookies) {
  let total = 0;
  for (const c of cookies) {
    const cfid = /(?:CFID|CFGUARD)=([0-9a-f]{32})/.exec(c)?.[1];
    const r = await get(`${base}/__session/admin/api/sessions/${cfid}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    if (r.ok) total += (await r.json()).writes;
  }
  return total;
}

// ---- the run ---------------------------------------------------------------------------

const WORKLOADS = ["reads", "writes", "new", "kill", "page", "mixed"];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// `--systems` entries match names by substring, or exactly with a leading `=`.
const picked = (name) => ONLY_SYSTEMS.some((o) => (o.startsWith("=") ? name === o.slice(1) : name.includes(o)));
const chosen = (RTTS.length ? LATENCY_SYSTEMS : SYSTEMS).filter((s) => !ONLY_SYSTEMS.length || picked(s.name));
const cells = chosen.flatMap((sys) =>
  WORKLOADS.filter((w) => (!sys.only || sys.only.includes(w)) && (!ONLY_WORKLOADS.length || ONLY_WORKLOADS.includes(w)))
    .map((workload) => ({ sys, workload, runs: [] })),
);
// ---- the journal: every finished run, appended as it finishes --------------------------------

const JOURNAL = path.join(OUT, RTTS.length ? "latency.jsonl" : "latest.jsonl");
const cellKey = (system, workload) => `${system} / ${workload}`;
/** Journal records of an earlier, interrupted run (`--resume`), else a new journal. */
const journal = (() => {
  fs.mkdirSync(OUT, { recursive: true });
  if (!RESUME || !fs.existsSync(JOURNAL)) {
    fs.writeFileSync(JOURNAL, "");
    return [];
  }
  return fs.readFileSync(JOURNAL, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
})();
function record(entry) {
  journal.push(entry);
  fs.appendFileSync(JOURNAL, JSON.stringify(entry) + "\n");
}
const done = (cell, run) =>
  journal.some((e) => e.type === "run" && e.system === cell.sys.name && e.workload === cell.workload && e.run === run);

// Run by run, every cell once per round: the machine's speed drifts over a long run, and
// interleaving spreads that drift over all systems instead of favouring the later ones.
let interrupted = false;
process.on("SIGINT", () => {
  interrupted = true;
  children.forEach(stop);
});
const kills = new Map();
for (let run = 0; run < RUNS && !interrupted; run++) {
  for (const cell of cells) {
    if (interrupted) break;
    if (done(cell, run)) continue;
    const name = cellKey(cell.sys.name, cell.workload);
    let r, reason;
    for (let attempt = 1; !r && attempt <= ATTEMPTS && !interrupted; attempt++) {
      try {
        r = await measure(cell.sys, cell.workload);
      } catch (e) {
        reason = String(e?.message ?? e).split("\n")[0];
        const next = attempt < ATTEMPTS ? "retrying on a fresh instance" : `recorded as failed after ${ATTEMPTS} attempts`;
        process.stderr.write(`${name} / run ${run + 1}: ${reason}; ${next}\n`);
      }
    }
    if (r) {
      record({ type: "run", system: cell.sys.name, workload: cell.workload, run, result: r });
      process.stderr.write(`${name} / run ${run + 1}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms\n`);
    } else if (!interrupted) {
      record({ type: "failed", system: cell.sys.name, workload: cell.workload, run, attempts: ATTEMPTS, reason });
    }
  }
}

/** Whether the instance answers `url` (three tries: a kept-alive connection the server
 * closed in the meantime fails once without saying anything about the instance). */
async function alive(url) {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const r = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(5000) });
      return r.status < 500;
    } catch {
      await sleep(300);
    }
  }
  return false;
}

/** One measurement of one cell, on a fresh instance with fresh state. */
async function measure(sys, workload) {
  const { proc, base } = await startSystem(sys);
  const name = cellKey(sys.name, workload);
  if (KILL_CELL && name.includes(KILL_CELL.replace("/", " / ")) && (kills.get(name) ?? 0) < KILL_TIMES) {
    kills.set(name, (kills.get(name) ?? 0) + 1);
    // A separate process: wrk blocks this one's event loop while it runs.
    spawn("sh", ["-c", `sleep 0.5; kill -KILL -${proc.pid}`], { stdio: "ignore", detached: true }).unref();
  }
  try {
    const cookies = ["reads", "writes", "page", "mixed"].includes(workload) ? await prepareSessions(base) : null;
    const script = wrkScript(workload, cookies);
    if (WARMUP > 0) runWrk(base, script, workload, WARMUP);
    const isCf = sys.name.startsWith("cfsession");
    const writesBefore = isCf && cookies ? await cfsessionWrites(base, cookies) : null;
    const cpuBefore = workerdCpu(proc.pid);
    const r = runWrk(base, script, workload);
    r.cpuPer1000 = (cpuBetween(cpuBefore, workerdCpu(proc.pid)) / r.requests) * 1000;
    // An instance that died during the run answered part of it only.
    if (!(await alive(base + (sys.health ?? "/")))) throw new Error("the instance died during the run");
    if (writesBefore !== null) r.writesPerRequest = ((await cfsessionWrites(base, cookies)) - writesBefore) / r.requests;
    return r;
  } finally {
    stop(proc);
    await sleep(500);
  }
}
// Every cell, from the journal: its finished runs, and why the others failed or are missing.
const results = cells.map(({ sys, workload }) => {
  const mine = journal.filter((e) => e.system === sys.name && e.workload === workload);
  const runs = mine.filter((e) => e.type === "run").sort((a, b) => a.run - b.run).map((e) => e.result);
  const succeeded = new Set(mine.filter((e) => e.type === "run").map((e) => e.run));
  const failed = mine.filter((e) => e.type === "failed" && !succeeded.has(e.run)).map(({ run, attempts, reason }) => ({ run, attempts, reason }));
  const pick = (k) => runs.map((r) => r[k]).filter((v) => v !== undefined && !Number.isNaN(v));
  const summary = {};
  for (const k of ["rps", "p50", "p99", "cpuPer1000", "writesPerRequest", "errors"]) {
    const xs = pick(k);
    if (xs.length) summary[k] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
  }
  return {
    system: sys.name, workload, runs, planned: RUNS, failed, summary,
    ...(sys.rtt !== undefined ? { base: sys.base, rtt: sys.rtt } : {}),
  };
});

/** The release wasm as `wrangler deploy --dry-run` would upload it. */
function wasmSize() {
  const dir = fs.mkdtempSync(path.join(tmp, "dry-"));
  execFileSync(path.join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", dir], {
    cwd: root, stdio: "ignore", env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  const wasm = fs.readdirSync(dir).find((f) => f.endsWith(".wasm"));
  const raw = fs.statSync(path.join(dir, wasm)).size;
  const gzip = execFileSync("gzip", ["-9", "-c", path.join(dir, wasm)]).length;
  return { raw, gzip };
}

const meta = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  runs: RUNS, durationSeconds: DURATION, connections: CONNECTIONS, threads: THREADS, sessions: SESSIONS,
  wrk: spawnSync("wrk", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0].trim(), // exits 1 by design
  // (Only when cfsession-edge ran: measuring builds it.)
  wasm: (() => {
    if (!chosen.some((s) => s.config === path.join(root, "wrangler.toml"))) return { error: "cfsession-edge was not run" };
    try {
      return wasmSize();
    } catch (e) {
      return { error: String(e?.message ?? e).split("\n")[0] };
    }
  })(),
  ...(interrupted ? { note: "interrupted: the missing runs are marked" } : {}),
};
const written = RTTS.length ? "latency.json" : "latest.json";
fs.writeFileSync(path.join(OUT, written), JSON.stringify({ meta, results }, null, 2) + "\n");
// latest.md shows the last usual run and the last latency-model run, whichever was just made.
const read = (f) => (fs.existsSync(path.join(OUT, f)) ? JSON.parse(fs.readFileSync(path.join(OUT, f), "utf8")) : null);
const usual = read("latest.json");
if (usual) fs.writeFileSync(path.join(OUT, "latest.md"), (await import("./report.mjs")).report(usual, read("latency.json")));
const failures = results.reduce((n, r) => n + r.failed.length, 0);
const missing = results.reduce((n, r) => n + r.planned - r.runs.length, 0);
console.log(`wrote ${path.relative(root, OUT)}/${written}${usual ? " and latest.md" : ""}: ` +
  `${results.reduce((n, r) => n + r.runs.length, 0)} runs measured, ${failures} failed, ${missing - failures} not run`);
stop(origin.proc);
stop(guardOrigin.proc);
process.exit(interrupted ? 130 : 0);
