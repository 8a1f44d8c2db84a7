// The kits' test site on real Express, using kits/node/edge-session.mjs.
// Usage: node tests/kits/express-app.mjs <port>   (CFS_ORIGIN_KEY and CFS_EDGE_URL in the environment)
import express from "express";
import { edgeSession, verifyHook } from "../../kits/node/edge-session.mjs";

const originKey = process.env.CFS_ORIGIN_KEY;
const app = express();
const ended = [];

// Hooks first: they are signed hook calls, not forwarded requests.
app.post("/hooks/end", express.text({ type: "*/*" }), (req, res) => {
  if (!verifyHook(originKey, req.headers, req.body)) return res.status(401).send("bad hook signature");
  ended.push(JSON.parse(req.body).cfid);
  res.status(204).end();
});

app.use(edgeSession({ originKey, edgeUrl: process.env.CFS_EDGE_URL }));
app.get("/count", (req, res) => {
  req.session.count = (req.session.count ?? 0) + 1;
  res.type("text").send(String(req.session.count));
});
app.get("/store", (req, res) => {
  req.session[req.query.key ?? "value"] = req.query.value;
  res.type("text").send("stored");
});
app.get("/show", (req, res) => res.json({ id: req.edge.id, session: req.session }));
app.get("/login", (req, res) => {
  req.edge.setUser(req.query.user);
  res.type("text").send("logged in");
});
app.get("/logout", (req, res) => {
  req.edge.invalidate();
  res.type("text").send("logged out");
});
app.get("/sessions", async (req, res) => res.json(await req.edge.listMySessions()));
app.get("/end-others", async (req, res) => res.json(await req.edge.endOtherSessions()));
app.get("/ended", (req, res) => res.json(ended));
// express-session's methods and cookie-session's logout.
app.get("/destroy", (req, res) => req.session.destroy(() => res.type("text").send(String(req.session))));
app.get("/null-logout", (req, res) => {
  req.session = null;
  res.type("text").send("logged out");
});
app.get("/short-cookie", (req, res) => {
  req.session.cookie.maxAge = 2000;
  res.type("text").send(String(req.session.cookie.maxAge));
});
app.get("/reload", (req, res) => {
  req.session.value = "changed";
  req.session.reload(() => res.json({ value: req.session.value ?? null, keys: Object.keys(req.session) }));
});
// What JSON strings cannot hold, and what JSON cannot serialise at all.
app.get("/lone-surrogate", (req, res) => {
  req.session.broken = "\ud800";
  res.type("text").send("ok");
});
app.get("/bigint", (req, res) => {
  req.session.big = 10n;
  res.type("text").send("ok");
});
app.get("/circular", (req, res) => {
  const loop = {};
  loop.self = loop;
  req.session.loop = loop;
  res.type("text").send("ok");
});

const port = Number(process.argv[2]);
app.listen(port, "127.0.0.1", () => console.log(`express kit site on ${port}`));
