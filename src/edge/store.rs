//! The Worker's (and the objects') side of the Durable Objects: one RPC call per operation,
//! `call(op, body)` with JSON text each way (the objects' side: `object_rpc.rs`).
//!
//! Every call either answers within [`CALL_TIMEOUT`] or fails with
//! [`EdgeError::SessionStore`]; what each request path then does is in `docs/security.md`
//! ("When a Durable Object fails").

use std::{cell::RefCell, time::Duration};

use js_sys::Reflect;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use worker::Env;

use super::faults;

use crate::core::{
    config::Jurisdiction,
    error::EdgeError,
    ids::Cfid,
    index::{shard_for, user_object, EndedEntry, IndexEntry, Page},
    lifecycle::Ending,
    rpc::{
        AddUser, AdoptRequest, BeginRequest, Call, CfidOf, Due, EndRequest, IndexCall, Limit, ListAfter, PendingEnd,
        Removal, Reply, RotateOutReply, RotateOutRequest, SessionCall, SessionView, UpdateRequest, UserCall,
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
/// `SESSION_JURISDICTION` (the isolate's configuration), the platform's `namespace.jurisdiction(…)`: every object of it is
/// created in that jurisdiction (workers-rs offers it only for unique ids).
pub fn namespace(env: &Env, binding: &'static str) -> Result<Namespace, EdgeError> {
    let known = NAMESPACES.with(|n| n.borrow().iter().find(|(b, _)| *b == binding).map(|(_, ns)| ns.clone()));
    if let Some(ns) = known {
        return Ok(ns);
    }
    let failed = |e: String| EdgeError::Internal(format!("{binding} binding: {e}"));
    let ns: JsValue = env.durable_object(binding).map_err(|e| failed(e.to_string()))?.into();
    let ns = match super::platform::config(env)?.controls.jurisdiction {
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

/// Makes `call` on the object named `name`: its fault point first when the caller hits it
/// (not a session call's: the session object hits those), then the call. `Ok(None)` when the
/// object has nothing (`null`).
pub async fn call<C: Call, R: DeserializeOwned>(ns: &Namespace, name: &str, call: &C) -> Result<Option<R>, EdgeError> {
    let op = call.op();
    let body = call.body().map_err(EdgeError::internal)?;
    match exchange(ns, name, op, body).await? {
        Some(text) => serde_json::from_str(&text).map(Some).map_err(store_err),
        None => Ok(None),
    }
}

/// The untyped part of [`call`] (one copy in the wasm, not one per message type): calls
/// `call(op, body)` on the object over Durable Object RPC (no HTTP request or response is
/// built on either side), within [`CALL_TIMEOUT`]. The answer's JSON text; `None` for `null`.
async fn exchange(ns: &Namespace, name: &str, op: &str, body: String) -> Result<Option<String>, EdgeError> {
    // (`TEST_FAULTS` only: the latency model's round trip, or a failing store.)
    faults::hit("object.call").await.map_err(store_err)?;
    let ms = CALL_TIMEOUT.as_millis() as u32;
    // The object's log lines carry the calling request's id.
    let request = super::platform::log::current_request().map(|id| id.to_string());
    let failed = |e: wasm_bindgen::JsValue| store_err(format!("{op}: {}", super::incoming::js_message(&e)));
    let promise = call_object(ns, name, op, &body, ms, request).map_err(failed)?;
    match worker::wasm_bindgen_futures::JsFuture::from(promise).await {
        Ok(v) if v.is_null() || v.is_undefined() => Ok(None),
        Ok(v) => v.as_string().map(Some).ok_or_else(|| store_err(format!("{op}: not a JSON text"))),
        Err(e) => Err(failed(e)),
    }
}

/// [`call`], for a call that always answers.
pub async fn must<C: Call, R: DeserializeOwned>(ns: &Namespace, name: &str, call: &C) -> Result<R, EdgeError> {
    let op = call.op();
    self::call(ns, name, call).await?.ok_or_else(|| store_err(format!("{op}: not found")))
}

/// [`must`] for an index, user or application call: its fault point is hit here, before the
/// call is sent.
pub async fn must_at<C: Call, R: DeserializeOwned>(ns: &Namespace, name: &str, call: &C) -> Result<R, EdgeError> {
    if let Some(point) = call.fault_point() {
        faults::hit(point).await.map_err(store_err)?;
    }
    must(ns, name, call).await
}

/// The `SESSIONS` namespace: one object per CFID.
pub struct SessionObjects {
    ns: Namespace,
}

impl SessionObjects {
    pub fn from_env(env: &Env) -> Result<Self, EdgeError> {
        Ok(Self { ns: namespace(env, "SESSIONS")? })
    }

    pub async fn begin(&self, cfid: &Cfid, req: BeginRequest) -> Result<Reply, EdgeError> {
        must(&self.ns, cfid.as_str(), &SessionCall::Begin(req)).await
    }

    pub async fn update(&self, cfid: &Cfid, req: UpdateRequest) -> Result<Reply, EdgeError> {
        must(&self.ns, cfid.as_str(), &SessionCall::Update(req)).await
    }

    /// Ends the session now (idempotent).
    pub async fn end(&self, cfid: &Cfid, req: EndRequest) -> Result<Ending, EdgeError> {
        must(&self.ns, cfid.as_str(), &SessionCall::End(req)).await
    }

    /// Takes the session out of its old ids (the first half of a rotation).
    pub async fn rotate_out(&self, cfid: &Cfid, req: RotateOutRequest) -> Result<RotateOutReply, EdgeError> {
        must(&self.ns, cfid.as_str(), &SessionCall::RotateOut(req)).await
    }

    /// Stores a rotated session under its new ids (the second half).
    pub async fn adopt(&self, cfid: &Cfid, req: AdoptRequest) -> Result<Reply, EdgeError> {
        must(&self.ns, cfid.as_str(), &SessionCall::Adopt(req)).await
    }

    /// Ends the session if its deadline passed (the sweep); `true` when it is still live.
    pub async fn check(&self, cfid: &Cfid) -> Result<bool, EdgeError> {
        must(&self.ns, cfid.as_str(), &SessionCall::Check).await
    }

    /// Records an origin-API call's nonce with its calling session; `false` for a replay.
    pub async fn use_nonce(&self, cfid: &Cfid, nonce: &str) -> Result<bool, EdgeError> {
        must(&self.ns, cfid.as_str(), &SessionCall::Nonce(nonce.to_owned())).await
    }

    /// Whether the object named `cfid` answers (readiness; touches no storage).
    pub async fn ping(&self, cfid: &Cfid) -> Result<(), EdgeError> {
        must::<_, bool>(&self.ns, cfid.as_str(), &SessionCall::Ping).await.map(drop)
    }

    /// The live session, or `None` when there is none.
    pub async fn inspect(&self, cfid: &Cfid) -> Result<Option<SessionView>, EdgeError> {
        call(&self.ns, cfid.as_str(), &SessionCall::Inspect).await
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

    /// `call` on the shard of `cfid`.
    async fn on_shard_of<R: DeserializeOwned>(&self, cfid: &str, call: IndexCall) -> Result<R, EdgeError> {
        must_at(&self.shards, &shard_for(cfid, self.count), &call).await
    }

    /// `call` on shard `shard`.
    async fn on_shard<R: DeserializeOwned>(&self, shard: u32, call: IndexCall) -> Result<R, EdgeError> {
        must_at(&self.shards, &format!("shard-{shard}"), &call).await
    }

    /// `call` on the index of `user`.
    async fn on_user<R: DeserializeOwned>(&self, user: &str, call: UserCall) -> Result<R, EdgeError> {
        must_at(&self.users, &user_object(user), &call).await
    }

    pub async fn upsert(&self, entry: &IndexEntry) -> Result<(), EdgeError> {
        self.on_shard_of::<bool>(&entry.cfid, IndexCall::Upsert(entry.clone())).await.map(drop)
    }

    /// Removes `cfid`'s entry; `ended` (when the session ended, not rotated) goes to the log.
    pub async fn remove(&self, cfid: &str, ended: Option<EndedEntry>) -> Result<(), EdgeError> {
        let removal = Removal { cfid: cfid.to_owned(), ended };
        self.on_shard_of::<bool>(cfid, IndexCall::Remove(removal)).await.map(drop)
    }

    /// Tags `cfid` with `user` at `at` (ms). With `max`, the user's oldest other sessions
    /// beyond it are removed from the user's index in the same step and returned: the caller
    /// ends them (reason `replaced`).
    pub async fn add_user(&self, user: &str, cfid: &str, at: u64, max: Option<u32>) -> Result<Vec<String>, EdgeError> {
        self.on_user(user, UserCall::Add(AddUser { cfid: cfid.to_owned(), at, max })).await
    }

    /// Tags `cfid` with `user` only while the user has fewer than `max` other sessions
    /// (`MAX_SESSIONS_POLICY=refuse`); `false` when refused.
    pub async fn add_user_within(&self, user: &str, cfid: &str, at: u64, max: u32) -> Result<bool, EdgeError> {
        self.on_user(user, UserCall::AddWithin(AddUser { cfid: cfid.to_owned(), at, max: Some(max) })).await
    }

    pub async fn remove_user(&self, user: &str, cfid: &str) -> Result<(), EdgeError> {
        self.on_user::<bool>(user, UserCall::Remove(CfidOf { cfid: cfid.to_owned() })).await.map(drop)
    }

    /// The CFIDs tagged with `user` (strongly consistent: one object per user).
    pub async fn user_sessions(&self, user: &str) -> Result<Vec<String>, EdgeError> {
        self.on_user(user, UserCall::List).await
    }

    /// Up to `limit` CFIDs of shard `shard` whose recorded deadline is at or before `before`.
    pub async fn expired(&self, shard: u32, before: u64, limit: u32) -> Result<Vec<String>, EdgeError> {
        self.on_shard(shard, IndexCall::Expired(Due { before, limit })).await
    }

    /// A page of shard `shard`, after CFID `after`.
    pub async fn list(&self, shard: u32, after: Option<&str>, limit: u32) -> Result<Page, EdgeError> {
        self.on_shard(shard, IndexCall::List(ListAfter { after: after.map(str::to_owned), limit })).await
    }

    /// The most recently ended sessions of shard `shard`, newest first.
    pub async fn ended(&self, shard: u32, limit: u32) -> Result<Vec<EndedEntry>, EdgeError> {
        self.on_shard(shard, IndexCall::Ended(Limit { limit })).await
    }

    /// Queues an end the session object could not confirm, for the sweep to retry until it
    /// does (kept in the shard of its CFID).
    pub async fn queue_end(&self, end: EndRequest) -> Result<(), EdgeError> {
        let cfid = end.cfid.clone();
        self.on_shard_of::<bool>(&cfid, IndexCall::QueueEnd(end)).await.map(drop)
    }

    /// Up to `limit` queued ends of shard `shard`.
    pub async fn pending_ends(&self, shard: u32, limit: u32) -> Result<Vec<PendingEnd>, EdgeError> {
        self.on_shard(shard, IndexCall::PendingEnds(Limit { limit })).await
    }

    /// Drops a queued end once its session object confirmed it.
    pub async fn end_confirmed(&self, cfid: &str) -> Result<(), EdgeError> {
        self.on_shard_of::<bool>(cfid, IndexCall::EndConfirmed(CfidOf { cfid: cfid.to_owned() })).await.map(drop)
    }

    /// How many sessions shard `shard` records.
    pub async fn count(&self, shard: u32) -> Result<u64, EdgeError> {
        self.on_shard(shard, IndexCall::Count).await
    }
}
