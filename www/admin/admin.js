// The cfsession-edge admin dashboard: lists live sessions (sortable, refreshing), kills one or
// all of a user's, shows the application and the ended-session log. It talks only to the
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
  tbody.replaceChildren(...sorted.map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.cfid = s.cfid;
    const id = document.createElement("td");
    const code = document.createElement("code");
    code.textContent = s.cfid;
    id.append(code);
    const kill = document.createElement("button");
    kill.className = "kill";
    kill.type = "button";
    kill.textContent = "Kill";
    kill.addEventListener("click", () => killSession(s.cfid, kill));
    const action = document.createElement("td");
    action.append(kill);
    tr.append(id, cell(s.user ?? "—"), cell(time(s.created)), cell(time(s.last_access)), cell(String(s.hits), "num"),
      cell(time(s.expires_at)), action);
    return tr;
  }));
  $("empty").hidden = rows.length > 0;
  for (const th of document.querySelectorAll("#sessions th[data-key]")) {
    if (th.dataset.key === sort.key) th.dataset.sort = sort.dir;
    else delete th.dataset.sort;
  }
}

async function loadSessions() {
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
    await Promise.all([loadSessions(), loadApplication(), loadEnded()]);
    $("refreshed").textContent = `live · refreshed ${new Date().toLocaleTimeString()}`;
    $("status").textContent = "";
  } catch (e) {
    if (e.message !== "unauthorized") $("status").textContent = `Could not refresh: ${e.message}`;
  }
}

async function killSession(cfid, button) {
  button.disabled = true;
  try {
    await api(`sessions/${cfid}`, { method: "DELETE" });
  } catch (e) {
    $("status").textContent = `Could not kill ${cfid}: ${e.message}`;
  }
  await refresh();
}

function showLogin(message) {
  clearInterval(timer);
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
  th.addEventListener("click", () => {
    sort = { key: th.dataset.key, dir: sort.key === th.dataset.key && sort.dir === "desc" ? "asc" : "desc" };
    render();
  });
}

if (sessionStorage.getItem(TOKEN_KEY)) showDashboard();
else showLogin();
