// The benchmark's origin: the same tiny answer for every system. `/write` also asks
// cfsession-edge to store a value (X-Session-Set); the JS peers store theirs themselves.
// Usage: node bench/origin.mjs <port>
import http from "node:http";

let n = 0;
http
  .createServer((req, res) => {
    const headers = { "content-type": "text/plain", "cache-control": "no-store" };
    if (req.url.startsWith("/write")) headers["x-session-set"] = JSON.stringify({ n: ++n });
    res.writeHead(200, headers);
    res.end("ok\n");
  })
  .listen(Number(process.argv[2]), "127.0.0.1");
