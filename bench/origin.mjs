// The benchmark's origin: the same tiny answer for every system. `/write` also asks
// cfsession-edge to store a value (X-Session-Set); the JS peers store theirs themselves.
//
// With `guard`, it is the application behind cfsession-edge in guard mode instead: it keeps
// its own sessions as ColdFusion does (CFID a counter, CFTOKEN a UUID, both set when the
// request carries no pair it knows; `/write` changes its own session scope). Files (a path
// whose last segment has an extension) are static, served without a session, as a web server
// in front of ColdFusion serves them.
// Usage: node bench/origin.mjs <port> [guard]
import http from "node:http";
import { randomUUID } from "node:crypto";

const guard = process.argv[3] === "guard";
const sessions = new Map(); // CFID -> { token, n }
let n = 0;

function cookie(req, name) {
  const m = new RegExp(`(?:^|;\\s*)${name}=([^;]*)`).exec(req.headers.cookie ?? "");
  return m?.[1];
}

/** The ColdFusion-style session of `req`, started (with its Set-Cookie lines) when it has none. */
function session(req, headers) {
  const known = sessions.get(cookie(req, "CFID"));
  if (known && known.token === cookie(req, "CFTOKEN")) return known;
  const cfid = String(++n), fresh = { token: randomUUID(), n: 0 };
  sessions.set(cfid, fresh);
  headers["set-cookie"] = [`CFID=${cfid}; Path=/; HttpOnly`, `CFTOKEN=${fresh.token}; Path=/; HttpOnly`];
  return fresh;
}

http
  .createServer((req, res) => {
    const headers = { "content-type": "text/plain", "cache-control": "no-store" };
    const write = req.url.startsWith("/write");
    const file = /\.[a-z0-9]+$/i.test(req.url.split("?")[0]);
    if (guard && !file) {
      const s = session(req, headers);
      if (write) s.n++;
    } else if (write) {
      headers["x-session-set"] = JSON.stringify({ n: ++n });
    }
    res.writeHead(200, headers);
    res.end("ok\n");
  })
  .listen(Number(process.argv[2]), "127.0.0.1");
