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

/** `n/planned` runs of a cell (`0/3` for one that is not in the results at all). */
const runsOf = (r) => `${r?.runs.length ?? 0}/${r?.planned ?? r?.runs.length ?? "?"}`;

function targets(results) {
  const find = (system, workload) => results.find((r) => r.system === system && r.workload === workload);
  const rows = [];
  for (const [system, workload, what, other, otherWorkload, target] of TARGETS) {
    const a = find(system, workload), b = find(other, otherWorkload);
    if (!a && !b) continue; // neither was asked for (--systems, --workloads)
    const key = what === "CPU" ? "cpuPer1000" : "rps";
    const against = other === system ? `own ${otherWorkload}` : `${other}${otherWorkload === workload ? "" : `, ${otherWorkload}`}`;
    const rests = `${runsOf(a)} and ${runsOf(b)}`;
    const sign = what === "CPU" ? "≤" : "≥";
    if (!a?.summary[key] || !b?.summary[key]) {
      const why = [a, b].filter((x) => !x?.summary[key]).map((x) => (x ? `${x.system} / ${x.workload}` : "a cell not run"));
      rows.push(`| ${system} | ${workload} | ${what} ÷ ${against} | — | ${sign} ${target} | ${rests} | **no data** (${why.join(", ")}) |`);
      continue;
    }
    const r = a.summary[key].median / b.summary[key].median;
    const met = what === "CPU" ? r <= target : r >= target;
    rows.push(`| ${system} | ${workload} | ${what} ÷ ${against} | ${r.toFixed(2)} | ${sign} ${target} | ${rests} | ${met ? "met" : "**not met**"} |`);
  }
  if (!rows.length) return [];
  return ["## Targets (issues #12 and #23), from the medians below", "",
    "Runs: how many runs each side of the ratio rests on (measured/planned).", "",
    "| system | workload | ratio | measured | target | runs | |", "|---|---|---|---|---|---|---|", ...rows, ""];
}

/** Every run that failed after its attempts, or was never made (an interrupted run). */
function failures(results) {
  const lines = [];
  for (const r of results) {
    for (const f of r.failed ?? []) {
      lines.push(`| ${r.system} | ${r.workload} | ${f.run + 1} | failed after ${f.attempts} attempts: ${f.reason.replaceAll("|", "\\|")} |`);
    }
    const missing = (r.planned ?? r.runs.length) - r.runs.length - (r.failed?.length ?? 0);
    if (missing > 0) lines.push(`| ${r.system} | ${r.workload} | ${missing} run(s) | not run (interrupted; \`--resume\` continues) |`);
  }
  if (!lines.length) return [];
  return ["## Failed and missing runs", "", "| system | workload | run | |", "|---|---|---|---|", ...lines, ""];
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
  if (meta.wasm?.error) lines.push(`Release wasm: not measured (${meta.wasm.error}).`, "");
  if (meta.note) lines.push(`Note: ${meta.note}.`, "");
  lines.push(...targets(results));
  lines.push(...failures(results));
  lines.push(...latency(latencyModel));
  for (const workload of [...new Set(results.map((r) => r.workload))]) {
    const rows = results.filter((r) => r.workload === workload);
    const cf = rows.find((r) => r.system === EDGE)?.summary;
    const guard = rows.find((r) => r.system === GUARD)?.summary;
    lines.push(`## ${workload}`, "");
    const guardHead = guard ? " guard mode ÷ this (req/s) | guard mode ÷ this (CPU) |" : "";
    lines.push("| system | runs | req/s | p50 ms | p99 ms | workerd CPU s / 1,000 req | session writes / req | cfsession-edge ÷ this (req/s) | cfsession-edge ÷ this (CPU) |" + guardHead);
    lines.push("|---|---|---|---|---|---|---|---|---|" + (guard ? "---|---|" : ""));
    for (const r of rows) {
      const s = r.summary;
      if (!s.rps) {
        lines.push(`| ${r.system} | ${runsOf(r)} | **failed**: ${(r.failed?.[0]?.reason ?? "not run").replaceAll("|", "\\|")} |`);
        continue;
      }
      const guardCells = guard ? ` ${ratio(guard.rps?.median, s.rps.median)} | ${ratio(guard.cpuPer1000?.median, s.cpuPer1000?.median)} |` : "";
      lines.push(`| ${r.system} | ${runsOf(r)} | ${cell(s.rps)} | ${cell(s.p50, 2)} | ${cell(s.p99, 2)} | ${cell(s.cpuPer1000, 3)} | ` +
        `${s.writesPerRequest ? cell(s.writesPerRequest, 3) : "see notes"} | ${ratio(cf?.rps?.median, s.rps.median)} | ` +
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
