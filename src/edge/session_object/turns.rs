//! One state change at a time in a session object. The runtime delivers a new call while an
//! object awaits another object (only storage operations hold calls back), so a change that
//! awaits the user index before it writes could be overtaken by an end arriving meanwhile,
//! and then overwrite it. Operations that change the state take a [`Turn`] first.

use std::{
    cell::{Cell, RefCell},
    future::poll_fn,
    task::{Poll, Waker},
};

#[derive(Default)]
pub struct Turns {
    busy: Cell<bool>,
    waiting: RefCell<Vec<Waker>>,
}

/// The right to change the state; the next waiting operation goes when it is dropped.
pub struct Turn<'a>(&'a Turns);

impl Turns {
    /// Waits until no other operation holds a turn.
    pub async fn take(&self) -> Turn<'_> {
        poll_fn(|cx| {
            if self.busy.replace(true) {
                self.waiting.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        Turn(self)
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.busy.set(false);
        // Every waiter polls again (one of them wins); a waiter that was dropped meanwhile
        // cannot strand the others.
        for waker in self.0.waiting.take() {
            waker.wake();
        }
    }
}
