//! The admin: a dashboard (static files from `www/admin/`, served by Workers static assets)
//! at `ADMIN_PREFIX`, and its JSON API under `<ADMIN_PREFIX>api/`. Every API answer is JSON;
//! errors are `{"error": "<reason>"}`. The API requires `Authorization: Bearer <ADMIN_TOKEN>`;
//! with no token configured the admin does not exist (404). No answer ever holds a CFTOKEN.

use crate::edge::platform::log::{self, LogLine};
use worker::{Env, Method, Request, Response};

use super::{
    app_object, respond,
    store::{Index, SessionObjects},
    sweep, users,
};
use crate::core::{
    config::Config,
    end_reason::EndReason,
    error::EdgeError,
    export,
    ids::Cfid,
    index::{Cursor, IndexEntry},
    query,
    rpc::AppCall,
};

/// Page sizes of `GET sessions`.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

/// Query parameters that look like a credential: refused, so tokens never sit in URLs (and
/// in logs, histories and referrers).
const CREDENTIAL_PARAMS: &[&str] = &["token", "access_token", "admin_token", "auth", "authorization"];

/// Handles `rest`, the path after `ADMIN_PREFIX`.
pub async fn handle(req: Request, rest: &str, env: &Env, config: &Config) -> Result<Response, EdgeError> {
    if config.admin.token.is_none() {
        return Err(match config.disabled.iter().find(|e| e.variable == "ADMIN_TOKEN") {
            Some(invalid) => EdgeError::FeatureOff(invalid.clone()),
            None => EdgeError::NotFound("the admin is off (ADMIN_TOKEN is not set)"),
        });
    }
    match rest.strip_prefix("api/") {
        Some(api_path) => api(&req, api_path, env, config).await,
        None => dashboard(&req, rest, env).await,
    }
}

/// Serves the dashboard's static files (public: the data behind them needs the token).
async fn dashboard(req: &Request, rest: &str, env: &Env) -> Result<Response, EdgeError> {
    if !matches!(req.method(), Method::Get | Method::Head) {
        return Err(EdgeError::NotFound("no such admin page"));
    }
    let file = if rest.is_empty() { "index.html" } else { rest };
    if file.contains("..") {
        return Err(EdgeError::NotFound("no such admin page"));
    }
    static_file(env, file).await.map_err(EdgeError::internal)
}

/// The dashboard's file `file`, from the `ASSETS` binding, never cached.
async fn static_file(env: &Env, file: &str) -> worker::Result<Response> {
    let resp = env.assets("ASSETS")?.fetch(format!("https://assets.local/{file}"), None).await?;
    let status = resp.status_code();
    let incoming = resp.headers();
    let headers = worker::Headers::new();
    if let Some(ct) = incoming.get("content-type")? {
        headers.set("content-type", &ct)?;
    }
    headers.set("cache-control", "no-store")?;
    headers.set("x-content-type-options", "nosniff")?;
    headers.set("referrer-policy", "no-referrer")?;
    headers.set(
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    )?;
    let (_, body) = resp.into_parts();
    Ok(Response::builder().with_status(status).with_headers(headers).body(body))
}

async fn api(req: &Request, path: &str, env: &Env, config: &Config) -> Result<Response, EdgeError> {
    authorize(req, config)?;
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let json = |status: u16, body: &serde_json::Value| respond::json(status, body).map_err(EdgeError::internal);
    let url = req.url().map_err(EdgeError::internal)?;
    let q = url.query().unwrap_or("");
    match (req.method(), segments.as_slice()) {
        (Method::Get, ["sessions"]) => {
            let (items, mut rest) = match query::get(q, "user").filter(|u| !u.is_empty()) {
                Some(user) => user_list(env, config, &user).await?,
                None => list_sessions(q, env, config).await?,
            };
            if query::get(q, "format").as_deref() == Some("csv") {
                return csv(&items);
            }
            rest.insert("items".into(), serde_json::to_value(items).map_err(EdgeError::internal)?);
            json(200, &serde_json::Value::Object(rest))
        }
        (Method::Get, ["sessions", cfid]) => {
            let cfid = Cfid::parse(cfid).ok_or(EdgeError::NotFound("no such session"))?;
            let view =
                SessionObjects::from_env(env)?.inspect(&cfid).await?.ok_or(EdgeError::NotFound("no such session"))?;
            json(200, &with_cfid(&view, cfid.as_str())?)
        }
        (Method::Delete, ["sessions", cfid]) => {
            let cfid = Cfid::parse(cfid).ok_or(EdgeError::NotFound("no such session"))?;
            if users::end(&SessionObjects::from_env(env)?, &cfid, EndReason::Admin, None).await? {
                json(200, &serde_json::json!({ "cfid": cfid.as_str(), "ended": true, "reason": "admin" }))
            } else {
                Err(EdgeError::NotFound("no live session with this CFID"))
            }
        }
        (Method::Get, ["users", user, "sessions"]) => {
            let user = decode_segment(user)?;
            let found = users::list(env, config, &user).await?;
            let items =
                found.live.iter().map(|(cfid, view)| with_cfid(view, cfid.as_str())).collect::<Result<Vec<_>, _>>()?;
            json(200, &serde_json::json!({ "user": user, "items": items, "failed": found.failed }))
        }
        (Method::Delete, ["users", user, "sessions"]) => {
            let user = decode_segment(user)?;
            let done = users::end_all(env, config, &user, None, EndReason::Admin).await?;
            // Every session is tried; any that could not be ended make the answer a 503 that
            // names them, so the caller retries.
            let status = if done.failed.is_empty() { 200 } else { 503 };
            let error = (!done.failed.is_empty()).then_some("some sessions could not be ended; try again");
            json(
                status,
                &serde_json::json!({ "user": user, "ended": done.ended, "failed": done.failed, "error": error }),
            )
        }
        (Method::Get, ["history"]) => {
            let history = app_object::history(env, &config.app.name).await?;
            json(200, &serde_json::to_value(history).map_err(EdgeError::internal)?)
        }
        (Method::Get, ["ended"]) => {
            let limit = parse_limit(q, 20)?;
            let index = Index::from_env(env, config.index_shards)?;
            let mut items = Vec::new();
            for shard in 0..index.count {
                match index.ended(shard, limit as u32).await {
                    Ok(e) => items.extend(e),
                    Err(e) => log::emit(
                        LogLine::warn("admin.shard_skipped")
                            .msg(format!("admin: ended log of shard {shard} skipped: {e}")),
                    ),
                }
            }
            items.sort_by_key(|e| std::cmp::Reverse(e.at));
            items.truncate(limit);
            json(200, &serde_json::json!({ "items": items }))
        }
        (Method::Get, ["application"]) => {
            let state = app_object::call(env, &config.app.name, AppCall::Get).await?;
            let state = state.ok_or(EdgeError::NotFound("the application has not started yet"))?;
            json(200, &serde_json::to_value(state).map_err(EdgeError::internal)?)
        }
        (Method::Post, ["sweep"]) => {
            let r = sweep::sweep(env).await?;
            json(200, &serde_json::to_value(r).map_err(EdgeError::internal)?)
        }
        (Method::Post, ["application", "stop"]) => {
            let state = app_object::call(env, &config.app.name, AppCall::Stop).await?;
            json(200, &serde_json::to_value(state).map_err(EdgeError::internal)?)
        }
        _ => Err(EdgeError::NotFound("no such admin endpoint")),
    }
}

/// A page of the session list: its items, and the answer's other fields.
type Listing = (Vec<IndexEntry>, serde_json::Map<String, serde_json::Value>);

/// `GET sessions?user=<id>`: the user's live sessions, in the list's shape (one page).
async fn user_list(env: &Env, config: &Config, user: &str) -> Result<Listing, EdgeError> {
    let found = users::list(env, config, user).await?;
    let items: Vec<IndexEntry> = found.live.iter().map(|(cfid, view)| view.index_entry(cfid.as_str())).collect();
    let rest = serde_json::json!({ "cursor": null, "total": items.len(), "failed": found.failed });
    Ok((items, rest.as_object().cloned().unwrap_or_default()))
}

/// The list's items as a CSV download (`format=csv`).
fn csv(items: &[IndexEntry]) -> Result<Response, EdgeError> {
    let body = export::sessions_csv(items);
    let headers = worker::Headers::new();
    let set = |k: &str, v: &str| headers.set(k, v).map_err(EdgeError::internal);
    set("content-type", "text/csv; charset=utf-8")?;
    set("content-disposition", "attachment; filename=\"sessions.csv\"")?;
    set("cache-control", "no-store")?;
    Ok(Response::builder().with_headers(headers).fixed(body.into_bytes()))
}

/// `GET sessions?limit=&cursor=`: a page of live sessions across the index shards, the
/// cursor to the next page (`null` at the end) and the total count.
async fn list_sessions(q: &str, env: &Env, config: &Config) -> Result<Listing, EdgeError> {
    let limit = parse_limit(q, DEFAULT_LIMIT)?;
    let mut cursor = match query::get(q, "cursor") {
        Some(c) => Cursor::parse(&c).ok_or(EdgeError::BadRequest("invalid cursor"))?,
        None => Cursor::start(),
    };
    let index = Index::from_env(env, config.index_shards)?;
    let mut items = Vec::new();
    // A shard that fails is logged, named in `failed_shards` and skipped: the rest is listed.
    let mut failed_shards = Vec::new();
    while cursor.shard < index.count && items.len() < limit {
        match index.list(cursor.shard, cursor.after.as_deref(), (limit - items.len()) as u32).await {
            Ok(page) => {
                items.extend(page.items);
                match page.next {
                    Some(after) => cursor.after = Some(after),
                    None => cursor = Cursor { shard: cursor.shard + 1, after: None },
                }
            }
            Err(e) => {
                log::emit(
                    LogLine::warn("admin.shard_skipped")
                        .msg(format!("admin: index shard {} skipped: {e}", cursor.shard)),
                );
                failed_shards.push(cursor.shard);
                cursor = Cursor { shard: cursor.shard + 1, after: None };
            }
        }
    }
    let mut total = 0;
    for shard in 0..index.count {
        match index.count(shard).await {
            Ok(n) => total += n,
            Err(e) => {
                log::emit(
                    LogLine::warn("admin.shard_skipped").msg(format!("admin: index shard {shard} not counted: {e}")),
                );
                if !failed_shards.contains(&shard) {
                    failed_shards.push(shard);
                }
            }
        }
    }
    let next = (cursor.shard < index.count).then(|| cursor.encode());
    let rest = serde_json::json!({ "cursor": next, "total": total, "failed_shards": failed_shards });
    Ok((items, rest.as_object().cloned().unwrap_or_default()))
}

fn parse_limit(q: &str, default: usize) -> Result<usize, EdgeError> {
    match query::get(q, "limit") {
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or(EdgeError::BadRequest("limit must be 1-500")),
        None => Ok(default),
    }
}

/// Checks the bearer token in constant time.
fn authorize(req: &Request, config: &Config) -> Result<(), EdgeError> {
    let Some(expected) = &config.admin.token else {
        return Err(EdgeError::NotFound("the admin is off (ADMIN_TOKEN is not set)"));
    };
    let url = req.url().map_err(EdgeError::internal)?;
    let q = url.query().unwrap_or("");
    if CREDENTIAL_PARAMS.iter().any(|p| query::has(q, p)) {
        return Err(EdgeError::BadRequest("credentials in the query string are refused; use Authorization: Bearer"));
    }
    let header = req.headers().get("authorization").ok().flatten().unwrap_or_default();
    let presented = header.strip_prefix("Bearer ").map(str::trim).unwrap_or("");
    if expected.matches(presented) {
        Ok(())
    } else {
        Err(EdgeError::Unauthorized)
    }
}

/// A session as the admin API shows it: its view plus its CFID (never its token).
fn with_cfid<T: serde::Serialize>(view: &T, cfid: &str) -> Result<serde_json::Value, EdgeError> {
    let mut body = serde_json::to_value(view).map_err(EdgeError::internal)?;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("cfid".into(), cfid.into());
    }
    Ok(body)
}

/// A percent-decoded path segment (user ids may contain any printable character).
fn decode_segment(raw: &str) -> Result<String, EdgeError> {
    let decoded = url::form_urlencoded::parse(format!("x={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if decoded.is_empty() || decoded.len() > crate::core::protocol::MAX_USER_LEN {
        return Err(EdgeError::BadRequest("user ids are 1-256 characters"));
    }
    Ok(decoded)
}
