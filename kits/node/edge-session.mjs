// cfsession-edge origin kit for Node (20+): middleware for node:http and Express, with an
// express-session-compatible req.session (Passport works unchanged). No dependencies.
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

/**
 * The keys in `originKey`: one origin key, or during a key rotation two, comma-separated
 * ("<key>,<other key>"): signatures verify with either, origin-API calls are signed with the
 * first (docs/security.md, "Rotating the signing key").
 */
const keysOf = (originKey) => String(originKey ?? "").split(",").map((k) => k.trim()).filter(Boolean);

/** Whether `givenHex` is the HMAC of `text` under one of the keys (each compared in constant time). */
const signedByAny = (originKey, text, givenHex) => keysOf(originKey).some((k) => equalHex(hmac(k, text), givenHex));

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
  return fresh(sig.t) && signedByAny(originKey, canonical, sig.v2);
}

/** True when a lifecycle hook call (its headers and raw body text) was signed by the edge. */
export function verifyHook(originKey, headers, body) {
  const sig = parseSignature(headers["x-session-signature"]);
  return fresh(sig.t) && signedByAny(originKey, `cfsession-hook-v1\n${sig.t}\n${body}`, sig.v2);
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
  const url = new URL(path, edgeUrl);
  const t = Math.floor(Date.now() / 1000);
  const nonce = crypto.randomBytes(18).toString("base64url");
  const message = `cfsession-origin-api-v2\n${t}\n${nonce}\n${method}\n${url.host.toLowerCase()}\n${path}\n${id}`;
  const v2 = hmac(keysOf(originKey)[0] ?? "", message).toString("hex");
  const where = `origin API ${method} ${url.href}`;
  let resp;
  try {
    resp = await fetch(url, {
      method,
      headers: { "x-session-id": id, "x-session-nonce": nonce, "x-session-signature": `t=${t},v2=${v2}` },
    });
  } catch (e) {
    // fetch's own message ("fetch failed") names neither the URL nor why: say both (edgeUrl).
    const why = e.cause?.code ?? e.cause?.message ?? e.message;
    throw Object.assign(new Error(`${where}: ${why} (is edgeUrl the edge's public URL?)`), { cause: e });
  }
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw Object.assign(new Error(`${where}: ${resp.status} ${body.error ?? ""}`.trimEnd()), { status: resp.status });
  return body;
}

/** JSON with every character past ASCII as a `\uXXXX` escape (header values are bytes; Node's
 * setHeader throws past U+00FF and servers mangle anything past ASCII). */
export function asciiJson(value) {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** `X-Session-User`: the id as it is when printable ASCII, else as a JSON string (escaped). */
export function userHeader(userId) {
  const id = String(userId);
  return /^[\x20-\x7e]*$/.test(id) && !id.startsWith('"') ? id : asciiJson(id);
}

const later = (cb) => { if (typeof cb === "function") queueMicrotask(() => cb()); };

/**
 * `req.session`, shaped like express-session's: the session variables as its own enumerable
 * properties (so it stays plain data), and express-session's methods, which the edge carries
 * out (docs in README.md, "Drop-in for express-session"). Methods live on the prototype and
 * `id`/`cookie` are not enumerable.
 */
class Session {
  constructor(state, data) {
    Object.defineProperty(this, "_edge", { value: state });
    Object.assign(this, data);
  }

  /** The session id (the CFID). */
  get id() {
    return this._edge.id;
  }

  /** express-session's cookie. `maxAge` (ms) and `expires` set this session's idle timeout. */
  get cookie() {
    const state = this._edge;
    return {
      path: "/", httpOnly: true, sameSite: "lax", originalMaxAge: state.maxAge,
      get maxAge() { return state.maxAge; },
      set maxAge(ms) { state.setMaxAge(ms); },
      get expires() { return state.maxAge == null ? null : new Date(Date.now() + state.maxAge); },
      set expires(date) { state.setMaxAge(date == null ? null : new Date(date).getTime() - Date.now()); },
    };
  }

  /** New ids and no data (express-session's semantics): the edge rotates the ids. */
  regenerate(cb) {
    this._edge.actions.push("rotate");
    this._edge.replace({});
    later(cb);
  }

  /** Ends the session (ColdFusion's sessionInvalidate()); `req.session` is gone after it. */
  destroy(cb) {
    this._edge.end();
    later(cb);
  }

  /** Changes are sent with the response head; nothing to do until then. */
  save(cb) {
    later(cb);
    return this;
  }

  /** The data as the request brought it. */
  reload(cb) {
    this._edge.replace(structuredClone(this._edge.before));
    later(cb);
    return this;
  }

  /** The edge extends the idle timeout on every request. */
  touch() {
    return this;
  }

  resetMaxAge() {
    return this;
  }
}

/** The user a session belongs to, by Passport's convention (`session.passport.user`, its `id`
 * or `username` when it is an object); `undefined` when logged out. */
export function passportUser(session) {
  const u = session?.passport?.user;
  if (u == null) return undefined;
  return String(typeof u === "object" ? (u.id ?? u.username ?? JSON.stringify(u)) : u);
}

/**
 * The middleware. Options: `originKey` (required; scripts/origin-key prints it), `edgeUrl`
 * (where the origin API is: the edge's public URL; default `https://` and the request's own
 * `Host`, which is the edge's when it runs on the site's route; set it when the edge forwards
 * to an `ORIGIN_URL` of another host), `onRefused(req, res)` (default: 403), `userOf(session)`
 * (the user id to tag a session with when it changes; default: Passport's, `passportUser`).
 */
export function edgeSession({ originKey, edgeUrl, onRefused, userOf = passportUser } = {}) {
  if (!originKey) throw new Error("edgeSession: originKey is required");
  const refuse = onRefused ?? ((req, res) => {
    res.statusCode = 403;
    res.setHeader("content-type", "text/plain; charset=utf-8");
    res.end("this request did not come through the session edge\n");
  });

  function attach(req, res) {
    if (!verifyRequest(req, originKey)) return false;
    const h = req.headers;
    const id = h["x-session-id"];
    const actions = [];
    let user;
    let current;
    const state = {
      id,
      before: decodeData(h["x-session-data"]),
      actions,
      maxAge: null,
      ended: false,
      setMaxAge(ms) {
        if (ms == null || !Number.isFinite(Number(ms))) return;
        state.maxAge = Math.max(1000, Number(ms));
        actions.push(`timeout=${Math.ceil(state.maxAge / 1000)}`);
      },
      replace(data) { current = new Session(state, data); },
      end() {
        if (!state.ended) actions.push("invalidate");
        state.ended = true;
        current = undefined;
      },
    };
    state.replace(structuredClone(state.before));
    const base = () => edgeUrl ?? `https://${h.host}`;
    req.sessionID = id;
    Object.defineProperty(req, "session", {
      configurable: true,
      enumerable: true,
      get: () => current,
      // `req.session = null` (cookie-session's logout) ends the session; an object replaces the data.
      set: (value) => (value == null ? state.end() : state.replace({ ...value })),
    });
    req.edge = {
      id,
      isNew: h["x-session-new"] === "true",
      hits: h["x-session-hits"] === undefined ? undefined : Number(h["x-session-hits"]),
      /** Ends the session (ColdFusion's sessionInvalidate()). */
      invalidate: () => state.end(),
      /** New ids, same session (sessionRotate()). */
      rotate: () => actions.push("rotate"),
      /** This session's idle timeout, in seconds. */
      setTimeout: (s) => state.setMaxAge(Number(s) * 1000),
      /** Tags the session with a user id (a login; the edge rotates the ids). */
      setUser: (userId) => { user = String(userId); },
      listMySessions: () => originApi(base(), originKey, id, "GET", "sessions"),
      endSession: (sessionId) => originApi(base(), originKey, id, "DELETE", `sessions/${encodeURIComponent(sessionId)}`),
      endOtherSessions: () => originApi(base(), originKey, id, "POST", "sessions/end-others"),
    };
    // Emitted as the head is written (Express's send/json/redirect and node's end all pass
    // here). Nothing the application put in the session can throw from here.
    const writeHead = res.writeHead;
    res.writeHead = function (...args) {
      if (!res.headersSent) {
        try {
          const set = state.ended ? {} : changes(state.before, current ?? {});
          if (Object.keys(set).length) res.setHeader("X-Session-Set", asciiJson(set));
        } catch (e) {
          console.error(`edge-session: session data not sent (${e.message})`);
        }
        if (actions.length) res.setHeader("X-Session-Action", actions.join(","));
        try {
          const login = state.ended ? undefined : userOf(current);
          if (user === undefined && login !== undefined && login !== userOf(state.before)) user = login;
        } catch (e) {
          console.error(`edge-session: userOf failed (${e.message})`);
        }
        if (user !== undefined) res.setHeader("X-Session-User", userHeader(user));
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
