// Renders bench/results/latest.json as Markdown tables (bench/results/latest.md).

const fmt = (x, digits = 0) => (x === undefined ? "—" : Number(x).toFixed(digits));
const cell = (s, digits = 0) => (s ? `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})` : "—");
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : "—");

export function report({ meta, results }) {
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
  for (const workload of [...new Set(results.map((r) => r.workload))]) {
    const rows = results.filter((r) => r.workload === workload);
    const cf = rows.find((r) => r.system === "cfsession-edge")?.summary;
    lines.push(`## ${workload}`, "");
    lines.push("| system | req/s | p50 ms | p99 ms | workerd CPU s / 1,000 req | session writes / req | cfsession-edge ÷ this (req/s) | cfsession-edge ÷ this (CPU) |");
    lines.push("|---|---|---|---|---|---|---|---|");
    for (const r of rows) {
      const s = r.summary;
      lines.push(`| ${r.system} | ${cell(s.rps)} | ${cell(s.p50, 2)} | ${cell(s.p99, 2)} | ${cell(s.cpuPer1000, 3)} | ` +
        `${s.writesPerRequest ? cell(s.writesPerRequest, 3) : "see notes"} | ${ratio(cf?.rps.median, s.rps.median)} | ` +
        `${ratio(cf?.cpuPer1000?.median, s.cpuPer1000?.median)} |`);
    }
    const errors = rows.filter((r) => r.summary.errors?.max > 0);
    for (const r of errors) lines.push("", `Note: ${r.system} answered non-2xx/3xx ${r.summary.errors.max} times in its worst run.`);
    lines.push("");
  }
  return lines.join("\n") + "\n";
}
