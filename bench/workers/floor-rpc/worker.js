// (f) The design floor of cfsession-edge for a returning visitor: one read-only Durable Object
// RPC call (one object per session cookie), then the origin fetch, as a pass-through does it.
// Nothing is stored, no cookie is set: no session system can do less per request.
import { DurableObject } from "cloudflare:workers";

export class Floor extends DurableObject {
  async read() {
    return (await this.ctx.storage.get("x")) ?? 0;
  }
}

export default {
  async fetch(req, env) {
    const name = req.headers.get("cookie") ?? crypto.randomUUID();
    await env.FLOOR.get(env.FLOOR.idFromName(name)).read();
    const url = new URL(req.url);
    return fetch(env.ORIGIN_URL + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
    });
  },
};
