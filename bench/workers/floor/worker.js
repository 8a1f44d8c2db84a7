// (e) The floor of cfsession-edge's design: exactly one read-only Durable Object call per
// request (one object per session cookie, like cfsession-edge), and nothing else.
import { DurableObject } from "cloudflare:workers";

export class Floor extends DurableObject {
  async fetch() {
    return new Response(String((await this.ctx.storage.get("x")) ?? 0));
  }
}

/** The benchmark's latency model (`--object-rtt`): each object call first waits `OBJECT_RTT_MS`. */
const rtt = (env) => (Number(env.OBJECT_RTT_MS) > 0 ? new Promise((r) => setTimeout(r, Number(env.OBJECT_RTT_MS))) : null);

export default {
  async fetch(req, env) {
    const name = req.headers.get("cookie") ?? crypto.randomUUID();
    await rtt(env);
    return env.FLOOR.get(env.FLOOR.idFromName(name)).fetch("https://floor/");
  },
};
