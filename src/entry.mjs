// The Worker's entry module: the Rust Worker that worker-build writes to build/, with its
// Durable Object classes declared as real `DurableObject` subclasses. worker-build 0.8.7
// exports the Rust object classes as Proxies, and the platform allows Durable Object RPC only
// to classes that extend `DurableObject`: each wrapper forwards `fetch`, `alarm` and the RPC
// method `call(op, body)` to its Rust object (src/edge/object_rpc.rs).
import { DurableObject } from "cloudflare:workers";
import worker, * as rust from "../build/index.js";

export default worker;

/** A `DurableObject` subclass around the Rust object class `Rust`. */
function rpcObject(Rust) {
  return class extends DurableObject {
    constructor(ctx, env) {
      super(ctx, env);
      this.inner = new Rust(ctx, env);
    }

    fetch(request) {
      return this.inner.fetch(request); // 405: the objects are called over RPC only
    }

    alarm(alarmInfo) {
      return this.inner.alarm?.(alarmInfo);
    }

    /**
     * Durable Object RPC: operation `op` with a JSON `body`; resolves to JSON text, or null.
     * `request`: the calling request's id, for the object's log lines.
     */
    call(op, body, request) {
      return this.inner.call(op, body, request);
    }
  };
}

export const SessionObject = rpcObject(rust.SessionObject);
export const IndexShard = rpcObject(rust.IndexShard);
export const UserIndex = rpcObject(rust.UserIndex);
export const AppObject = rpcObject(rust.AppObject);
