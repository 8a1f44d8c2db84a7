// The dashboard's history, detail view, user filter and CSV export in a real browser: opens
// the dashboard, waits until the charts show the test's traffic, takes a screenshot, opens a
// session's detail, filters by a user, exports the list as CSV, and reports what it saw.
//
// Usage: node tests/browser/dashboard_history.mjs <dashboard URL> <token> <CFID to open> <user> <screenshot>
import fs from "node:fs";
import { launch, report } from "./lib.mjs";

const [url, token, cfid, user, screenshot] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 }, acceptDownloads: true });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(url);
  await page.fill("#token", token);
  await page.click("#open");
  // The charts, once the counts of the test's traffic have arrived (polled by the page).
  await page.waitForFunction(() => {
    const line = document.querySelector('#chart-flow polyline[data-series="starts"]');
    return line && document.querySelector('#chart-flow polyline[data-series="ended: killed"]')
      && document.querySelector("#legend-flow").textContent.includes("starts (4)");
  }, null, { timeout: 30000 });
  const charts = await page.evaluate(() => Object.fromEntries(["chart-live", "chart-flow", "chart-hooks"].map((id) => [id,
    [...document.querySelectorAll(`#${id} polyline`)].map((p) => ({
      series: p.dataset.series, points: p.getAttribute("points").split(" ").length,
      maxY: Math.min(...p.getAttribute("points").split(" ").map((xy) => Number(xy.split(",")[1]))),
    }))])));
  report({ step: "charts", charts, flowLegend: await page.textContent("#legend-flow"),
    hooksLegend: await page.textContent("#legend-hooks"), totals: await page.textContent("#totals") });
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  await page.click(`#sessions tbody tr[data-cfid="${cfid}"] button.open`);
  await page.waitForSelector("#detail:not([hidden])");
  report({ step: "detail", cfid: await page.textContent("#detail-cfid"),
    user: await page.textContent('#detail-fields dd[data-field="user"]'),
    hits: await page.textContent('#detail-fields dd[data-field="hits"]'),
    writes: await page.textContent('#detail-fields dd[data-field="writes"]'),
    timeout: await page.textContent('#detail-fields dd[data-field="idle_timeout"]'),
    data: await page.textContent("#detail-data") });

  await page.fill("#filter-user", user);
  await page.click('#filter-form button[type="submit"]');
  await page.waitForFunction((u) => document.querySelector("#shown").textContent.includes(u), user);
  const filtered = await page.$$eval("#sessions tbody tr", (trs) => trs.map((tr) => tr.cells[1].textContent));
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
  const csv = fs.readFileSync(await download.path(), "utf8");
  report({ step: "filtered", users: filtered, csv, filename: download.suggestedFilename(), errors });
} finally {
  await browser.close();
}
