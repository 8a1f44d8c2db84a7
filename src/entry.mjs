// The Worker's entry module: the Rust Worker that worker-build writes to build/, with its
// session object declared as a real `DurableObject` subclass. worker-build 0.8.7 exports the
// Rust object classes as Proxies, and the platform allows Durable Object RPC only to classes
// that extend `DurableObject`: this wrapper forwards `fetch`, `alarm` and the RPC method
// `call(op, body)` to the Rust object (src/edge/session_object.rs).
import { DurableObject } from "cloudflare:workers";
import worker, { AppObject, IndexShard, SessionObject as RustSessionObject, UserIndex } from "../build/index.js";

export default worker;
export { AppObject, IndexShard, UserIndex };

export class SessionObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.inner = new RustSessionObject(ctx, env);
  }

  fetch(request) {
    return this.inner.fetch(request);
  }

  alarm(alarmInfo) {
    return this.inner.alarm(alarmInfo);
  }

  /** Durable Object RPC: `op` with a JSON `body`; resolves to JSON text, or null. */
  call(op, body) {
    return this.inner.call(op, body);
  }
}
