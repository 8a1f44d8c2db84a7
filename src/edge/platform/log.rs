//! Writes structured log lines ([`LogLine`]) to the console, one JSON object per line, at the
//! console level of the line (Workers Logs and Logpush keep both), each with the id of the
//! request it belongs to ([`with_request`]).

use std::{
    cell::RefCell,
    future::Future,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
};

use worker::{console_error, console_log, console_warn};

use super::clock::now_ms;
use crate::core::log::Level;
pub use crate::core::log::LogLine;

thread_local! {
    /// The request whose future is being polled right now (see [`with_request`]).
    static REQUEST: RefCell<Option<Rc<str>>> = const { RefCell::new(None) };
}

/// Writes `line`, with `request` set to the id of the request being handled.
pub fn emit(line: LogLine) {
    let line = match current_request() {
        Some(id) => line.field("request", id.as_ref()),
        None => line,
    };
    let json = line.to_json(now_ms());
    match line.level {
        Level::Info => console_log!("{json}"),
        Level::Warn => console_warn!("{json}"),
        Level::Error => console_error!("{json}"),
    }
}

/// The id of the request being handled, if any (sent along with Durable Object calls).
pub fn current_request() -> Option<Rc<str>> {
    REQUEST.with(|r| r.borrow().clone())
}

/// `future`, with every line it emits (and every object call it makes) carrying request `id`.
/// The id is set for each poll and restored after it: an isolate interleaves many requests,
/// but a poll runs alone, so a line always names the request whose code wrote it.
pub fn with_request<F: Future>(id: Rc<str>, future: F) -> impl Future<Output = F::Output> {
    Scoped { id: Some(id), inner: Box::pin(future) }
}

/// `future` (work handed to `wait_until`), carrying the current request's id: it runs after
/// the request's own future has returned.
pub fn carried<F: Future>(future: F) -> impl Future<Output = F::Output> {
    Scoped { id: current_request(), inner: Box::pin(future) }
}

struct Scoped<F> {
    id: Option<Rc<str>>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let id = self.id.clone();
        let before = REQUEST.with(|r| r.replace(id));
        let out = self.inner.as_mut().poll(cx);
        REQUEST.with(|r| *r.borrow_mut() = before);
        out
    }
}
