// The admin dashboard in a real browser: the login screen alone, then the token typed, the
// sessions the test created listed and sorted, a session opened and killed from the keyboard
// (with its confirmation), screenshots at 1280 and 420 px wide, and a report of what it saw.
//
// Usage: node tests/browser/dashboard.mjs <dashboard URL> <token> <CFID to kill> <wide screenshot> <narrow screenshot>
import { launch, report } from "./lib.mjs";

const [url, token, victim, wide, narrow] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  const dialogs = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    d.accept();
  });

  await page.goto(url);
  await page.waitForSelector("#login:not([hidden])");
  report({ step: "login", appBarVisible: await page.isVisible("#app"), dashboardVisible: await page.isVisible("#dashboard") });
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

  // Sorting by hits, descending then ascending, from the keyboard (Enter on the header's button).
  const sortBy = async () => {
    await page.focus('th[data-key="hits"] button.sort');
    await page.keyboard.press("Enter");
    return page.$$eval("#sessions tbody tr td:nth-child(5)", (tds) => tds.map((t) => Number(t.textContent)));
  };
  const sortedDesc = await sortBy();
  const sortedAsc = await sortBy();
  report({ step: "sorted", desc: sortedDesc, asc: sortedAsc });

  if (wide) await page.screenshot({ path: wide, fullPage: true });
  // The narrow layout: nothing wider than the window (the toolbar's buttons wrap).
  await page.setViewportSize({ width: 420, height: 860 });
  const overflow = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    widest: Math.max(...[...document.querySelectorAll("header, .toolbar, .toolbar button, .toolbar input, #user-form button")]
      .map((e) => e.getBoundingClientRect().right)),
  }));
  if (narrow) await page.screenshot({ path: narrow, fullPage: true });
  report({ step: "narrow", overflow });
  await page.setViewportSize({ width: 1280, height: 860 });

  // Keyboard: Tab reaches the victim's CFID; Enter opens its detail; its Kill button kills it
  // (after the confirmation), and the detail of the killed session closes.
  const row = `#sessions tbody tr[data-cfid="${victim}"]`;
  let reached = false;
  await page.focus("#filter-user");
  for (let i = 0; i < 60 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate((sel) => document.activeElement === document.querySelector(`${sel} button.open`), row);
  }
  await page.keyboard.press("Enter");
  await page.waitForSelector("#detail:not([hidden])");
  const opened = await page.textContent("#detail-cfid");
  await page.keyboard.press("Tab");
  const killFocused = await page.evaluate((sel) => document.activeElement === document.querySelector(`${sel} button.kill`), row);
  await page.keyboard.press("Enter");
  await page.waitForSelector(row, { state: "detached" });
  await page.waitForFunction((id) => document.querySelector("#ended").textContent.includes(id), victim);
  report({ step: "killed", ended: await page.textContent("#ended"), errors, dialogs, reached, opened, killFocused,
    detailAfterKill: await page.isVisible("#detail") });
} finally {
  await browser.close();
}
