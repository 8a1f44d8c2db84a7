// (f) The design floor of cfsession-edge for a returning visitor: one read-only Durable Object
// RPC call (one object per session cookie), then exactly what the pass-through Worker does.
// Nothing is stored, no cookie is set: no session system can do less per request.
import { DurableObject } from "cloudflare:workers";
import passThrough from "../passthrough/worker.js";

export class Floor extends DurableObject {
  async read() {
    return (await this.ctx.storage.get("x")) ?? 0;
  }
}

/** The benchmark's latency model (`--object-rtt`): each object call first waits `OBJECT_RTT_MS`. */
const rtt = (env) => (Number(env.OBJECT_RTT_MS) > 0 ? new Promise((r) => setTimeout(r, Number(env.OBJECT_RTT_MS))) : null);

export default {
  async fetch(req, env) {
    const name = req.headers.get("cookie") ?? crypto.randomUUID();
    await rtt(env);
    await env.FLOOR.get(env.FLOOR.idFromName(name)).read();
    return passThrough.fetch(req, env);
  },
};
