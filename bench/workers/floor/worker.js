// (e) The floor of cfsession-edge's design: exactly one read-only Durable Object call per
// request (one object per session cookie, like cfsession-edge), and nothing else.
import { DurableObject } from "cloudflare:workers";

export class Floor extends DurableObject {
  async fetch() {
    return new Response(String((await this.ctx.storage.get("x")) ?? 0));
  }
}

export default {
  async fetch(req, env) {
    const name = req.headers.get("cookie") ?? crypto.randomUUID();
    return env.FLOOR.get(env.FLOOR.idFromName(name)).fetch("https://floor/");
  },
};
