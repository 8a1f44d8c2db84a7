//! The Worker's (and the objects') side of the Durable Objects: one JSON call per operation.

use serde::{de::DeserializeOwned, Serialize};
use worker::{Env, ObjectNamespace, Request};

use crate::core::{
    error::EdgeError,
    ids::Cfid,
    index::{shard_for, user_object, EndedEntry, IndexEntry, Page},
    lifecycle::Ending,
    rpc::{
        AdoptRequest, BeginRequest, EndRequest, Reply, RotateOutReply, RotateOutRequest, SessionView, UpdateRequest,
    },
};

fn store_err(e: impl std::fmt::Display) -> EdgeError {
    EdgeError::SessionStore(e.to_string())
}

fn namespace(env: &Env, binding: &str) -> Result<ObjectNamespace, EdgeError> {
    env.durable_object(binding).map_err(|e| EdgeError::Internal(format!("{binding} binding: {e}")))
}

/// Calls operation `op` on the object named `name`. `Ok(None)` when it answers 404.
pub async fn call<B: Serialize, R: DeserializeOwned>(
    ns: &ObjectNamespace,
    name: &str,
    op: &str,
    body: Option<&B>,
) -> Result<Option<R>, EdgeError> {
    let stub = ns.get_by_name(name).map_err(store_err)?;
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post);
    if let Some(b) = body {
        let json = serde_json::to_string(b).map_err(|e| EdgeError::Internal(e.to_string()))?;
        init.with_body(Some(json.into()));
    }
    let req = Request::new_with_init(&format!("https://object/{op}"), &init).map_err(store_err)?;
    let mut resp = stub.fetch_with_request(req).await.map_err(store_err)?;
    match resp.status_code() {
        200 => resp.json().await.map(Some).map_err(store_err),
        404 => Ok(None),
        status => Err(store_err(format!("{op}: status {status}: {}", resp.text().await.unwrap_or_default()))),
    }
}

async fn must<B: Serialize, R: DeserializeOwned>(
    ns: &ObjectNamespace,
    name: &str,
    op: &str,
    body: &B,
) -> Result<R, EdgeError> {
    call(ns, name, op, Some(body)).await?.ok_or_else(|| store_err(format!("{op}: not found")))
}

/// The `SESSIONS` namespace: one object per CFID.
pub struct Sessions {
    ns: ObjectNamespace,
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

    /// The live session, or `None` when there is none.
    pub async fn inspect(&self, cfid: &Cfid) -> Result<Option<SessionView>, EdgeError> {
        call::<(), SessionView>(&self.ns, cfid.as_str(), "inspect", None).await
    }
}

/// The session index: `INDEX` shards and `USERS` objects.
pub struct Index {
    shards: ObjectNamespace,
    users: ObjectNamespace,
    /// `INDEX_SHARDS`.
    pub count: u32,
}

impl Index {
    pub fn from_env(env: &Env, count: u32) -> Result<Self, EdgeError> {
        Ok(Self { shards: namespace(env, "INDEX")?, users: namespace(env, "USERS")?, count })
    }

    pub async fn upsert(&self, entry: &IndexEntry) -> Result<(), EdgeError> {
        must::<_, bool>(&self.shards, &shard_for(&entry.cfid, self.count), "upsert", entry).await.map(drop)
    }

    /// Removes `cfid`'s entry; `ended` (when the session ended, not rotated) goes to the log.
    pub async fn remove(&self, cfid: &str, ended: Option<&EndedEntry>) -> Result<(), EdgeError> {
        let body = serde_json::json!({ "cfid": cfid, "ended": ended });
        must::<_, bool>(&self.shards, &shard_for(cfid, self.count), "remove", &body).await.map(drop)
    }

    pub async fn add_user(&self, user: &str, cfid: &str) -> Result<(), EdgeError> {
        must::<_, bool>(&self.users, &user_object(user), "add", &serde_json::json!({ "cfid": cfid })).await.map(drop)
    }

    pub async fn remove_user(&self, user: &str, cfid: &str) -> Result<(), EdgeError> {
        must::<_, bool>(&self.users, &user_object(user), "remove", &serde_json::json!({ "cfid": cfid })).await.map(drop)
    }

    /// The CFIDs tagged with `user` (strongly consistent: one object per user).
    pub async fn user_sessions(&self, user: &str) -> Result<Vec<String>, EdgeError> {
        must(&self.users, &user_object(user), "list", &()).await
    }

    /// Up to `limit` CFIDs of shard `shard` whose recorded deadline is at or before `before`.
    pub async fn expired(&self, shard: u32, before: u64, limit: u32) -> Result<Vec<String>, EdgeError> {
        let body = serde_json::json!({ "before": before, "limit": limit });
        must(&self.shards, &format!("shard-{shard}"), "expired", &body).await
    }

    /// A page of shard `shard`, after CFID `after`.
    pub async fn list(&self, shard: u32, after: Option<&str>, limit: u32) -> Result<Page, EdgeError> {
        let body = serde_json::json!({ "after": after, "limit": limit });
        must(&self.shards, &format!("shard-{shard}"), "list", &body).await
    }

    /// The most recently ended sessions of shard `shard`, newest first.
    pub async fn ended(&self, shard: u32, limit: u32) -> Result<Vec<EndedEntry>, EdgeError> {
        let body = serde_json::json!({ "limit": limit });
        must(&self.shards, &format!("shard-{shard}"), "ended", &body).await
    }

    /// How many sessions shard `shard` records.
    pub async fn count(&self, shard: u32) -> Result<u64, EdgeError> {
        must(&self.shards, &format!("shard-{shard}"), "count", &()).await
    }
}
