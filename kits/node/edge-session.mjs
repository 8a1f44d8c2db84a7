// cfsession-edge origin kit for Node: middleware for node:http and Express. No dependencies.
//
//   import { edgeSession, verifyHook } from "./edge-session.mjs";
//   app.use(edgeSession({ originKey: process.env.CFS_ORIGIN_KEY }));
//   app.get("/", (req, res) => { req.session.count = (req.session.count ?? 0) + 1; res.send("hi"); });
//
// Every request must come through the edge: the signature (X-Session-Signature, HMAC-SHA256
// with the origin key, at most 300 s old) is checked in constant time; a request without a
// valid one is answered 403 and never reaches your handlers. req.session holds the session
// variables; changed top-level keys are sent back in X-Session-Set just before the response
// head is written (only when something changed). req.edge has the rest: see README.md.
import crypto from "node:crypto";

const MAX_SKEW_S = 300;

const hmac = (key, text) => crypto.createHmac("sha256", key).update(text).digest();

function parseSignature(header) {
  const out = {};
  for (const part of String(header ?? "").split(",")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function equalHex(expected, givenHex) {
  const given = Buffer.from(/^[0-9a-f]*$/i.test(givenHex ?? "") ? givenHex : "", "hex");
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

const fresh = (t, now = Date.now() / 1000) => /^\d+$/.test(t ?? "") && Math.abs(now - Number(t)) <= MAX_SKEW_S;

/** True when `req` came through the edge (see docs/origin-protocol.md, "Verifying the signature"). */
export function verifyRequest(req, originKey) {
  const h = req.headers;
  const sig = parseSignature(h["x-session-signature"]);
  const url = req.originalUrl ?? req.url;
  const q = url.indexOf("?");
  const [path, query] = q < 0 ? [url, ""] : [url.slice(0, q), url.slice(q + 1)];
  const canonical = ["cfsession-v1", sig.t, req.method.toUpperCase(), path, query, h["x-session-id"] ?? "",
    h["x-session-new"] ?? "", h["x-session-hits"] ?? "", h["x-session-data"] ?? ""].join("\n");
  return Boolean(originKey) && fresh(sig.t) && equalHex(hmac(originKey, canonical), sig.v2);
}

/** True when a lifecycle hook call (its headers and raw body text) was signed by the edge. */
export function verifyHook(originKey, headers, body) {
  const sig = parseSignature(headers["x-session-signature"]);
  return Boolean(originKey) && fresh(sig.t) && equalHex(hmac(originKey, `cfsession-hook-v1\n${sig.t}\n${body}`), sig.v2);
}

function decodeData(header) {
  try {
    const data = JSON.parse(Buffer.from(header ?? "e30", "base64url").toString("utf8"));
    return data && typeof data === "object" && !Array.isArray(data) ? data : {};
  } catch {
    return {};
  }
}

/** The top-level keys of `data` that differ from `before` (deleted keys as null). */
export function changes(before, data) {
  const out = {};
  for (const [k, v] of Object.entries(data)) {
    if (v === undefined) continue;
    if (!(k in before) || JSON.stringify(before[k]) !== JSON.stringify(v)) out[k] = v;
  }
  for (const k of Object.keys(before)) if (!(k in data) || data[k] === undefined) out[k] = null;
  return out;
}

/**
 * The origin API, acting for the session `id` (docs/origin-protocol.md, "The origin API"):
 * `method` and `rest` as `GET sessions`, `DELETE sessions/<id>`, `POST sessions/end-others`.
 */
export async function originApi(edgeUrl, originKey, id, method, rest) {
  const path = `/__session/origin/${rest}`;
  const t = Math.floor(Date.now() / 1000);
  const v2 = hmac(originKey, `cfsession-origin-api-v1\n${t}\n${method}\n${path}\n${id}`).toString("hex");
  const resp = await fetch(new URL(path, edgeUrl), {
    method,
    headers: { "x-session-id": id, "x-session-signature": `t=${t},v2=${v2}` },
  });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw Object.assign(new Error(body.error ?? `origin API: ${resp.status}`), { status: resp.status });
  return body;
}

/**
 * The middleware. Options: `originKey` (required; scripts/origin-key prints it), `edgeUrl`
 * (where the origin API is; default: the X-Forwarded-Proto/-Host the edge sends),
 * `onRefused(req, res)` (default: 403).
 */
export function edgeSession({ originKey, edgeUrl, onRefused } = {}) {
  if (!originKey) throw new Error("edgeSession: originKey is required");
  const refuse = onRefused ?? ((req, res) => {
    res.statusCode = 403;
    res.setHeader("content-type", "text/plain; charset=utf-8");
    res.end("this request did not come through the session edge\n");
  });

  function attach(req, res) {
    if (!verifyRequest(req, originKey)) return false;
    const h = req.headers;
    const before = decodeData(h["x-session-data"]);
    const session = structuredClone(before);
    const actions = [];
    let user;
    const id = h["x-session-id"];
    const base = () => edgeUrl ?? `${h["x-forwarded-proto"] ?? "https"}://${h["x-forwarded-host"] ?? h.host}`;
    req.session = session;
    req.edge = {
      id,
      isNew: h["x-session-new"] === "true",
      hits: h["x-session-hits"] === undefined ? undefined : Number(h["x-session-hits"]),
      /** Ends the session (ColdFusion's sessionInvalidate()). */
      invalidate: () => actions.push("invalidate"),
      /** New ids, same session (sessionRotate()). */
      rotate: () => actions.push("rotate"),
      /** This session's idle timeout, in seconds. */
      setTimeout: (s) => actions.push(`timeout=${Math.floor(s)}`),
      /** Tags the session with a user id (a login; the edge rotates the ids). */
      setUser: (userId) => { user = String(userId); },
      listMySessions: () => originApi(base(), originKey, id, "GET", "sessions"),
      endSession: (sessionId) => originApi(base(), originKey, id, "DELETE", `sessions/${encodeURIComponent(sessionId)}`),
      endOtherSessions: () => originApi(base(), originKey, id, "POST", "sessions/end-others"),
    };
    // Emitted as the head is written (Express's send/json/redirect and node's end all pass here).
    const writeHead = res.writeHead;
    res.writeHead = function (...args) {
      if (!res.headersSent) {
        const set = changes(before, req.session);
        if (Object.keys(set).length) res.setHeader("X-Session-Set", JSON.stringify(set));
        if (actions.length) res.setHeader("X-Session-Action", actions.join(","));
        if (user !== undefined) res.setHeader("X-Session-User", user);
      }
      return writeHead.apply(this, args);
    };
    return true;
  }

  /** Express/Connect style: `app.use(middleware)`. */
  function middleware(req, res, next) {
    if (attach(req, res)) next();
    else refuse(req, res);
  }
  /** node:http style: `if (!edge.handle(req, res)) return;` (false: already answered 403). */
  middleware.handle = (req, res) => {
    if (attach(req, res)) return true;
    refuse(req, res);
    return false;
  };
  return middleware;
}
