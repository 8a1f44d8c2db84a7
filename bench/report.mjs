// Renders bench/results/latest.json as Markdown tables (bench/results/latest.md).

const fmt = (x, digits = 0) => (x === undefined ? "—" : Number(x).toFixed(digits));
const cell = (s, digits = 0) => (s ? `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})` : "—");
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : "—");

const EDGE = "cfsession-edge";
const GUARD = "cfsession-edge (guard mode)";
const FLOOR = "RPC design floor (one DO RPC read + origin)";
const PASS = "pass-through";
const PEER = "hand-written DO sessions";

/**
 * The performance issue's targets (#12), each `[mode, workload, what, system, over, compared
 * with, its workload, target, "cpu" for a CPU ratio]`: "≥" for throughput, "≤" for CPU.
 */
const TARGETS = [
  [EDGE, "reads", "req/s", FLOOR, "reads", 0.95],
  [EDGE, "reads", "CPU", FLOOR, "reads", 1.05],
  [EDGE, "writes", "req/s", PEER, "writes", 1.1],
  [EDGE, "writes", "req/s", EDGE, "reads", 0.9],
  [EDGE, "new", "req/s", PASS, "new", 0.9],
  [EDGE, "page", "req/s", PASS, "page", 0.9],
  [EDGE, "mixed", "req/s", PEER, "mixed", 1.3],
  [GUARD, "reads", "req/s", FLOOR, "reads", 0.95],
  [GUARD, "reads", "CPU", FLOOR, "reads", 1.05],
  [GUARD, "writes", "req/s", PEER, "writes", 1.1],
  [GUARD, "writes", "req/s", GUARD, "reads", 0.9],
  [GUARD, "new", "req/s", PASS, "new", 0.9],
  [GUARD, "page", "req/s", PASS, "page", 0.9],
  [GUARD, "mixed", "req/s", PEER, "mixed", 1.3],
];

function targets(results) {
  const find = (system, workload) => results.find((r) => r.system === system && r.workload === workload)?.summary;
  const rows = [];
  for (const [system, workload, what, other, otherWorkload, target] of TARGETS) {
    const a = find(system, workload), b = find(other, otherWorkload);
    const key = what === "CPU" ? "cpuPer1000" : "rps";
    if (!a?.[key] || !b?.[key]) continue;
    const r = a[key].median / b[key].median;
    const met = what === "CPU" ? r <= target : r >= target;
    const against = other === system ? `own ${otherWorkload}` : `${other}${otherWorkload === workload ? "" : `, ${otherWorkload}`}`;
    rows.push(`| ${system} | ${workload} | ${what} ÷ ${against} | ${r.toFixed(2)} | ${what === "CPU" ? "≤" : "≥"} ${target} | ${met ? "met" : "**not met**"} |`);
  }
  if (!rows.length) return [];
  return ["## Targets (issues #12 and #23), from the medians below", "",
    "| system | workload | ratio | measured | target | |", "|---|---|---|---|---|---|", ...rows, ""];
}

/**
 * The latency model's table (`--object-rtt`): p50 and p99 per workload and system at each
 * round trip, and the target that needs it (issue #23: at 30 ms, cfsession-edge's writes p50
 * within 1.2× its reads p50).
 */
function latency(model) {
  if (!model) return [];
  const { meta, results } = model;
  const rtts = [...new Set(results.map((r) => r.rtt))].sort((a, b) => a - b);
  const find = (base, workload, rtt) => results.find((r) => r.base === base && r.workload === workload && r.rtt === rtt)?.summary;
  const lines = ["## Latency model (object round trip added to every Durable Object call)", "",
    `Run ${meta.date}, ${meta.runs} runs per cell, interleaved, ${meta.threads} connections (one per wrk thread: the ` +
      `latencies are the request path's, not queueing); \`scripts/bench --object-rtt ${rtts.join(",")}\`. ` +
      "Every call to a Durable Object, by cfsession-edge (`TEST_FAULTS=object.call=delay:MS`) or by a peer " +
      "(`OBJECT_RTT_MS`), first waits MS. Cells: p50 / p99 ms (medians of the runs); req/s in brackets." +
      (meta.note ? ` Note: ${meta.note}.` : ""), "",
    `| workload | system | ${rtts.map((t) => `${t} ms RTT`).join(" | ")} |`, `|---|---|${rtts.map(() => "---|").join("")}`];
  for (const workload of [...new Set(results.map((r) => r.workload))]) {
    for (const base of [...new Set(results.filter((r) => r.workload === workload).map((r) => r.base))]) {
      const cells = rtts.map((t) => {
        const s = find(base, workload, t);
        return s ? `${fmt(s.p50?.median, 1)} / ${fmt(s.p99?.median, 1)} (${fmt(s.rps?.median)})` : "—";
      });
      lines.push(`| ${workload} | ${base} | ${cells.join(" | ")} |`);
    }
  }
  const at30 = (workload) => find(EDGE, workload, 30)?.p50?.median;
  if (at30("writes") && at30("reads")) {
    const r = at30("writes") / at30("reads");
    lines.push("", "| system | ratio | measured | target | |", "|---|---|---|---|---|",
      `| cfsession-edge | writes p50 ÷ reads p50, at 30 ms RTT | ${r.toFixed(2)} | ≤ 1.2 | ${r <= 1.2 ? "met" : "**not met**"} |`);
  }
  lines.push("");
  return lines;
}

export function report({ meta, results }, latencyModel = null) {
  const lines = [
    "# Benchmark results",
    "",
    `Run ${meta.date} on ${meta.machine}; ${meta.wrk}, ${meta.threads} threads, ${meta.connections} connections ` +
      `(2 for \`kill\`), ${meta.durationSeconds} s per run, ${meta.runs} runs per cell, interleaved (every ` +
      "cell once per round), each run on a fresh " +
      `\`wrangler dev\` with fresh state. Cells: median (min–max). Produced by \`scripts/bench\`; read ` +
      "docs/performance.md before quoting anything.",
    "",
  ];
  if (meta.wasm) {
    lines.push(`Release wasm (\`wrangler deploy --dry-run --outdir\`): ${meta.wasm.raw} bytes raw, ${meta.wasm.gzip} bytes gzip -9.`, "");
  }
  lines.push(...targets(results));
  lines.push(...latency(latencyModel));
  for (const workload of [...new Set(results.map((r) => r.workload))]) {
    const rows = results.filter((r) => r.workload === workload);
    const cf = rows.find((r) => r.system === EDGE)?.summary;
    const guard = rows.find((r) => r.system === GUARD)?.summary;
    lines.push(`## ${workload}`, "");
    const guardHead = guard ? " guard mode ÷ this (req/s) | guard mode ÷ this (CPU) |" : "";
    lines.push("| system | req/s | p50 ms | p99 ms | workerd CPU s / 1,000 req | session writes / req | cfsession-edge ÷ this (req/s) | cfsession-edge ÷ this (CPU) |" + guardHead);
    lines.push("|---|---|---|---|---|---|---|---|" + (guard ? "---|---|" : ""));
    for (const r of rows) {
      const s = r.summary;
      const guardCells = guard ? ` ${ratio(guard.rps.median, s.rps.median)} | ${ratio(guard.cpuPer1000?.median, s.cpuPer1000?.median)} |` : "";
      lines.push(`| ${r.system} | ${cell(s.rps)} | ${cell(s.p50, 2)} | ${cell(s.p99, 2)} | ${cell(s.cpuPer1000, 3)} | ` +
        `${s.writesPerRequest ? cell(s.writesPerRequest, 3) : "see notes"} | ${ratio(cf?.rps.median, s.rps.median)} | ` +
        `${ratio(cf?.cpuPer1000?.median, s.cpuPer1000?.median)} |` + guardCells);
    }
    const errors = rows.filter((r) => r.summary.errors?.max > 0);
    for (const r of errors) lines.push("", `Note: ${r.system} answered non-2xx/3xx ${r.summary.errors.max} times in its worst run.`);
    for (const r of rows) {
      const missing = r.runs.filter((run) => typeof run.cpuPer1000 !== "number" || Number.isNaN(run.cpuPer1000)).length;
      if (missing) {
        lines.push("", `Note: ${r.system}: ${missing} of ${r.runs.length} runs have no CPU figure (a workerd process exited during the run, taking its CPU time with it).`);
      }
    }
    lines.push("");
  }
  return lines.join("\n") + "\n";
}
