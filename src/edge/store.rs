//! The Worker's (and the objects') side of the Durable Objects: one RPC call per operation,
//! `call(op, body)` with JSON text each way (the objects' side: `object_rpc.rs`).
//!
//! Every call either answers within [`CALL_TIMEOUT`] or fails with
//! [`EdgeError::SessionStore`]; what each request path then does is in `docs/security.md`
//! ("When a Durable Object fails").

use std::{cell::RefCell, time::Duration};

use js_sys::Reflect;
use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use worker::Env;

use super::faults;

use crate::core::{
    config::Jurisdiction,
    error::EdgeError,
    ids::Cfid,
    index::{shard_for, user_object, EndedEntry, IndexEntry, Page, PendingEnd},
    lifecycle::Ending,
    rpc::{
        AdoptRequest, BeginRequest, EndRequest, Reply, RotateOutReply, RotateOutRequest, SessionView, UpdateRequest,
    },
};

/// How long the edge waits for a Durable Object to answer. The object may still finish the
/// operation afterwards (the caller treats it as failed, and every operation is safe to repeat).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(8);

fn store_err(e: impl std::fmt::Display) -> EdgeError {
    EdgeError::SessionStore(e.to_string())
}

thread_local! {
    /// The namespaces this isolate has looked up: bindings and variables change only with a
    /// deploy, which starts new isolates (workers-rs checks a binding's class name on every
    /// lookup).
    static NAMESPACES: RefCell<Vec<(&'static str, Namespace)>> = const { RefCell::new(Vec::new()) };
}

/// A Durable Object namespace, restricted to `SESSION_JURISDICTION` when it is set.
pub type Namespace = JsValue;

/// The Durable Object namespace bound as `binding`, looked up once per isolate. With
/// `SESSION_JURISDICTION`, the platform's `namespace.jurisdiction(…)`: every object of it is
/// created in that jurisdiction (workers-rs offers it only for unique ids).
pub fn namespace(env: &Env, binding: &'static str) -> Result<Namespace, EdgeError> {
    let known = NAMESPACES.with(|n| n.borrow().iter().find(|(b, _)| *b == binding).map(|(_, ns)| ns.clone()));
    if let Some(ns) = known {
        return Ok(ns);
    }
    let failed = |e: String| EdgeError::Internal(format!("{binding} binding: {e}"));
    let ns: JsValue = env.durable_object(binding).map_err(|e| failed(e.to_string()))?.into();
    let raw = env.var("SESSION_JURISDICTION").map(|v| v.to_string()).unwrap_or_default();
    let ns = match Jurisdiction::parse(&raw).map_err(EdgeError::Config)? {
        Some(j) => within(&ns, j).map_err(|e| failed(super::incoming::js_message(&e)))?,
        None => ns,
    };
    NAMESPACES.with(|n| n.borrow_mut().push((binding, ns.clone())));
    Ok(ns)
}

/// `ns.jurisdiction(j)`.
fn within(ns: &JsValue, j: Jurisdiction) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = Reflect::get(ns, &JsValue::from_str("jurisdiction"))?.dyn_into()?;
    f.call1(ns, &JsValue::from_str(j.as_str()))
}

#[wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    inline_js = "export function callObject(ns, name, op, body, ms, request) {
        let timer;
        const late = new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
        });
        return Promise.race([ns.getByName(name).call(op, body, request), late]).finally(() => clearTimeout(timer));
    }"
)]
extern "C" {
    /// `call(op, body)` on the object `name` of namespace `ns` over Durable Object RPC (the
    /// method `src/entry.mjs` exposes), rejected after `ms`: one crossing of the wasm boundary
    /// for the stub, the call and its timer.
    #[wasm_bindgen(catch, js_name = callObject)]
    fn call_object(
        ns: &wasm_bindgen::JsValue,
        name: &str,
        op: &str,
        body: &str,
        ms: u32,
        request: Option<String>,
    ) -> std::result::Result<js_sys::Promise, wasm_bindgen::JsValue>;
}

/// Calls operation `op` on the object named `name`. `Ok(None)` when it has nothing (404).
pub async fn call<B: Serialize, R: DeserializeOwned>(
    ns: &Namespace,
    name: &str,
    op: &str,
    body: Option<&B>,
) -> Result<Option<R>, EdgeError> {
    let json = body.map(serde_json::to_string).transpose().map_err(EdgeError::internal)?;
    match exchange(ns, name, op, json).await? {
        Some(text) => serde_json::from_str(&text).map(Some).map_err(store_err),
        None => Ok(None),
    }
}

/// The untyped part of [`call`] (one copy in the wasm, not one per message type): calls
/// `call(op, body)` on the object over Durable Object RPC (no HTTP request or response is
/// built on either side), within [`CALL_TIMEOUT`]. The answer's JSON text; `None` for `null`.
async fn exchange(ns: &Namespace, name: &str, op: &str, body: Option<String>) -> Result<Option<String>, EdgeError> {
    let ms = CALL_TIMEOUT.as_millis() as u32;
    // The object's log lines carry the calling request's id.
    let request = super::platform::log::current_request().map(|id| id.to_string());
    let failed = |e: wasm_bindgen::JsValue| store_err(format!("{op}: {}", super::incoming::js_message(&e)));
    let promise = call_object(ns, name, op, body.as_deref().unwrap_or("null"), ms, request).map_err(failed)?;
    match worker::wasm_bindgen_futures::JsFuture::from(promise).await {
        Ok(v) if v.is_null() || v.is_undefined() => Ok(None),
        Ok(v) => v.as_string().map(Some).ok_or_else(|| store_err(format!("{op}: not a JSON text"))),
        Err(e) => Err(failed(e)),
    }
}

async fn must<B: Serialize, R: DeserializeOwned>(
    ns: &Namespace,
    name: &str,
    op: &str,
    body: &B,
) -> Result<R, EdgeError> {
    call(ns, name, op, Some(body)).await?.ok_or_else(|| store_err(format!("{op}: not found")))
}

/// The `SESSIONS` namespace: one object per CFID.
pub struct Sessions {
    ns: Namespace,
}

impl Sessions {
    pub fn from_env(env: &Env) -> Result<Self, EdgeError> {
        Ok(Self { ns: namespace(env, "SESSIONS")? })
    }

    pub async fn begin(&self, cfid: &Cfid, req: &BeginRequest) -> Result<Reply, EdgeError> {
        must(&self.ns, cfid.as_str(), "begin", req).await
    }

    pub async fn update(&self, cfid: &Cfid, req: &UpdateRequest) -> Result<Reply, EdgeError> {
        must(&self.ns, cfid.as_str(), "update", req).await
    }

    /// Ends the session now (idempotent).
    pub async fn end(&self, cfid: &Cfid, req: &EndRequest) -> Result<Ending, EdgeError> {
        must(&self.ns, cfid.as_str(), "end", req).await
    }

    /// Takes the session out of its old ids (the first half of a rotation).
    pub async fn rotate_out(&self, cfid: &Cfid, req: &RotateOutRequest) -> Result<RotateOutReply, EdgeError> {
        must(&self.ns, cfid.as_str(), "rotate_out", req).await
    }

    /// Stores a rotated session under its new ids (the second half).
    pub async fn adopt(&self, cfid: &Cfid, req: &AdoptRequest) -> Result<Reply, EdgeError> {
        must(&self.ns, cfid.as_str(), "adopt", req).await
    }

    /// Ends the session if its deadline passed (the sweep); `true` when it is still live.
    pub async fn check(&self, cfid: &Cfid) -> Result<bool, EdgeError> {
        must(&self.ns, cfid.as_str(), "check", &()).await
    }

    /// Records an origin-API call's nonce with its calling session; `false` for a replay.
    pub async fn use_nonce(&self, cfid: &Cfid, nonce: &str) -> Result<bool, EdgeError> {
        must(&self.ns, cfid.as_str(), "nonce", &nonce).await
    }

    /// Whether the object named `cfid` answers (readiness; touches no storage).
    pub async fn ping(&self, cfid: &Cfid) -> Result<(), EdgeError> {
        must::<_, bool>(&self.ns, cfid.as_str(), "ping", &()).await.map(drop)
    }

    /// The live session, or `None` when there is none.
    pub async fn inspect(&self, cfid: &Cfid) -> Result<Option<SessionView>, EdgeError> {
        call::<(), SessionView>(&self.ns, cfid.as_str(), "inspect", None).await
    }
}

/// The session index: `INDEX` shards and `USERS` objects.
pub struct Index {
    shards: Namespace,
    users: Namespace,
    /// `INDEX_SHARDS`.
    pub count: u32,
}

impl Index {
    pub fn from_env(env: &Env, count: u32) -> Result<Self, EdgeError> {
        Ok(Self { shards: namespace(env, "INDEX")?, users: namespace(env, "USERS")?, count })
    }

    pub async fn upsert(&self, entry: &IndexEntry) -> Result<(), EdgeError> {
        faults::hit("index.upsert").await.map_err(store_err)?;
        must::<_, bool>(&self.shards, &shard_for(&entry.cfid, self.count), "upsert", entry).await.map(drop)
    }

    /// Removes `cfid`'s entry; `ended` (when the session ended, not rotated) goes to the log.
    pub async fn remove(&self, cfid: &str, ended: Option<&EndedEntry>) -> Result<(), EdgeError> {
        faults::hit("index.remove").await.map_err(store_err)?;
        let body = serde_json::json!({ "cfid": cfid, "ended": ended });
        must::<_, bool>(&self.shards, &shard_for(cfid, self.count), "remove", &body).await.map(drop)
    }

    /// Tags `cfid` with `user` at `at` (ms). With `max`, the user's oldest other sessions
    /// beyond it are removed from the user's index in the same step and returned: the caller
    /// ends them (reason `replaced`).
    pub async fn add_user(&self, user: &str, cfid: &str, at: u64, max: Option<u32>) -> Result<Vec<String>, EdgeError> {
        faults::hit("users.add").await.map_err(store_err)?;
        let body = serde_json::json!({ "cfid": cfid, "at": at, "max": max });
        must(&self.users, &user_object(user), "add", &body).await
    }

    /// Tags `cfid` with `user` only while the user has fewer than `max` other sessions
    /// (`MAX_SESSIONS_POLICY=refuse`); `false` when refused.
    pub async fn add_user_within(&self, user: &str, cfid: &str, at: u64, max: u32) -> Result<bool, EdgeError> {
        faults::hit("users.add").await.map_err(store_err)?;
        let body = serde_json::json!({ "cfid": cfid, "at": at, "max": max });
        must(&self.users, &user_object(user), "add_within", &body).await
    }

    pub async fn remove_user(&self, user: &str, cfid: &str) -> Result<(), EdgeError> {
        faults::hit("users.remove").await.map_err(store_err)?;
        must::<_, bool>(&self.users, &user_object(user), "remove", &serde_json::json!({ "cfid": cfid })).await.map(drop)
    }

    /// The CFIDs tagged with `user` (strongly consistent: one object per user).
    pub async fn user_sessions(&self, user: &str) -> Result<Vec<String>, EdgeError> {
        faults::hit("users.list").await.map_err(store_err)?;
        must(&self.users, &user_object(user), "list", &()).await
    }

    /// Up to `limit` CFIDs of shard `shard` whose recorded deadline is at or before `before`.
    pub async fn expired(&self, shard: u32, before: u64, limit: u32) -> Result<Vec<String>, EdgeError> {
        let body = serde_json::json!({ "before": before, "limit": limit });
        must(&self.shards, &format!("shard-{shard}"), "expired", &body).await
    }

    /// A page of shard `shard`, after CFID `after`.
    pub async fn list(&self, shard: u32, after: Option<&str>, limit: u32) -> Result<Page, EdgeError> {
        faults::hit("index.list").await.map_err(store_err)?;
        let body = serde_json::json!({ "after": after, "limit": limit });
        must(&self.shards, &format!("shard-{shard}"), "list", &body).await
    }

    /// The most recently ended sessions of shard `shard`, newest first.
    pub async fn ended(&self, shard: u32, limit: u32) -> Result<Vec<EndedEntry>, EdgeError> {
        let body = serde_json::json!({ "limit": limit });
        must(&self.shards, &format!("shard-{shard}"), "ended", &body).await
    }

    /// Queues an end the session object could not confirm, for the sweep to retry until it
    /// does (kept in the shard of its CFID).
    pub async fn queue_end(&self, end: &EndRequest) -> Result<(), EdgeError> {
        faults::hit("index.queue_end").await.map_err(store_err)?;
        must::<_, bool>(&self.shards, &shard_for(&end.cfid, self.count), "queue_end", end).await.map(drop)
    }

    /// Up to `limit` queued ends of shard `shard`.
    pub async fn pending_ends(&self, shard: u32, limit: u32) -> Result<Vec<PendingEnd>, EdgeError> {
        must(&self.shards, &format!("shard-{shard}"), "pending_ends", &serde_json::json!({ "limit": limit })).await
    }

    /// Drops a queued end once its session object confirmed it.
    pub async fn end_confirmed(&self, cfid: &str) -> Result<(), EdgeError> {
        let body = serde_json::json!({ "cfid": cfid });
        must::<_, bool>(&self.shards, &shard_for(cfid, self.count), "end_confirmed", &body).await.map(drop)
    }

    /// How many sessions shard `shard` records.
    pub async fn count(&self, shard: u32) -> Result<u64, EdgeError> {
        must(&self.shards, &format!("shard-{shard}"), "count", &()).await
    }
}
