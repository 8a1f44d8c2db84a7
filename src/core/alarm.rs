//! When a session object's alarm fires next: the session's deadline, its tombstone's purge
//! time, or the next hook delivery, whichever comes first — and never a tight loop.

use super::{clock::UnixMs, hooks::Outbox, session_state::Stored};

/// The soonest an alarm re-fires after running (ms): whatever did not progress waits at
/// least this long.
pub const FLOOR_MS: u64 = 1_000;
/// With nothing deliverable (an invalid configuration), deliveries are looked at again this
/// much later (ms).
pub const NO_CONFIG_RETRY_MS: u64 = 60_000;

/// The next alarm time (ms), or `None` for no alarm.
/// - A live session: its deadline, or an earlier delivery.
/// - A tombstone: its purge time once its outbox is empty; until then, the next delivery (a
///   purge time already passed must not make the alarm fire again and again).
/// - `can_deliver` false (invalid configuration): deliveries wait [`NO_CONFIG_RETRY_MS`].
/// - `just_ran` (the alarm itself is re-arming): never sooner than [`FLOOR_MS`] from now.
pub fn next(
    stored: Option<&Stored>,
    outbox: &Outbox,
    can_deliver: bool,
    now: UnixMs,
    just_ran: bool,
) -> Option<UnixMs> {
    let delivery = outbox.next_at().map(|at| if can_deliver { at } else { at.max(now + NO_CONFIG_RETRY_MS) });
    let own = match stored {
        Some(Stored::Live(r)) => Some(r.next_deadline()),
        Some(Stored::Ended(t)) if outbox.is_empty() => Some(t.purge_at),
        _ => None,
    };
    let at = match (own, delivery) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some(if just_ran { at.max(now + FLOOR_MS) } else { at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{
        end_reason::EndReason,
        guard::OriginIds,
        hooks::{Delivery, Hook, Outbox},
        record::{SessionRecord, Timing},
        tombstone::{SessionEvent, Tombstone},
    };

    const NOW: UnixMs = 1_800_000_000_000;

    fn tomb_with_event() -> (Stored, SessionEvent) {
        let r = SessionRecord::new("fp".into(), NOW - 100_000_000, NOW - 100_000_000, &Timing::default());
        let mut t = Tombstone::ended(&r, "c", EndReason::Timeout, NOW - 99_000_000);
        let ev = t.pending.take().unwrap();
        (Stored::Ended(t), ev)
    }

    #[test]
    fn an_undelivered_end_past_its_purge_time_does_not_storm() {
        let (tomb, ev) = tomb_with_event();
        let Stored::Ended(t) = &tomb else { unreachable!() };
        assert!(t.purge_at < NOW, "the purge time has passed");
        let mut outbox = Outbox::default();
        outbox.push(Delivery::new(Hook::End, ev, OriginIds::default(), NOW - 10));
        assert_eq!(outbox.failed("c:end", NOW), crate::core::hooks::Failure::RetryAt(NOW + 1_000));
        // The next alarm is the retry, not the (past) purge time.
        assert_eq!(next(Some(&tomb), &outbox, true, NOW, true), Some(NOW + 1_000));
        // Delivered: the purge is due, but an alarm that just ran waits the floor.
        assert_eq!(next(Some(&tomb), &Outbox::default(), true, NOW, true), Some(NOW + FLOOR_MS));
        assert_eq!(next(Some(&tomb), &Outbox::default(), true, NOW, false), Some(t.purge_at));
    }

    #[test]
    fn an_invalid_configuration_does_not_storm() {
        let (tomb, ev) = tomb_with_event();
        let mut outbox = Outbox::default();
        outbox.push(Delivery::new(Hook::End, ev, OriginIds::default(), NOW - 10));
        assert_eq!(next(Some(&tomb), &outbox, false, NOW, true), Some(NOW + NO_CONFIG_RETRY_MS));
    }

    #[test]
    fn a_live_session_wakes_at_its_deadline() {
        let r = SessionRecord::new("fp".into(), NOW, NOW, &Timing::default());
        let live = Stored::Live(r.clone());
        assert_eq!(next(Some(&live), &Outbox::default(), true, NOW, false), Some(r.next_deadline()));
        assert_eq!(next(None, &Outbox::default(), true, NOW, false), None);
    }
}
