# Samples workerd's CPU profile (Chrome DevTools protocol, through wrangler's inspector proxy)
# while wrk loads the edge, then prints self time by function and by place (wasm, the JS
# glue, the runtime). Build with `CFS_KEEP_NAMES=1 scripts/build` so wasm frames have names,
# start `wrangler dev --inspector-port <P> ...` against bench/origin.mjs (bench/profile/run does
# all of this), then:
#   python3 bench/profile/profile.py http://127.0.0.1:<port> ws://127.0.0.1:<P>/ws 10 reads  (or writes, new)
# Needs `pip install websocket-client` and wrk. See docs/performance.md ("CPU profile").
import json, subprocess, sys, urllib.request, http.cookiejar, collections, websocket

EDGE, INSPECT, SECONDS, WORKLOAD = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
pool = []
for _ in range(100):
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    op.open(EDGE + "/").read(); op.open(EDGE + "/").read()
    pool.append("; ".join(f"{c.name}={c.value}" for c in jar))
lua = "local pool = {" + ",".join(json.dumps(c) for c in pool) + "}\n"
path = {"reads": "/", "writes": "/write", "new": "/"}[WORKLOAD]
if WORKLOAD == "new":
    lua += f'request = function() return wrk.format("GET", "{path}") end\n'
else:
    lua += f'request = function() return wrk.format("GET", "{path}", {{["Cookie"] = pool[math.random(#pool)]}}) end\n'
open("/tmp/prof/load.lua", "w").write(lua)

ws = websocket.create_connection(INSPECT, timeout=120)
n = 0
def cmd(method, params=None):
    global n
    n += 1
    ws.send(json.dumps({"id": n, "method": method, "params": params or {}}))
    while True:
        msg = json.loads(ws.recv())
        if msg.get("id") == n:
            return msg.get("result", msg)
cmd("Profiler.enable")
cmd("Profiler.setSamplingInterval", {"interval": 200})
cmd("Profiler.start")
out = subprocess.run(["wrk", "-t2", "-c16", f"-d{SECONDS}s", "-s", "/tmp/prof/load.lua", EDGE], capture_output=True, text=True).stdout
profile = cmd("Profiler.stop")["profile"]
print([l for l in out.splitlines() if "Requests/sec" in l][0])
served = int([l for l in out.splitlines() if "requests in" in l][0].split()[0])
nodes = {nd["id"]: nd for nd in profile["nodes"]}
counts = collections.Counter(profile["samples"])
total = sum(counts.values())
self_by = collections.Counter()
for nid, c in counts.items():
    f = nodes[nid]["callFrame"]
    self_by[f["functionName"] or f"({f['url'].split('/')[-1]})"] += c
print(f"{total} samples")
for name, c in self_by.most_common(25):
    print(f"{100*c/total:5.1f}%  {name[:110]}")
busy = total - self_by["(idle)"]
by_place = collections.Counter()
top = collections.Counter()
for nid, c in counts.items():
    f = nodes[nid]["callFrame"]
    name = f["functionName"]
    if name == "(idle)":
        continue
    url = f["url"]
    place = "wasm (Rust)" if url.startswith("wasm") else ("runtime" if name in ("(program)", "(garbage collector)") or not url else url.split("/")[-1])
    by_place[place] += c
    top[(place, name or "(anonymous)")] += c
print(f"busy samples: {busy}")
print(f"busy samples per request: {busy / served:.3f} (sampling interval asked: 200 us; compare builds, not absolute times)")
for p, c in by_place.most_common(8):
    print(f"{100*c/busy:5.1f}% of busy  {p}")
print("top functions (share of busy):")
for (p, name), c in top.most_common(15):
    print(f"{100*c/busy:5.1f}%  [{p}] {name[:100]}")
lines = collections.Counter()
for nid, c in counts.items():
    f = nodes[nid]["callFrame"]
    if f["url"].endswith("entry.js") and not f["functionName"]:
        lines[(f["url"], f["lineNumber"], f["columnNumber"])] += c
print("entry.js anonymous by position:")
for (u, l, col), c in lines.most_common(6):
    print(f"{100*c/busy:5.1f}%  {u} line {l} col {col}")

# Inclusive time of this crate's functions (the sample's whole stack counted once per name).
parent = {}
for nd in profile["nodes"]:
    for ch in nd.get("children", []):
        parent[ch] = nd["id"]
inclusive = collections.Counter()
for nid, c in counts.items():
    seen, cur = set(), nid
    while cur is not None:
        name = nodes[cur]["callFrame"]["functionName"]
        if name.startswith("cfsession_edge::") and name not in seen:
            seen.add(name)
            inclusive[name] += c
        cur = parent.get(cur)
print("this crate, inclusive (share of busy):")
for name, c in inclusive.most_common(25):
    print(f"{100*c/busy:5.1f}%  {name[:120]}")
