//! The Worker's side of the session objects: one JSON call per operation.

use serde::{de::DeserializeOwned, Serialize};
use worker::{Env, ObjectNamespace, Request};

use crate::core::{
    error::EdgeError,
    ids::Cfid,
    lifecycle::Ending,
    rpc::{
        AdoptRequest, BeginRequest, EndRequest, Reply, RotateOutReply, RotateOutRequest, SessionView, UpdateRequest,
    },
};

/// The `SESSIONS` Durable Object namespace.
pub struct Sessions {
    ns: ObjectNamespace,
}

fn store_err(e: impl std::fmt::Display) -> EdgeError {
    EdgeError::SessionStore(e.to_string())
}

impl Sessions {
    pub fn from_env(env: &Env) -> Result<Self, EdgeError> {
        let ns = env.durable_object("SESSIONS").map_err(|e| EdgeError::Internal(format!("SESSIONS binding: {e}")))?;
        Ok(Self { ns })
    }

    pub async fn begin(&self, cfid: &Cfid, req: &BeginRequest) -> Result<Reply, EdgeError> {
        self.call(cfid, "begin", Some(req)).await?.ok_or_else(|| store_err("begin: empty answer"))
    }

    pub async fn update(&self, cfid: &Cfid, req: &UpdateRequest) -> Result<Reply, EdgeError> {
        self.call(cfid, "update", Some(req)).await?.ok_or_else(|| store_err("update: empty answer"))
    }

    /// Ends the session now (idempotent).
    pub async fn end(&self, cfid: &Cfid, req: &EndRequest) -> Result<Ending, EdgeError> {
        self.call(cfid, "end", Some(req)).await?.ok_or_else(|| store_err("end: empty answer"))
    }

    /// Takes the session out of its old ids (the first half of a rotation).
    pub async fn rotate_out(&self, cfid: &Cfid, req: &RotateOutRequest) -> Result<RotateOutReply, EdgeError> {
        self.call(cfid, "rotate_out", Some(req)).await?.ok_or_else(|| store_err("rotate_out: empty answer"))
    }

    /// Stores a rotated session under its new ids (the second half).
    pub async fn adopt(&self, cfid: &Cfid, req: &AdoptRequest) -> Result<Reply, EdgeError> {
        self.call(cfid, "adopt", Some(req)).await?.ok_or_else(|| store_err("adopt: empty answer"))
    }

    /// The live session, or `None` when there is none.
    pub async fn inspect(&self, cfid: &Cfid) -> Result<Option<SessionView>, EdgeError> {
        self.call::<(), SessionView>(cfid, "inspect", None).await
    }

    /// Calls operation `op` on `cfid`'s object. `Ok(None)` when the object answers 404.
    async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        cfid: &Cfid,
        op: &str,
        body: Option<&B>,
    ) -> Result<Option<R>, EdgeError> {
        let stub = self.ns.get_by_name(cfid.as_str()).map_err(store_err)?;
        let mut init = worker::RequestInit::new();
        init.with_method(worker::Method::Post);
        if let Some(b) = body {
            let json = serde_json::to_string(b).map_err(|e| EdgeError::Internal(e.to_string()))?;
            init.with_body(Some(json.into()));
        }
        let req = Request::new_with_init(&format!("https://session/{op}"), &init).map_err(store_err)?;
        let mut resp = stub.fetch_with_request(req).await.map_err(store_err)?;
        match resp.status_code() {
            200 => resp.json().await.map(Some).map_err(store_err),
            404 => Ok(None),
            status => Err(store_err(format!("{op}: status {status}: {}", resp.text().await.unwrap_or_default()))),
        }
    }
}
