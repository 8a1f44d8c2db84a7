//! Durable Object RPC for the edge's objects. Each object implements `dispatch(op, body)`
//! (the JSON body of an operation in, the JSON answer out, `None` for "nothing there");
//! [`rpc_call!`] exports it as the RPC method `call(op, body, request)`, the only way in: an
//! object's `fetch` answers every request with [`not_over_http`]. `src/entry.mjs` declares the
//! classes as `DurableObject` subclasses, which RPC requires.

use wasm_bindgen::JsValue;
use worker::{Response, Result};

/// A dispatch result as the RPC answer: the JSON text, `null`, or a rejection with the reason.
pub fn js(result: Result<Option<String>>) -> std::result::Result<JsValue, JsValue> {
    match result {
        Ok(Some(json)) => Ok(JsValue::from_str(&json)),
        Ok(None) => Ok(JsValue::NULL),
        Err(e) => Err(JsValue::from_str(&e.to_string())),
    }
}

/// An object's answer to `fetch`: `405`, since its operations are served over RPC only
/// ([`rpc_call!`]).
pub fn not_over_http() -> Result<Response> {
    Response::error("RPC only", 405)
}

/// Exports `$object::dispatch` as the Durable Object RPC method `call(op, body)` (the caller
/// has `wasm_bindgen::prelude::wasm_bindgen` in scope).
macro_rules! rpc_call {
    ($object:ident) => {
        #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, wasm_bindgen_futures = ::worker::wasm_bindgen_futures)]
        impl $object {
            /// Durable Object RPC: operation `op` on the JSON `body`; resolves to the answer's
            /// JSON text, or `null` when there is nothing; rejects with the reason on failure.
            /// `request`: the calling request's id, which this call's log lines carry (absent
            /// from callers older than it).
            #[wasm_bindgen(js_name = call)]
            pub async fn rpc(
                &self,
                op: String,
                body: String,
                request: Option<String>,
            ) -> std::result::Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
                let id = $crate::edge::platform::request_id(request.as_deref(), "call-");
                $crate::edge::object_rpc::js(
                    $crate::edge::platform::log::with_request(id, self.dispatch(&op, &body)).await,
                )
            }
        }
    };
}
pub(crate) use rpc_call;
