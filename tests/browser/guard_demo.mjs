// The demo in guard mode in a real browser: an unmodified ColdFusion-style application with
// its own sessions behind the edge. Clicks "End Session", waits for the application's
// onSessionEnd (the edge's ORIGIN_KILL_URL call), then kills the new session from the
// dashboard, and reports what the browser saw.
//
// Usage: node tests/browser/guard_demo.mjs <edge base URL> <admin token> <screenshot path>
import { launch, report } from "./lib.mjs";

const [base, token, screenshot] = process.argv.slice(2);
const browser = await launch();
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const app = async () => ({
    cfid: (await page.textContent("#app-cfid")).trim(),
    hits: (await page.textContent("#app-hits")).trim(),
    log: (await page.textContent("#ended-log")).trim(),
    cookies: (await context.cookies(base)).map((c) => c.name).sort(),
  });

  await page.goto(`${base}/`);
  await page.reload(); // the browser comes back with the application's cookies: bound, stored
  const before = await app();
  report({ step: "before", ...before });

  await Promise.all([page.waitForURL((u) => !u.search.toLowerCase().includes("killsession")), page.click("#end-session")]);
  await page.waitForLoadState("load");
  const after = await app();
  // The application's onSessionEnd runs when the edge's ORIGIN_KILL_URL call arrives.
  let log = after.log;
  for (let i = 0; i < 40 && !log.includes(`onSessionEnd: ${before.cfid} `); i++) {
    await page.waitForTimeout(250);
    await page.reload();
    log = (await page.textContent("#ended-log")).trim();
  }
  report({ step: "after", ...after, log });
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  await page.reload(); // the new session's second request: bound and stored, so listed
  const current = (await app()).cfid;

  // The dashboard lists the guarded session; its kill button ends it.
  const admin = await context.newPage();
  await admin.goto(`${base}/__session/admin/`);
  await admin.waitForSelector("#login:not([hidden])");
  await admin.fill("#token", token);
  await admin.click("#open");
  await admin.waitForSelector("#sessions tbody tr[data-cfid]");
  const rows = await admin.$$eval("#sessions tbody tr[data-cfid]", (trs) => trs.map((tr) => tr.dataset.cfid));
  // Its detail: a guarded session's data is the application's, not shown as an empty `{}`.
  await admin.click(`#sessions tbody tr[data-cfid="${rows[0]}"] button.open`);
  await admin.waitForSelector("#detail:not([hidden])");
  const detail = { mode: await admin.textContent('#detail-fields dd[data-field="mode"]'),
    dataShown: await admin.isVisible("#detail-data"), guardedNote: await admin.isVisible("#detail-guarded") };
  const dialogs = [];
  admin.on("dialog", (d) => { dialogs.push(d.message()); d.accept(); });
  await admin.click(`#sessions tbody tr[data-cfid="${rows[0]}"] button.kill`);
  await admin.waitForSelector(`#sessions tbody tr[data-cfid="${rows[0]}"]`, { state: "detached" });
  const detailAfterKill = await admin.isVisible("#detail");
  await page.reload();
  report({ step: "dashboard", rows, killed: rows[0], before: current, after: await app(), errors, detail, dialogs,
    detailAfterKill });
} finally {
  await browser.close();
}
