//! `GET /__session/ready` (see [`crate::core::ready`]): the configuration, one session-object
//! round trip (`ping` on a probe id that is never a session: its storage is not touched) and
//! one index round trip (`count` of shard 0).

use worker::Env;

use super::{
    faults,
    platform::{config, now_ms},
    respond, store,
};
use crate::core::{
    error::EdgeError,
    ids::Cfid,
    ready::{Check, Readiness},
};

/// The CFID the session-object check calls: all zeros, which no CSPRNG-minted session has in
/// practice.
const PROBE: &str = "00000000000000000000000000000000";

/// Answers the readiness check: `200` with every check passed, else `503`; never cached.
pub async fn handle(env: &Env) -> Result<worker::Response, EdgeError> {
    let readiness = match config(env) {
        Err(e) => Readiness::new(vec![Check::of("config", Err(e.public_message()), None)]),
        Ok(config) => {
            faults::install(&config.faults);
            let mut checks = vec![Check::of::<String>("config", Ok(()), None)];
            let started = now_ms();
            let session = async {
                let probe = Cfid::parse(PROBE).ok_or_else(|| EdgeError::internal("probe id"))?;
                store::SessionObjects::from_env(env)?.ping(&probe).await
            };
            let outcome = session.await.map_err(|e| e.public_message());
            checks.push(Check::of("session_object", outcome, Some(now_ms() - started)));
            let started = now_ms();
            let index = async { store::Index::from_env(env, config.index_shards)?.count(0).await.map(drop) };
            let outcome = index.await.map_err(|e: EdgeError| e.public_message());
            checks.push(Check::of("index", outcome, Some(now_ms() - started)));
            Readiness::new(checks).warned_by(&config)
        }
    };
    respond::json(readiness.status(), &readiness).map_err(EdgeError::internal)
}
