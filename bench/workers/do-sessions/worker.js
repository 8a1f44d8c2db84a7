// (d) Sessions in a Durable Object the way a Workers user would write them by hand: a random
// cookie id, one object per session, sliding expiry (the record is rewritten on every
// request), and a proxy to the same origin. The Worker calls the object over Durable Object
// RPC, the platform's recommended style.
import { DurableObject } from "cloudflare:workers";

const TTL_MS = 1200 * 1000;

export class Session extends DurableObject {
  async kill() {
    await this.ctx.storage.deleteAll();
    return true;
  }

  async touch(write) {
    const now = Date.now();
    let s = await this.ctx.storage.get("s");
    const fresh = !s || now - s.last > TTL_MS;
    if (fresh) s = { created: now, hits: 0, data: {} };
    s.last = now;
    s.hits += 1;
    if (write) s.data.n = (s.data.n ?? 0) + 1;
    await this.ctx.storage.put("s", s);
    return { ...s, fresh };
  }
}

const cookieOf = (req) => /(?:^|;\s*)sid=([0-9a-f-]{36})/.exec(req.headers.get("cookie") ?? "")?.[1];

/** The benchmark's latency model (`--object-rtt`): each object call first waits `OBJECT_RTT_MS`. */
const rtt = (env) => (Number(env.OBJECT_RTT_MS) > 0 ? new Promise((r) => setTimeout(r, Number(env.OBJECT_RTT_MS))) : null);

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    let sid = cookieOf(req);
    if (url.searchParams.has("killSession")) {
      if (sid) {
        await rtt(env);
        await env.SESSIONS.get(env.SESSIONS.idFromName(sid)).kill();
      }
      return new Response(null, {
        status: 302,
        headers: { location: url.pathname, "set-cookie": "sid=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" },
      });
    }
    sid ??= crypto.randomUUID();
    await rtt(env);
    const session = await env.SESSIONS.get(env.SESSIONS.idFromName(sid)).touch(url.pathname.startsWith("/write"));
    const headers = new Headers(req.headers);
    headers.set("x-session-id", sid);
    const resp = await fetch(env.ORIGIN_URL + url.pathname + url.search, {
      method: req.method,
      headers,
      body: req.body,
      redirect: "manual",
    });
    const out = new Response(resp.body, { status: resp.status, headers: new Headers(resp.headers) });
    out.headers.append("set-cookie", `sid=${sid}; Path=/; Max-Age=${TTL_MS / 1000}; HttpOnly; SameSite=Lax`);
    out.headers.set("x-bench-hits", String(session.hits));
    return out;
  },
};
