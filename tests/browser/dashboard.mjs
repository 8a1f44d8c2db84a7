// The admin dashboard in a real browser: types the token, waits for the sessions the test
// created, takes a screenshot, kills one session with its row's button, and reports.
//
// Usage: node tests/browser/dashboard.mjs <dashboard URL> <token> <CFID to kill> <screenshot path>
import { launch, report } from "./lib.mjs";

const [url, token, victim, screenshot] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));

  await page.goto(url);
  await page.waitForSelector("#login:not([hidden])");
  await page.fill("#token", token);
  await page.click("#open");
  await page.waitForSelector(`#sessions tbody tr[data-cfid="${victim}"]`);
  await page.waitForSelector("#app:not([hidden])");
  const rows = await page.$$eval("#sessions tbody tr", (trs) => trs.map((tr) => ({
    cfid: tr.dataset.cfid, cells: [...tr.cells].map((c) => c.textContent),
  })));
  const stored = await page.evaluate(() => sessionStorage.getItem("cfsession-admin-token") !== null);
  report({ step: "listed", rows, total: await page.textContent("#total"), tokenInSessionStorage: stored,
    app: await page.textContent("#app-name") });

  // Sorting by hits, descending then ascending.
  await page.click('th[data-key="hits"]');
  const sortedDesc = await page.$$eval("#sessions tbody tr td:nth-child(5)", (tds) => tds.map((t) => Number(t.textContent)));
  await page.click('th[data-key="hits"]');
  const sortedAsc = await page.$$eval("#sessions tbody tr td:nth-child(5)", (tds) => tds.map((t) => Number(t.textContent)));
  report({ step: "sorted", desc: sortedDesc, asc: sortedAsc });

  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  await page.click(`#sessions tbody tr[data-cfid="${victim}"] button.kill`);
  await page.waitForSelector(`#sessions tbody tr[data-cfid="${victim}"]`, { state: "detached" });
  await page.waitForFunction((id) => document.querySelector("#ended").textContent.includes(id), victim);
  report({ step: "killed", ended: await page.textContent("#ended"), errors });
} finally {
  await browser.close();
}
