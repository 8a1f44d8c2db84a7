// Opens the demo page through the edge, notes the session, clicks "End Session", follows the
// redirect, and reports what the browser saw. The Rust test (tests/browser.rs) judges it.
//
// Usage: node tests/browser/end_session.mjs <edge base URL> <screenshot path>
import { launch, report } from "./lib.mjs";

const [base, screenshot] = process.argv.slice(2);
const browser = await launch();
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cookies = async () =>
    Object.fromEntries((await context.cookies(base)).map((c) => [c.name, c.value]));

  await page.goto(`${base}/`);
  await page.reload(); // the second request stores the (deferred) session
  const before = {
    cfid: (await page.textContent("#cfid")).trim(),
    hits: (await page.textContent("#hits")).trim(),
    cookies: await cookies(),
  };
  report({ step: "before", ...before });

  const redirects = [];
  page.on("response", (r) => {
    if (r.status() >= 300 && r.status() < 400) redirects.push({ url: r.url(), status: r.status(), location: r.headers()["location"] });
  });
  await Promise.all([page.waitForURL((u) => !u.search.toLowerCase().includes("killsession")), page.click("#end-session")]);
  await page.waitForLoadState("load");
  const after = {
    url: page.url(),
    cfid: (await page.textContent("#cfid")).trim(),
    hits: (await page.textContent("#hits")).trim(),
    cookies: await cookies(),
    redirects,
  };
  report({ step: "after", ...after });
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
