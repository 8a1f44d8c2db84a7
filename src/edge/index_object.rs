//! The session index objects: `IndexShard` (one of `INDEX_SHARDS`, SQLite, a row per live
//! session) and `UserIndex` (one per user id, the CFIDs tagged with it). Both are written by
//! the session objects and read by the sweep and the admin API.

use crate::edge::platform::log::{self, LogLine};
use serde::Deserialize;
use wasm_bindgen::prelude::wasm_bindgen;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, SqlStorageValue, State};

use super::object_rpc::{not_over_http, rpc_call};

use crate::core::{
    end_reason::EndReason,
    index::{over_limit, EndedEntry, IndexEntry, Page, ENDED_PER_SHARD},
    rpc::{Call, CfidOf, IndexCall, PendingEnd, UserCall},
};

#[durable_object]
pub struct IndexShard {
    state: State,
}

#[derive(Deserialize)]
struct EndedRow {
    cfid: String,
    reason: String,
    at: f64,
    user: Option<String>,
}

/// A row as SQLite returns it (integers arrive as JS numbers).
#[derive(Deserialize)]
struct Row {
    cfid: String,
    created: f64,
    last_access: f64,
    expires_at: f64,
    hits: f64,
    user: Option<String>,
    #[serde(default)]
    flag: Option<f64>,
}

impl From<Row> for IndexEntry {
    fn from(r: Row) -> Self {
        Self {
            cfid: r.cfid,
            created: r.created as u64,
            last_access: r.last_access as u64,
            expires_at: r.expires_at as u64,
            hits: r.hits as u64,
            user: r.user,
            flag: r.flag.map(|f| f as u32),
        }
    }
}

fn int(v: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(v).unwrap_or(i64::MAX))
}

impl DurableObject for IndexShard {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        let schema = "CREATE TABLE IF NOT EXISTS sessions (cfid TEXT PRIMARY KEY, created INTEGER NOT NULL, \
                      last_access INTEGER NOT NULL, expires_at INTEGER NOT NULL, hits INTEGER NOT NULL, user TEXT); \
                      CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions(expires_at); \
                      CREATE TABLE IF NOT EXISTS ended (cfid TEXT PRIMARY KEY, reason TEXT NOT NULL, at INTEGER NOT NULL, user TEXT); \
                      CREATE INDEX IF NOT EXISTS ended_by_time ON ended(at); \
                      CREATE TABLE IF NOT EXISTS pending_ends (cfid TEXT PRIMARY KEY, request TEXT NOT NULL, at INTEGER NOT NULL); \
                      CREATE TABLE IF NOT EXISTS flags (cfid TEXT PRIMARY KEY, score INTEGER NOT NULL)";
        if let Err(e) = sql.exec(schema, None) {
            log::emit(LogLine::error("index.schema_failed").msg(format!("index schema: {e}")));
        }
        Self { state }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        not_over_http()
    }
}

rpc_call!(IndexShard);

impl IndexShard {
    /// One operation ([`IndexCall`]).
    async fn dispatch(&self, op: &str, body: &str) -> Result<Option<String>> {
        let sql = self.state.storage().sql();
        match IndexCall::parse(op, body).map_err(|e| e.to_string())? {
            IndexCall::Upsert(e) => {
                let user = e.user.map_or(SqlStorageValue::Null, SqlStorageValue::String);
                sql.exec(
                    "INSERT OR REPLACE INTO sessions (cfid, created, last_access, expires_at, hits, user) VALUES (?, ?, ?, ?, ?, ?)",
                    vec![e.cfid.clone().into(), int(e.created), int(e.last_access), int(e.expires_at), int(e.hits), user],
                )?;
                if let Some(score) = e.flag {
                    sql.exec(
                        "INSERT OR REPLACE INTO flags (cfid, score) VALUES (?, ?)",
                        vec![e.cfid.into(), int(u64::from(score))],
                    )?;
                }
                Ok(Some(serde_json::to_string(&true)?))
            }
            IndexCall::Remove(b) => {
                sql.exec("DELETE FROM sessions WHERE cfid = ?", vec![b.cfid.clone().into()])?;
                sql.exec("DELETE FROM flags WHERE cfid = ?", vec![b.cfid.into()])?;
                if let Some(e) = b.ended {
                    let user = e.user.map_or(SqlStorageValue::Null, SqlStorageValue::String);
                    sql.exec(
                        "INSERT OR REPLACE INTO ended (cfid, reason, at, user) VALUES (?, ?, ?, ?)",
                        vec![e.cfid.into(), e.reason.as_str().into(), int(e.at), user],
                    )?;
                    sql.exec(
                        "DELETE FROM ended WHERE cfid NOT IN (SELECT cfid FROM ended ORDER BY at DESC LIMIT ?)",
                        vec![int(u64::from(ENDED_PER_SHARD))],
                    )?;
                }
                Ok(Some(serde_json::to_string(&true)?))
            }
            IndexCall::Ended(b) => {
                let rows: Vec<EndedRow> = sql
                    .exec(
                        "SELECT cfid, reason, at, user FROM ended ORDER BY at DESC LIMIT ?",
                        vec![int(u64::from(b.limit.clamp(1, 1000)))],
                    )?
                    .to_array()?;
                let items: Vec<EndedEntry> = rows
                    .into_iter()
                    // (A reason this version does not know, from a newer one, is left out.)
                    .filter_map(|r| {
                        let reason = EndReason::parse(&r.reason)?;
                        Some(EndedEntry { cfid: r.cfid, reason, at: r.at as u64, user: r.user })
                    })
                    .collect();
                Ok(Some(serde_json::to_string(&items)?))
            }
            IndexCall::Expired(b) => {
                let rows: Vec<CfidOf> = sql
                    .exec(
                        "SELECT cfid FROM sessions WHERE expires_at <= ? ORDER BY expires_at LIMIT ?",
                        vec![int(b.before), int(u64::from(b.limit))],
                    )?
                    .to_array()?;
                Ok(Some(serde_json::to_string(&rows.into_iter().map(|r| r.cfid).collect::<Vec<_>>())?))
            }
            IndexCall::List(b) => {
                let limit = b.limit.clamp(1, 1000);
                let rows: Vec<Row> = sql
                    .exec(
                        "SELECT cfid, created, last_access, expires_at, hits, user, flags.score AS flag FROM sessions \
                         LEFT JOIN flags USING (cfid) WHERE cfid > ? ORDER BY cfid LIMIT ?",
                        vec![b.after.unwrap_or_default().into(), int(u64::from(limit) + 1)],
                    )?
                    .to_array()?;
                let mut items: Vec<IndexEntry> = rows.into_iter().map(IndexEntry::from).collect();
                let more = items.len() > limit as usize;
                items.truncate(limit as usize);
                let next = if more { items.last().map(|e| e.cfid.clone()) } else { None };
                Ok(Some(serde_json::to_string(&Page { items, next })?))
            }
            IndexCall::QueueEnd(end) => {
                let request = serde_json::to_string(&end)?;
                sql.exec(
                    "INSERT OR REPLACE INTO pending_ends (cfid, request, at) VALUES (?, ?, ?)",
                    vec![end.cfid.into(), request.into(), int(crate::edge::platform::now_ms())],
                )?;
                Ok(Some(serde_json::to_string(&true)?))
            }
            IndexCall::PendingEnds(b) => {
                #[derive(Deserialize)]
                struct PendingRow {
                    request: String,
                    at: f64,
                }
                let rows: Vec<PendingRow> = sql
                    .exec(
                        "SELECT request, at FROM pending_ends ORDER BY at LIMIT ?",
                        vec![int(u64::from(b.limit.clamp(1, 1000)))],
                    )?
                    .to_array()?;
                let items: Vec<PendingEnd> = rows
                    .into_iter()
                    .filter_map(|r| {
                        let request = serde_json::from_str(&r.request).ok()?;
                        Some(PendingEnd { request, at: r.at as u64 })
                    })
                    .collect();
                Ok(Some(serde_json::to_string(&items)?))
            }
            IndexCall::EndConfirmed(b) => {
                sql.exec("DELETE FROM pending_ends WHERE cfid = ?", vec![b.cfid.into()])?;
                Ok(Some(serde_json::to_string(&true)?))
            }
            IndexCall::Count => {
                #[derive(Deserialize)]
                struct Count {
                    n: f64,
                }
                let c: Count = sql.exec("SELECT COUNT(*) AS n FROM sessions", None)?.one()?;
                Ok(Some(serde_json::to_string(&(c.n as u64))?))
            }
        }
    }
}

#[durable_object]
pub struct UserIndex {
    state: State,
}

impl DurableObject for UserIndex {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        not_over_http()
    }
}

rpc_call!(UserIndex);

impl UserIndex {
    /// The user's CFIDs with the time each was tagged (ms; 1 for entries stored before
    /// times were kept).
    async fn tagged(&self) -> Result<Vec<(String, u64)>> {
        let map = self.state.storage().list().await?;
        let mut out = Vec::new();
        for entry in map.entries() {
            let pair: js_sys::Array = entry?.into();
            let Some(cfid) = pair.get(0).as_string() else { continue };
            out.push((cfid, pair.get(1).as_f64().unwrap_or(1.0) as u64));
        }
        Ok(out)
    }

    /// One operation ([`UserCall`]).
    async fn dispatch(&self, op: &str, body: &str) -> Result<Option<String>> {
        let storage = self.state.storage();
        match UserCall::parse(op, body).map_err(|e| e.to_string())? {
            UserCall::Add(b) => {
                // One step (the object runs one call at a time): tag, then drop the oldest
                // others beyond `max`.
                storage.put(&b.cfid, b.at).await?;
                let mut evicted = Vec::new();
                if let Some(max) = b.max {
                    let tagged = self.tagged().await?;
                    evicted = over_limit(&tagged, &b.cfid, max as usize);
                    if !evicted.is_empty() {
                        storage.delete_multiple(evicted.clone()).await?;
                    }
                }
                Ok(Some(serde_json::to_string(&evicted)?))
            }
            UserCall::AddWithin(b) => {
                // MAX_SESSIONS_POLICY=refuse: tag only while the user has fewer than `max`
                // other sessions (one step, so two logins at once cannot both pass).
                let tagged = self.tagged().await?;
                let others = tagged.iter().filter(|(cfid, _)| *cfid != b.cfid).count();
                let within = b.max.is_none_or(|max| others < max as usize);
                if within {
                    storage.put(&b.cfid, b.at).await?;
                }
                Ok(Some(serde_json::to_string(&within)?))
            }
            UserCall::Remove(b) => {
                storage.delete(&b.cfid).await?;
                Ok(Some(serde_json::to_string(&true)?))
            }
            UserCall::List => {
                let keys: Vec<String> = self.tagged().await?.into_iter().map(|(cfid, _)| cfid).collect();
                Ok(Some(serde_json::to_string(&keys)?))
            }
        }
    }
}
