// Shared browser-test helpers: Debian's Chromium driven by playwright-core (no download).
import { chromium } from "playwright-core";

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
    headless: true,
    // Without the networking flags Chromium reaches for Google's hosts, which these machines refuse.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

// Prints one fact for the Rust test to check, as a JSON line.
export function report(fact) {
  console.log(JSON.stringify(fact));
}
