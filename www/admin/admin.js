// The cfsession-edge admin dashboard: lists live sessions (sortable, refreshing, filtered by
// user, exported as CSV, each openable in a detail view), kills one or all of a user's, shows
// the application, the ended-session log and charts of the last 24 hours (api/history). It talks only to the
// admin API next to it (<prefix>api/), with the token typed once and kept in sessionStorage.
"use strict";

const API = new URL("api/", location.href.replace(/[?#].*$/, "").replace(/[^/]*$/, ""));
const TOKEN_KEY = "cfsession-admin-token";
const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

let sort = { key: "last_access", dir: "desc" };
let rows = [];
let timer = null;

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const resp = await fetch(new URL(path, API), {
    ...options,
    headers: { Authorization: `Bearer ${token}`, ...(options.headers ?? {}) },
  });
  if (resp.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("That token was refused.");
    throw new Error("unauthorized");
  }
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body.error ?? `HTTP ${resp.status}`);
  return body;
}

const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : "");
const dateTime = (ms) => (ms ? new Date(ms).toLocaleString() : "");
const plural = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

function render() {
  const tbody = document.querySelector("#sessions tbody");
  const sorted = [...rows].sort((a, b) => {
    const x = a[sort.key] ?? "", y = b[sort.key] ?? "";
    const c = x < y ? -1 : x > y ? 1 : 0;
    return sort.dir === "asc" ? c : -c;
  });
  // A refresh replaces the rows: keep the keyboard's place (the focused row's button).
  const focusedRow = document.activeElement?.closest?.("#sessions tbody tr");
  const refocus = focusedRow && `tr[data-cfid="${focusedRow.dataset.cfid}"] button.${document.activeElement.classList.contains("kill") ? "kill" : "open"}`;
  tbody.replaceChildren(...sorted.map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.cfid = s.cfid;
    const id = document.createElement("td");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link open";
    open.textContent = s.cfid;
    open.title = "Show this session";
    open.addEventListener("click", () => showDetail(s.cfid));
    id.append(open);
    const kill = document.createElement("button");
    kill.className = "kill";
    kill.type = "button";
    kill.textContent = "Kill";
    kill.setAttribute("aria-label", `Kill session ${s.cfid}`);
    kill.addEventListener("click", () => killSession(s.cfid, kill));
    const action = document.createElement("td");
    action.append(kill);
    tr.append(id, cell(s.user ?? "—"), cell(time(s.created)), cell(time(s.last_access)), cell(String(s.hits), "num"),
      cell(time(s.expires_at)), action);
    return tr;
  }));
  if (refocus) tbody.querySelector(refocus)?.focus();
  $("empty").hidden = rows.length > 0;
  // The open detail of a session that is no longer listed says so (killed elsewhere, expired).
  if (!$("detail").hidden && !userFilter && !rows.some((r) => r.cfid === $("detail-cfid").textContent)) {
    $("detail-ended").hidden = false;
  }
  for (const th of document.querySelectorAll("#sessions th[data-key]")) {
    if (th.dataset.key === sort.key) th.dataset.sort = sort.dir;
    else delete th.dataset.sort;
  }
}

async function loadSessions() {
  if (userFilter) {
    const page = await api(`sessions?user=${encodeURIComponent(userFilter)}`);
    rows = page.items;
    $("total").textContent = String(page.total);
    $("shown").textContent = `of user ${userFilter}`;
    render();
    return;
  }
  const all = [];
  let cursor = null, total = 0;
  do {
    const page = await api(`sessions?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    all.push(...page.items);
    total = page.total;
    cursor = page.cursor;
  } while (cursor && all.length < 5000);
  rows = all;
  $("total").textContent = String(total);
  $("shown").textContent = all.length < total ? `(showing ${all.length})` : "";
  render();
}

async function loadApplication() {
  try {
    const app = await api("application");
    $("app-name").textContent = app.name;
    $("app-started").textContent = dateTime(app.started_at);
    $("app-generation").textContent = String(app.generation);
    $("app").hidden = false;
  } catch (e) {
    if (e.message !== "unauthorized") $("app").hidden = true;
  }
}

async function loadEnded() {
  const { items } = await api("ended?limit=30");
  $("ended").replaceChildren(...(items.length ? items : [null]).map((e) => {
    const li = document.createElement("li");
    if (!e) {
      li.className = "muted";
      li.textContent = "none yet";
    } else {
      li.textContent = `${time(e.at)}  ENDED: ${e.cfid} (${e.reason})${e.user ? ` · ${e.user}` : ""}`;
    }
    return li;
  }));
}

async function refresh() {
  try {
    await Promise.all([loadSessions(), loadApplication(), loadEnded(), loadHistory()]);
    $("refreshed").textContent = `live · refreshed ${new Date().toLocaleTimeString()}`;
    $("status").textContent = "";
  } catch (e) {
    if (e.message !== "unauthorized") $("status").textContent = `Could not refresh: ${e.message}`;
  }
}

async function killSession(cfid, button) {
  if (!confirm(`Kill session ${cfid}? Its browser starts over with a new session.`)) return;
  button.disabled = true;
  try {
    await api(`sessions/${cfid}`, { method: "DELETE" });
    if ($("detail-cfid").textContent === cfid) $("detail").hidden = true;
  } catch (e) {
    $("status").textContent = `Could not kill ${cfid}: ${e.message}`;
  }
  await refresh();
}

function showLogin(message) {
  clearInterval(timer);
  $("app").hidden = true;
  $("dashboard").hidden = true;
  $("login").hidden = false;
  $("status").textContent = message ?? "";
  $("token").focus();
}

function showDashboard() {
  $("login").hidden = true;
  $("dashboard").hidden = false;
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, REFRESH_MS);
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = "";
  showDashboard();
});

$("user-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const user = $("user-id").value.trim();
  if (!confirm(`End every session of user ${user}?`)) return;
  try {
    const r = await api(`users/${encodeURIComponent(user)}/sessions`, { method: "DELETE" });
    $("user-result").textContent = `Ended ${r.ended.length} session(s) of ${user}.`;
  } catch (e) {
    $("user-result").textContent = `Could not log ${user} out: ${e.message}`;
  }
  refresh();
});

$("app-stop").addEventListener("click", async () => {
  if (!confirm("Restart the application? Sessions stay alive.")) return;
  await api("application/stop", { method: "POST" }).catch((e) => ($("status").textContent = e.message));
  refresh();
});

for (const th of document.querySelectorAll("#sessions th[data-key]")) {
  th.querySelector("button.sort").addEventListener("click", () => {
    sort = { key: th.dataset.key, dir: sort.key === th.dataset.key && sort.dir === "desc" ? "asc" : "desc" };
    render();
  });
}

// --- History: per-minute counts kept by the application object (api/history) ------------
const COLORS = ["#2f5fd0", "#c23b32", "#2f9e6e", "#d08a2f", "#8a4fd0", "#4fa3d0", "#7a7f8c", "#d04f9a"];
let rangeMinutes = 60;
let userFilter = "";

const svgEl = (name, attrs) => {
  const el = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
};

/** Draws `series` ([{name, values}]) as lines over `n` minutes into the SVG `id`. */
function drawChart(id, series, legendId) {
  const svg = $(id);
  const W = 360, H = 120, L = 28, B = 14;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const n = series[0]?.values.length ?? 0;
  const x = (i) => L + (n <= 1 ? 0 : (i * (W - L - 4)) / (n - 1));
  const y = (v) => H - B - (v * (H - B - 6)) / max;
  const parts = [
    svgEl("line", { class: "axis", x1: L, y1: H - B, x2: W, y2: H - B }),
    svgEl("line", { class: "axis", x1: L, y1: 4, x2: L, y2: H - B }),
  ];
  const label = (text, attrs) => Object.assign(svgEl("text", attrs), { textContent: text });
  parts.push(label(String(max), { x: 2, y: 12 }), label("0", { x: 2, y: H - B }));
  parts.push(label(`-${n} min`, { x: L, y: H - 2 }), label("now", { x: W - 20, y: H - 2 }));
  series.forEach((s, i) => {
    const points = s.values.map((v, j) => `${x(j).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    parts.push(svgEl("polyline", { points, stroke: COLORS[i % COLORS.length], "data-series": s.name }));
  });
  svg.replaceChildren(...parts);
  if (legendId) {
    $(legendId).replaceChildren(...series.map((s, i) => {
      const span = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.style.background = COLORS[i % COLORS.length];
      span.append(swatch, `${s.name} (${s.values.reduce((a, b) => a + b, 0)})`);
      return span;
    }));
  }
}

async function loadHistory() {
  const h = await api("history");
  const byMinute = new Map(h.minutes.map((m) => [m.minute, m]));
  const minutes = Array.from({ length: rangeMinutes }, (_, i) => h.now_minute - rangeMinutes + 1 + i);
  // Gauges carry forward through quiet minutes; counts are zero there.
  let live = 0, backlog = 0;
  const older = h.minutes.filter((m) => m.minute < minutes[0]).pop();
  if (older) ({ live, backlog } = older);
  const liveSeries = [], backlogSeries = [], failures = [], starts = [];
  const reasons = [...new Set(h.minutes.flatMap((m) => Object.keys(m.ends ?? {})))].sort();
  const ends = Object.fromEntries(reasons.map((r) => [r, []]));
  for (const minute of minutes) {
    const m = byMinute.get(minute);
    if (m) ({ live, backlog } = m);
    liveSeries.push(live);
    backlogSeries.push(backlog);
    failures.push(m?.hook_failures ?? 0);
    starts.push(m?.starts ?? 0);
    for (const r of reasons) ends[r].push(m?.ends?.[r] ?? 0);
  }
  drawChart("chart-live", [{ name: "live", values: liveSeries }]);
  drawChart("chart-flow", [{ name: "starts", values: starts }, ...reasons.map((r) => ({ name: `ended: ${r}`, values: ends[r] }))], "legend-flow");
  drawChart("chart-hooks", [{ name: "backlog", values: backlogSeries }, { name: "failures", values: failures }], "legend-hooks");
  const sum = (f) => h.minutes.filter((m) => m.minute >= minutes[0]).reduce((a, m) => a + f(m), 0);
  $("totals").textContent = `In this range: ${sum((m) => m.starts)} started, ` +
    `${sum((m) => Object.values(m.ends ?? {}).reduce((a, b) => a + b, 0))} ended, ${plural(sum((m) => m.kills), "kill request")}, ` +
    `${plural(sum((m) => m.refused), "refused pair")}, ${plural(sum((m) => m.hook_failures), "hook failure")}. Hook backlog now: ${h.gauges.backlog}.`;
}

for (const b of document.querySelectorAll("button.range")) {
  b.addEventListener("click", () => {
    rangeMinutes = Number(b.dataset.minutes);
    $("range-label").textContent = rangeMinutes === 60 ? "hour" : `${rangeMinutes / 60} hours`;
    loadHistory().catch((e) => ($("status").textContent = e.message));
  });
}

// --- Filter, CSV, detail ------------------------------------------------------------------
$("filter-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  userFilter = $("filter-user").value.trim();
  refresh();
});
$("filter-clear").addEventListener("click", () => {
  userFilter = "";
  $("filter-user").value = "";
  refresh();
});

$("csv").addEventListener("click", async () => {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const query = `sessions?format=csv&limit=500${userFilter ? `&user=${encodeURIComponent(userFilter)}` : ""}`;
  const resp = await fetch(new URL(query, API), { headers: { Authorization: `Bearer ${token}` } });
  if (!resp.ok) {
    $("status").textContent = `Could not export: HTTP ${resp.status}`;
    return;
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await resp.blob());
  a.download = userFilter ? `sessions-${userFilter}.csv` : "sessions.csv";
  document.body.append(a);
  a.click();
  a.remove();
});

async function showDetail(cfid) {
  try {
    const s = await api(`sessions/${cfid}`);
    $("detail-cfid").textContent = cfid;
    const fields = [
      ["User", s.user ?? "—"], ["Mode", s.mode], ["Created", dateTime(s.created)], ["Last access", dateTime(s.last_access)],
      ["Expires", dateTime(s.expires_at)], ["Idle timeout", `${s.idle_timeout_s} s`], ["Hits", String(s.hits)],
      ["Writes", String(s.writes)], ["Client", [s.client?.user_agent, s.client?.country].filter(Boolean).join(" · ") || "—"],
    ];
    $("detail-fields").replaceChildren(...fields.flatMap(([k, v]) => {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dd.dataset.field = k.toLowerCase().replace(/ /g, "_");
      return [dt, dd];
    }));
    $("detail-data").textContent = JSON.stringify(s.data, null, 2);
    $("detail-data-part").hidden = s.mode === "guard";
    $("detail-guarded").hidden = s.mode !== "guard";
    $("detail-ended").hidden = true;
    $("detail").hidden = false;
  } catch (e) {
    $("status").textContent = `Could not open ${cfid}: ${e.message}`;
  }
}
$("detail-close").addEventListener("click", () => ($("detail").hidden = true));

if (sessionStorage.getItem(TOKEN_KEY)) showDashboard();
else showLogin();
